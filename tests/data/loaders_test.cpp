// The four loaders on tiny fixtures: what they load (ids, RGB order, mapped
// labels) and, for every kind of broken input, that the error names the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <opencv2/core.hpp>

#include "data/dataset_fixtures.h"
#include "data/palette_png.h"
#include "regal/data/camvid.h"
#include "regal/data/cityscapes.h"
#include "regal/data/dataset.h"
#include "regal/data/file_pairing.h"
#include "regal/data/folder.h"
#include "regal/data/gtav.h"
#include "support/test_support.h"

namespace regal::data {
namespace {

namespace fs = std::filesystem;
using testing::error_message;
using testing::filled_label;
using testing::fixture_image;
using testing::write_png;

int count_equal(const cv::Mat& label, int value) { return cv::countNonZero(label == value); }

void expect_rgb_fixture_image(const cv::Mat& image) {
  ASSERT_EQ(image.type(), CV_8UC3);
  ASSERT_EQ(image.rows, testing::kFixtureRows);
  ASSERT_EQ(image.cols, testing::kFixtureCols);
  // Written as BGR (10, 20, 30): RGB order puts 30 first.
  const cv::Vec3b pixel = image.at<cv::Vec3b>(3, 5);
  EXPECT_EQ(pixel[0], 30);
  EXPECT_EQ(pixel[1], 20);
  EXPECT_EQ(pixel[2], 10);
}

// ---------------------------------------------------------------- cityscapes

fs::path cityscapes_image(const fs::path& root, const std::string& split, const std::string& city,
                          const std::string& stem) {
  return root / "leftImg8bit" / split / city / (stem + "_leftImg8bit.png");
}
fs::path cityscapes_label_ids(const fs::path& root, const std::string& split,
                              const std::string& city, const std::string& stem) {
  return root / "gtFine" / split / city / (stem + "_gtFine_labelIds.png");
}
fs::path cityscapes_train_ids(const fs::path& root, const std::string& split,
                              const std::string& city, const std::string& stem) {
  return root / "gtFine" / split / city / (stem + "_gtFine_labelTrainIds.png");
}

// Two cities in `split`; labels: top 4 rows road (7), bottom car (26), except
// a pixel of "unlabeled" (0) and one of bicycle (33).
void write_cityscapes(const fs::path& root, const std::string& split = "train") {
  for (const auto& [city, stem] :
       {std::pair<std::string, std::string>{"bochum", "bochum_000000_000313"},
        {"aachen", "aachen_000000_000019"}}) {
    write_png(cityscapes_image(root, split, city, stem), fixture_image());
    cv::Mat label = testing::two_band_label(7, 26, 4);
    label.at<uint8_t>(0, 0) = 0;
    label.at<uint8_t>(7, 15) = 33;
    write_png(cityscapes_label_ids(root, split, city, stem), label);
  }
}

TEST(LoaderCityscapes, LoadsSortedSamplesWithTrainIds) {
  testing::ScratchDir dir("cityscapes");
  write_cityscapes(dir.path());
  const Dataset dataset = open_dataset({"cityscapes", dir.path(), "train"});
  ASSERT_EQ(dataset.size(), 2U);
  EXPECT_EQ(dataset.split(), "train");
  EXPECT_EQ(dataset.info().num_classes(), 19);
  // Sorted by city/stem, id without the _leftImg8bit suffix.
  EXPECT_EQ(dataset.files(0).id, "aachen_000000_000019");
  EXPECT_EQ(dataset.files(1).id, "bochum_000000_000313");

  const Sample sample = dataset.load(0);
  EXPECT_EQ(sample.id, "aachen_000000_000019");
  expect_rgb_fixture_image(sample.image);
  ASSERT_EQ(sample.label.type(), CV_8UC1);
  ASSERT_EQ(sample.label.size(), sample.image.size());
  EXPECT_EQ(sample.label.at<uint8_t>(0, 0), 255);  // unlabeled -> ignore
  EXPECT_EQ(sample.label.at<uint8_t>(1, 0), 0);    // road
  EXPECT_EQ(sample.label.at<uint8_t>(5, 0), 13);   // car
  EXPECT_EQ(sample.label.at<uint8_t>(7, 15), 18);  // bicycle
  EXPECT_EQ(count_equal(sample.label, 0), 4 * 16 - 1);
  EXPECT_EQ(count_equal(sample.label, 13), 4 * 16 - 1);
}

TEST(LoaderCityscapes, PrefersLabelTrainIdsWhenEveryImageHasThem) {
  testing::ScratchDir dir("cityscapes");
  write_cityscapes(dir.path());
  write_png(cityscapes_train_ids(dir.path(), "train", "aachen", "aachen_000000_000019"),
            filled_label(5));
  write_png(cityscapes_train_ids(dir.path(), "train", "bochum", "bochum_000000_000313"),
            filled_label(6));
  const Dataset dataset = open_cityscapes(dir.path(), "train");
  EXPECT_EQ(dataset.files(0).label.filename(), "aachen_000000_000019_gtFine_labelTrainIds.png");
  // Identity map: 5 stays 5 (as a label id, 5 would be "dynamic" -> ignore).
  EXPECT_EQ(count_equal(dataset.load(0).label, 5), 8 * 16);
  EXPECT_EQ(count_equal(dataset.load(1).label, 6), 8 * 16);
}

TEST(LoaderCityscapes, PartlyConvertedSplitFallsBackToLabelIds) {
  testing::ScratchDir dir("cityscapes");
  write_cityscapes(dir.path());
  write_png(cityscapes_train_ids(dir.path(), "train", "aachen", "aachen_000000_000019"),
            filled_label(5));
  const Dataset dataset = open_cityscapes(dir.path(), "train");
  EXPECT_EQ(dataset.files(0).label.filename(), "aachen_000000_000019_gtFine_labelIds.png");
  EXPECT_EQ(dataset.load(0).label.at<uint8_t>(1, 0), 0);  // road via the labelIds map
}

TEST(LoaderCityscapes, FollowsSymlinkedCityFolders) {
  // A split assembled from city folders kept elsewhere, one link per city.
  testing::ScratchDir dir("cityscapes");
  const fs::path store = dir.path() / "store";
  const fs::path root = dir.path() / "root";
  write_cityscapes(store);
  for (const char* kind : {"leftImg8bit", "gtFine"}) {
    fs::create_directories(root / kind / "train");
    for (const char* city : {"aachen", "bochum"}) {
      fs::create_directory_symlink(store / kind / "train" / city, root / kind / "train" / city);
    }
  }
  const Dataset dataset = open_cityscapes(root, "train");
  ASSERT_EQ(dataset.size(), 2U);
  EXPECT_EQ(dataset.files(0).id, "aachen_000000_000019");
  EXPECT_EQ(dataset.files(1).id, "bochum_000000_000313");
  EXPECT_EQ(dataset.load(1).label.at<uint8_t>(5, 0), 13);  // car, read through the link
}

TEST(LoaderCityscapes, ASymlinkLoopIsAnErrorNamingTheFolder) {
  testing::ScratchDir dir("cityscapes");
  write_cityscapes(dir.path());
  const fs::path train = dir.path() / "leftImg8bit" / "train";
  fs::create_directory_symlink(train, train / "aachen" / "loop");
  const std::string message = error_message([&] { open_cityscapes(dir.path(), "train"); });
  EXPECT_CONTAINS(message, "cannot list directory");
  EXPECT_CONTAINS(message, train.string());
}

TEST(LoaderCityscapes, SplitsAreTheImageSubdirectoriesWithFineLabels) {
  testing::ScratchDir dir("cityscapes");
  write_cityscapes(dir.path(), "val");
  write_cityscapes(dir.path(), "train");
  // leftImg8bit_trainextra unpacked beside them: coarse labels only.
  write_png(cityscapes_image(dir.path(), "train_extra", "augsburg", "augsburg_000000_000000"), fixture_image());
  EXPECT_EQ(dataset_splits("cityscapes", dir.path()), (std::vector<std::string>{"train", "val"}));
  fs::remove_all(dir.path() / "gtFine");
  const std::string message = error_message([&] { cityscapes_splits(dir.path()); });
  EXPECT_CONTAINS(message, "fine labels");
  EXPECT_CONTAINS(message, (dir.path() / "gtFine").string());
}

TEST(LoaderCityscapes, ImageWithoutLabelNamesTheImage) {
  testing::ScratchDir dir("cityscapes");
  write_cityscapes(dir.path());
  const fs::path lonely = cityscapes_image(dir.path(), "train", "aachen", "aachen_000001_000019");
  write_png(lonely, fixture_image());
  try {
    open_cityscapes(dir.path(), "train");
    FAIL() << "expected DatasetFilesError";
  } catch (const DatasetFilesError& e) {
    ASSERT_EQ(e.problems().size(), 1U);
    EXPECT_CONTAINS(e.problems()[0], lonely.string());
    EXPECT_CONTAINS(e.problems()[0], "has no label");
    EXPECT_CONTAINS(e.what(), lonely.string());
  }
}

TEST(LoaderCityscapes, LabelWithoutImageNamesTheLabel) {
  testing::ScratchDir dir("cityscapes");
  write_cityscapes(dir.path());
  const fs::path orphan =
      cityscapes_label_ids(dir.path(), "train", "aachen", "aachen_000009_000019");
  write_png(orphan, filled_label(7));
  const std::string message = error_message([&] { open_cityscapes(dir.path(), "train"); });
  EXPECT_CONTAINS(message, orphan.string());
  EXPECT_CONTAINS(message, "has no image");
}

TEST(LoaderCityscapes, OrphanTrainIdsFileIsReportedToo) {
  testing::ScratchDir dir("cityscapes");
  write_cityscapes(dir.path());
  const fs::path orphan =
      cityscapes_train_ids(dir.path(), "train", "aachen", "aachen_000009_000019");
  write_png(orphan, filled_label(1));
  EXPECT_CONTAINS(error_message([&] { open_cityscapes(dir.path(), "train"); }), orphan.string());
}

TEST(LoaderCityscapes, LabelSizeMismatchNamesBothFiles) {
  testing::ScratchDir dir("cityscapes");
  write_cityscapes(dir.path());
  const fs::path label =
      cityscapes_label_ids(dir.path(), "train", "aachen", "aachen_000000_000019");
  write_png(label, filled_label(7, 4, 8));
  const Dataset dataset = open_cityscapes(dir.path(), "train");
  const std::string message = error_message([&] { dataset.load(0); });
  EXPECT_CONTAINS(message, label.string());
  EXPECT_CONTAINS(message, dataset.files(0).image.string());
  EXPECT_CONTAINS(message, "8x4");
  EXPECT_CONTAINS(message, "16x8");
}

TEST(LoaderCityscapes, LabelValueAboveOfficialIdsNamesFileAndValue) {
  testing::ScratchDir dir("cityscapes");
  write_cityscapes(dir.path());
  const fs::path label =
      cityscapes_label_ids(dir.path(), "train", "bochum", "bochum_000000_000313");
  write_png(label, testing::two_band_label(7, 34, 2));
  const std::string message = error_message([&] { open_cityscapes(dir.path(), "train").load(1); });
  EXPECT_CONTAINS(message, label.string());
  EXPECT_CONTAINS(message, "raw value 34");
}

TEST(LoaderCityscapes, PaletteLabelIsRejectedNamingTheFile) {
  // Only GTAV reads labels through colours: a palette labelIds file here is
  // a conversion mistake, reported as a colour label.
  testing::ScratchDir dir("cityscapes");
  write_cityscapes(dir.path());
  const fs::path label =
      cityscapes_label_ids(dir.path(), "train", "aachen", "aachen_000000_000019");
  std::vector<testing::PaletteRgb> palette(8, testing::PaletteRgb{0, 0, 0});
  palette[7] = {128, 64, 128};
  testing::write_palette_png(label, filled_label(7), palette);
  const std::string message = error_message([&] { open_cityscapes(dir.path(), "train").load(0); });
  EXPECT_CONTAINS(message, label.string());
  EXPECT_CONTAINS(message, "single-channel");
  EXPECT_CONTAINS(message, "palette-indexed");
}

TEST(LoaderCityscapes, TruncatedImageNamesTheFile) {
  testing::ScratchDir dir("cityscapes");
  write_cityscapes(dir.path());
  const fs::path image = cityscapes_image(dir.path(), "train", "aachen", "aachen_000000_000019");
  testing::write_truncated_png(image);
  const std::string message = error_message([&] { open_cityscapes(dir.path(), "train").load(0); });
  EXPECT_CONTAINS(message, image.string());
  EXPECT_CONTAINS(message, "cannot decode image");
}

TEST(LoaderCityscapes, EmptySplitNamesSplitAndDirectory) {
  testing::ScratchDir dir("cityscapes");
  fs::create_directories(dir.path() / "leftImg8bit" / "test" / "berlin");
  fs::create_directories(dir.path() / "gtFine" / "test" / "berlin");
  const std::string message = error_message([&] { open_cityscapes(dir.path(), "test"); });
  EXPECT_CONTAINS(message, "split 'test' is empty");
  EXPECT_CONTAINS(message, (dir.path() / "leftImg8bit" / "test").string());
}

TEST(LoaderCityscapes, MissingSplitFolderNamesIt) {
  testing::ScratchDir dir("cityscapes");
  write_cityscapes(dir.path());
  const std::string message = error_message([&] { open_cityscapes(dir.path(), "val"); });
  EXPECT_CONTAINS(message, (dir.path() / "leftImg8bit" / "val").string());
  EXPECT_CONTAINS(message, "does not exist");
}

TEST(LoaderCityscapes, MissingRootNamesIt) {
  testing::ScratchDir dir("cityscapes");
  const fs::path root = dir.path() / "nowhere";
  EXPECT_CONTAINS(error_message([&] { open_cityscapes(root, "train"); }), root.string());
  EXPECT_CONTAINS(error_message([&] { cityscapes_splits(root); }), root.string());
}

// ---------------------------------------------------------------------- gtav

void write_gtav(const fs::path& root) {
  write_png(root / "images" / "00002.png", fixture_image());
  write_png(root / "labels" / "00002.png", testing::two_band_label(26, 7, 4));
  write_png(root / "images" / "00001.png", fixture_image());
  // Half size: GTA5 ships a few labels that do not match their image.
  write_png(root / "labels" / "00001.png",
            testing::two_band_label(7, 24, 2).rowRange(0, 4).colRange(0, 8));
}

TEST(LoaderGtav, LoadsAllFilesAndResizesMismatchedLabels) {
  testing::ScratchDir dir("gtav");
  write_gtav(dir.path());
  const Dataset dataset = open_dataset({"gtav", dir.path(), "all"});
  EXPECT_EQ(dataset.split(), "all");
  EXPECT_EQ(dataset.info().name, "gtav");
  ASSERT_EQ(dataset.size(), 2U);
  EXPECT_EQ(dataset.files(0).id, "00001");
  EXPECT_EQ(dataset.files(1).id, "00002");

  const Sample second = dataset.load(1);
  expect_rgb_fixture_image(second.image);
  EXPECT_EQ(count_equal(second.label, 13), 4 * 16);  // car
  EXPECT_EQ(count_equal(second.label, 0), 4 * 16);   // road
  EXPECT_EQ(dataset.resized_label_count(), 0);

  // 4x8 label -> 8x16: nearest neighbour doubles each band, ids unchanged.
  const Sample first = dataset.load(0);
  ASSERT_EQ(first.label.size(), first.image.size());
  EXPECT_EQ(count_equal(first.label, 0), 4 * 16);
  EXPECT_EQ(count_equal(first.label, 11), 4 * 16);  // person (24)
  EXPECT_EQ(dataset.resized_label_count(), 1);
}

TEST(LoaderGtav, LoadLabelResizesToTheImageLikeLoad) {
  // GTAV labels may be resized to their image: the label needs the image.
  testing::ScratchDir dir("gtav");
  write_gtav(dir.path());
  const Dataset dataset = open_dataset({"gtav", dir.path(), "all"});
  const cv::Mat label = dataset.load_label(0);  // a 4x8 file, 8x16 image
  ASSERT_EQ(label.size(), dataset.load(0).image.size());
  EXPECT_EQ(cv::countNonZero(label != dataset.load(0).label), 0);
}

// The palette GTA5 label files carry: index = Cityscapes label id, colour =
// its label colour (only the ids the fixtures use; the rest black), plus an
// index 40 whose colour no Cityscapes label has.
constexpr int kUnknownColourIndex = 40;
std::vector<testing::PaletteRgb> gtav_palette() {
  std::vector<testing::PaletteRgb> palette(kUnknownColourIndex + 1, testing::PaletteRgb{0, 0, 0});
  palette[7] = {128, 64, 128};    // road
  palette[24] = {220, 20, 60};    // person
  palette[26] = {0, 0, 142};      // car
  palette[17] = {153, 153, 153};  // pole
  palette[18] = {153, 153, 153};  // polegroup: same colour as pole
  palette[kUnknownColourIndex] = {1, 2, 3};
  return palette;
}

// Rows 0-1 road, 2-3 car, 4-5 unlabeled (0), 6-7 polegroup (18).
cv::Mat gtav_palette_indices() {
  cv::Mat indices = filled_label(0);
  indices.rowRange(0, 2).setTo(7);
  indices.rowRange(2, 4).setTo(26);
  indices.rowRange(6, 8).setTo(18);
  return indices;
}

TEST(LoaderGtav, ReadsPaletteLabelsThroughTheCityscapesColours) {
  testing::ScratchDir dir("gtav");
  const fs::path root = dir.path();
  write_png(root / "images" / "00001.png", fixture_image());
  testing::write_palette_png(root / "labels" / "00001.png", gtav_palette_indices(), gtav_palette());
  // A grey label-id file beside the palette ones still reads as before.
  write_png(root / "images" / "00002.png", fixture_image());
  write_png(root / "labels" / "00002.png", testing::two_band_label(26, 7, 4));
  const Dataset dataset = open_gtav(root, "all");

  const Sample palette = dataset.load(0);
  expect_rgb_fixture_image(palette.image);
  ASSERT_EQ(palette.label.type(), CV_8UC1);
  ASSERT_EQ(palette.label.size(), palette.image.size());
  EXPECT_EQ(count_equal(palette.label.rowRange(0, 2), 0), 2 * 16);    // road
  EXPECT_EQ(count_equal(palette.label.rowRange(2, 4), 13), 2 * 16);   // car
  EXPECT_EQ(count_equal(palette.label.rowRange(4, 6), 255), 2 * 16);  // black: ignored
  // Polegroup's colour is pole's: it comes back as pole (train id 5).
  EXPECT_EQ(count_equal(palette.label.rowRange(6, 8), 5), 2 * 16);

  const Sample grey = dataset.load(1);
  EXPECT_EQ(count_equal(grey.label.rowRange(0, 4), 13), 4 * 16);
  EXPECT_EQ(count_equal(grey.label.rowRange(4, 8), 0), 4 * 16);
  EXPECT_EQ(dataset.resized_label_count(), 0);
}

TEST(LoaderGtav, IgnoresThePaletteTransparencyChunk) {
  testing::ScratchDir dir("gtav");
  const fs::path root = dir.path();
  write_png(root / "images" / "00001.png", fixture_image());
  // Index 0 transparent, the rest opaque: OpenCV decodes this file to BGRA.
  std::vector<uint8_t> alpha(gtav_palette().size(), 255);
  alpha[0] = 0;
  testing::write_palette_png(root / "labels" / "00001.png", gtav_palette_indices(), gtav_palette(), alpha);
  ASSERT_EQ(cv::imread((root / "labels" / "00001.png").string(), cv::IMREAD_UNCHANGED).channels(), 4);

  const Sample sample = open_gtav(root, "all").load(0);
  ASSERT_EQ(sample.label.type(), CV_8UC1);
  EXPECT_EQ(count_equal(sample.label.rowRange(0, 2), 0), 2 * 16);    // road
  EXPECT_EQ(count_equal(sample.label.rowRange(2, 4), 13), 2 * 16);   // car
  EXPECT_EQ(count_equal(sample.label.rowRange(4, 6), 255), 2 * 16);  // transparent black: ignored
}

TEST(LoaderGtav, GreyLabelWithAlphaReadsAsItsLabelIds) {
  // Grey with an alpha channel (colour type 4): OpenCV gives BGRA, which the
  // Cityscapes colour table would reject ((26, 26, 26) is no label colour).
  testing::ScratchDir dir("gtav");
  const fs::path root = dir.path();
  write_png(root / "images" / "00001.png", fixture_image());
  cv::Mat alpha(testing::kFixtureRows, testing::kFixtureCols, CV_8UC1, cv::Scalar(255));
  alpha.rowRange(0, 2).setTo(0);  // transparent, yet labelled: the alpha says nothing of the class
  testing::write_grey_alpha_png(root / "labels" / "00001.png", testing::two_band_label(26, 7, 4), alpha);
  ASSERT_EQ(cv::imread((root / "labels" / "00001.png").string(), cv::IMREAD_UNCHANGED).channels(), 4);

  const Sample sample = open_gtav(root, "all").load(0);
  ASSERT_EQ(sample.label.type(), CV_8UC1);
  EXPECT_EQ(count_equal(sample.label.rowRange(0, 4), 13), 4 * 16);  // car (label id 26)
  EXPECT_EQ(count_equal(sample.label.rowRange(4, 8), 0), 4 * 16);    // road (label id 7)
}

TEST(LoaderGtav, ResizesPaletteLabelsLikeGreyOnes) {
  testing::ScratchDir dir("gtav");
  const fs::path root = dir.path();
  write_png(root / "images" / "00001.png", fixture_image());
  // 4x8 (half size): rows 0-1 person, rows 2-3 road.
  testing::write_palette_png(root / "labels" / "00001.png",
                             testing::two_band_label(24, 7, 2).rowRange(0, 4).colRange(0, 8),
                             gtav_palette());
  const Dataset dataset = open_gtav(root, "all");
  const Sample sample = dataset.load(0);
  ASSERT_EQ(sample.label.size(), sample.image.size());
  EXPECT_EQ(count_equal(sample.label.rowRange(0, 4), 11), 4 * 16);  // person
  EXPECT_EQ(count_equal(sample.label.rowRange(4, 8), 0), 4 * 16);   // road
  EXPECT_EQ(dataset.resized_label_count(), 1);
}

TEST(LoaderGtav, UnknownPaletteColourNamesFileColourAndPlace) {
  testing::ScratchDir dir("gtav");
  const fs::path root = dir.path();
  write_png(root / "images" / "00001.png", fixture_image());
  cv::Mat indices = gtav_palette_indices();
  indices.at<uint8_t>(5, 9) = kUnknownColourIndex;
  const fs::path label = root / "labels" / "00001.png";
  testing::write_palette_png(label, indices, gtav_palette());
  const std::string message = error_message([&] { open_gtav(root, "all").load(0); });
  EXPECT_CONTAINS(message, label.string());
  EXPECT_CONTAINS(message, "RGB (1, 2, 3)");
  EXPECT_CONTAINS(message, "x=9 y=5");
}

TEST(LoaderGtav, EmptySplitNameMeansAllAndOthersAreRejected) {
  testing::ScratchDir dir("gtav");
  write_gtav(dir.path());
  EXPECT_EQ(open_gtav(dir.path(), "").size(), 2U);
  EXPECT_EQ(dataset_splits("gtav", dir.path()), std::vector<std::string>{"all"});
  EXPECT_CONTAINS(error_message([&] { open_gtav(dir.path(), "train"); }), "unknown split 'train'");
}

TEST(LoaderGtav, ImageWithoutLabelAndLabelWithoutImageAreBothNamed) {
  testing::ScratchDir dir("gtav");
  write_gtav(dir.path());
  write_png(dir.path() / "images" / "00003.png", fixture_image());
  write_png(dir.path() / "labels" / "00004.png", filled_label(7));
  try {
    open_gtav(dir.path(), "all");
    FAIL() << "expected DatasetFilesError";
  } catch (const DatasetFilesError& e) {
    ASSERT_EQ(e.problems().size(), 2U);
    EXPECT_CONTAINS(e.problems()[0], (dir.path() / "images" / "00003.png").string());
    EXPECT_CONTAINS(e.problems()[1], (dir.path() / "labels" / "00004.png").string());
  }
}

TEST(LoaderGtav, UnreadableLabelNamesTheFile) {
  testing::ScratchDir dir("gtav");
  write_gtav(dir.path());
  const fs::path label = dir.path() / "labels" / "00002.png";
  testing::write_garbage(label);
  const std::string message = error_message([&] { open_gtav(dir.path(), "all").load(1); });
  EXPECT_CONTAINS(message, label.string());
  EXPECT_CONTAINS(message, "cannot decode label");
}

TEST(LoaderGtav, MissingRootAndEmptyFolderAreNamed) {
  testing::ScratchDir dir("gtav");
  EXPECT_CONTAINS(error_message([&] { open_gtav(dir.path() / "gone", "all"); }),
                  (dir.path() / "gone").string());
  fs::create_directories(dir.path() / "images");
  fs::create_directories(dir.path() / "labels");
  const std::string message = error_message([&] { open_gtav(dir.path(), "all"); });
  EXPECT_CONTAINS(message, "split 'all' is empty");
  EXPECT_CONTAINS(message, (dir.path() / "images").string());
}

// -------------------------------------------------------------------- camvid

void write_camvid(const fs::path& root, const std::string& split) {
  for (const std::string name : {"0006R0_f02430", "0001TP_006690"}) {
    write_png(root / split / (name + ".png"), fixture_image());
    write_png(root / (split + "annot") / (name + ".png"), testing::two_band_label(3, 11, 6));
  }
}

TEST(LoaderCamvid, LoadsSegNetLayoutAndMapsVoidToIgnore) {
  testing::ScratchDir dir("camvid");
  write_camvid(dir.path(), "train");
  write_camvid(dir.path(), "test");
  EXPECT_EQ(dataset_splits("camvid", dir.path()), (std::vector<std::string>{"train", "test"}));
  const Dataset dataset = open_dataset({"camvid", dir.path(), "test"});
  ASSERT_EQ(dataset.size(), 2U);
  EXPECT_EQ(dataset.files(0).id, "0001TP_006690");
  EXPECT_EQ(dataset.info().class_names[3], "Road");
  const Sample sample = dataset.load(0);
  expect_rgb_fixture_image(sample.image);
  EXPECT_EQ(count_equal(sample.label, 3), 6 * 16);
  EXPECT_EQ(count_equal(sample.label, 255), 2 * 16);
}

TEST(LoaderCamvid, LabelValueOutsideTheMapNamesFileAndValue) {
  testing::ScratchDir dir("camvid");
  write_camvid(dir.path(), "val");
  const fs::path label = dir.path() / "valannot" / "0006R0_f02430.png";
  write_png(label, testing::two_band_label(12, 1, 1));
  const std::string message = error_message([&] { open_camvid(dir.path(), "val").load(1); });
  EXPECT_CONTAINS(message, label.string());
  EXPECT_CONTAINS(message, "raw value 12");
}

TEST(LoaderCamvid, SizeMismatchIsAnErrorNotAResize) {
  testing::ScratchDir dir("camvid");
  write_camvid(dir.path(), "train");
  const fs::path label = dir.path() / "trainannot" / "0001TP_006690.png";
  write_png(label, filled_label(1, 8, 15));
  const std::string message = error_message([&] { open_camvid(dir.path(), "train").load(0); });
  EXPECT_CONTAINS(message, label.string());
  EXPECT_CONTAINS(message, (dir.path() / "train" / "0001TP_006690.png").string());
}

TEST(LoaderCamvid, TruncatedLabelNamesTheFile) {
  testing::ScratchDir dir("camvid");
  write_camvid(dir.path(), "train");
  const fs::path label = dir.path() / "trainannot" / "0001TP_006690.png";
  testing::write_truncated_png(label);
  const std::string message = error_message([&] { open_camvid(dir.path(), "train").load(0); });
  EXPECT_CONTAINS(message, label.string());
}

TEST(LoaderCamvid, PairingProblemsAreNamed) {
  testing::ScratchDir dir("camvid");
  write_camvid(dir.path(), "train");
  fs::remove(dir.path() / "trainannot" / "0006R0_f02430.png");
  EXPECT_CONTAINS(error_message([&] { open_camvid(dir.path(), "train"); }),
                  (dir.path() / "train" / "0006R0_f02430.png").string());
  write_png(dir.path() / "trainannot" / "0006R0_f02430.png", filled_label(1));
  fs::remove(dir.path() / "train" / "0001TP_006690.png");
  EXPECT_CONTAINS(error_message([&] { open_camvid(dir.path(), "train"); }),
                  (dir.path() / "trainannot" / "0001TP_006690.png").string());
}

TEST(LoaderCamvid, MissingRootMissingAnnotFolderAndUnknownSplit) {
  testing::ScratchDir dir("camvid");
  EXPECT_CONTAINS(error_message([&] { camvid_splits(dir.path() / "x"); }),
                  (dir.path() / "x").string());
  EXPECT_CONTAINS(error_message([&] { camvid_splits(dir.path()); }), "none of the split folders");
  // The original 32-class release: the message says which layout is read.
  write_png(dir.path() / "701_StillsRaw_full" / "0001TP_006690.png", fixture_image());
  EXPECT_CONTAINS(error_message([&] { camvid_splits(dir.path()); }), "SegNet's 11-class CamVid");
  EXPECT_CONTAINS(error_message([&] { open_camvid(dir.path(), "train"); }), "701_StillsRaw_full");
  write_png(dir.path() / "val" / "a.png", fixture_image());
  EXPECT_CONTAINS(error_message([&] { open_camvid(dir.path(), "val"); }),
                  (dir.path() / "valannot").string());
  EXPECT_CONTAINS(error_message([&] { open_camvid(dir.path(), "validation"); }),
                  "unknown split 'validation'");
}

TEST(LoaderCamvid, EmptySplitNamesSplitAndDirectory) {
  testing::ScratchDir dir("camvid");
  fs::create_directories(dir.path() / "test");
  fs::create_directories(dir.path() / "testannot");
  const std::string message = error_message([&] { open_camvid(dir.path(), "test"); });
  EXPECT_CONTAINS(message, "split 'test' is empty");
  EXPECT_CONTAINS(message, (dir.path() / "test").string());
}

// -------------------------------------------------------------------- folder

const char* const kFolderManifest = R"({
  "name": "scenes",
  "classes": ["sky", "road", "car"],
  "palette": [[70, 130, 180], [128, 64, 128], [0, 0, 142]],
  "ignore_index": 255,
  "class_frequency": [0.2, 0.5, 0.3],
  "splits": {"train": ["s002", "s001"], "val": ["s003"], "unused": []}
})";

void write_folder(const fs::path& root, const std::string& manifest = kFolderManifest) {
  testing::write_text(root / "dataset.json", manifest);
  for (const std::string id : {"s001", "s002", "s003"}) {
    write_png(root / "images" / (id + ".png"), fixture_image());
    write_png(root / "labels" / (id + ".png"), testing::two_band_label(2, 255, 5));
  }
}

TEST(LoaderFolder, LoadsListedIdsInOrderWithIdentityLabels) {
  testing::ScratchDir dir("folder");
  write_folder(dir.path());
  EXPECT_EQ(dataset_splits("folder", dir.path()),
            (std::vector<std::string>{"train", "unused", "val"}));
  const Dataset dataset = open_dataset({"folder", dir.path(), "train"});
  EXPECT_EQ(dataset.info().name, "scenes");
  EXPECT_EQ(dataset.info().class_names, (std::vector<std::string>{"sky", "road", "car"}));
  EXPECT_EQ(dataset.info().palette[1], (std::array<uint8_t, 3>{128, 64, 128}));
  ASSERT_EQ(dataset.size(), 2U);
  EXPECT_EQ(dataset.files(0).id, "s002");  // the manifest's order, not sorted
  const Sample sample = dataset.load(0);
  EXPECT_EQ(sample.id, "s002");
  expect_rgb_fixture_image(sample.image);
  EXPECT_EQ(count_equal(sample.label, 2), 5 * 16);
  EXPECT_EQ(count_equal(sample.label, 255), 3 * 16);
}

TEST(LoaderFolder, GreyLabelWithAlphaReadsAsItsGreyValues) {
  testing::ScratchDir dir("folder");
  write_folder(dir.path());
  cv::Mat alpha(testing::kFixtureRows, testing::kFixtureCols, CV_8UC1, cv::Scalar(255));
  alpha.rowRange(5, 8).setTo(0);  // the unknown rows transparent, as a drawing tool leaves them
  testing::write_grey_alpha_png(dir.path() / "labels" / "s002.png", testing::two_band_label(2, 255, 5), alpha);
  const Sample sample = open_folder(dir.path(), "train").load(0);
  ASSERT_EQ(sample.id, "s002");
  ASSERT_EQ(sample.label.type(), CV_8UC1);
  EXPECT_EQ(count_equal(sample.label, 2), 5 * 16);
  EXPECT_EQ(count_equal(sample.label, 255), 3 * 16);
}

TEST(LoaderFolder, LabelValueAboveClassCountNamesFileAndValue) {
  testing::ScratchDir dir("folder");
  write_folder(dir.path());
  const fs::path label = dir.path() / "labels" / "s003.png";
  write_png(label, filled_label(3));
  const std::string message = error_message([&] { open_folder(dir.path(), "val").load(0); });
  EXPECT_CONTAINS(message, label.string());
  EXPECT_CONTAINS(message, "raw value 3");
}

TEST(LoaderFolder, MissingImageOrLabelNamesTheFile) {
  testing::ScratchDir dir("folder");
  write_folder(dir.path());
  fs::remove(dir.path() / "labels" / "s001.png");
  fs::remove(dir.path() / "images" / "s002.png");
  try {
    open_folder(dir.path(), "train");
    FAIL() << "expected DatasetFilesError";
  } catch (const DatasetFilesError& e) {
    ASSERT_EQ(e.problems().size(), 2U);
    EXPECT_CONTAINS(e.problems()[0], (dir.path() / "labels" / "s002.png").string());
    EXPECT_CONTAINS(e.problems()[0], "has no image");
    EXPECT_CONTAINS(e.problems()[1], (dir.path() / "images" / "s001.png").string());
    EXPECT_CONTAINS(e.problems()[1], "has no label");
  }
}

TEST(LoaderFolder, SizeMismatchNamesBothFiles) {
  testing::ScratchDir dir("folder");
  write_folder(dir.path());
  write_png(dir.path() / "labels" / "s003.png", filled_label(1, 9, 16));
  const std::string message = error_message([&] { open_folder(dir.path(), "val").load(0); });
  EXPECT_CONTAINS(message, (dir.path() / "labels" / "s003.png").string());
  EXPECT_CONTAINS(message, (dir.path() / "images" / "s003.png").string());
  EXPECT_EQ(message.find("EXIF"), std::string::npos) << message;  // not a turned label
}

TEST(LoaderFolder, ALabelTurnedBy90DegreesPointsAtTheExifOrientation) {
  testing::ScratchDir dir("folder");
  write_folder(dir.path());
  // The image is 16 wide and 8 high; this label 8 wide and 16 high.
  write_png(dir.path() / "labels" / "s003.png", filled_label(1, testing::kFixtureCols, testing::kFixtureRows));
  const std::string message = error_message([&] { open_folder(dir.path(), "val").load(0); });
  EXPECT_CONTAINS(message, (dir.path() / "labels" / "s003.png").string());
  EXPECT_CONTAINS(message, "turned by 90 degrees");
  EXPECT_CONTAINS(message, "EXIF orientation");
}

TEST(LoaderFolder, UnreadableImageNamesTheFile) {
  testing::ScratchDir dir("folder");
  write_folder(dir.path());
  testing::write_garbage(dir.path() / "images" / "s003.png");
  EXPECT_CONTAINS(error_message([&] { open_folder(dir.path(), "val").load(0); }),
                  (dir.path() / "images" / "s003.png").string());
}

TEST(LoaderFolder, LoadLabelGivesLoadsLabelWithoutDecodingTheImage) {
  testing::ScratchDir dir("folder");
  write_folder(dir.path());
  const Dataset dataset = open_folder(dir.path(), "train");
  for (size_t i = 0; i < dataset.size(); ++i) {
    const cv::Mat label = dataset.load_label(i);
    ASSERT_EQ(label.type(), CV_8UC1);
    EXPECT_EQ(cv::countNonZero(label != dataset.load(i).label), 0) << i;
  }
  // The image is not read: a broken one fails load() only.
  testing::write_garbage(dir.path() / "images" / "s002.png");
  EXPECT_EQ(count_equal(dataset.load_label(0), 2), 5 * 16);
  EXPECT_CONTAINS(error_message([&] { dataset.load(0); }), (dir.path() / "images" / "s002.png").string());
  // A broken label still names its file.
  testing::write_garbage(dir.path() / "labels" / "s001.png");
  EXPECT_CONTAINS(error_message([&] { dataset.load_label(1); }), (dir.path() / "labels" / "s001.png").string());
  EXPECT_CONTAINS(error_message([&] { dataset.load_label(2); }), "out of range");
}

TEST(LoaderFolder, EmptyAndUnknownSplitsAreNamed) {
  testing::ScratchDir dir("folder");
  write_folder(dir.path());
  const std::string empty = error_message([&] { open_folder(dir.path(), "unused"); });
  EXPECT_CONTAINS(empty, "split 'unused' is empty");
  EXPECT_CONTAINS(empty, (dir.path() / "dataset.json").string());
  const std::string unknown = error_message([&] { open_folder(dir.path(), "test"); });
  EXPECT_CONTAINS(unknown, "unknown split 'test'");
  EXPECT_CONTAINS(unknown, "train, unused, val");
}

TEST(LoaderFolder, MissingRootAndMissingManifestAreNamed) {
  testing::ScratchDir dir("folder");
  EXPECT_CONTAINS(error_message([&] { open_folder(dir.path() / "none", "train"); }),
                  (dir.path() / "none").string());
  EXPECT_CONTAINS(error_message([&] { folder_splits(dir.path()); }),
                  (dir.path() / "dataset.json").string());
}

// A valid manifest; each bad case below breaks one thing in it.
nlohmann::json valid_manifest() {
  return nlohmann::json::parse(R"({
    "name": "x", "classes": ["a", "b"], "palette": [[1, 2, 3], [4, 5, 6]],
    "ignore_index": 255, "extra": {"k": 1}, "splits": {"t": ["a"]}})");
}

TEST(LoaderFolder, ValidManifestWithExtraKeysParses) {
  // Guards the cases below: unbroken, the manifest parses, so each case fails
  // for its own reason.
  testing::ScratchDir dir("folder");
  testing::write_text(dir.path() / "dataset.json", valid_manifest().dump());
  const FolderManifest manifest = read_folder_manifest(dir.path());
  EXPECT_EQ(manifest.info.num_classes(), 2);
  EXPECT_EQ(manifest.splits.at("t"), std::vector<std::string>{"a"});
}

struct BadManifest {
  const char* name;
  std::function<std::string()> text;  // the whole dataset.json
  const char* expected_in_message;
};

// Names the case in test listings instead of dumping its bytes.
void PrintTo(const BadManifest& bad, std::ostream* out) { *out << bad.name; }

// `break_it` edits a valid manifest.
std::function<std::string()> broken(std::function<void(nlohmann::json&)> break_it) {
  return [break_it] {
    nlohmann::json manifest = valid_manifest();
    break_it(manifest);
    return manifest.dump();
  };
}

std::function<std::string()> literal(const char* text) {
  return [text] { return std::string(text); };
}

class LoaderFolderBadManifest : public ::testing::TestWithParam<BadManifest> {};

TEST_P(LoaderFolderBadManifest, IsRejectedNamingFileAndKey) {
  testing::ScratchDir dir("folder");
  testing::write_text(dir.path() / "dataset.json", GetParam().text());
  const std::string message = error_message([&] { read_folder_manifest(dir.path()); });
  EXPECT_CONTAINS(message, (dir.path() / "dataset.json").string());
  EXPECT_CONTAINS(message, GetParam().expected_in_message);
}

using Json = nlohmann::json;

INSTANTIATE_TEST_SUITE_P(
    Cases, LoaderFolderBadManifest,
    ::testing::Values(
        BadManifest{"InvalidJson", literal(R"({"name": "x", )"), "invalid JSON"},
        BadManifest{"NotAnObject", literal("[1, 2]"), "JSON object"},
        BadManifest{"MissingName", broken([](Json& m) { m.erase("name"); }), "missing key 'name'"},
        BadManifest{"MissingClasses", broken([](Json& m) { m.erase("classes"); }),
                    "missing key 'classes'"},
        BadManifest{"ClassesNotArray", broken([](Json& m) { m["classes"] = "a"; }),
                    "key 'classes' must be"},
        BadManifest{"NoClasses", broken([](Json& m) {
                      m["classes"] = Json::array();
                      m["palette"] = Json::array();
                    }),
                    "1..255 class names"},
        BadManifest{"DuplicateClass", broken([](Json& m) { m["classes"][1] = "a"; }),
                    "classes[1] repeats"},
        BadManifest{"ClassWithComma", broken([](Json& m) { m["classes"][1] = "sign, front"; }),
                    "classes[1] \"sign, front\" holds a comma"},
        BadManifest{"MissingPalette", broken([](Json& m) { m.erase("palette"); }),
                    "missing key 'palette'"},
        BadManifest{"PaletteLengthDiffers", broken([](Json& m) { m["palette"].erase(1); }),
                    "'palette' has 1 colours but 'classes' has 2"},
        BadManifest{"PaletteEntryOutOfRange", broken([](Json& m) { m["palette"][0][2] = 300; }),
                    "palette[0] must be [r, g, b]"},
        BadManifest{"PaletteEntryTooShort", broken([](Json& m) {
                      m["palette"][1] = {1, 2};
                    }),
                    "palette[1] must be [r, g, b]"},
        BadManifest{"MissingIgnoreIndex", broken([](Json& m) { m.erase("ignore_index"); }),
                    "missing key 'ignore_index'"},
        BadManifest{"IgnoreIndexNot255", broken([](Json& m) { m["ignore_index"] = 0; }),
                    "'ignore_index' must be 255, got 0"},
        BadManifest{"MissingSplits", broken([](Json& m) { m.erase("splits"); }),
                    "missing key 'splits'"},
        BadManifest{"SplitNotArray", broken([](Json& m) { m["splits"]["t"] = "a"; }),
                    "splits['t'] must be an array"},
        BadManifest{"IdWithSlash", broken([](Json& m) { m["splits"]["t"][0] = "../a"; }),
                    "splits['t'][0] must be a file name"},
        BadManifest{"DuplicateId", broken([](Json& m) { m["splits"]["t"].push_back("a"); }),
                    "splits['t'][1] repeats"}),
    [](const ::testing::TestParamInfo<BadManifest>& info) { return std::string(info.param.name); });

// ------------------------------------------------------------- dispatching

TEST(LoaderDispatch, UnknownTypeIsRejectedWithTheKnownOnes) {
  testing::ScratchDir dir("dispatch");
  const std::string message = error_message([&] { open_dataset({"kitti", dir.path(), "train"}); });
  EXPECT_CONTAINS(message, "unknown dataset type 'kitti'");
  EXPECT_CONTAINS(message, "cityscapes, gtav, camvid or folder");
  EXPECT_CONTAINS(error_message([&] { dataset_splits("kitti", dir.path()); }), "'kitti'");
}

TEST(LoaderDispatch, SampleIndexOutOfRangeIsAnError) {
  testing::ScratchDir dir("dispatch");
  write_gtav(dir.path());
  EXPECT_CONTAINS(error_message([&] { open_gtav(dir.path(), "all").load(2); }),
                  "index 2 out of range");
}

}  // namespace
}  // namespace regal::data
