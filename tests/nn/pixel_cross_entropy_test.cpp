// pixel_cross_entropy: LibTorch's own loss on the CPU (CPU numbers unchanged),
// and the gathered form used on CUDA equal to it in value and in gradient,
// ignored pixels included.
#include "regal/nn/pixel_cross_entropy.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>

#include "regal/core/error.h"

namespace regal::nn {
namespace {

namespace F = torch::nn::functional;
constexpr int64_t kIgnore = 255;

// Labels [2, 6, 7] over 5 classes with about a third of the pixels ignored.
torch::Tensor labels_with_ignored_pixels() {
  torch::Tensor labels = torch::randint(0, 5, {2, 6, 7}, torch::kInt64);
  return labels.masked_fill(torch::rand({2, 6, 7}) < 0.3, kIgnore);
}

torch::Tensor libtorch_loss(const torch::Tensor& logits, const torch::Tensor& labels, LossReduction reduction) {
  auto options = F::CrossEntropyFuncOptions().ignore_index(kIgnore);
  if (reduction == LossReduction::Sum) options.reduction(torch::kSum);
  return F::cross_entropy(logits, labels, options);
}

TEST(PixelCrossEntropy, OnTheCpuItIsLibTorchsLossBitForBit) {
  torch::manual_seed(0);
  const torch::Tensor logits = torch::randn({2, 5, 6, 7});
  const torch::Tensor labels = labels_with_ignored_pixels();
  for (const auto reduction : {LossReduction::Mean, LossReduction::Sum}) {
    EXPECT_TRUE(torch::equal(pixel_cross_entropy(logits, labels, kIgnore, reduction),
                             libtorch_loss(logits, labels, reduction)));
  }
}

TEST(PixelCrossEntropy, TheGatheredFormEqualsTheLossInValueAndGradient) {
  torch::manual_seed(1);
  const torch::Tensor labels = labels_with_ignored_pixels();
  for (const auto reduction : {LossReduction::Mean, LossReduction::Sum}) {
    const torch::Tensor start = torch::randn({2, 5, 6, 7}) * 3;
    torch::Tensor expected_logits = start.clone().requires_grad_(true);
    torch::Tensor got_logits = start.clone().requires_grad_(true);
    const torch::Tensor expected = libtorch_loss(expected_logits, labels, reduction);
    const torch::Tensor got = pixel_cross_entropy_by_gather(got_logits, labels, kIgnore, reduction);
    EXPECT_NEAR(got.item<double>(), expected.item<double>(), 1e-5 * std::max(1.0, expected.abs().item<double>()));
    expected.backward();
    got.backward();
    EXPECT_LT((got_logits.grad() - expected_logits.grad()).abs().max().item<double>(), 1e-6);
    // Ignored pixels get no gradient at all.
    const torch::Tensor ignored = (labels == kIgnore).unsqueeze(1).expand_as(start);
    EXPECT_EQ(got_logits.grad().masked_select(ignored).abs().max().item<float>(), 0.0f);
  }
}

TEST(PixelCrossEntropy, MismatchedShapesAreNamed) {
  EXPECT_THROW(pixel_cross_entropy(torch::zeros({2, 5, 6, 7}), torch::zeros({2, 6, 8}, torch::kInt64), kIgnore,
                                   LossReduction::Mean),
               Error);
  EXPECT_THROW(pixel_cross_entropy_by_gather(torch::zeros({5, 6, 7}), torch::zeros({6, 7}, torch::kInt64), kIgnore,
                                             LossReduction::Sum),
               Error);
}

}  // namespace
}  // namespace regal::nn
