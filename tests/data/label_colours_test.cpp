#include "regal/data/label_colours.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "data/dataset_fixtures.h"
#include "data/palette_png.h"
#include "regal/data/cityscapes.h"
#include "support/test_support.h"

namespace regal::data {
namespace {

using testing::error_message;

// A pixel of colour (r, g, b) as imread stores it.
cv::Vec3b bgr(uint8_t r, uint8_t g, uint8_t b) { return {b, g, r}; }

LabelColours road_car_black() {
  LabelColours colours;
  colours.add({128, 64, 128}, 7).add({0, 0, 142}, 26).add({0, 0, 0}, 0);
  return colours;
}

TEST(LabelColours, DecodesEachColourToItsIdInBgrOrder) {
  cv::Mat label(2, 3, CV_8UC3);
  label.at<cv::Vec3b>(0, 0) = bgr(128, 64, 128);
  label.at<cv::Vec3b>(0, 1) = bgr(0, 0, 142);
  label.at<cv::Vec3b>(0, 2) = bgr(0, 0, 0);
  label.at<cv::Vec3b>(1, 0) = bgr(0, 0, 142);
  label.at<cv::Vec3b>(1, 1) = bgr(0, 0, 142);
  label.at<cv::Vec3b>(1, 2) = bgr(128, 64, 128);
  const cv::Mat ids = road_car_black().decode(label, "labels/a.png");
  const cv::Mat expected = (cv::Mat_<uint8_t>(2, 3) << 7, 26, 0, 26, 26, 7);
  ASSERT_EQ(ids.type(), CV_8UC1);
  ASSERT_EQ(ids.size(), label.size());
  EXPECT_EQ(cv::countNonZero(ids != expected), 0);
}

TEST(LabelColours, ReversedChannelOrderIsAnUnknownColour) {
  // RGB (142, 0, 0) is car with its channels swapped: not a table colour.
  const cv::Mat label(1, 1, CV_8UC3, cv::Scalar(0, 0, 142));
  EXPECT_CONTAINS(error_message([&] { road_car_black().decode(label, "labels/a.png"); }),
                  "RGB (142, 0, 0)");
}

TEST(LabelColours, UnknownColourErrorNamesFileColourAndPlace) {
  cv::Mat label(4, 6, CV_8UC3, cv::Scalar::all(0));
  label.at<cv::Vec3b>(2, 5) = bgr(1, 2, 3);
  label.at<cv::Vec3b>(3, 1) = bgr(1, 2, 3);
  label.at<cv::Vec3b>(3, 4) = bgr(9, 9, 9);
  const std::string message =
      error_message([&] { road_car_black().decode(label, "labels/street.png"); });
  EXPECT_CONTAINS(message, "labels/street.png");
  EXPECT_CONTAINS(message, "RGB (1, 2, 3)");
  EXPECT_CONTAINS(message, "2 pixels");
  EXPECT_CONTAINS(message, "x=5 y=2");
  EXPECT_CONTAINS(message, "1 more pixels have other unknown colours");
  EXPECT_EQ(message.find("saved as RGB"), std::string::npos);
  // Label ids written as an RGB PNG: grey "colours", and a hint to that.
  const cv::Mat ids_as_rgb(2, 2, CV_8UC3, cv::Scalar::all(7));
  EXPECT_CONTAINS(error_message([&] { road_car_black().decode(ids_as_rgb, "labels/ids.png"); }),
                  "look like label ids saved as RGB");
}

TEST(LabelColours, RejectsAnythingButEightBitColourNamingTheFile) {
  const LabelColours colours = road_car_black();
  const std::string grey =
      error_message([&] { colours.decode(testing::filled_label(7, 2, 2), "labels/grey.png"); });
  EXPECT_CONTAINS(grey, "labels/grey.png");
  EXPECT_CONTAINS(grey, "CV_8UC1");
  const std::string deep =
      error_message([&] { colours.decode(cv::Mat(2, 2, CV_16UC3), "labels/deep.png"); });
  EXPECT_CONTAINS(deep, "labels/deep.png");
  EXPECT_CONTAINS(deep, "CV_16UC3");
  EXPECT_CONTAINS(error_message([&] { colours.decode(cv::Mat(), "labels/empty.png"); }),
                  "labels/empty.png");
}

TEST(LabelColours, AddRejectsSharedColoursAndOutOfRangeIds) {
  LabelColours colours;
  colours.add({153, 153, 153}, 17);
  const std::string shared = error_message([&] { colours.add({153, 153, 153}, 18); });
  EXPECT_CONTAINS(shared, "RGB (153, 153, 153) already maps to raw id 17");
  EXPECT_CONTAINS(error_message([&] { colours.add({1, 1, 1}, 256); }), "got 256");
  EXPECT_CONTAINS(error_message([&] { colours.add({1, 1, 1}, -1); }), "got -1");
  EXPECT_EQ(colours.entries().size(), 1U);
}

TEST(LabelColours, EmptyTableRejectsEveryPixel) {
  const LabelColours colours;
  EXPECT_TRUE(colours.empty());
  const cv::Mat label(2, 2, CV_8UC3, cv::Scalar(10, 20, 30));
  EXPECT_CONTAINS(error_message([&] { colours.decode(label, "labels/a.png"); }),
                  "RGB (30, 20, 10) is not one of the 0 label colours");
}

int decoded_id(const LabelColours& colours, const LabelColours::Rgb& rgb) {
  const cv::Mat label(1, 1, CV_8UC3, cv::Scalar(rgb[2], rgb[1], rgb[0]));
  return colours.decode(label, "labels/a.png").at<uint8_t>(0, 0);
}

TEST(LabelColours, CityscapesTableAgreesWithTheTrainPalette) {
  const LabelColours colours = cityscapes_label_colours();
  const LabelMap map = cityscapes_label_map();
  const DatasetInfo info = cityscapes_info();
  // Ids 0..33 with 0..4 sharing black and 17/18 sharing grey: 29 colours.
  ASSERT_EQ(colours.entries().size(), 29U);
  std::set<int> ids;
  for (const LabelColours::Entry& entry : colours.entries()) {
    ids.insert(entry.raw_id);
    const int train_id = map[entry.raw_id];
    ASSERT_NE(train_id, LabelMap::kUnmapped) << "label id " << int{entry.raw_id};
    if (train_id != kIgnoreIndex) {
      // An evaluated class has the same colour as its train id in the palette.
      EXPECT_EQ(entry.colour, info.palette[static_cast<size_t>(train_id)])
          << info.class_names[static_cast<size_t>(train_id)];
    }
  }
  // Every evaluated class is decodable.
  for (size_t train_id = 0; train_id < info.palette.size(); ++train_id) {
    EXPECT_EQ(map[decoded_id(colours, info.palette[train_id])], static_cast<int>(train_id))
        << info.class_names[train_id];
  }
  EXPECT_EQ(ids.size(), 29U);
  EXPECT_EQ(ids.count(18), 0U);
  EXPECT_EQ(decoded_id(colours, {0, 0, 0}), 0);
  EXPECT_EQ(decoded_id(colours, {153, 153, 153}), 17);  // pole, not polegroup
  EXPECT_EQ(decoded_id(colours, {111, 74, 0}), 5);      // dynamic
  EXPECT_EQ(decoded_id(colours, {81, 0, 81}), 6);       // ground
  EXPECT_EQ(decoded_id(colours, {250, 170, 160}), 9);   // parking
  EXPECT_EQ(decoded_id(colours, {230, 150, 140}), 10);  // rail track
  EXPECT_EQ(decoded_id(colours, {180, 165, 180}), 14);  // guard rail
  EXPECT_EQ(decoded_id(colours, {150, 100, 100}), 15);  // bridge
  EXPECT_EQ(decoded_id(colours, {150, 120, 90}), 16);   // tunnel
  EXPECT_EQ(decoded_id(colours, {0, 0, 90}), 29);       // caravan
  EXPECT_EQ(decoded_id(colours, {0, 0, 110}), 30);      // trailer
}

TEST(LabelColours, DecodesAPalettePngAsImreadReturnsIt) {
  testing::ScratchDir dir("colours");
  const std::filesystem::path file = dir.path() / "labels" / "00001.png";
  std::vector<testing::PaletteRgb> palette(34, testing::PaletteRgb{0, 0, 0});
  palette[7] = {128, 64, 128};
  palette[26] = {0, 0, 142};
  testing::write_palette_png(file, testing::two_band_label(7, 26, 3), palette);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  // IHDR's colour type byte (offset 25): 3 is palette-indexed.
  std::ifstream bytes(file, std::ios::binary);
  std::vector<char> head(26);
  ASSERT_TRUE(bytes.read(head.data(), static_cast<std::streamsize>(head.size())));
  ASSERT_EQ(head[25], 3);

  // The reason the colour table exists: imread drops the palette index.
  const cv::Mat decoded = cv::imread(file.string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(decoded.type(), CV_8UC3);
  const cv::Mat ids = cityscapes_label_colours().decode(decoded, file);
  EXPECT_EQ(cv::countNonZero(ids.rowRange(0, 3) == 7), 3 * testing::kFixtureCols);
  EXPECT_EQ(cv::countNonZero(ids.rowRange(3, ids.rows) == 26),
            (testing::kFixtureRows - 3) * testing::kFixtureCols);
}

// Labels drawn in a dataset's palette: each class colour is its train id,
// black is unknown unless a class is black, and a palette that repeats a
// colour gives no table.
TEST(LabelColours, APaletteGivesTrainIdsAndBlackForUnknown) {
  const auto colours = palette_label_colours({{128, 64, 128}, {0, 0, 142}, {220, 20, 60}}, 255);
  ASSERT_TRUE(colours.has_value());
  cv::Mat label(1, 4, CV_8UC3);
  label.at<cv::Vec3b>(0, 0) = bgr(220, 20, 60);
  label.at<cv::Vec3b>(0, 1) = bgr(0, 0, 0);
  label.at<cv::Vec3b>(0, 2) = bgr(128, 64, 128);
  label.at<cv::Vec3b>(0, 3) = bgr(0, 0, 142);
  const cv::Mat expected = (cv::Mat_<uint8_t>(1, 4) << 2, 255, 0, 1);
  EXPECT_EQ(cv::countNonZero(colours->decode(label, "labels/a.png") != expected), 0);

  const auto with_black = palette_label_colours({{0, 0, 0}, {0, 0, 142}}, 255);
  ASSERT_TRUE(with_black.has_value());
  const cv::Mat black(1, 1, CV_8UC3, cv::Scalar(0, 0, 0));
  EXPECT_EQ(with_black->decode(black, "labels/a.png").at<uint8_t>(0, 0), 0);

  EXPECT_FALSE(palette_label_colours({{0, 0, 142}, {1, 2, 3}, {0, 0, 142}}, 255).has_value());
  // A train id at the unknown id could not be told from unknown.
  EXPECT_FALSE(palette_label_colours({{0, 0, 142}, {1, 2, 3}, {4, 5, 6}}, 2).has_value());
}

}  // namespace
}  // namespace regal::data
