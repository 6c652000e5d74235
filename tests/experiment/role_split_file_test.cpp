// `target.roles_from` / `role_counts` / `split_file`: the keys parse (and bad
// ones name the file and the key), the split file is drawn on first use and
// read as is afterwards, and a file that disagrees with the config is an error
// that says what to do.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "regal/data/dataset.h"
#include "regal/data/role_splits.h"
#include "regal/experiment/config.h"
#include "regal/experiment/role_split_file.h"
#include "regal/experiment/supervised_jobs.h"
#include "experiment/config_errors.h"
#include "support/test_support.h"

namespace regal::experiment {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSource = "source: {root: data/s}\n";

std::string target_with(const std::string& keys) {
  return std::string(kSource) + "target:\n  root: data/t\n" + keys;
}

const std::string kDrawn =
    "  roles_from: train\n"
    "  role_counts: {d_t: 4, d_s: 2, d_r: 3, d_v: 5}\n"
    "  split_file: runs/x/splits.json\n";

#define EXPECT_MESSAGE_HAS(message, part) \
  EXPECT_NE((message).find(part), std::string::npos) << "expected \"" << (part) << "\" in: " << (message)

TEST(RoleSplitConfig, ParsesTheKeysAndMapsTheRolesToRolesFrom) {
  testing::ScratchDir dir("config");
  write_file_atomically(dir.path() / "c.yaml", "seed: 9\n" + target_with(kDrawn + "  val: val\n"));
  const auto config = load_run_config(dir.path() / "c.yaml");
  ASSERT_TRUE(config.target.role_splits.has_value());
  const auto& role_splits = *config.target.role_splits;
  EXPECT_EQ(role_splits.roles_from, "train");
  EXPECT_EQ(role_splits.file, "runs/x/splits.json");
  EXPECT_EQ(role_splits.seed, 9u);
  EXPECT_EQ(role_splits.counts, (std::map<std::string, int64_t>{{"d_t", 4}, {"d_s", 2}, {"d_r", 3}, {"d_v", 5}}));
  EXPECT_EQ(config.target.splits.at("d_v"), "train");
  EXPECT_FALSE(config.source.role_splits.has_value());
  // val is a directory split as before; a drawn role needs the file first.
  EXPECT_TRUE(config.target.spec("val").ids.empty());
  try {
    config.target.spec("d_t");
    FAIL() << "expected regal::Error";
  } catch (const Error& e) {
    EXPECT_MESSAGE_HAS(std::string(e.what()), "ensure_role_splits");
    EXPECT_MESSAGE_HAS(std::string(e.what()), "runs/x/splits.json");
  }
}

TEST(RoleSplitConfig, ShippedPaperConfigsDrawTheirRolesFromTrain) {
  const fs::path configs = fs::path(REGAL_SOURCE_DIR) / "configs";
  const auto cityscapes = load_run_config(configs / "cityscapes-paper.yaml");
  ASSERT_TRUE(cityscapes.target.role_splits.has_value());
  EXPECT_EQ(cityscapes.target.role_splits->roles_from, "train");
  EXPECT_EQ(cityscapes.target.role_splits->counts,
            (std::map<std::string, int64_t>{{"d_t", 150}, {"d_s", 10}, {"d_r", 200}, {"d_v", 2615}}));
  EXPECT_EQ(cityscapes.target.spec("val").split, "val");
  const auto camvid = load_run_config(configs / "camvid-paper.yaml");
  ASSERT_TRUE(camvid.target.role_splits.has_value());
  EXPECT_EQ(camvid.target.role_splits->roles_from, "train");
  int64_t total = 0;
  for (const auto& entry : camvid.target.role_splits->counts) total += entry.second;
  EXPECT_LE(total, 367);  // CamVid train
  EXPECT_EQ(camvid.target.role_splits->counts.at("d_t"), 100);
  EXPECT_EQ(camvid.target.role_splits->counts.at("d_s"), 10);
  EXPECT_EQ(camvid.target.spec("val").split, "test");
  EXPECT_NE(cityscapes.target.role_splits->file, camvid.target.role_splits->file);
}

TEST(RoleSplitConfig, BadKeysNameTheFileAndTheKey) {
  std::string m = load_error(target_with(kDrawn + "  d_t: d_t\n"));
  EXPECT_MESSAGE_HAS(m, "bad.yaml");
  EXPECT_MESSAGE_HAS(m, "'target.d_t'");
  m = load_error(target_with("  roles_from: train\n  split_file: s.json\n"));
  EXPECT_MESSAGE_HAS(m, "bad.yaml");
  EXPECT_MESSAGE_HAS(m, "'target.role_counts' is required");
  m = load_error(target_with("  roles_from: train\n  role_counts: {d_t: 4, d_r: 3, d_v: 5}\n  split_file: s.json\n"));
  EXPECT_MESSAGE_HAS(m, "'target.role_counts.d_s' is missing");
  m = load_error(
      target_with("  roles_from: train\n  role_counts: {d_t: 4, d_s: 2, d_r: 0, d_v: 5}\n  split_file: s.json\n"));
  EXPECT_MESSAGE_HAS(m, "'target.role_counts.d_r' must be positive");
  m = load_error(target_with(
      "  roles_from: train\n  role_counts: {d_t: 4, d_s: 2, d_r: 3, d_v: 5, d_x: 1}\n  split_file: s.json\n"));
  EXPECT_MESSAGE_HAS(m, "target.role_counts.d_x");
  m = load_error(target_with(
      "  roles_from: train\n  role_counts: {d_t: 4, d_s: two, d_r: 3, d_v: 5}\n  split_file: s.json\n"));
  EXPECT_MESSAGE_HAS(m, "'target.role_counts.d_s'");
  m = load_error(target_with("  roles_from: train\n  role_counts: [4, 2, 3, 5]\n  split_file: s.json\n"));
  EXPECT_MESSAGE_HAS(m, "'target.role_counts' must be a mapping");
  m = load_error(target_with("  roles_from: train\n  role_counts: {d_t: 4, d_s: 2, d_r: 3, d_v: 5}\n"));
  EXPECT_MESSAGE_HAS(m, "'target.split_file' is required");
  m = load_error(target_with("  role_counts: {d_t: 4, d_s: 2, d_r: 3, d_v: 5}\n"));
  EXPECT_MESSAGE_HAS(m, "'target.role_counts' needs 'target.roles_from'");
  m = load_error(target_with("  split_file: s.json\n"));
  EXPECT_MESSAGE_HAS(m, "'target.split_file' needs 'target.roles_from'");
  m = load_error(target_with(kDrawn + "  val: train\n"));
  EXPECT_MESSAGE_HAS(m, "'target.val' is 'train'");
  m = load_error("source: {root: data/s, roles_from: train}\ntarget: {root: data/t}\n");
  EXPECT_MESSAGE_HAS(m, "unknown key 'source.roles_from'");
}

// A folder dataset with 20 train and 3 val images, and a config drawing
// 4 / 2 / 3 / 5 of train into <dir>/run/splits.json.
class RoleSplitFile : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::write_band_dataset(data_root(), "train", 20, 8, 12, 3, 1);
    testing::write_band_dataset(data_root(), "val", 3, 8, 12, 3, 2);
    write_config("{d_t: 4, d_s: 2, d_r: 3, d_v: 5}", "train");
  }
  fs::path data_root() const { return dir_.path() / "data"; }
  fs::path split_file() const { return dir_.path() / "run" / "splits.json"; }
  fs::path config_file() const { return dir_.path() / "c.yaml"; }
  void write_config(const std::string& counts, const std::string& roles_from) {
    write_file_atomically(config_file(), "seed: 5\nsource: {root: " + data_root().string() +
                                             "}\ntarget:\n  root: " + data_root().string() +
                                             "\n  roles_from: " + roles_from + "\n  role_counts: " + counts +
                                             "\n  split_file: " + split_file().string() + "\n  val: val\n");
  }
  RunConfig ensured() {
    RunConfig config = load_run_config(config_file());
    ensure_role_splits(config);
    return config;
  }
  std::string ensure_error() {
    try {
      ensured();
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  testing::ScratchDir dir_{"role-split-file"};
};

TEST_F(RoleSplitFile, FirstUseDrawsWithTheConfigSeedAndWritesTheFile) {
  ASSERT_FALSE(fs::exists(split_file()));
  const RunConfig config = ensured();
  ASSERT_TRUE(fs::exists(split_file()));
  const auto saved = data::load_role_splits(split_file());
  EXPECT_EQ(saved.split, "train");
  EXPECT_EQ(saved.seed, std::optional<uint64_t>(5));
  EXPECT_EQ(saved.roles, config.target.role_ids);
  std::set<std::string> seen;
  for (const std::string role : {"d_t", "d_s", "d_r", "d_v"}) {
    const data::DatasetSpec spec = config.target.spec(role);
    EXPECT_EQ(spec.split, "train") << role;
    EXPECT_EQ(spec.ids, saved.roles.at(role)) << role;
    const data::Dataset dataset = data::open_dataset(spec);
    EXPECT_EQ(dataset.size(), spec.ids.size()) << role;
    for (const auto& id : spec.ids) EXPECT_TRUE(seen.insert(id).second) << id;
  }
  EXPECT_EQ(config.target.spec("d_t").ids.size(), 4u);
  EXPECT_EQ(config.target.spec("d_v").ids.size(), 5u);
  EXPECT_TRUE(config.target.spec("val").ids.empty());
  // A --seed override changes config.seed, not the seed the file is drawn
  // with: drawn again under --seed 11, the file is the same.
  fs::remove(split_file());
  RunConfig overridden = load_run_config(config_file());
  JobOverrides seed_11;
  seed_11.seed = 11;
  apply_overrides(overridden, overridden.pretrain, seed_11);
  ensure_role_splits(overridden);
  EXPECT_EQ(overridden.seed, 11u);
  const auto redrawn = data::load_role_splits(split_file());
  EXPECT_EQ(redrawn.seed, std::optional<uint64_t>(5));
  EXPECT_EQ(redrawn.roles, saved.roles);
}

TEST_F(RoleSplitFile, LaterUsesReadTheFileAsIs) {
  const RunConfig first = ensured();
  const RunConfig second = ensured();
  EXPECT_EQ(first.target.role_ids, second.target.role_ids);
  // Hand-written (same counts, other ids, own order): read, never redrawn.
  write_file_atomically(split_file(), R"({"split": "train", "roles": {
      "d_t": ["train_9", "train_1", "train_2", "train_3"], "d_s": ["train_4", "train_5"],
      "d_r": ["train_6", "train_7", "train_8"],
      "d_v": ["train_10", "train_11", "train_12", "train_13", "train_0"]}})");
  const RunConfig third = ensured();
  EXPECT_EQ(third.target.spec("d_t").ids, (std::vector<std::string>{"train_9", "train_1", "train_2", "train_3"}));
  const data::Dataset d_v = data::open_dataset(third.target.spec("d_v"));
  EXPECT_EQ(d_v.files(4).id, "train_0");
}

TEST_F(RoleSplitFile, AFileThatDisagreesWithTheConfigNamesItAndTheWayOut) {
  const auto first = ensured().target.role_ids;
  write_config("{d_t: 6, d_s: 2, d_r: 3, d_v: 5}", "train");
  std::string m = ensure_error();
  EXPECT_MESSAGE_HAS(m, split_file().string());
  EXPECT_MESSAGE_HAS(m, config_file().string());
  EXPECT_MESSAGE_HAS(m, "lists 4 ids for d_t but target.role_counts.d_t is 6");
  EXPECT_MESSAGE_HAS(m, "Delete the file");
  EXPECT_MESSAGE_HAS(m, "target.split_file");

  write_config("{d_t: 4, d_s: 2, d_r: 3, d_v: 5}", "trainval");
  m = ensure_error();
  EXPECT_MESSAGE_HAS(m, "split 'train' but target.roles_from is 'trainval'");

  write_config("{d_t: 4, d_s: 2, d_r: 3, d_v: 5}", "train");
  write_file_atomically(split_file(), R"({"split": "train", "roles": {"d_t": ["train_1"], "d_q": ["train_2"]}})");
  m = ensure_error();
  EXPECT_MESSAGE_HAS(m, "no role 'd_s'");
  EXPECT_MESSAGE_HAS(m, "unknown role 'd_q'");

  // Deleting the file draws it again, the same as the first time.
  fs::remove(split_file());
  const RunConfig again = ensured();
  EXPECT_EQ(again.target.role_ids, first);
}

TEST_F(RoleSplitFile, IdsTheSplitDoesNotHaveNameTheIdWhenOpened) {
  write_file_atomically(split_file(), R"({"split": "train", "roles": {"d_t": ["train_1", "train_2", "train_3", "nope"],
      "d_s": ["train_4", "train_5"], "d_r": ["train_6", "train_7", "train_8"],
      "d_v": ["train_10", "train_11", "train_12", "train_13", "train_0"]}})");
  const RunConfig config = ensured();
  try {
    data::open_dataset(config.target.spec("d_t"));
    FAIL() << "expected regal::Error";
  } catch (const Error& e) {
    EXPECT_MESSAGE_HAS(std::string(e.what()), "'nope'");
    EXPECT_MESSAGE_HAS(std::string(e.what()), data_root().string());
  }
}

TEST_F(RoleSplitFile, TooFewImagesNameTheKeyAndNothingIsWritten) {
  write_config("{d_t: 10, d_s: 2, d_r: 3, d_v: 6}", "train");
  const std::string m = ensure_error();
  EXPECT_MESSAGE_HAS(m, config_file().string());
  EXPECT_MESSAGE_HAS(m, "'target.role_counts'");
  EXPECT_MESSAGE_HAS(m, "= 21 images from split 'train': it has 20");
  EXPECT_FALSE(fs::exists(split_file()));
}

TEST_F(RoleSplitFile, ConfigsWithoutRolesFromAreUntouched) {
  write_file_atomically(config_file(), "source: {root: " + data_root().string() +
                                           "}\ntarget: {root: " + data_root().string() + ", d_v: train}\n");
  const RunConfig config = ensured();
  EXPECT_TRUE(config.target.role_ids.empty());
  EXPECT_TRUE(config.target.spec("d_v").ids.empty());
  EXPECT_EQ(data::open_dataset(config.target.spec("d_v")).size(), 20u);
  EXPECT_FALSE(fs::exists(split_file()));
}

}  // namespace
}  // namespace regal::experiment
