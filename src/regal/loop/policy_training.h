#pragma once
// Training the query network on D_T (ALGORITHM.md sections 6-7): episodes of
// labelling steps from the pretrained segmentation net, epsilon-greedy picks,
// rewards from the D_R metric, one double-DQN update per step, and the best
// policy by end-of-episode D_R score. After every step everything needed to
// continue is saved atomically, so `--resume` reaches the same numbers as an
// uninterrupted run (on CPU with the same seed).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <torch/arg.h>

#include "regal/al/region_grid.h"
#include "regal/data/sample_store.h"
#include "regal/loop/region_pool.h"
#include "regal/loop/region_training.h"
#include "regal/loop/scoring.h"
#include "regal/nn/fpn.h"
#include "regal/rl/dqn.h"

namespace regal::loop {

struct PolicyTrainingOptions {
  TORCH_ARG(al::RegionSize, region) = (al::RegionSize{128, 128});
  // K: regions labelled per step (groups); N: candidates per group.
  TORCH_ARG(int64_t, groups) = 256;
  TORCH_ARG(int64_t, per_group) = 20;
  // Regions labelled per episode (a count or a percentage of D_T's regions).
  TORCH_ARG(Budget, budget) = (Budget{false, 3840.0});
  TORCH_ARG(int, episodes) = 100;
  TORCH_ARG(int64_t, buffer_capacity) = 3200;
  TORCH_ARG(RewardMetric, reward) = RewardMetric::kMiou;
  TORCH_ARG(rl::DqnOptions, dqn) = rl::DqnOptions();
  TORCH_ARG(RegionTrainOptions, segmentation) = RegionTrainOptions();
  // Images per network pass when computing features and scores.
  TORCH_ARG(int, eval_batch_size) = 8;
  TORCH_ARG(uint64_t, seed) = 0;
  // Stop (resumably) after this many steps of this invocation; 0 = run to the end.
  TORCH_ARG(int64_t, stop_after_steps) = 0;
};

// The splits of one dataset a policy is trained on (section 1).
struct PolicyTrainingData {
  const data::SampleStore* d_t = nullptr;  // episodes label regions of these
  const data::SampleStore* d_s = nullptr;  // state set
  const data::SampleStore* d_r = nullptr;  // reward set
};

struct PolicyTrainingJob {
  std::filesystem::path out_dir;     // log.csv, episodes.csv, best_policy.pt, checkpoint/
  std::filesystem::path pretrained;  // segmentation checkpoint every episode starts from
  at::Tensor class_weights;          // [C] float64, the wIoU weights (metrics::class_weights)
  bool resume = false;
};

struct PolicyTrainingResult {
  bool finished = false;  // all episodes done (false after stop_after_steps)
  int episodes_done = 0;
  int64_t steps_done = 0;  // over all episodes, resumed ones included
  int best_episode = -1;
  double best_score = 0.0;
  std::filesystem::path best_policy;
  // Seconds of this invocation per phase, summed over its steps.
  double seconds_state = 0.0;
  double seconds_train = 0.0;
  double seconds_reward = 0.0;
  double seconds_dqn = 0.0;
  double seconds_end_of_episode = 0.0;
  double seconds = 0.0;
};

// Trains the query network; `net` is the segmentation net (its weights are
// reset from job.pretrained at every episode).
// requires: the three splits non-empty with images of one size (D_S's may
// differ from D_T's), class_weights [C]; region sides >= 8.
// ensures: out_dir holds the logs, the checkpoint of the last step and
// best_policy.pt (a DqnTrainer archive) once an episode has ended.
// throws: regal::Error for bad options, a run in out_dir without resume, or
// resume without a run.
PolicyTrainingResult train_policy(nn::Fpn net, const PolicyTrainingData& data, c10::Device device,
                                  const PolicyTrainingOptions& options, const PolicyTrainingJob& job);

// The regions an episode labels, after checking that an episode fits a D_T
// pool of `pool_regions` regions: the budget within it, and K * N unlabelled
// candidates left for its last step.
// throws: regal::Error naming the options to change when it does not fit.
int64_t check_policy_fits_pool(int64_t pool_regions, const PolicyTrainingOptions& options);

// Checks that the policy-training checkpoint in `out_dir` was made with
// these options (K, N, region, budget, buffer capacity, reward, seed, DQN and
// segmentation options; the episode count may differ) from the same
// pretrained net (by content), before anything of the run is rewritten.
// Checkpoints of older regal versions record none and pass.
// throws: regal::Error when there is no checkpoint or an option differs, naming it.
void check_policy_checkpoint(const std::filesystem::path& out_dir, const PolicyTrainingOptions& options,
                             const std::filesystem::path& pretrained);

// Options of the query net for a dataset: Fs = Fa = (C+1)+192, M = |D_S| x regions per image.
rl::QueryNetOptions query_net_options(int64_t num_classes, int64_t state_rows);

// The trained query network in `policy_file`, for `num_classes` classes and
// the state set `d_s` cut into regions of `region` (what fixes its shapes).
// throws: regal::Error naming the file and the classes and state rows this
// data gives when the policy does not load (trained with another config, or
// not a policy).
std::unique_ptr<rl::DqnTrainer> load_policy(const std::filesystem::path& policy_file, int64_t num_classes,
                                            const data::SampleStore& d_s, al::RegionSize region, c10::Device device);

}  // namespace regal::loop
