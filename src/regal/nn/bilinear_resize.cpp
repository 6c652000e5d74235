#include "regal/nn/bilinear_resize.h"

#include <torch/torch.h>

#include "regal/core/error.h"

namespace regal::nn {
namespace {

void check_resize(const torch::Tensor& x, int64_t height, int64_t width) {
  REGAL_CHECK(x.dim() == 4 && x.is_floating_point() && height >= 1 && width >= 1,
              "resize_bilinear: expected a floating-point [B, C, h, w] tensor and an output size, got ", x.sizes(),
              " (", x.scalar_type(), ") and ", height, " x ", width);
}

}  // namespace

torch::Tensor bilinear_weights(int64_t in_size, int64_t out_size, const torch::TensorOptions& options) {
  REGAL_CHECK(in_size >= 1 && out_size >= 1, "bilinear_weights: sizes must be positive, got ", in_size, " and ",
              out_size);
  // Built on the CPU in float, as LibTorch's kernel computes its source
  // indices (scale = in / out, source = scale * (i + 0.5) - 0.5, at least 0).
  const auto cpu_float = torch::TensorOptions().dtype(torch::kFloat32);
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  const torch::Tensor source = ((torch::arange(out_size, cpu_float) + 0.5f) * scale - 0.5f).clamp_min(0.0f);  // [out]
  const torch::Tensor first = source.floor().to(torch::kInt64).clamp_max(in_size - 1);                      // [out]
  const torch::Tensor second = (first + 1).clamp_max(in_size - 1);                                           // [out]
  const torch::Tensor second_weight = source - first.to(torch::kFloat32);                                    // [out]
  // At the last input index both taps fall on it and their weights add up.
  torch::Tensor weights = torch::zeros({out_size, in_size}, cpu_float);  // [out, in]
  weights.scatter_add_(1, first.unsqueeze(1), (1.0f - second_weight).unsqueeze(1));
  weights.scatter_add_(1, second.unsqueeze(1), second_weight.unsqueeze(1));
  return weights.to(options);
}

torch::Tensor resize_bilinear_by_products(const torch::Tensor& x, int64_t height, int64_t width) {
  check_resize(x, height, width);
  const auto options = x.options().requires_grad(false);
  const torch::Tensor rows = bilinear_weights(x.size(2), height, options);    // [height, h]
  const torch::Tensor columns = bilinear_weights(x.size(3), width, options);  // [width, w]
  const torch::Tensor across = torch::matmul(x, columns.t());                 // [B, C, h, width]
  return torch::matmul(rows, across);                                         // [B, C, height, width]
}

torch::Tensor resize_bilinear(const torch::Tensor& x, int64_t height, int64_t width) {
  check_resize(x, height, width);
  if (x.is_cuda()) return resize_bilinear_by_products(x, height, width);
  return torch::nn::functional::interpolate(x, torch::nn::functional::InterpolateFuncOptions()
                                                   .size(std::vector<int64_t>{height, width})
                                                   .mode(torch::kBilinear)
                                                   .align_corners(false));
}

}  // namespace regal::nn
