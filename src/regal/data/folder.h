#pragma once
// A dataset in regal's own folder format (what make-scenes writes):
//   <root>/dataset.json   {"name": str, "classes": [str, ...],
//                          "palette": [[r, g, b], ...], "ignore_index": 255,
//                          "splits": {"<split>": ["<id>", ...], ...}}
//   <root>/images/<id>.png   RGB (any format OpenCV reads as colour)
//   <root>/labels/<id>.png   grey 8-bit train ids 0..C-1, 255 = ignore
// Extra keys in dataset.json (e.g. "class_frequency") are allowed and ignored.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "regal/data/dataset.h"

namespace regal::data {

struct FolderManifest {
  DatasetInfo info;
  std::map<std::string, std::vector<std::string>> splits;  // split -> sample ids, file order
};

// Reads and validates <root>/dataset.json. ensures: palette.size() ==
// classes.size() in 1..255, ignore_index == 255, ids are plain file names,
// unique within their split. throws regal::Error naming the file, the key and
// what was expected (missing file, invalid JSON, missing key, wrong type...).
FolderManifest read_folder_manifest(const std::filesystem::path& root);

// requires: `split` is a key of "splits". ensures: samples in the listed
// order. throws regal::Error naming the file of every listed sample whose
// image or label is missing, an empty split (naming it and dataset.json),
// an unknown split, or any manifest problem.
Dataset open_folder(const std::filesystem::path& root, const std::string& split);

// The keys of "splits", sorted. throws as read_folder_manifest.
std::vector<std::string> folder_splits(const std::filesystem::path& root);

}  // namespace regal::data
