#include "regal/data/label_map.h"

#include <gtest/gtest.h>

#include <opencv2/core.hpp>

#include "data/dataset_fixtures.h"
#include "regal/data/camvid.h"
#include "regal/data/cityscapes.h"

namespace regal::data {
namespace {

using testing::error_message;

TEST(LabelMap, DefaultLeavesEveryValueUnmapped) {
  const LabelMap map;
  for (int raw = 0; raw < 256; ++raw) {
    EXPECT_EQ(map[raw], LabelMap::kUnmapped) << raw;
  }
}

TEST(LabelMap, IdentityMapsClassesAndIgnoreOnly) {
  const LabelMap map = LabelMap::identity(3);
  EXPECT_EQ(map[0], 0);
  EXPECT_EQ(map[2], 2);
  EXPECT_EQ(map[255], 255);
  EXPECT_EQ(map[3], LabelMap::kUnmapped);
  EXPECT_EQ(map[254], LabelMap::kUnmapped);
}

TEST(LabelMap, RejectsOutOfRangeArguments) {
  EXPECT_CONTAINS(error_message([] { LabelMap::identity(0); }), "got 0");
  EXPECT_CONTAINS(error_message([] { LabelMap::identity(256); }), "got 256");
  EXPECT_CONTAINS(error_message([] { LabelMap().set(256, 1); }), "got 256");
  EXPECT_CONTAINS(error_message([] { LabelMap().set(4, 300); }), "got 300");
}

TEST(LabelMap, ApplyMapsEveryPixelThroughTheTable) {
  LabelMap map;
  map.set(7, 0).set(26, 13).set(0, 255);
  cv::Mat raw = (cv::Mat_<uint8_t>(2, 3) << 7, 26, 0, 0, 7, 26);
  const cv::Mat mapped = map.apply(raw, "labels/a.png");
  const cv::Mat expected = (cv::Mat_<uint8_t>(2, 3) << 0, 13, 255, 255, 0, 13);
  ASSERT_EQ(mapped.type(), CV_8UC1);
  EXPECT_EQ(cv::countNonZero(mapped != expected), 0);
}

TEST(LabelMap, UnmappedValueErrorNamesFileValueAndPlace) {
  const LabelMap map = LabelMap::identity(3);
  cv::Mat raw = testing::filled_label(1, 4, 5);
  raw.at<uint8_t>(2, 3) = 9;
  raw.at<uint8_t>(3, 4) = 9;
  const std::string message = error_message([&] { map.apply(raw, "labels/street.png"); });
  EXPECT_CONTAINS(message, "labels/street.png");
  EXPECT_CONTAINS(message, "raw value 9 ");
  EXPECT_CONTAINS(message, "2 pixels");
  EXPECT_CONTAINS(message, "x=3 y=2");
  EXPECT_CONTAINS(message, "the values it reads: 0..2, 255");
  const cv::Mat above_ids = testing::filled_label(40, 2, 2);
  EXPECT_CONTAINS(error_message([&] { cityscapes_label_map().apply(above_ids, "a.png"); }), "reads: 0..33, 255");
}

TEST(LabelMap, RejectsColourLabelsNamingTheFile) {
  const cv::Mat colour(2, 2, CV_8UC3, cv::Scalar(1, 1, 1));
  const std::string message =
      error_message([&] { LabelMap::identity(3).apply(colour, "labels/colour.png"); });
  EXPECT_CONTAINS(message, "labels/colour.png");
  EXPECT_CONTAINS(message, "8UC3");
  const cv::Mat sixteen_bit(2, 2, CV_16UC1, cv::Scalar(1));
  EXPECT_CONTAINS(error_message([&] { LabelMap::identity(3).apply(sixteen_bit, "labels/deep.png"); }),
                  "save the ids as an 8-bit PNG");
}

TEST(LabelMap, CityscapesMapsTheNineteenEvaluatedIds) {
  const LabelMap map = cityscapes_label_map();
  const int evaluated[] = {7,  8,  11, 12, 13, 17, 19, 20, 21, 22,
                           23, 24, 25, 26, 27, 28, 31, 32, 33};
  int train_id = 0;
  for (int label_id = 0; label_id <= 33; ++label_id) {
    const bool is_evaluated = train_id < 19 && evaluated[train_id] == label_id;
    EXPECT_EQ(map[label_id], is_evaluated ? train_id : 255) << "label id " << label_id;
    train_id += is_evaluated ? 1 : 0;
  }
  EXPECT_EQ(train_id, 19);
  EXPECT_EQ(map[255], 255);
  EXPECT_EQ(map[34], LabelMap::kUnmapped);
  EXPECT_EQ(map[254], LabelMap::kUnmapped);
  EXPECT_EQ(cityscapes_info().num_classes(), 19);
  EXPECT_EQ(cityscapes_info().class_names[13], "car");
}

TEST(LabelMap, CamvidMapsVoidToIgnore) {
  const LabelMap map = camvid_label_map();
  for (int raw = 0; raw <= 10; ++raw) {
    EXPECT_EQ(map[raw], raw);
  }
  EXPECT_EQ(map[11], 255);
  EXPECT_EQ(map[12], LabelMap::kUnmapped);
  EXPECT_EQ(camvid_info().num_classes(), 11);
  EXPECT_EQ(camvid_info().palette.size(), 11U);
}

}  // namespace
}  // namespace regal::data
