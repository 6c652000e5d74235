// KL features on hand-computed cases (ALGORITHM.md section 4): the bin rule,
// the all-equal case, no labelled regions, labelled fractions, blocking.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>

#include "regal/al/action_features.h"
#include "regal/al/kl_histogram.h"
#include "regal/core/error.h"

namespace regal::al {
namespace {

at::Tensor one_hot_row(std::initializer_list<std::pair<int64_t, float>> bins) {
  auto row = torch::zeros({kKlBins});  // [32]
  for (const auto& [bin, value] : bins) row[bin] = value;
  return row;
}

TEST(KlHistogram, BinRuleEqualRowsAndLastEdge) {
  const auto d = torch::tensor({0.0, 1.3, 2.0, 4.0,  // bins 0, floor(10.4), 16 and 32 -> 31
                                5.0, 5.0, 5.0, 5.0,  // all equal: bin 16
                                0.0, 0.5, 0.5, 1.0}, // the midpoint lands on edge 16
                               torch::kDouble)
                       .view({3, 4});
  const auto h = kl_histogram(d);  // [3, 32]
  ASSERT_EQ(h.sizes(), (std::vector<int64_t>{3, kKlBins}));
  EXPECT_TRUE(torch::equal(h[0], one_hot_row({{0, 0.25f}, {10, 0.25f}, {16, 0.25f}, {31, 0.25f}})));
  EXPECT_TRUE(torch::equal(h[1], one_hot_row({{kKlEqualBin, 1.0f}})));
  EXPECT_TRUE(torch::equal(h[2], one_hot_row({{0, 0.25f}, {16, 0.5f}, {31, 0.25f}})));
}

TEST(KlHistogram, NoLabelledRegionGivesZeros) {
  const auto h = kl_histogram(torch::zeros({5, 0}, torch::kDouble));
  EXPECT_EQ(h.sizes(), (std::vector<int64_t>{5, kKlBins}));
  EXPECT_EQ(h.abs().sum().item<float>(), 0.0f);
  const auto features = kl_histogram_features(torch::ones({5, 4}), torch::zeros({0, 4}));
  EXPECT_EQ(features.sizes(), (std::vector<int64_t>{5, kKlBins}));
  EXPECT_EQ(features.abs().sum().item<float>(), 0.0f);
}

TEST(KlDistances, NormalisesAndMatchesTheDefinition) {
  // a = [1, 1] -> [1/2, 1/2]; b = [1, 3] -> [1/4, 3/4].
  const auto d = kl_distances(torch::tensor({1.0, 1.0}).view({1, 2}), torch::tensor({1.0, 3.0, 2.0, 2.0}).view({2, 2}));
  ASSERT_EQ(d.sizes(), (std::vector<int64_t>{1, 2}));
  EXPECT_NEAR(d[0][0].item<double>(), 0.5 * std::log(2.0) + 0.5 * std::log(2.0 / 3.0), 1e-15);
  EXPECT_NEAR(d[0][1].item<double>(), 0.0, 1e-15);
  EXPECT_THROW(kl_distances(torch::zeros({1, 2}), torch::ones({1, 2})), Error);  // log 0
  EXPECT_THROW(kl_distances(torch::ones({1, 2}), torch::ones({1, 3})), Error);
}

TEST(KlHistogram, BlockedFeaturesEqualOneShot) {
  // 4096 references make blocks of 512 rows: 1100 rows take three blocks.
  torch::manual_seed(3);
  const auto a = torch::rand({1100, 6}, torch::kDouble) + 1e-7;  // [R, F]
  const auto b = torch::rand({4096, 6}, torch::kDouble) + 1e-7;  // [L, F]
  EXPECT_TRUE(torch::equal(kl_histogram_features(a, b), kl_histogram(kl_distances(a, b))));
}

TEST(LabelledFractions, CountsIgnoreInBinCAndFillsEmptyBins) {
  // One 2 x 4 region of 3 classes: class 0 x3, class 2 x2, IGNORE x3, class 1 x0.
  const auto gt = torch::tensor({0, 0, 255, 2, 0, 255, 2, 255}, torch::kUInt8).view({1, 2, 4});
  const auto fractions = labelled_fractions(gt, 3);  // [1, 4]
  const auto want = torch::tensor({3.0 / 8, 1e-7, 2.0 / 8, 3.0 / 8}, torch::kDouble).view({1, 4});
  EXPECT_TRUE(torch::allclose(fractions, want, 0, 1e-15));
  EXPECT_THROW(labelled_fractions(torch::full({1, 2, 2}, 3, torch::kLong), 3), Error);
  EXPECT_THROW(labelled_fractions(torch::zeros({1, 2, 2}), 3), Error);  // floating labels
  EXPECT_EQ(labelled_fractions(torch::zeros({0, 8, 8}, torch::kLong), 3).sizes(), (std::vector<int64_t>{0, 4}));
}

TEST(ActionFeatures, CandidatesMustSplitIntoEqualGroups) {
  const auto maps = pixel_maps(torch::randn({1, 3, 32, 32}));
  const auto features = grid_region_features(maps, {8, 8});  // 16 regions
  const auto labelled = torch::full({2, 4}, 0.25, torch::kDouble);
  const auto actions = action_features(features, labelled, 4);  // [4, 4, F]
  EXPECT_EQ(actions.sizes(), (std::vector<int64_t>{4, 4, action_feature_count(3)}));
  EXPECT_THROW(action_features(features, labelled, 5), Error);
  EXPECT_THROW(action_features(features, torch::ones({2, 3}, torch::kDouble), 4), Error);
}

}  // namespace
}  // namespace regal::al
