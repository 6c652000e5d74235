#pragma once
// A table from label colours (RGB) to raw label ids, for label files stored as
// colour or palette-indexed PNGs. OpenCV's imread expands a palette PNG to
// BGR, losing the palette index; when every label id has its own colour the
// colour gives the id back. The raw ids then go through the LabelMap like
// those of a grey label file.
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace regal::data {

class LabelColours {
 public:
  using Rgb = std::array<uint8_t, 3>;

  struct Entry {
    Rgb colour;
    uint8_t raw_id;
  };

  // No colours.
  LabelColours() = default;

  // Adds `colour` -> `raw_id`. throws regal::Error when raw_id is outside
  // 0..255 or the colour is already in the table (one colour, one id).
  LabelColours& add(const Rgb& colour, int raw_id);

  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

  // Turns a CV_8UC3 BGR label (as imread gives it) into CV_8UC1 raw ids, with
  // one inRange and one setTo per table colour.
  // throws regal::Error naming `file` when the image is not CV_8UC3, or when a
  // pixel's colour is not in the table (the colour, its pixel count and the
  // first pixel holding it, in row-major order).
  cv::Mat decode(const cv::Mat& bgr, const std::filesystem::path& file) const;

 private:
  std::vector<Entry> entries_;
};

// The table for labels drawn in a dataset's palette (train id -> RGB): each
// class colour gives its train id, and black gives `unknown_id` unless a
// class is black (as regal draws labels: unknown pixels black). None when two
// classes share a colour, or a train id reaches `unknown_id`, since such
// labels cannot be read back.
std::optional<LabelColours> palette_label_colours(const std::vector<LabelColours::Rgb>& palette,
                                                  uint8_t unknown_id);

}  // namespace regal::data
