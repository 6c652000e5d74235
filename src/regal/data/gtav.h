#pragma once
// GTA5 ("Playing for Data"): <root>/images/<name>.png with
// <root>/labels/<name>.png of the same name, in Cityscapes label ids, mapped to
// the 19 Cityscapes train ids. Labels as distributed are palette PNGs (index =
// label id, colour = Cityscapes label colour) and are read through the colours;
// grey 8-bit label-id PNGs are read as they are. Some GTA5 labels differ in
// size from their image; they are resized (nearest) and counted.
#include <filesystem>
#include <string>
#include <vector>

#include "regal/data/dataset.h"

namespace regal::data {

// GTA5 has no split folders: this one split holds every file.
inline constexpr const char* kGtavSplit = "all";

// requires: split is "all" (or empty, meaning "all"); `root` holds images/
// and labels/. ensures: samples sorted by file name; id = file stem.
// throws regal::Error naming the missing root or folder, every image without
// a label (and the reverse), an empty folder or an unknown split.
Dataset open_gtav(const std::filesystem::path& root, const std::string& split);

// {"all"}. throws regal::Error when `root` is missing.
std::vector<std::string> gtav_splits(const std::filesystem::path& root);

}  // namespace regal::data
