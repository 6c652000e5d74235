// DatasetSpec::ids: a role drawn from a directory split opens only the listed
// samples, in the listed order; unknown ids name the id, the split and the root.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "data/dataset_fixtures.h"
#include "regal/data/dataset.h"
#include "support/test_support.h"

namespace regal::data {
namespace {

namespace fs = std::filesystem;
using testing::error_message;

std::vector<std::string> ids_of(const Dataset& dataset) {
  std::vector<std::string> ids;
  for (const auto& files : dataset.all_files()) ids.push_back(files.id);
  return ids;
}

TEST(DatasetSubset, EmptyIdsOpenTheWholeSplit) {
  testing::ScratchDir dir("subset");
  testing::write_band_dataset(dir.path(), "train", 5, 8, 12, 3, 1);
  const Dataset whole = open_dataset({"folder", dir.path(), "train"});
  EXPECT_EQ(ids_of(whole),
            (std::vector<std::string>{"train_0", "train_1", "train_2", "train_3", "train_4"}));
}

TEST(DatasetSubset, KeepsTheListedSamplesInTheListedOrder) {
  testing::ScratchDir dir("subset");
  testing::write_band_dataset(dir.path(), "train", 5, 8, 12, 3, 1);
  const Dataset subset = open_dataset({"folder", dir.path(), "train", {"train_3", "train_0"}});
  EXPECT_EQ(subset.split(), "train");
  EXPECT_EQ(subset.info().num_classes(), 3);
  EXPECT_EQ(ids_of(subset), (std::vector<std::string>{"train_3", "train_0"}));
  // Decoding goes through the same checks as the whole split's.
  const Sample sample = subset.load(0);
  EXPECT_EQ(sample.id, "train_3");
  EXPECT_EQ(sample.image.rows, 8);
  EXPECT_EQ(sample.label.cols, 12);
  EXPECT_EQ(subset.files(1).image, dir.path() / "images" / "train_0.png");
}

TEST(DatasetSubset, CityscapesIdsAreFileStemsAcrossCities) {
  testing::ScratchDir dir("subset");
  for (const std::string stem :
       {"aachen_000000_000019", "aachen_000001_000019", "bochum_000000_000313"}) {
    const std::string city = stem.substr(0, stem.find('_'));
    testing::write_png(dir.path() / "leftImg8bit" / "train" / city / (stem + "_leftImg8bit.png"),
                       testing::fixture_image());
    testing::write_png(dir.path() / "gtFine" / "train" / city / (stem + "_gtFine_labelIds.png"),
                       testing::filled_label(7));
  }
  const Dataset subset = open_dataset(
      {"cityscapes", dir.path(), "train", {"bochum_000000_000313", "aachen_000001_000019"}});
  EXPECT_EQ(ids_of(subset),
            (std::vector<std::string>{"bochum_000000_000313", "aachen_000001_000019"}));
  EXPECT_EQ(subset.info().name, "cityscapes");
  EXPECT_EQ(cv::countNonZero(subset.load(1).label == 0),
            testing::kFixtureRows * testing::kFixtureCols);
}

TEST(DatasetSubset, UnknownIdsNameTheIdsTheSplitAndTheRoot) {
  testing::ScratchDir dir("subset");
  testing::write_band_dataset(dir.path(), "train", 3, 8, 12, 3, 1);
  std::string m = error_message([&] {
    open_dataset({"folder", dir.path(), "train", {"train_1", "val_7", "train_2"}});
  });
  EXPECT_CONTAINS(m, "1 of 3 listed sample ids");
  EXPECT_CONTAINS(m, "'val_7'");
  EXPECT_CONTAINS(m, "split 'train'");
  EXPECT_CONTAINS(m, dir.path().string());
  // Many missing: the count and the first few, not all of them.
  std::vector<std::string> many;
  for (int i = 0; i < 9; ++i) many.push_back("gone_" + std::to_string(i));
  m = error_message([&] { open_dataset({"folder", dir.path(), "train", many}); });
  EXPECT_CONTAINS(m, "9 of 9 listed sample ids");
  EXPECT_CONTAINS(m, "'gone_4', ...");
  EXPECT_EQ(m.find("gone_5"), std::string::npos) << m;
}

TEST(DatasetSubset, AnIdListedTwiceIsAnError) {
  testing::ScratchDir dir("subset");
  testing::write_band_dataset(dir.path(), "train", 3, 8, 12, 3, 1);
  const std::string m = error_message([&] {
    open_dataset({"folder", dir.path(), "train", {"train_1", "train_1"}});
  });
  EXPECT_CONTAINS(m, "'train_1' is listed twice");
  EXPECT_CONTAINS(m, "split 'train'");
}

}  // namespace
}  // namespace regal::data
