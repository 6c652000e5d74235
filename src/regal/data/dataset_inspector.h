#pragma once
// inspect-dataset: decodes every sample of a dataset once and reports what a
// user needs before training on it: samples per split, image sizes, per-class
// pixel counts and frequencies, resized labels, and every problem found
// (pairing, decoding, sizes, label values), each naming its file.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "regal/data/dataset.h"

namespace regal::data {

struct ImageSize {
  int width = 0;
  int height = 0;
  bool operator<(const ImageSize& other) const {
    return width != other.width ? width < other.width : height < other.height;
  }
  bool operator==(const ImageSize& other) const {
    return width == other.width && height == other.height;
  }
};

struct ClassPixels {
  std::vector<uint64_t> per_class;  // [C] pixels per train id, class order
  uint64_t ignore = 0;              // ignore-index pixels, kept out of the frequencies

  // ensures: [C] share of each class among the non-ignore pixels (sums to 1),
  // all zeros when there is none.
  std::vector<double> frequencies() const;
  // ensures: the number of non-ignore pixels (the frequencies' denominator).
  uint64_t labelled() const;
};

struct SplitInspection {
  std::string split;
  bool opened = false;      // false when the split could not be listed (see problems)
  size_t sample_count = 0;  // image/label pairs listed
  size_t loaded_count = 0;  // pairs decoded without a problem (only these are counted below)
  int resized_label_count = 0;
  std::map<ImageSize, size_t> image_sizes;  // distinct image size -> samples
  ClassPixels pixels;
};

struct InspectionReport {
  std::string type;
  std::filesystem::path root;
  DatasetInfo info;  // from the first split that opened; no classes when none did
  std::vector<SplitInspection> splits;
  ClassPixels total;                  // over every split
  std::vector<std::string> problems;  // one per broken file or split, naming it
  bool ok() const { return problems.empty(); }
};

struct InspectionProgress {
  const std::string& split;
  size_t done;   // samples of `split` inspected so far
  size_t total;  // samples in `split`
};
using InspectionProgressCallback = std::function<void(const InspectionProgress&)>;

// Opens `split` (every split of dataset_splits() when none is given) and
// decodes every sample on `threads` worker threads (0: one per core).
// ensures: problems in split then sample order; counts independent of
// `threads`. `progress` is called once per sample, one call at a time, with
// `done` increasing. throws only what `progress` throws: bad data is reported.
InspectionReport inspect_dataset(const std::string& type, const std::filesystem::path& root,
                                 const std::optional<std::string>& split,
                                 const InspectionProgressCallback& progress = {},
                                 unsigned threads = 0);

// Human-readable report: splits, sizes, a class table (pixels per split,
// total, frequency), then every problem. throws nothing beyond bad_alloc.
std::string format_inspection_text(const InspectionReport& report);

// The same as JSON: {"type", "root", "name", "classes", "palette", "splits":
// [...], "total": {...}, "problems": [...], "ok"}; class arrays in train-id
// order, frequencies under "class_frequency" as in dataset.json.
nlohmann::json inspection_to_json(const InspectionReport& report);

}  // namespace regal::data
