// Dataset fingerprints: the same for the same samples (wherever the dataset
// lies), different when an id, a file size, the split or the class names
// change; and the split description a run directory records.
#include "regal/data/dataset_fingerprint.h"

#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "regal/core/atomic_file.h"
#include "support/test_support.h"

namespace regal::data {
namespace {

namespace fs = std::filesystem;

// A folder dataset with 4 train images of 8 x 12 and 3 classes.
class DatasetFingerprint : public ::testing::Test {
 protected:
  void SetUp() override { testing::write_band_dataset(root(), "train", 4, 8, 12, 3, 1); }
  fs::path root() const { return dir_.path() / "data"; }
  std::string fingerprint(const std::vector<std::string>& ids = {}) const {
    return dataset_fingerprint(open_dataset({"folder", root(), "train", ids}));
  }
  nlohmann::json info() const { return nlohmann::json::parse(read_file(root() / "dataset.json")); }
  void write_info(const nlohmann::json& json) const { write_file_atomically(root() / "dataset.json", json.dump()); }

  testing::ScratchDir dir_{"fingerprint"};
};

TEST_F(DatasetFingerprint, IsSixteenHexDigitsAndTheSameForAReopenedOrMovedDataset) {
  const std::string first = fingerprint();
  ASSERT_EQ(first.size(), 16u);
  EXPECT_EQ(first.find_first_not_of("0123456789abcdef"), std::string::npos) << first;
  EXPECT_EQ(fingerprint(), first);
  // The root is not part of it: a dataset copied elsewhere has the same one.
  fs::copy(root(), dir_.path() / "copy", fs::copy_options::recursive);
  EXPECT_EQ(dataset_fingerprint(open_dataset({"folder", dir_.path() / "copy", "train"})), first);
}

TEST_F(DatasetFingerprint, ChangesWithTheIdsAndTheirOrder) {
  const std::string all = fingerprint();
  const std::string some = fingerprint({"train_0", "train_1"});
  EXPECT_NE(some, all);
  EXPECT_NE(fingerprint({"train_0", "train_2"}), some);
  EXPECT_NE(fingerprint({"train_1", "train_0"}), some);
  // The same files under another id.
  fs::rename(root() / "images" / "train_3.png", root() / "images" / "renamed.png");
  fs::rename(root() / "labels" / "train_3.png", root() / "labels" / "renamed.png");
  auto json = info();
  json["splits"]["train"][3] = "renamed";
  write_info(json);
  EXPECT_NE(fingerprint(), all);
}

TEST_F(DatasetFingerprint, ChangesWithTheSizeOfAnImageOrALabelFile) {
  const std::string before = fingerprint();
  std::ofstream(root() / "images" / "train_2.png", std::ios::binary | std::ios::app) << '\0';
  const std::string image_grown = fingerprint();
  EXPECT_NE(image_grown, before);
  std::ofstream(root() / "labels" / "train_1.png", std::ios::binary | std::ios::app) << '\0';
  EXPECT_NE(fingerprint(), image_grown);
}

TEST_F(DatasetFingerprint, ChangesWithTheSplitAndTheClassNames) {
  const std::string before = fingerprint();
  auto json = info();
  json["splits"]["again"] = json["splits"]["train"];  // the same files under another split name
  write_info(json);
  EXPECT_EQ(fingerprint(), before);
  EXPECT_NE(dataset_fingerprint(open_dataset({"folder", root(), "again"})), before);
  json["classes"][2] = "renamed";
  write_info(json);
  EXPECT_NE(fingerprint(), before);
}

TEST_F(DatasetFingerprint, DescribesTheSplitWithItsIdsInOrder) {
  const DatasetSpec spec{"folder", root(), "train", {"train_2", "train_0"}};
  const auto described = describe_split(spec, open_dataset(spec));
  EXPECT_EQ(described["type"], "folder");
  EXPECT_EQ(described["name"], "bands");
  EXPECT_EQ(described["root"], root().string());
  EXPECT_EQ(described["split"], "train");
  EXPECT_EQ(described["num_samples"], 2);
  EXPECT_EQ(described["fingerprint"], fingerprint({"train_2", "train_0"}));
  EXPECT_EQ(described["ids"], nlohmann::json({"train_2", "train_0"}));
}

}  // namespace
}  // namespace regal::data
