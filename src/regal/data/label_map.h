#pragma once
// A 256-entry lookup table from raw label-file values to train ids.
// Entries are a train id (0..C-1), the ignore index (255), or "not mapped":
// a raw value that is not mapped is bad input and gets an error naming the file.
#include <array>
#include <cstdint>
#include <filesystem>

#include <opencv2/core/mat.hpp>

namespace regal::data {

class LabelMap {
 public:
  static constexpr int16_t kUnmapped = -1;

  // Every raw value unmapped.
  LabelMap();
  // 0..num_classes-1 map to themselves and 255 to 255 (train-id label files).
  static LabelMap identity(int num_classes);

  LabelMap& set(int raw_value, int train_id);
  int16_t operator[](int raw_value) const { return table_.at(static_cast<size_t>(raw_value)); }

  // Maps a CV_8UC1 label through the table (one cv::LUT call).
  // throws regal::Error naming `file` and the first unmapped raw value found.
  cv::Mat apply(const cv::Mat& raw, const std::filesystem::path& file) const;

 private:
  std::array<int16_t, 256> table_;
};

}  // namespace regal::data
