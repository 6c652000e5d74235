#pragma once
// A directory of images without labels: the user's own unlabelled pictures, in
// which `regal select` chooses the regions worth annotating. Every image file
// directly in the directory (png, jpg, jpeg, bmp, tif, tiff, webp; any case),
// in file-name order; the sample id is the file name. Labels come out as all
// `ignore_index` (data/dataset.h), so the images go through every code path
// that takes a Dataset.
#include <filesystem>
#include <vector>

#include "regal/data/dataset.h"

namespace regal::data {

// The image files directly in `dir`, by file name, hidden ones (".name")
// skipped (nothing is decoded).
// throws regal::Error naming the directory when it is missing or holds no
// image file.
std::vector<std::filesystem::path> image_files_in(const std::filesystem::path& dir);

// `info` gives the classes the images are segmented into (those of the net).
// throws as image_files_in.
Dataset open_image_folder(const std::filesystem::path& dir, const DatasetInfo& info);

}  // namespace regal::data
