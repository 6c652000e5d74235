#pragma once
// CamVid in the SegNet layout: <root>/<split>/<name>.png with
// <root>/<split>annot/<name>.png (grey ids 0..10, 11 = void) for the splits
// train, val and test; 11 classes with the SegNet palette.
#include <filesystem>
#include <string>
#include <vector>

#include "regal/data/dataset.h"
#include "regal/data/label_map.h"

namespace regal::data {

// Sky, Building, Pole, Road, Sidewalk, Tree, SignSymbol, Fence, Car,
// Pedestrian, Bicyclist, with the SegNet palette.
DatasetInfo camvid_info();

// 0..10 to themselves, 11 (void) and 255 to the ignore index; 12..254 unmapped.
LabelMap camvid_label_map();

// requires: split is train, val or test; `root` holds <split>/ and
// <split>annot/. ensures: samples sorted by file name; id = file stem.
// throws regal::Error naming the missing root or folder, every image without
// a label (and the reverse), an empty split or an unknown split.
Dataset open_camvid(const std::filesystem::path& root, const std::string& split);

// Those of train, val, test whose image folder exists, in that order.
// throws regal::Error when `root` is missing or holds none of them.
std::vector<std::string> camvid_splits(const std::filesystem::path& root);

}  // namespace regal::data
