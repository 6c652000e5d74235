#pragma once
// One evaluation run (ALGORITHM.md sections 1, 9, 10): from the pretrained
// segmentation net, acquire regions of D_V step by step with one method
// (random | entropy | bald | ralis), train on them, then score on the
// validation split, and write the results as JSON.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>
#include <torch/arg.h>

#include "regal/al/region_grid.h"
#include "regal/data/sample_store.h"
#include "regal/loop/acquisition.h"
#include "regal/loop/region_pool.h"
#include "regal/loop/region_training.h"
#include "regal/nn/fpn.h"

namespace regal::loop {

struct EvaluationOptions {
  TORCH_ARG(Method, method) = Method::kRandom;
  TORCH_ARG(al::RegionSize, region) = (al::RegionSize{128, 128});
  TORCH_ARG(int64_t, groups) = 256;     // K
  TORCH_ARG(int64_t, per_group) = 500;  // N of this method
  TORCH_ARG(Budget, budget) = (Budget{false, 1920.0});
  TORCH_ARG(int, bald_passes) = 20;
  TORCH_ARG(RegionTrainOptions, segmentation) = RegionTrainOptions();
  TORCH_ARG(int, eval_batch_size) = 8;
  TORCH_ARG(uint64_t, seed) = 0;
  // Classes averaged in the "rarest classes" score.
  TORCH_ARG(int64_t, rare_classes) = 6;
};

struct EvaluationData {
  const data::SampleStore* d_v = nullptr;  // the pool regions are acquired from
  const data::SampleStore* d_s = nullptr;  // state set (ralis only)
  const data::SampleStore* d_r = nullptr;  // held-out set for early stopping
  const data::SampleStore* val = nullptr;  // scored at the end
};

struct EvaluationJob {
  std::filesystem::path pretrained;             // segmentation checkpoint to start from
  std::optional<std::filesystem::path> policy;  // DqnTrainer archive (ralis only)
  at::Tensor class_frequencies;                 // [C] float64: wIoU weights and rarest classes
  std::filesystem::path out_file;               // results JSON (written atomically)
  std::string label;                            // "method" in the results; empty: to_string(method)
  // Which data the run read (the caller's description, e.g. fingerprints of
  // the splits); written under "data" when not null.
  nlohmann::json data;
  // What ran it (versions, device, threads); written under "environment" when not null.
  nlohmann::json environment;
  // The predicted train ids of the first `prediction_images` val images, as
  // 8-bit PNGs `<predictions_dir>/<id>.png` (for figures); 0 writes none.
  int64_t prediction_images = 0;
  std::filesystem::path predictions_dir;
  // Checkpoints of the labelling loop, so that an interrupted run continues
  // from its last saved step: kept in `checkpoint_dir` (empty: none), saved
  // after a step once `checkpoint_seconds` have passed since the last save
  // (0: after every step), removed once the results are written. A run
  // continued from a checkpoint gives the numbers of an uninterrupted one (CPU).
  std::filesystem::path checkpoint_dir;
  double checkpoint_seconds = 600.0;
  // Stop after this many labelling steps of this invocation, saving a
  // checkpoint; 0: run to the end. requires: checkpoint_dir when > 0.
  int64_t stop_after_steps = 0;
};

// Runs the evaluation and writes job.out_file. When job.stop_after_steps
// stops it first, nothing is written and the JSON returned is
// {"finished": false, "steps": S}; otherwise it holds "finished": true, the method,
// budget, seed, val mIoU / wIoU / per-class IoU, the mean IoU of the rarest
// classes, the train mIoU (on the labelled pixels of D_V), the labelled
// regions (image id, x, y), the class distribution of the acquired pixels
// and of the whole pool, and timings. ensures: returns that JSON.
// throws: regal::Error on bad options or data (ralis without a policy, a
// policy for another state size, a budget above the pool).
nlohmann::json run_evaluation(nn::Fpn net, const EvaluationData& data, c10::Device device,
                              const EvaluationOptions& options, const EvaluationJob& job);

}  // namespace regal::loop
