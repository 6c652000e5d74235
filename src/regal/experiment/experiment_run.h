#pragma once
// `regal experiment`: the whole study in one run directory. Pretraining
// (shared through a cache keyed by what determines the pretrained net), the
// query networks of the two RALis variants, then every (method, budget, seed)
// unit of the plan; after each unit results.json, results.csv and summary.csv
// are rewritten from every finished unit, so a partial run already has
// results. Running the same command again continues where it stopped:
// finished units are kept, pretraining, policy training and a unit continue
// from their last epoch, step or unit checkpoint (on CPU with the numbers of
// an uninterrupted run).
//
// <out>/config.yaml      the config (a later run with another config is refused)
// <out>/data.json        the target splits read (run_data_record.h)
// <out>/experiment.json  plan, environment, timings, progress
// <out>/policy-miou/, policy-wiou/   train-policy runs (active_jobs.h); finished
//                        ones are shared through the policy cache (policy_cache_dir)
// <out>/supervised/      with experiment.upper_bound: train-supervised from the pretrained net
// <out>/units/<id>.json  one evaluation result per unit (loop/evaluation_run.h),
//                        <id>.predictions/ its predictions for the gallery,
//                        <id>.checkpoint/ its labelling loop while it runs
// <out>/results.json, results.csv, summary.csv   (results_table.h)
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "regal/experiment/config.h"
#include "regal/experiment/experiment_plan.h"
#include "regal/loop/scoring.h"

namespace regal::experiment {

// Command-line values that override the config's `experiment:` keys.
struct ExperimentRequest {
  std::optional<std::filesystem::path> out;
  std::optional<std::vector<std::string>> methods;
  std::optional<std::vector<std::string>> budgets;
  std::optional<std::vector<uint64_t>> seeds;
  std::optional<std::string> device;
  std::optional<int> threads;
  // Stop (resumably) after this many units of this invocation, or inside
  // policy training after this many of its steps; 0: run to the end.
  int64_t stop_after_units = 0;
  int64_t stop_after_policy_steps = 0;
  // Stop inside the next unit after this many of its labelling steps (it
  // continues from its checkpoint); 0: run to the end.
  int64_t stop_after_unit_steps = 0;
};

struct ExperimentOutcome {
  bool finished = false;  // every unit of the plan has a result
  std::filesystem::path out;
  std::filesystem::path pretrained;  // the checkpoint every unit starts from
  int64_t units_total = 0;
  int64_t units_done = 0;  // with a result, earlier invocations included
  int64_t units_run = 0;   // by this invocation
  double seconds = 0.0;    // this invocation
};

// The plan of a config with the request's overrides. throws: regal::Error on a bad plan.
ExperimentPlan plan_of(const RunConfig& config, const ExperimentRequest& request);

// The directory of the pretrained net for `config` under its pretrain_cache:
// "<dataset name>-<16 hex digits>", the digits an FNV-1a hash of the model and
// pretrain sections (without `out`), the seed and the fingerprints of source
// train and target val. requires: the scenes exist (when generated).
std::filesystem::path pretrain_cache_dir(const RunConfig& config);

// The policy cache entry of the query network rewarded by `reward`:
// "<dataset name>-<reward>-<16 hex digits>" under the config's policy_cache,
// the digits an FNV-1a hash of what policy training reads: the pretrained
// net's weights (`pretrain_dir`/best.pt, so also everything the pretrain key
// covers: model, pretraining, seed, source train and target val), the model
// and policy sections (without `out` and `reward`), the seed and the
// fingerprints of D_T, D_S and D_R. Not D_V, `evaluate:` or `experiment:`;
// not the device or thread count either (they change the numbers slightly,
// not what is learnt). requires: pretraining finished in `pretrain_dir`;
// ensure_scenes and ensure_role_splits have run for this `config`.
std::filesystem::path policy_cache_dir(const RunConfig& config, loop::RewardMetric reward,
                                       const std::filesystem::path& pretrain_dir);

// Runs (or continues) the experiment. throws: regal::Error (config, data,
// an out directory holding an experiment with another config or other data).
ExperimentOutcome run_experiment(const RunConfig& config, const ExperimentRequest& request);

}  // namespace regal::experiment
