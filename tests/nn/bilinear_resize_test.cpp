// resize_bilinear: LibTorch's own kernel on the CPU (CPU numbers unchanged),
// and the product form used on CUDA equal to it in value and in gradient.
#include "regal/nn/bilinear_resize.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <utility>
#include <vector>

#include "regal/core/error.h"

namespace regal::nn {
namespace {

namespace F = torch::nn::functional;

torch::Tensor interpolate_bilinear(const torch::Tensor& x, int64_t height, int64_t width) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{height, width})
                               .mode(torch::kBilinear)
                               .align_corners(false));
}

// The input's gradient under a fixed random weighting of the output.
torch::Tensor input_gradient(const torch::Tensor& input, const torch::Tensor& weighting,
                             torch::Tensor (*resize)(const torch::Tensor&, int64_t, int64_t)) {
  torch::Tensor x = input.detach().clone().requires_grad_(true);
  (resize(x, weighting.size(2), weighting.size(3)) * weighting).sum().backward();
  return x.grad();
}

TEST(BilinearResize, OnTheCpuItIsLibTorchsKernelBitForBit) {
  torch::manual_seed(0);
  const torch::Tensor x = torch::randn({2, 3, 7, 10});
  EXPECT_TRUE(torch::equal(resize_bilinear(x, 13, 17), interpolate_bilinear(x, 13, 17)));
  EXPECT_TRUE(torch::equal(resize_bilinear(x, 28, 40), interpolate_bilinear(x, 28, 40)));
}

TEST(BilinearResize, TheProductFormEqualsInterpolationInValueAndGradient) {
  torch::manual_seed(1);
  // Up by 4 (the head), by 2, by uneven factors (ceil-halved stages), down,
  // and to one pixel.
  const std::vector<std::pair<std::vector<int64_t>, std::pair<int64_t, int64_t>>> cases = {
      {{2, 5, 8, 12}, {32, 48}}, {{1, 4, 4, 5}, {7, 10}}, {{2, 3, 7, 10}, {25, 38}},
      {{1, 2, 10, 9}, {4, 3}},   {{1, 2, 5, 6}, {1, 1}},
  };
  for (const auto& [shape, size] : cases) {
    const auto [height, width] = size;
    const torch::Tensor x = torch::randn(shape);
    const torch::Tensor expected = interpolate_bilinear(x, height, width);
    const torch::Tensor got = resize_bilinear_by_products(x, height, width);
    ASSERT_EQ(got.sizes(), expected.sizes());
    EXPECT_LT((got - expected).abs().max().item<double>(), 1e-5) << x.sizes() << " -> " << height << "x" << width;

    const torch::Tensor weighting = torch::randn(expected.sizes());
    const torch::Tensor expected_grad = input_gradient(x, weighting, interpolate_bilinear);
    const torch::Tensor got_grad = input_gradient(x, weighting, resize_bilinear_by_products);
    EXPECT_LT((got_grad - expected_grad).abs().max().item<double>(), 1e-4)
        << x.sizes() << " -> " << height << "x" << width;
  }
}

TEST(BilinearResize, EachRowOfWeightsSumsToOne) {
  for (const auto& [in_size, out_size] : std::vector<std::pair<int64_t, int64_t>>{{4, 16}, {7, 13}, {10, 4}, {1, 5}}) {
    const torch::Tensor weights = bilinear_weights(in_size, out_size, torch::kFloat32);  // [out, in]
    ASSERT_EQ(weights.sizes(), (std::vector<int64_t>{out_size, in_size}));
    EXPECT_TRUE(torch::allclose(weights.sum(1), torch::ones({out_size})));
    EXPECT_GE(weights.min().item<float>(), 0.0f);
  }
}

TEST(BilinearResize, BadInputIsNamed) {
  EXPECT_THROW(resize_bilinear(torch::zeros({3, 4, 4}), 8, 8), Error);
  EXPECT_THROW(resize_bilinear(torch::zeros({1, 3, 4, 4}, torch::kInt64), 8, 8), Error);
  EXPECT_THROW(resize_bilinear_by_products(torch::zeros({1, 3, 4, 4}), 0, 8), Error);
}

}  // namespace
}  // namespace regal::nn
