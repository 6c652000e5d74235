#pragma once
// The two supervised jobs of the CLI, as library calls: `pretrain` (source
// domain, evaluated on target val) and `train-supervised` (all target D_V
// labels: the upper bound of every active-learning run).
#include <filesystem>
#include <optional>
#include <string>

#include "regal/experiment/config.h"
#include "regal/train/segmentation_trainer.h"

namespace regal::experiment {

// Command-line values that override config keys (unset: keep the config's).
struct JobOverrides {
  std::optional<std::string> device;
  std::optional<int> threads;
  std::optional<int> epochs;
  std::optional<uint64_t> seed;
  std::optional<std::filesystem::path> out;
  bool resume = false;
};

// Applies overrides to a loaded config (device, threads, seed; epochs and out
// of the given section).
void apply_overrides(RunConfig& config, TrainSection& section, const JobOverrides& overrides);

// Generates the embedded scenes when the config has a `scenes:` section and
// they are missing or stale; no-op otherwise.
void ensure_scenes(const RunConfig& config);

struct JobReport {
  train::TrainResult result;
  std::filesystem::path out_dir;
  double final_val_miou = 0.0;
  std::string device;
  int64_t parameters = 0;
};

// Each writes <out>/data.json (run_data_record.h), config.yaml, log.csv,
// best.pt, last.pt, summary.json. With overrides.resume, data.json is checked
// first: a run whose data has changed is an error and nothing is touched.
JobReport run_pretrain(const RunConfig& config, const JobOverrides& overrides);
JobReport run_train_supervised(const RunConfig& config, const JobOverrides& overrides);

}  // namespace regal::experiment
