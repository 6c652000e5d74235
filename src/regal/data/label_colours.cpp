#include "regal/data/label_colours.h"

#include <set>
#include <vector>

#include <opencv2/core.hpp>

#include "regal/core/error.h"

namespace regal::data {

namespace {

// inRange bounds for one colour: OpenCV holds the label as BGR.
cv::Scalar as_bgr_scalar(const LabelColours::Rgb& colour) {
  return {static_cast<double>(colour[2]), static_cast<double>(colour[1]),
          static_cast<double>(colour[0])};
}

}  // namespace

LabelColours& LabelColours::add(const Rgb& colour, int raw_id) {
  REGAL_CHECK(raw_id >= 0 && raw_id <= 255, "label colours: raw id must be in 0..255, got ",
              raw_id);
  for (const Entry& entry : entries_) {
    // Two ids for one colour could not be told apart when decoding.
    REGAL_CHECK(entry.colour != colour, "label colours: colour RGB (", int{colour[0]}, ", ",
                int{colour[1]}, ", ", int{colour[2]}, ") already maps to raw id ",
                int{entry.raw_id}, ", cannot also map it to ", raw_id);
  }
  entries_.push_back({colour, static_cast<uint8_t>(raw_id)});
  return *this;
}

cv::Mat LabelColours::decode(const cv::Mat& bgr, const std::filesystem::path& file) const {
  REGAL_CHECK(!bgr.empty(), "label file ", file, " decoded to an empty image");
  REGAL_CHECK(bgr.type() == CV_8UC3, "label file ", file,
              " must be 8-bit 3-channel to be read through its label colours, got ",
              cv::typeToString(bgr.type()));

  // Table colours are distinct, so their masks are disjoint: the pixels matched
  // add up to the whole image exactly when every colour is known, and the loop
  // can stop as soon as they do (most labels hold a few of the colours).
  const size_t total = bgr.total();
  size_t matched = 0;
  cv::Mat ids(bgr.size(), CV_8UC1, cv::Scalar(0));
  cv::Mat mask;
  for (const Entry& entry : entries_) {
    if (matched == total) {
      break;
    }
    const cv::Scalar colour = as_bgr_scalar(entry.colour);
    cv::inRange(bgr, colour, colour, mask);
    const int count = cv::countNonZero(mask);
    if (count > 0) {
      ids.setTo(cv::Scalar(entry.raw_id), mask);
      matched += static_cast<size_t>(count);
    }
  }
  if (matched == total) {
    return ids;
  }

  // Only on the error path: find the first pixel no table colour covers.
  cv::Mat known(bgr.size(), CV_8UC1, cv::Scalar(0));
  for (const Entry& entry : entries_) {
    const cv::Scalar colour = as_bgr_scalar(entry.colour);
    cv::inRange(bgr, colour, colour, mask);
    known.setTo(cv::Scalar(255), mask);
  }
  std::vector<cv::Point> unknown;
  cv::findNonZero(known == 0, unknown);
  const cv::Point first = unknown.front();
  const cv::Vec3b pixel = bgr.at<cv::Vec3b>(first);
  cv::inRange(bgr, cv::Scalar(pixel), cv::Scalar(pixel), mask);
  const int same_colour = cv::countNonZero(mask);
  const size_t other_unknown = unknown.size() - static_cast<size_t>(same_colour);
  REGAL_FAIL("label file ", file, ": colour RGB (", int{pixel[2]}, ", ", int{pixel[1]}, ", ",
             int{pixel[0]}, ") is not one of the ", entries_.size(), " label colours (",
             same_colour, " pixels, first at x=", first.x, " y=", first.y, ")",
             other_unknown > 0
                 ? detail::concat("; ", other_unknown, " more pixels have other unknown colours")
                 : std::string(),
             // A grey value in all three channels: ids saved as an RGB PNG, not colours.
             pixel[0] == pixel[1] && pixel[1] == pixel[2]
                 ? "; grey colours look like label ids saved as RGB: save them as an 8-bit single-channel PNG"
                 : "");
}

std::optional<LabelColours> palette_label_colours(const std::vector<LabelColours::Rgb>& palette,
                                                  uint8_t unknown_id) {
  const std::set<LabelColours::Rgb> distinct(palette.begin(), palette.end());
  // A train id at or above the unknown id would read as unknown, or not fit.
  if (distinct.size() != palette.size() || palette.size() > unknown_id) return std::nullopt;
  LabelColours colours;
  for (size_t id = 0; id < palette.size(); ++id) colours.add(palette[id], static_cast<int>(id));
  const LabelColours::Rgb black{0, 0, 0};
  if (!distinct.count(black)) colours.add(black, unknown_id);
  return colours;
}

}  // namespace regal::data
