#pragma once
// A labelled segmentation dataset split: the list of (image, label) files,
// class names, palette, ignore index, and decoding through OpenCV with a
// 256-entry label lookup table (after an optional colour table for labels
// stored as colour or palette PNGs). Loaders (cityscapes, gtav, camvid, folder)
// only build the file list and the DatasetInfo; decoding and checks live here.
#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "regal/data/label_colours.h"
#include "regal/data/label_map.h"

namespace regal::data {

inline constexpr int kIgnoreIndex = 255;

struct DatasetInfo {
  std::string name;
  std::vector<std::string> class_names;        // train id -> name
  std::vector<std::array<uint8_t, 3>> palette;  // train id -> RGB
  int ignore_index = kIgnoreIndex;
  int num_classes() const { return static_cast<int>(class_names.size()); }
};

struct SampleFiles {
  std::string id;
  std::filesystem::path image;
  std::filesystem::path label;  // empty: an unlabelled image (every pixel ignore_index)
};

struct Sample {
  std::string id;
  cv::Mat image;  // [H, W] CV_8UC3, RGB order
  cv::Mat label;  // [H, W] CV_8UC1, train ids 0..C-1, ignore_index elsewhere
};

// What to do when a label file's size differs from its image's.
enum class LabelSizeMismatch {
  kError,           // every loader but GTAV
  kResizeNearest,   // GTAV: resize the label with nearest neighbour and count it
};

class Dataset {
 public:
  // requires: files non-empty (an empty split is an error naming `split`).
  // `label_colours`, when given, turns 3-channel labels (palette PNGs come out
  // of imread as BGR) into raw ids before `label_map`; single-channel labels
  // skip it. Without it a 3-channel label is an error.
  Dataset(DatasetInfo info, std::string split, std::vector<SampleFiles> files, LabelMap label_map,
          LabelSizeMismatch on_size_mismatch = LabelSizeMismatch::kError,
          std::optional<LabelColours> label_colours = std::nullopt);

  const DatasetInfo& info() const { return info_; }
  const std::string& split() const { return split_; }
  size_t size() const { return files_.size(); }
  const SampleFiles& files(size_t index) const { return files_.at(index); }
  const std::vector<SampleFiles>& all_files() const { return files_; }

  // Decodes sample `index`: RGB image and train-id label of the same size.
  // throws regal::Error naming the file when it is unreadable/truncated, when
  // sizes differ (unless resizing is allowed), when a label value is outside
  // the label map, or when a 3-channel label holds a colour outside the colour
  // table (or the dataset has none).
  Sample load(size_t index) const;

  // The train-id label of sample `index`, as load() gives it, decoding the
  // image only where the label depends on it (no label file, or labels
  // resized to their image); for statistics over labels alone. A size that
  // differs from the image is not checked here (load() does).
  cv::Mat load_label(size_t index) const;

  // Labels resized so far (LabelSizeMismatch::kResizeNearest only).
  int resized_label_count() const { return resized_labels_->load(); }

  // The same split, classes and decoding over `files` (a subset, for the
  // role splits). requires: files non-empty.
  Dataset with_files(std::vector<SampleFiles> files) const;

 private:
  // files_[index]; throws regal::Error naming the split when out of range.
  const SampleFiles& checked_files(size_t index) const;
  // The label file of `files` decoded to train ids, at the file's size.
  cv::Mat decode_label(const SampleFiles& files) const;

  DatasetInfo info_;
  std::string split_;
  std::vector<SampleFiles> files_;
  LabelMap label_map_;
  LabelSizeMismatch on_size_mismatch_;
  std::optional<LabelColours> label_colours_;
  std::shared_ptr<std::atomic<int>> resized_labels_;
};

// Which loader and where. `type` is one of cityscapes | gtav | camvid | folder.
// `ids`, when given, keeps only those samples of `split`, in that order (the
// role splits of ALGORITHM.md §1); empty means the whole split.
struct DatasetSpec {
  std::string type;
  std::filesystem::path root;
  std::string split;
  std::vector<std::string> ids = {};
};

// Opens one split, or the listed samples of it. throws regal::Error for an
// unknown type, a missing root, an image without label (or the reverse), an
// empty split, an id listed twice, or ids the split does not have (naming how
// many, the first few, the split and the root).
Dataset open_dataset(const DatasetSpec& spec);

// The split names a dataset at `root` offers (for inspect-dataset).
std::vector<std::string> dataset_splits(const std::string& type, const std::filesystem::path& root);

}  // namespace regal::data
