#pragma once
// The fingerprint of one opened dataset split: a short hash that changes when
// the samples a run would read change (an id added, dropped or reordered, a
// file rewritten with another size, other classes), so that a run directory
// can record which data it was trained on and `--resume` can refuse to
// continue on other data. It hashes file sizes, not file contents: reading
// every byte of Cityscapes (leftImg8bit alone is 11 GB) would take minutes
// on every start, while a regenerated or replaced image almost always changes
// size. A fingerprint does not depend on where the dataset lies (its root).
#include <string>

#include <nlohmann/json.hpp>

#include "regal/data/dataset.h"

namespace regal::data {

// 16 lowercase hex digits: FNV-1a 64 over the dataset name, the split, the
// class names and, for each sample in order, its id and the byte sizes of its
// image and label files. Each string is fed with its length first and each
// number as 8 little-endian bytes, so no two different inputs run together
// and the value is the same on every platform.
// throws regal::Error naming the file when a size cannot be read.
std::string dataset_fingerprint(const Dataset& dataset);

// What a run directory records about one split it reads:
//   {"type", "name", "root", "split", "num_samples", "fingerprint", "ids": [...]}
// `spec` is the spec `dataset` was opened with (type and root are not kept by
// the Dataset). throws as dataset_fingerprint.
nlohmann::json describe_split(const DatasetSpec& spec, const Dataset& dataset);

}  // namespace regal::data
