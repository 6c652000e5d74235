#pragma once
// The segmentation loss: pixel-wise cross-entropy of logits against labels,
// with one label value ignored. On CUDA LibTorch's cross-entropy sums its
// pixels with atomic additions in no fixed order, so the same run gave other
// numbers each time; there the loss is the log-softmax gathered at each
// pixel's label and summed by an ordinary reduction (the same every run). On
// the CPU LibTorch's own kernel is kept, so CPU runs give the numbers they
// always gave.
#include <torch/types.h>

#include <cstdint>

namespace regal::nn {

enum class LossReduction { Mean, Sum };

// logits [B, C, H, W], labels [B, H, W] (int64; ignore_label or 0..C-1).
// Mean divides by the pixels not ignored (NaN when there are none, as in
// LibTorch); Sum adds them up.
torch::Tensor pixel_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels, int64_t ignore_label,
                                  LossReduction reduction);

// The gathered form on any device: what pixel_cross_entropy does on CUDA.
torch::Tensor pixel_cross_entropy_by_gather(const torch::Tensor& logits, const torch::Tensor& labels,
                                            int64_t ignore_label, LossReduction reduction);

}  // namespace regal::nn
