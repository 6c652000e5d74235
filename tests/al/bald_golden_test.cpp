// Pixel entropy, BALD and the entropy/BALD picks against golden/bald.json
// (ALGORITHM.md sections 4 and 9).
#include <torch/torch.h>

#include <gtest/gtest.h>

#include "al/al_golden.h"
#include "regal/al/acquisition_scores.h"
#include "regal/al/region_features.h"

namespace regal::al {
namespace {

using golden::all_close;
using golden::all_equal;
using golden::json;
using golden::to_tensor;

const json& bald_file() {
  static const json file = golden::load("bald.json");
  return file;
}

const std::vector<std::string> kCases = {"t20_c4", "t20_c19", "t5_c3_r6x4"};

class BaldGolden : public ::testing::TestWithParam<std::string> {
 protected:
  const json& golden_case() const { return golden::find_case(bald_file(), GetParam()); }
  const json& expected() const { return golden_case().at("expected"); }
  golden::Tolerance tolerance() const { return golden::tolerance_of(bald_file()); }
  RegionSize region() const {
    return {golden_case().at("region_height").get<int64_t>(), golden_case().at("region_width").get<int64_t>()};
  }
  int64_t groups() const { return golden_case().at("groups"); }
  // The file's candidates are [x, y] of one image: [K*N, 3] (0, x, y).
  at::Tensor regions() const {
    const auto xy = to_tensor(golden_case().at("candidates")).to(torch::kLong);  // [K*N, 2]
    return torch::cat({torch::zeros({xy.size(0), 1}, torch::kLong), xy}, 1);    // [K*N, 3]
  }
};

TEST(BaldGoldenFile, ListsExactlyTheCasesTested) {
  EXPECT_EQ(golden::case_names(bald_file()), kCases);
}

TEST_P(BaldGolden, BaldMapsAndPick) {
  const auto mc_logits = to_tensor(golden_case().at("mc_logits")).to(torch::kFloat);  // [T, C, H, W]
  const auto maps = bald_maps(mc_logits);                                             // [1, H, W] each
  EXPECT_TRUE(all_close(maps.entropy_of_mean[0], to_tensor(expected().at("entropy_of_mean")), tolerance()))
      << "entropy_of_mean";
  EXPECT_TRUE(all_close(maps.mean_entropy[0], to_tensor(expected().at("mean_entropy")), tolerance()))
      << "mean_entropy";
  EXPECT_TRUE(all_close(maps.bald[0], to_tensor(expected().at("bald")), tolerance())) << "bald";

  const auto scores = region_means(maps.bald, regions(), region()).view({groups(), -1});  // [K, N]
  EXPECT_TRUE(all_close(scores, to_tensor(expected().at("region_bald")), tolerance())) << "region_bald";
  EXPECT_TRUE(all_equal(pick_per_group(scores, groups()), to_tensor(expected().at("bald_pick")))) << "bald_pick";
}

TEST_P(BaldGolden, EntropyMapAndPick) {
  const auto logits = to_tensor(golden_case().at("single_logits")).to(torch::kFloat).unsqueeze(0);  // [1, C, H, W]
  const auto entropy = pixel_entropy(logits);                                                       // [1, H, W]
  EXPECT_TRUE(all_close(entropy[0], to_tensor(expected().at("pixel_entropy")), tolerance())) << "pixel_entropy";
  // Scores in group order [K*N]: pick_per_group cuts them into K groups.
  const auto scores = region_means(entropy, regions(), region());  // [K*N]
  EXPECT_TRUE(all_close(scores.view({groups(), -1}), to_tensor(expected().at("region_entropy")), tolerance()))
      << "region_entropy";
  EXPECT_TRUE(all_equal(pick_per_group(scores, groups()), to_tensor(expected().at("entropy_pick"))))
      << "entropy_pick";
}

// A batch of images gives each image the maps it gets alone: the case and its
// left-right mirror in one [T, 2, C, H, W] tensor.
TEST_P(BaldGolden, BatchedImagesAreIndependent) {
  const auto mc_logits = to_tensor(golden_case().at("mc_logits")).to(torch::kFloat);  // [T, C, H, W]
  const auto mirrored = mc_logits.flip({3});
  const auto batch = bald_maps(torch::stack({mc_logits, mirrored}, 1));  // [2, H, W] each
  const auto want = to_tensor(expected().at("bald"));                    // [H, W]
  EXPECT_TRUE(all_close(batch.bald[0], want, tolerance()));
  EXPECT_TRUE(all_close(batch.bald[1], want.flip({1}), tolerance()));
}

INSTANTIATE_TEST_SUITE_P(Cases, BaldGolden, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace regal::al
