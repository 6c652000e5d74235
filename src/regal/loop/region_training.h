#pragma once
// Training the segmentation net on labelled regions (ALGORITHM.md section 10):
// crops of the configured size that contain a labelled region, every pixel
// outside the image's labelled regions IGNORE, cross-entropy with IGNORE, SGD
// with momentum and weight decay, gradient norm clipped. One pass over the
// newly labelled regions per labelling step; all labelled regions until early
// stopping at the end of an episode or an evaluation run.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>
#include <torch/arg.h>

#include "regal/al/region_grid.h"
#include "regal/data/sample_store.h"
#include "regal/loop/region_pool.h"
#include "regal/nn/fpn.h"

namespace torch::optim {
class SGD;
}  // namespace torch::optim

namespace regal::loop {

struct RegionTrainOptions {
  TORCH_ARG(double, lr) = 0.01;
  TORCH_ARG(double, momentum) = 0.95;
  TORCH_ARG(double, weight_decay) = 1e-4;
  // Gradient-norm clip; 0 disables it.
  TORCH_ARG(double, grad_clip) = 4.0;
  // Crop size; a crop larger than the image is cut to the image.
  TORCH_ARG(int64_t, crop_height) = 128;
  TORCH_ARG(int64_t, crop_width) = 128;
  TORCH_ARG(int64_t, batch_size) = 8;
  // Early stopping of the "all labelled regions" training: at most this many
  // epochs, stopping after `patience` epochs without a better held-out score.
  TORCH_ARG(int, max_epochs) = 20;
  TORCH_ARG(int, patience) = 3;
  TORCH_ARG(int, eval_batch_size) = 8;
};

// Every option as a JSON object, for the settings a checkpoint records so
// that a run is only continued with the options it was started with.
nlohmann::json options_json(const RegionTrainOptions& options);

// One training crop around a labelled region. The crop origin is drawn
// uniformly among the windows that contain the region's centre pixel
// (y + rh/2, x + rw/2), clipped to the image.
// requires: sample.image [3, H, W], sample.label [H, W]; mask [H, W] bool
// (the image's labelled pixels); region on the image.
// ensures: image [3, h, w], label [h, w] (h = min(crop_height, H), likewise w),
// label IGNORE outside the mask; origin_y/origin_x the crop's top-left corner.
struct RegionCrop {
  data::TensorSample sample;
  int64_t origin_y = 0;
  int64_t origin_x = 0;
};
RegionCrop region_crop(const data::TensorSample& sample, const at::Tensor& mask, const al::Region& region,
                       al::RegionSize region_size, int64_t crop_height, int64_t crop_width, std::mt19937_64& rng);

// Holds the segmentation net and its optimizer for an active-learning run.
class RegionTrainer {
 public:
  // requires: options with lr > 0, batch_size >= 1. throws: regal::Error.
  RegionTrainer(nn::Fpn net, const RegionTrainOptions& options, c10::Device device);
  ~RegionTrainer();
  RegionTrainer(const RegionTrainer&) = delete;
  RegionTrainer& operator=(const RegionTrainer&) = delete;

  // Loads the weights of `checkpoint` (a checkpoint file) and starts a fresh
  // optimizer (no momentum). throws: regal::Error naming the file.
  void reset_to(const std::filesystem::path& checkpoint);

  // One pass over `regions` in a random order (rng), batches of crops.
  // requires: regions labelled in `pool`, whose images index `store`.
  // ensures: the mean loss of the batches with a labelled pixel (a batch
  // without one is skipped: no step); 0 when `regions` is empty, NaN when no
  // batch had a labelled pixel.
  double train_epoch(const data::SampleStore& store, const RegionPool& pool, const std::vector<al::Region>& regions,
                     std::mt19937_64& rng);

  struct EarlyStopResult {
    int epochs = 0;
    int best_epoch = -1;       // 0-based; -1 when no epoch ran
    double best_score = 0.0;   // held-out score of the kept weights
  };
  // Epochs over every labelled region of `pool` until `score()` (the
  // held-out metric, higher is better) has not improved for `patience`
  // epochs, or max_epochs. `after_epoch(epoch, train_loss, score)` runs after
  // each epoch (e.g. the DQN lr decay, a log line, a loss curve). ensures: the net holds the best
  // epoch's weights (or its initial ones if no epoch beat `initial_score`).
  EarlyStopResult train_until_early_stopping(const data::SampleStore& store, const RegionPool& pool,
                                             const std::function<double()>& score, double initial_score,
                                             std::mt19937_64& rng,
                                             const std::function<void(int, double, double)>& after_epoch);

  nn::Fpn& net() { return net_; }
  torch::optim::SGD& optimizer() { return *optimizer_; }
  const RegionTrainOptions& options() const { return options_; }
  c10::Device device() const { return device_; }

 private:
  void make_optimizer();

  nn::Fpn net_;
  RegionTrainOptions options_;
  c10::Device device_;
  std::unique_ptr<torch::optim::SGD> optimizer_;
};

}  // namespace regal::loop
