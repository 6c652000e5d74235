#include "regal/data/label_map.h"

#include <string>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "regal/core/error.h"

namespace regal::data {

namespace {

constexpr int kRawValues = 256;

// Human-readable name of an OpenCV matrix type, for messages ("8UC3").
std::string describe_type(const cv::Mat& mat) {
  static const char* const depth_names[] = {"8U", "8S", "16U", "16S", "32S", "32F", "64F", "16F"};
  return std::string(depth_names[mat.depth()]) + "C" + std::to_string(mat.channels());
}

// [256] CV_32F: how many pixels of `raw` hold each value. One vectorised pass.
cv::Mat raw_value_histogram(const cv::Mat& raw) {
  const int channels[] = {0};
  const int bins[] = {kRawValues};
  const float value_range[] = {0.0F, static_cast<float>(kRawValues)};
  const float* ranges[] = {value_range};
  cv::Mat histogram;
  cv::calcHist(&raw, 1, channels, cv::Mat(), histogram, 1, bins, ranges);
  return histogram;
}

// The raw values `table` maps, as ranges: "0..18, 255".
std::string mapped_values_text(const std::array<int16_t, kRawValues>& table) {
  std::string text;
  for (int value = 0; value < kRawValues; ++value) {
    if (table[static_cast<size_t>(value)] == LabelMap::kUnmapped) continue;
    int last = value;
    while (last + 1 < kRawValues && table[static_cast<size_t>(last + 1)] != LabelMap::kUnmapped) ++last;
    text += (text.empty() ? "" : ", ") + (last == value ? std::to_string(value)
                                                        : std::to_string(value) + ".." + std::to_string(last));
    value = last;
  }
  return text.empty() ? "none" : text;
}

}  // namespace

LabelMap::LabelMap() { table_.fill(kUnmapped); }

LabelMap LabelMap::identity(int num_classes) {
  // 255 is the ignore index, so at most 255 classes fit in an 8-bit label.
  REGAL_CHECK(num_classes >= 1 && num_classes <= 255,
              "label map: number of classes must be in 1..255, got ", num_classes);
  LabelMap map;
  for (int id = 0; id < num_classes; ++id) {
    map.set(id, id);
  }
  map.set(255, 255);
  return map;
}

LabelMap& LabelMap::set(int raw_value, int train_id) {
  REGAL_CHECK(raw_value >= 0 && raw_value < kRawValues,
              "label map: raw value must be in 0..255, got ", raw_value);
  REGAL_CHECK(train_id >= kUnmapped && train_id <= 255, "label map: train id for raw value ",
              raw_value, " must be in 0..255 (or -1 for unmapped), got ", train_id);
  table_[static_cast<size_t>(raw_value)] = static_cast<int16_t>(train_id);
  return *this;
}

cv::Mat LabelMap::apply(const cv::Mat& raw, const std::filesystem::path& file) const {
  REGAL_CHECK(!raw.empty(), "label file ", file, " decoded to an empty image");
  // OpenCV expands palette-indexed PNGs to colour, hence the hint.
  std::string hint;
  if (raw.channels() > 1) {
    hint = " (a colour or palette-indexed PNG: convert it to grey ids)";
  } else if (raw.depth() != CV_8U) {
    hint = " (save the ids as an 8-bit PNG)";
  }
  REGAL_CHECK(raw.type() == CV_8UC1, "label file ", file, " must be 8-bit single-channel (raw label ids), got ",
              describe_type(raw), hint);

  // Checking the histogram against the table finds every unmapped value in one
  // pass, without touching pixels one at a time.
  const cv::Mat histogram = raw_value_histogram(raw);
  for (int value = 0; value < kRawValues; ++value) {
    const float count = histogram.at<float>(value);
    if (count > 0.0F && table_[static_cast<size_t>(value)] == kUnmapped) {
      // Only on the error path: locate the first offending pixel for the message.
      std::vector<cv::Point> locations;
      cv::findNonZero(raw == value, locations);
      const cv::Point first = locations.front();
      REGAL_FAIL("label file ", file, ": raw value ", value, " is not in the label map (",
                 static_cast<long long>(count), " pixels, first at x=", first.x, " y=", first.y,
                 "); the values it reads: ", mapped_values_text(table_));
    }
  }

  cv::Mat lookup(1, kRawValues, CV_8UC1);
  for (int value = 0; value < kRawValues; ++value) {
    const int16_t train_id = table_[static_cast<size_t>(value)];
    // Unmapped entries are never hit (checked above); 0 keeps the table 8-bit.
    lookup.at<uint8_t>(value) = static_cast<uint8_t>(train_id == kUnmapped ? 0 : train_id);
  }
  cv::Mat mapped;
  cv::LUT(raw, lookup, mapped);
  return mapped;
}

}  // namespace regal::data
