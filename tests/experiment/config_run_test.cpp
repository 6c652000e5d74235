// The run config (everything but `scenes:`): the shipped configs load, CLI
// overrides apply, and bad input names the file and the key.
#include <gtest/gtest.h>

#include <filesystem>
#include <utility>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "regal/experiment/config.h"
#include "regal/experiment/supervised_jobs.h"
#include "experiment/config_errors.h"
#include "support/test_support.h"

namespace regal::experiment {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMinimal =
    "source: {root: data/s}\n"
    "target: {root: data/t}\n";

// A key misspelt in a shipped config would stop every user of it at load.
TEST(RunConfig, EveryShippedConfigLoads) {
  int loaded = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(REGAL_SOURCE_DIR) / "configs")) {
    if (entry.path().extension() != ".yaml") continue;
    EXPECT_NO_THROW(load_run_config(entry.path())) << entry.path();
    ++loaded;
  }
  EXPECT_GE(loaded, 4);  // scenes-quick, scenes-paper, cityscapes-paper, camvid-paper
}

TEST(RunConfig, ShippedScenesConfigsLoad) {
  for (const char* name : {"scenes-quick.yaml", "scenes-paper.yaml"}) {
    const auto config = load_run_config(fs::path(REGAL_SOURCE_DIR) / "configs" / name);
    ASSERT_TRUE(config.scenes.has_value()) << name;
    EXPECT_EQ(config.source.spec("train").split, "train") << name;
    EXPECT_EQ(config.target.spec("d_v").split, "d_v") << name;
    EXPECT_EQ(config.model.fpn_options(15).num_classes(), 15) << name;
    EXPECT_EQ(config.supervised.init, "pretrained") << name;
    EXPECT_GT(config.pretrain.options.epochs(), 0) << name;
  }
}

TEST(RunConfig, DefaultsFillMissingSectionsAndSplitsDefaultToTheirRole) {
  testing::ScratchDir dir("config");
  write_file_atomically(dir.path() / "min.yaml", kMinimal);
  const auto config = load_run_config(dir.path() / "min.yaml");
  EXPECT_EQ(config.target.spec("d_r").split, "d_r");
  EXPECT_EQ(config.model.backbone, "resnet18");
  EXPECT_EQ(config.pretrain.out, "runs/pretrain");
  EXPECT_FALSE(config.scenes.has_value());
}

TEST(RunConfig, OverridesReplaceConfigValues) {
  testing::ScratchDir dir("config");
  write_file_atomically(dir.path() / "min.yaml", std::string(kMinimal) + "pretrain: {epochs: 7}\n");
  auto config = load_run_config(dir.path() / "min.yaml");
  JobOverrides overrides;
  overrides.epochs = 3;
  overrides.seed = 11;
  overrides.device = "cpu";
  overrides.out = "elsewhere";
  apply_overrides(config, config.pretrain, overrides);
  EXPECT_EQ(config.pretrain.options.epochs(), 3);
  EXPECT_EQ(config.pretrain.options.seed(), 11u);
  EXPECT_EQ(config.seed, 11u);
  EXPECT_EQ(config.device, "cpu");
  EXPECT_EQ(config.pretrain.out, "elsewhere");
}

TEST(RunConfig, BadInputNamesFileAndKey) {
  std::string m = load_error(std::string(kMinimal) + "pretrain: {epochz: 3}\n");
  EXPECT_NE(m.find("bad.yaml"), std::string::npos) << m;
  EXPECT_NE(m.find("pretrain.epochz"), std::string::npos) << m;
  m = load_error(std::string(kMinimal) + "pretrain: {epochs: many}\n");
  EXPECT_NE(m.find("pretrain.epochs"), std::string::npos) << m;
  EXPECT_NE(m.find("many"), std::string::npos) << m;
  m = load_error(std::string(kMinimal) + "model: {backbone: resnet101}\n");
  EXPECT_NE(m.find("model.backbone"), std::string::npos) << m;
  m = load_error(std::string(kMinimal) + "model: {dropout: 1.5}\n");
  EXPECT_NE(m.find("model.dropout"), std::string::npos) << m;
  m = load_error(std::string(kMinimal) + "pretrain: {crop: [64]}\n");
  EXPECT_NE(m.find("pretrain.crop"), std::string::npos) << m;
  m = load_error(std::string(kMinimal) + "supervised: {init: imagenet}\n");
  EXPECT_NE(m.find("supervised.init"), std::string::npos) << m;
  m = load_error("target: {root: data/t}\n");
  EXPECT_NE(m.find("source"), std::string::npos) << m;
  m = load_error(std::string(kMinimal) + "sead: 3\n");
  EXPECT_NE(m.find("sead"), std::string::npos) << m;
}

// Values LibTorch would reject (or silently misuse) only once training has
// started, possibly hours into an experiment, are refused at load.
TEST(RunConfig, OutOfRangeNumbersAreRefusedAtLoadNamingTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {"pretrain: {momentum: -0.9}\n", "pretrain.momentum"},
      {"supervised: {weight_decay: -1}\n", "supervised.weight_decay"},
      {"pretrain: {lr_decay: 0}\n", "pretrain.lr_decay"},
      {"pretrain: {patience: -1}\n", "pretrain.patience"},
      {"pretrain: {grad_clip: -4}\n", "pretrain.grad_clip"},
      {"pretrain: {eval_batch_size: 0}\n", "pretrain.eval_batch_size"},
      {"policy: {segmentation: {momentum: -0.5}}\n", "policy.segmentation.momentum"},
      {"policy: {dqn: {momentum: -1}}\n", "policy.dqn.momentum"},
      {"policy: {dqn: {weight_decay: -1}}\n", "policy.dqn.weight_decay"},
      {"policy: {dqn: {epsilon_start: 1.5}}\n", "policy.dqn.epsilon_start"},
      {"policy: {dqn: {epsilon_end: -0.1}}\n", "policy.dqn.epsilon_end"},
      {"policy: {dqn: {epsilon_end: 1.5}}\n", "policy.dqn.epsilon_end"},
      {"policy: {dqn: {epsilon_decay: 0}}\n", "policy.dqn.epsilon_decay"},
      {"policy: {buffer_capacity: 8, dqn: {batch_size: 16}}\n", "policy.buffer_capacity"},
      {"model: {fpn_channels: 0}\n", "model.fpn_channels"},
      {"threads: -4\n", "threads"},
      {"device: gpu\n", "'device'"},
      {"device: cuda:x\n", "'device'"},
  };
  for (const auto& [yaml, key] : cases) {
    const std::string m = load_error(std::string(kMinimal) + yaml);
    EXPECT_NE(m.find("bad.yaml"), std::string::npos) << yaml << ": " << m;
    EXPECT_NE(m.find(key), std::string::npos) << yaml << ": " << m;
  }
  // The spelling is checked, not the machine: a CUDA device loads on a CPU-only build.
  EXPECT_EQ(load_error(std::string(kMinimal) + "device: cuda:1\n"), "");
  EXPECT_EQ(load_error(std::string(kMinimal) + "pretrain: {momentum: 0, patience: 0, grad_clip: 0}\n"), "");
  EXPECT_EQ(load_error(std::string(kMinimal) + "policy: {buffer_capacity: 16, dqn: {batch_size: 16}}\n"), "");
}

TEST(RunConfig, ExplorationScheduleIsRead) {
  testing::ScratchDir dir("config");
  write_file_atomically(dir.path() / "min.yaml",
                        std::string(kMinimal) + "policy: {dqn: {epsilon_start: 1, epsilon_end: 0.1, epsilon_decay: 120}}\n");
  const auto dqn = load_run_config(dir.path() / "min.yaml").policy.options.dqn();
  EXPECT_DOUBLE_EQ(dqn.epsilon_start(), 1.0);
  EXPECT_DOUBLE_EQ(dqn.epsilon_end(), 0.1);
  EXPECT_DOUBLE_EQ(dqn.epsilon_decay(), 120.0);
  // Unset, they are ALGORITHM.md's 0.9, 0.05 and 10.
  write_file_atomically(dir.path() / "min.yaml", std::string(kMinimal));
  const auto defaults = load_run_config(dir.path() / "min.yaml").policy.options.dqn();
  EXPECT_DOUBLE_EQ(defaults.epsilon_start(), 0.9);
  EXPECT_DOUBLE_EQ(defaults.epsilon_end(), 0.05);
  EXPECT_DOUBLE_EQ(defaults.epsilon_decay(), 10.0);
}

// BALD on a model without dropout would fail only at its first unit, hours
// into an experiment; it is refused up front, naming the key to change.
TEST(RunConfig, BaldNeedsDropoutInTheModel) {
  testing::ScratchDir dir("config");
  write_file_atomically(dir.path() / "min.yaml", std::string(kMinimal) + "model: {dropout: 0}\n");
  const auto no_dropout = load_run_config(dir.path() / "min.yaml");
  try {
    check_method_runs_on_model(loop::Method::kBald, no_dropout);
    FAIL() << "expected regal::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("min.yaml"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("model.dropout"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(check_method_runs_on_model(loop::Method::kEntropy, no_dropout));
  EXPECT_NO_THROW(check_method_runs_on_model(loop::Method::kPolicy, no_dropout));
  write_file_atomically(dir.path() / "min.yaml", std::string(kMinimal) + "model: {dropout: 0.2}\n");
  EXPECT_NO_THROW(check_method_runs_on_model(loop::Method::kBald, load_run_config(dir.path() / "min.yaml")));
}

TEST(RunConfig, MissingFileIsNamed) {
  try {
    load_run_config("/nonexistent/regal.yaml");
    FAIL() << "expected regal::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/regal.yaml"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace regal::experiment
