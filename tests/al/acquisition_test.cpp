// Baseline acquisition on constructed images whose answer is obvious
// (ALGORITHM.md section 9): entropy picks the most uncertain candidate, BALD
// the one the MC passes disagree on, random is in range and seeded.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "regal/al/acquisition_scores.h"
#include "regal/al/region_features.h"
#include "regal/core/error.h"

namespace regal::al {
namespace {

constexpr int64_t kSide = 8;

// Sets the logits of one 8 x 8 region of image `image` to `values` (one per class).
void fill_region(at::Tensor& logits, int64_t image, int64_t x, int64_t y, const std::vector<float>& values) {
  for (size_t c = 0; c < values.size(); ++c) {
    logits[image][static_cast<int64_t>(c)].slice(0, y, y + kSide).slice(1, x, x + kSide).fill_(values[c]);
  }
}

TEST(EntropyBaseline, PicksTheMostUncertainCandidateOfEachGroup) {
  // Two 16 x 32 images of 3 classes, confident everywhere ([8, 0, 0]) except a
  // uniform region (entropy ln 3) in each image and one mildly unsure region.
  auto logits = torch::zeros({2, 3, 16, 32});  // [B, C, H, W]
  logits.select(1, 0).fill_(8.0);
  fill_region(logits, 0, 16, 8, {0, 0, 0});
  fill_region(logits, 1, 0, 0, {0, 0, 0});
  fill_region(logits, 0, 8, 0, {1, 0, 0});
  // K = 3 groups of N = 3, in group order.
  const auto regions = torch::tensor({0, 0, 0, 1, 0, 0, 0, 8, 0,       // group 0: uniform at n = 1
                                      0, 24, 8, 1, 8, 8, 0, 16, 8,     // group 1: uniform at n = 2
                                      0, 8, 0, 1, 16, 0, 0, 0, 8},     // group 2: mildly unsure at n = 0
                                     torch::kLong)
                           .view({9, 3});  // [K*N, 3]
  const auto want = torch::tensor({1, 2, 0}, torch::kLong);

  const auto maps = pixel_maps(logits);
  const auto features = region_features(maps, regions, {kSide, kSide});
  EXPECT_TRUE(torch::equal(pick_per_group(features.mean_entropy, 3), want));
  const auto means = region_means(maps.entropy, regions, {kSide, kSide});  // [K*N]
  EXPECT_TRUE(torch::equal(pick_per_group(means.view({3, 3}), 3), want));
  EXPECT_NEAR(means[1].item<float>(), std::log(3.0), 1e-5);
}

TEST(BaldBaseline, PicksDisagreementNotMereUncertainty) {
  // One 8 x 24 image of 4 classes, T = 4 passes, three 8 x 8 regions:
  //   x = 0:  every pass uniform       -> entropy ln 4, mutual information 0;
  //   x = 8:  pass t sure of class t   -> mean uniform, mutual information ~ ln 4;
  //   x = 16: every pass sure of class 0 -> nothing uncertain.
  auto mc_logits = torch::zeros({4, 4, 8, 24});  // [T, C, H, W]
  for (int64_t t = 0; t < 4; ++t) {
    mc_logits[t][t].slice(1, 8, 16).fill_(20.0);
    mc_logits[t][0].slice(1, 16, 24).fill_(20.0);
  }
  const auto maps = bald_maps(mc_logits);  // [1, H, W] each
  const auto regions = torch::tensor({0, 0, 0, 0, 8, 0, 0, 16, 0}, torch::kLong).view({3, 3});  // [N, 3]
  const auto bald = region_means(maps.bald, regions, {kSide, kSide});                        // [N]
  const auto entropy = region_means(maps.entropy_of_mean, regions, {kSide, kSide});          // [N]
  EXPECT_EQ(pick_per_group(bald, 1).item<int64_t>(), 1);
  EXPECT_NEAR(bald[0].item<float>(), 0.0, 1e-5);
  EXPECT_NEAR(bald[1].item<float>(), std::log(4.0), 1e-4);
  EXPECT_NEAR(bald[2].item<float>(), 0.0, 1e-5);
  // The uniform region is as uncertain as the disagreeing one, yet scores 0.
  EXPECT_NEAR(entropy[0].item<float>(), std::log(4.0), 1e-5);
}

TEST(BaldBaseline, AccumulatorRejectsChangingShapesAndNoPasses) {
  BaldAccumulator accumulator;
  EXPECT_THROW(accumulator.maps(), Error);
  accumulator.add(torch::zeros({1, 3, 8, 8}));
  EXPECT_THROW(accumulator.add(torch::zeros({1, 3, 8, 16})), Error);
  EXPECT_EQ(accumulator.passes(), 1);
  EXPECT_THROW(bald_maps(torch::zeros({3, 8, 8})), Error);
}

TEST(PickPerGroup, FirstIndexOnTiesAndNanRejected) {
  EXPECT_TRUE(torch::equal(pick_per_group(torch::tensor({1.0, 3.0, 3.0, 2.0, 2.0, 0.0}), 2),
                           torch::tensor({1, 0}, torch::kLong)));
  EXPECT_THROW(pick_per_group(torch::tensor({1.0, std::nan(""), 0.0, 2.0}), 2), Error);
  EXPECT_THROW(pick_per_group(torch::zeros({5}), 2), Error);
  EXPECT_THROW(pick_per_group(torch::zeros({3, 2}), 2), Error);
}

TEST(RandomPick, InRangeAndDeterministicForASeed) {
  std::mt19937_64 first(42);
  std::mt19937_64 again(42);
  std::mt19937_64 other(43);
  const auto picks = random_pick_per_group(64, 500, first);  // [64]
  ASSERT_EQ(picks.numel(), 64);
  EXPECT_GE(picks.min().item<int64_t>(), 0);
  EXPECT_LT(picks.max().item<int64_t>(), 500);
  EXPECT_TRUE(torch::equal(picks, random_pick_per_group(64, 500, again)));
  EXPECT_FALSE(torch::equal(picks, random_pick_per_group(64, 500, other)));
  EXPECT_THROW(random_pick_per_group(2, 0, first), Error);
}

TEST(RandomPick, IsTheRawGeneratorOutputModuloN) {
  // A rejection happens with probability < N / 2^64, so for a seed the picks
  // are mt19937_64's standard output mod N: the same on every platform.
  std::mt19937_64 rng(7);
  std::mt19937_64 reference(7);
  const auto picks = random_pick_per_group(100, 20, rng);
  for (int64_t g = 0; g < 100; ++g) {
    EXPECT_EQ(picks[g].item<int64_t>(), static_cast<int64_t>(reference() % 20)) << "group " << g;
  }
}

TEST(RandomPick, CoversEveryIndexEvenly) {
  std::mt19937_64 rng(2024);
  const auto picks = random_pick_per_group(3000, 3, rng);
  const auto counts = torch::bincount(picks, {}, 3);  // [3]
  for (int64_t n = 0; n < 3; ++n) {
    EXPECT_GT(counts[n].item<int64_t>(), 900) << "index " << n;
    EXPECT_LT(counts[n].item<int64_t>(), 1100) << "index " << n;
  }
}

}  // namespace
}  // namespace regal::al
