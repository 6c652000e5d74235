#pragma once
// Supervised training of the segmentation net on fully labelled images:
// `regal pretrain` (source domain) and `regal train-supervised` (all target
// D_V labels, the upper bound). Random crops and flips, cross-entropy with
// the ignore index, SGD with momentum and gradient clipping (ALGORITHM.md
// §10), evaluation on full validation images every epoch, early stopping on
// val mIoU, best and last checkpoints, a CSV log, and --resume.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <torch/arg.h>

#include "regal/data/sample_store.h"
#include "regal/nn/fpn.h"

namespace regal::train {

struct TrainOptions {
  TORCH_ARG(int, epochs) = 30;
  TORCH_ARG(int, batch_size) = 8;
  TORCH_ARG(double, lr) = 0.01;
  // Multiplies the lr after every epoch.
  TORCH_ARG(double, lr_decay) = 0.95;
  // "sgd" (ALGORITHM.md §10) or "adam" (converges faster from scratch).
  TORCH_ARG(std::string, optimizer) = "sgd";
  // SGD only.
  TORCH_ARG(double, momentum) = 0.95;
  TORCH_ARG(double, weight_decay) = 1e-4;
  // Gradient-norm clip (ALGORITHM.md §10); 0 disables it.
  TORCH_ARG(double, grad_clip) = 4.0;
  TORCH_ARG(int64_t, crop_height) = 128;
  TORCH_ARG(int64_t, crop_width) = 128;
  TORCH_ARG(bool, flip) = true;
  // Epochs without a better val mIoU before stopping; 0 never stops early.
  TORCH_ARG(int, patience) = 5;
  TORCH_ARG(int, eval_batch_size) = 8;
  // Keep decoded images in memory (the embedded scenes fit; Cityscapes may not).
  TORCH_ARG(bool, cache_images) = true;
  TORCH_ARG(uint64_t, seed) = 0;
};

// One row of the training log.
struct EpochRecord {
  int epoch = 0;
  double lr = 0.0;
  double train_loss = 0.0;
  double train_miou = 0.0;
  double val_loss = 0.0;
  double val_miou = 0.0;
  std::vector<double> val_iou;  // per class, NaN when absent from gt and pred
  double seconds = 0.0;
};

struct TrainResult {
  std::vector<EpochRecord> epochs;  // including epochs restored on resume
  int best_epoch = -1;
  double best_val_miou = 0.0;
  bool stopped_early = false;
  double seconds = 0.0;             // this invocation only
  std::filesystem::path best_checkpoint;
};

// Evaluation of a net on full images of a split.
struct EvalResult {
  double loss = 0.0;          // mean cross-entropy over non-ignored pixels
  at::Tensor confusion;       // [C, C] int64 on CPU, rows = ground truth
  double miou = 0.0;
  std::vector<double> iou;    // per class
};

// requires: samples share the net's class count. Runs in eval mode, no grad.
EvalResult evaluate_segmentation(nn::Fpn& net, const data::SampleStore& samples, const c10::Device& device,
                                 int batch_size, int num_classes);

struct TrainJob {
  std::string name;                 // "pretrain", "train-supervised": for logs
  std::filesystem::path out_dir;    // log.csv, last.pt, best.pt, summary.json
  TrainOptions options;
  bool resume = false;              // continue from out_dir/last.pt
};

// Trains `net` in place. On return `net` holds the best epoch's weights.
// throws regal::Error when resume is asked for without a checkpoint, or when
// out_dir holds a run that resume was not asked for (nothing is overwritten).
TrainResult train_segmentation(nn::Fpn& net, const data::SampleStore& train_set,
                               const data::SampleStore& val_set, const c10::Device& device,
                               const TrainJob& job);

}  // namespace regal::train
