// The `scenes:` section of a config onto SceneOptions: the shipped configs
// parse, and every kind of bad input names the file, the key and the value.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "regal/experiment/config.h"
#include "support/test_support.h"

namespace regal::experiment {
namespace {

namespace fs = std::filesystem;

std::string scenes_error(const std::string& yaml) {
  try {
    scene_options_from_yaml(YAML::Load(yaml)["scenes"], "test.yaml");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(SceneConfig, ShippedConfigsParse) {
  const fs::path configs = fs::path(REGAL_SOURCE_DIR) / "configs";
  const auto quick = scene_options_from_yaml(load_yaml(configs / "scenes-quick.yaml")["scenes"], "scenes-quick.yaml");
  EXPECT_EQ(quick.out(), "data/scenes-quick");
  EXPECT_EQ(quick.target_d_v(), 160);
  // The quick config spells out the defaults.
  EXPECT_EQ(data::scenes_fingerprint(quick), data::scenes_fingerprint(data::SceneOptions()));
  const auto paper = scene_options_from_yaml(load_yaml(configs / "scenes-paper.yaml")["scenes"], "scenes-paper.yaml");
  EXPECT_EQ(paper.out(), "data/scenes-paper");
  EXPECT_EQ(paper.target_d_t(), 150);
  EXPECT_EQ(paper.target_d_s(), 10);
  EXPECT_EQ(paper.target_d_r(), 200);
  EXPECT_EQ(paper.target_d_v(), 800);  // not Cityscapes' 2615: the units' cost on a CPU
  EXPECT_EQ(paper.target_val(), 500);
  EXPECT_EQ(paper.target_style().noise_sigma(), quick.target_style().noise_sigma());
}

TEST(SceneConfig, ReadsEveryKindOfValue) {
  const auto o = scene_options_from_yaml(
      YAML::Load("scenes: {seed: 18446744073709551615, height: 96, band_heights: [1, 1, 1, 1, 2], "
                 "cover_all_things: false, target_style: {soft_edges: false, blur_sigma: 1.5}}")["scenes"],
      "test.yaml");
  EXPECT_EQ(o.seed(), 18446744073709551615ULL);
  EXPECT_EQ(o.height(), 96);
  EXPECT_EQ(o.band_heights().size(), 5u);
  EXPECT_FALSE(o.cover_all_things());
  EXPECT_FALSE(o.target_style().soft_edges());
  EXPECT_EQ(o.target_style().blur_sigma(), 1.5);
  EXPECT_EQ(o.source_style().blur_sigma(), 0.0);  // untouched: default
}

TEST(SceneConfig, BadInputNamesFileKeyAndValue) {
  std::string m = scenes_error("scenes:\n  itmes_max: 3\n");
  EXPECT_NE(m.find("test.yaml:2:3"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown key 'scenes.itmes_max'"), std::string::npos) << m;
  m = scenes_error("scenes:\n  target_style:\n    noise: 3\n");
  EXPECT_NE(m.find("unknown key 'scenes.target_style.noise'"), std::string::npos) << m;
  m = scenes_error("scenes:\n  height: tall\n");
  EXPECT_NE(m.find("scenes.height must be an integer but got 'tall'"), std::string::npos) << m;
  m = scenes_error("scenes:\n  width: 2.5\n");
  EXPECT_NE(m.find("scenes.width must be an integer but got '2.5'"), std::string::npos) << m;
  m = scenes_error("scenes:\n  seed: -1\n");
  EXPECT_NE(m.find("scenes.seed must be a non-negative integer but got '-1'"), std::string::npos) << m;
  m = scenes_error("scenes:\n  band_heights: [1, x, 1, 1, 1]\n");
  EXPECT_NE(m.find("scenes.band_heights[1] must be a number but got 'x'"), std::string::npos) << m;
  m = scenes_error("scenes:\n  source_style: 3\n");
  EXPECT_NE(m.find("scenes.source_style must be a mapping"), std::string::npos) << m;
  m = scenes_error("scenes:\n  items_min: 4\n  items_max: 2\n");
  EXPECT_NE(m.find("test.yaml: scenes.items_max = 2"), std::string::npos) << m;
  m = scenes_error("scenes:\n  out: ''\n");  // the working directory, whose source/ and target/ would be replaced
  EXPECT_NE(m.find("scenes.out must be a directory path but got an empty one"), std::string::npos) << m;
  m = scenes_error("scenes: [1, 2]\n");
  EXPECT_NE(m.find("scenes must be a mapping"), std::string::npos) << m;
  EXPECT_EQ(scenes_error("scenes:\n"), "");  // empty section: defaults
}

TEST(SceneConfig, LoadYamlNamesFileAndPosition) {
  testing::ScratchDir dir("yaml");
  try {
    load_yaml(dir.path() / "absent.yaml");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("absent.yaml"), std::string::npos) << e.what();
  }
  write_file_atomically(dir.path() / "broken.yaml", "scenes:\n  height: 3\n  width: [1, 2\n");
  try {
    load_yaml(dir.path() / "broken.yaml");
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find((dir.path() / "broken.yaml").string() + ":4:1"), std::string::npos) << m;
    EXPECT_NE(m.find("YAML parse error"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace regal::experiment
