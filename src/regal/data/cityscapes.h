#pragma once
// Cityscapes (gtFine): <root>/leftImg8bit/<split>/<city>/<id>_leftImg8bit.png
// with <root>/gtFine/<split>/<city>/<id>_gtFine_labelIds.png, mapped to the
// official 19 train ids. A split whose images all have a
// <id>_gtFine_labelTrainIds.png beside the labelIds file reads those instead.
#include <filesystem>
#include <string>
#include <vector>

#include "regal/data/dataset.h"
#include "regal/data/label_colours.h"
#include "regal/data/label_map.h"

namespace regal::data {

// The 19 evaluation classes (road .. bicycle) and the official palette.
DatasetInfo cityscapes_info();

// Official label ids 0..33 to train ids: the 19 evaluated ids to 0..18, the
// rest (and 255) to the ignore index; values above 33 stay unmapped (errors).
// Shared with GTAV, whose labels use the same ids.
LabelMap cityscapes_label_map();

// The official label colours (cityscapesScripts labels.py) to label ids
// 0..33, for labels stored as colour or palette PNGs (GTA5 as distributed).
// Colours shared by several ids decode to one of them: black (ids 0..4) to 0,
// and (153, 153, 153) to 17 (pole) rather than 18 (polegroup).
LabelColours cityscapes_label_colours();

// requires: `root` holds leftImg8bit/<split> and gtFine/<split>.
// ensures: samples sorted by <city>/<id>; sample id is the file stem without
// "_leftImg8bit". throws regal::Error naming the missing root or split folder,
// every image without a label (and the reverse), or an empty split.
Dataset open_cityscapes(const std::filesystem::path& root, const std::string& split);

// Sorted subdirectories of <root>/leftImg8bit. throws regal::Error when missing.
std::vector<std::string> cityscapes_splits(const std::filesystem::path& root);

}  // namespace regal::data
