#pragma once
// Bilinear resizing (align_corners = false, as F::interpolate) whose gradient
// is the same from run to run on CUDA. LibTorch's CUDA backward of bilinear
// interpolation accumulates with atomic additions in no fixed order: two
// scenes-quick runs of the same settings on an H200 diverged within the first
// pretraining epoch. On CUDA the resize is therefore two products with
// interpolation matrices (their backward is two products too, in a fixed
// order); on the CPU LibTorch's kernel, deterministic there, is kept, so CPU
// runs give the numbers they always gave.
#include <torch/types.h>

#include <cstdint>

namespace regal::nn {

// x [B, C, h, w] -> [B, C, height, width].
// requires: x is 4-D floating point; height, width >= 1 (else regal::Error).
torch::Tensor resize_bilinear(const torch::Tensor& x, int64_t height, int64_t width);

// The product form on any device: what resize_bilinear does on CUDA.
torch::Tensor resize_bilinear_by_products(const torch::Tensor& x, int64_t height, int64_t width);

// [out_size, in_size]: row i holds the two weights output index i takes from
// the input along one axis (F::interpolate's source index, clamped at 0).
torch::Tensor bilinear_weights(int64_t in_size, int64_t out_size, const torch::TensorOptions& options);

}  // namespace regal::nn
