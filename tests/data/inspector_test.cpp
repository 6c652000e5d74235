// inspect-dataset on fixtures whose counts are known by construction, and on
// broken datasets where every problem must be collected, each naming its file.
#include "regal/data/dataset_inspector.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "data/dataset_fixtures.h"
#include "data/palette_png.h"
#include "support/test_support.h"

namespace regal::data {
namespace {

namespace fs = std::filesystem;
using testing::filled_label;
using testing::fixture_image;
using testing::two_band_label;
using testing::write_png;

// Three classes; train: two 8x16 samples, val: one 6x10 sample.
//   train/a: rows 0-3 class 0 (64 px), rows 4-5 class 1 (32), rows 6-7 ignore (32)
//   train/b: class 2 everywhere (128)
//   val/c:   class 0 everywhere (60)
void write_counting_fixture(const fs::path& root) {
  testing::write_text(root / "dataset.json", R"({
    "name": "counting", "classes": ["zero", "one", "two"],
    "palette": [[0, 0, 0], [1, 1, 1], [2, 2, 2]], "ignore_index": 255,
    "splits": {"train": ["a", "b"], "val": ["c"]}})");
  cv::Mat label_a = filled_label(255);
  label_a.rowRange(0, 4).setTo(0);
  label_a.rowRange(4, 6).setTo(1);
  write_png(root / "images" / "a.png", fixture_image());
  write_png(root / "labels" / "a.png", label_a);
  write_png(root / "images" / "b.png", fixture_image());
  write_png(root / "labels" / "b.png", filled_label(2));
  write_png(root / "images" / "c.png", fixture_image(6, 10));
  write_png(root / "labels" / "c.png", filled_label(0, 6, 10));
}

TEST(Inspector, CountsSamplesSizesAndClassPixelsPerSplit) {
  testing::ScratchDir dir("inspect");
  write_counting_fixture(dir.path());
  const InspectionReport report = inspect_dataset("folder", dir.path(), std::nullopt);
  EXPECT_TRUE(report.ok()) << report.problems.front();
  EXPECT_EQ(report.info.name, "counting");
  ASSERT_EQ(report.splits.size(), 2U);

  const SplitInspection& train = report.splits[0];
  EXPECT_EQ(train.split, "train");
  EXPECT_TRUE(train.opened);
  EXPECT_EQ(train.sample_count, 2U);
  EXPECT_EQ(train.loaded_count, 2U);
  EXPECT_EQ(train.image_sizes, (std::map<ImageSize, size_t>{{ImageSize{16, 8}, 2}}));
  EXPECT_EQ(train.pixels.per_class, (std::vector<uint64_t>{64, 32, 128}));
  EXPECT_EQ(train.pixels.ignore, 32U);
  const std::vector<double> train_frequency = train.pixels.frequencies();
  EXPECT_DOUBLE_EQ(train_frequency[0], 64.0 / 224.0);
  EXPECT_DOUBLE_EQ(train_frequency[1], 32.0 / 224.0);
  EXPECT_DOUBLE_EQ(train_frequency[2], 128.0 / 224.0);

  const SplitInspection& val = report.splits[1];
  EXPECT_EQ(val.image_sizes, (std::map<ImageSize, size_t>{{ImageSize{10, 6}, 1}}));
  EXPECT_EQ(val.pixels.per_class, (std::vector<uint64_t>{60, 0, 0}));

  EXPECT_EQ(report.total.per_class, (std::vector<uint64_t>{124, 32, 128}));
  EXPECT_EQ(report.total.ignore, 32U);
  EXPECT_DOUBLE_EQ(report.total.frequencies()[0], 124.0 / 284.0);
}

TEST(Inspector, OneSplitOnlyWhenGiven) {
  testing::ScratchDir dir("inspect");
  write_counting_fixture(dir.path());
  const InspectionReport report = inspect_dataset("folder", dir.path(), std::string("val"));
  ASSERT_EQ(report.splits.size(), 1U);
  EXPECT_EQ(report.splits[0].split, "val");
  EXPECT_EQ(report.total.per_class, (std::vector<uint64_t>{60, 0, 0}));
}

TEST(Inspector, ResultsDoNotDependOnThreadCount) {
  // Twelve samples, every third label broken: with four workers the samples
  // finish out of order, yet problems must come back in sample order.
  testing::ScratchDir dir("inspect");
  nlohmann::json ids = nlohmann::json::array();
  for (int i = 0; i < 12; ++i) {
    const std::string id = "s" + std::to_string(10 + i);
    ids.push_back(id);
    write_png(dir.path() / "images" / (id + ".png"), fixture_image());
    write_png(dir.path() / "labels" / (id + ".png"), filled_label(i % 3 == 0 ? 7 : i % 2));
  }
  testing::write_text(dir.path() / "dataset.json",
                      nlohmann::json{{"name", "threads"},
                                     {"classes", {"zero", "one"}},
                                     {"palette", {{0, 0, 0}, {1, 1, 1}}},
                                     {"ignore_index", 255},
                                     {"splits", {{"train", ids}}}}
                          .dump());
  const InspectionReport one = inspect_dataset("folder", dir.path(), std::nullopt, {}, 1);
  const InspectionReport four = inspect_dataset("folder", dir.path(), std::nullopt, {}, 4);
  EXPECT_EQ(inspection_to_json(one), inspection_to_json(four));
  ASSERT_EQ(four.problems.size(), 4U);
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_CONTAINS(four.problems[k], "s" + std::to_string(10 + 3 * k) + ".png");
  }
  EXPECT_EQ(four.splits[0].loaded_count, 8U);
  EXPECT_EQ(four.total.per_class, (std::vector<uint64_t>{4 * 128, 4 * 128}));
}

TEST(Inspector, ReportsProgressOncePerSampleInOrder) {
  testing::ScratchDir dir("inspect");
  write_counting_fixture(dir.path());
  std::vector<std::string> calls;
  inspect_dataset(
      "folder", dir.path(), std::nullopt,
      [&](const InspectionProgress& progress) {
        calls.push_back(progress.split + " " + std::to_string(progress.done) + "/" +
                        std::to_string(progress.total));
      },
      2);
  EXPECT_EQ(calls, (std::vector<std::string>{"train 1/2", "train 2/2", "val 1/1"}));
}

TEST(Inspector, CountsResizedGtavLabels) {
  testing::ScratchDir dir("inspect");
  write_png(dir.path() / "images" / "1.png", fixture_image());
  write_png(dir.path() / "labels" / "1.png", filled_label(7, 4, 8));  // half size
  write_png(dir.path() / "images" / "2.png", fixture_image());
  write_png(dir.path() / "labels" / "2.png", filled_label(26));
  const InspectionReport report = inspect_dataset("gtav", dir.path(), std::nullopt);
  EXPECT_TRUE(report.ok());
  ASSERT_EQ(report.splits.size(), 1U);
  EXPECT_EQ(report.splits[0].split, "all");
  EXPECT_EQ(report.splits[0].resized_label_count, 1);
  ASSERT_EQ(report.total.per_class.size(), 19U);
  EXPECT_EQ(report.total.per_class[0], 128U);   // road, after resizing to 8x16
  EXPECT_EQ(report.total.per_class[13], 128U);  // car
  EXPECT_CONTAINS(format_inspection_text(report), "1 labels resized");
}

TEST(Inspector, CountsPaletteGtavLabelsAndNamesUnknownColours) {
  testing::ScratchDir dir("inspect");
  std::vector<testing::PaletteRgb> palette(27, testing::PaletteRgb{0, 0, 0});
  palette[7] = {128, 64, 128};  // road
  palette[26] = {0, 0, 142};    // car
  palette[1] = {9, 9, 9};       // not a Cityscapes label colour
  write_png(dir.path() / "images" / "1.png", fixture_image());
  // Half size, rows 0-1 road, rows 2-3 unlabeled (black): 64 road, 64 ignore.
  testing::write_palette_png(dir.path() / "labels" / "1.png",
                             two_band_label(7, 0, 2).rowRange(0, 4).colRange(0, 8), palette);
  write_png(dir.path() / "images" / "2.png", fixture_image());
  testing::write_palette_png(dir.path() / "labels" / "2.png", filled_label(26), palette);
  write_png(dir.path() / "images" / "3.png", fixture_image());
  const fs::path unknown = dir.path() / "labels" / "3.png";
  testing::write_palette_png(unknown, two_band_label(1, 26, 1), palette);

  const InspectionReport report = inspect_dataset("gtav", dir.path(), std::nullopt);
  ASSERT_EQ(report.splits.size(), 1U);
  EXPECT_EQ(report.splits[0].loaded_count, 2U);
  EXPECT_EQ(report.splits[0].resized_label_count, 1);
  EXPECT_EQ(report.total.per_class[0], 64U);    // road
  EXPECT_EQ(report.total.per_class[13], 128U);  // car
  EXPECT_EQ(report.total.ignore, 64U);
  ASSERT_EQ(report.problems.size(), 1U);
  EXPECT_CONTAINS(report.problems[0], unknown.string());
  EXPECT_CONTAINS(report.problems[0], "RGB (9, 9, 9)");
}

TEST(Inspector, CollectsEveryProblemNamingItsFile) {
  testing::ScratchDir dir("inspect");
  const fs::path root = dir.path();
  const auto image = [&](const std::string& split, const std::string& stem) {
    return root / "leftImg8bit" / split / "ulm" / (stem + "_leftImg8bit.png");
  };
  const auto label = [&](const std::string& split, const std::string& stem) {
    return root / "gtFine" / split / "ulm" / (stem + "_gtFine_labelIds.png");
  };
  // train: one good sample, one truncated image, one unmapped label value,
  // one size mismatch. val: an orphan label (the split cannot open).
  for (const std::string stem : {"ulm_1", "ulm_2", "ulm_3", "ulm_4"}) {
    write_png(image("train", stem), fixture_image());
    write_png(label("train", stem), two_band_label(7, 26, 4));
  }
  testing::write_truncated_png(image("train", "ulm_2"));
  write_png(label("train", "ulm_3"), filled_label(40));
  write_png(label("train", "ulm_4"), filled_label(7, 8, 8));
  write_png(image("val", "ulm_5"), fixture_image());
  write_png(label("val", "ulm_5"), filled_label(7));
  write_png(label("val", "ulm_6"), filled_label(7));

  const InspectionReport report = inspect_dataset("cityscapes", root, std::nullopt);
  ASSERT_EQ(report.problems.size(), 4U) << format_inspection_text(report);
  EXPECT_CONTAINS(report.problems[0], image("train", "ulm_2").string());
  EXPECT_CONTAINS(report.problems[1], label("train", "ulm_3").string());
  EXPECT_CONTAINS(report.problems[1], "raw value 40");
  EXPECT_CONTAINS(report.problems[2], label("train", "ulm_4").string());
  EXPECT_CONTAINS(report.problems[3], label("val", "ulm_6").string());
  EXPECT_CONTAINS(report.problems[3], "has no image");

  ASSERT_EQ(report.splits.size(), 2U);
  EXPECT_EQ(report.splits[0].sample_count, 4U);
  EXPECT_EQ(report.splits[0].loaded_count, 1U);
  EXPECT_EQ(report.splits[0].pixels.per_class[0], 64U);  // only the good sample counts
  EXPECT_FALSE(report.splits[1].opened);
  EXPECT_FALSE(report.ok());
}

TEST(Inspector, MissingRootIsAProblemNotACrash) {
  testing::ScratchDir dir("inspect");
  const fs::path root = dir.path() / "absent";
  const InspectionReport report = inspect_dataset("camvid", root, std::nullopt);
  ASSERT_EQ(report.problems.size(), 1U);
  EXPECT_CONTAINS(report.problems[0], root.string());
  EXPECT_TRUE(report.splits.empty());
}

TEST(Inspector, FormatsTextAndJson) {
  testing::ScratchDir dir("inspect");
  write_counting_fixture(dir.path());
  write_png(dir.path() / "labels" / "c.png", filled_label(3, 6, 10));
  const InspectionReport report = inspect_dataset("folder", dir.path(), std::nullopt);

  const std::string text = format_inspection_text(report);
  EXPECT_CONTAINS(text, "split train: 2 samples, 2 decoded cleanly");
  EXPECT_CONTAINS(text, "16x8 (2)");
  EXPECT_CONTAINS(text, "two");
  EXPECT_CONTAINS(text, "0.571429");  // 128 / 224
  EXPECT_CONTAINS(text, "1 problem(s)");
  EXPECT_CONTAINS(text, (dir.path() / "labels" / "c.png").string());

  const nlohmann::json json = inspection_to_json(report);
  EXPECT_EQ(json["type"], "folder");
  EXPECT_EQ(json["name"], "counting");
  EXPECT_EQ(json["classes"], (nlohmann::json{"zero", "one", "two"}));
  EXPECT_EQ(json["splits"][0]["split"], "train");
  EXPECT_EQ(json["splits"][0]["samples"], 2);
  EXPECT_EQ(json["splits"][0]["class_pixels"], (nlohmann::json{64, 32, 128}));
  EXPECT_EQ(json["splits"][0]["image_sizes"][0]["width"], 16);
  EXPECT_EQ(json["splits"][1]["loaded"], 0);
  EXPECT_EQ(json["total"]["ignore_pixels"], 32);
  EXPECT_DOUBLE_EQ(json["total"]["class_frequency"][2].get<double>(), 128.0 / 224.0);
  EXPECT_EQ(json["problems"].size(), 1U);
  EXPECT_EQ(json["ok"], false);
}

}  // namespace
}  // namespace regal::data
