// Region action features against golden/features.json (ALGORITHM.md section 4).
#include <torch/torch.h>

#include <gtest/gtest.h>

#include "al/al_golden.h"
#include "regal/al/action_features.h"
#include "regal/al/acquisition_scores.h"
#include "regal/al/kl_histogram.h"
#include "regal/al/region_features.h"

namespace regal::al {
namespace {

using golden::all_close;
using golden::all_equal;
using golden::json;
using golden::to_tensor;

const json& features_file() {
  static const json file = golden::load("features.json");
  return file;
}

const std::vector<std::string> kCases = {
    "c19_r32_two_images", "c19_r128",           "c11_r90x80_camvid",   "c11_r80x90",
    "c5_r28x20_small",    "c6_r16_no_labelled", "c6_r16_one_labelled", "c4_r16_all_kl_equal"};

// Everything the module computes for one golden case, in float32 as in production.
struct Computed {
  int64_t classes = 0;
  RegionSize region;
  int64_t groups = 0;
  at::Tensor regions;    // [K*N, 3]
  PixelMaps maps;
  RegionFeatures features;
  at::Tensor fractions;  // [L, C+1]
};

Computed compute(const json& c) {
  Computed out;
  out.classes = c.at("num_classes");
  out.region = {c.at("region_height").get<int64_t>(), c.at("region_width").get<int64_t>()};
  out.groups = c.at("groups");
  out.regions = to_tensor(c.at("candidates")).to(torch::kLong);  // [K*N, 3]
  out.maps = pixel_maps(golden::image_logits(c.at("images")));
  out.features = region_features(out.maps, out.regions, out.region);
  // An empty JSON list has no inner shape: give it [0, rh, rw].
  const auto gt = c.at("labelled_gt").empty()
                      ? torch::zeros({0, out.region.height, out.region.width}, torch::kLong)
                      : to_tensor(c.at("labelled_gt")).to(torch::kLong);  // [L, rh, rw]
  out.fractions = labelled_fractions(gt, out.classes);
  return out;
}

// KL histograms hold count / L: compare the counts exactly, then the values.
::testing::AssertionResult same_histogram(const at::Tensor& got, const at::Tensor& want, int64_t length) {
  const double scale = static_cast<double>(std::max<int64_t>(1, length));
  auto counts = all_equal((got.to(torch::kDouble) * scale).round(), (want * scale).round());
  if (!counts) return counts << " (bin counts)";
  return all_close(got, want, golden::tolerance_of(features_file()));
}

class FeaturesGolden : public ::testing::TestWithParam<std::string> {
 protected:
  const json& golden_case() const { return golden::find_case(features_file(), GetParam()); }
  const json& expected() const { return golden_case().at("expected"); }
  golden::Tolerance tolerance() const { return golden::tolerance_of(features_file()); }
};

TEST(FeaturesGoldenFile, ListsExactlyTheCasesTested) {
  EXPECT_EQ(golden::case_names(features_file()), kCases);
}

TEST_P(FeaturesGolden, WholeImageEntropyAndPredictions) {
  const auto got = compute(golden_case());
  EXPECT_TRUE(all_close(got.maps.entropy.sum({1, 2}), to_tensor(expected().at("image_entropy_sum")), tolerance()));
  std::vector<at::Tensor> counts;
  for (int64_t b = 0; b < got.maps.pred.size(0); ++b) {
    counts.push_back(torch::bincount(got.maps.pred[b].reshape(-1), {}, got.classes));  // [C]
  }
  EXPECT_TRUE(all_equal(torch::stack(counts), to_tensor(expected().at("image_pred_counts"))));
}

TEST_P(FeaturesGolden, HistogramsAndEntropyPools) {
  const auto got = compute(golden_case());
  const auto want_hist = to_tensor(expected().at("hist"));  // [K*N, C+1]
  EXPECT_TRUE(all_equal(got.features.hist.to(torch::kDouble).round(), want_hist.round())) << "hist counts";
  EXPECT_TRUE(all_close(got.features.hist, want_hist, tolerance())) << "hist";
  EXPECT_TRUE(all_close(got.features.ent_min, to_tensor(expected().at("ent_min")), tolerance())) << "ent_min";
  EXPECT_TRUE(all_close(got.features.ent_mean, to_tensor(expected().at("ent_mean")), tolerance())) << "ent_mean";
  EXPECT_TRUE(all_close(got.features.ent_max, to_tensor(expected().at("ent_max")), tolerance())) << "ent_max";
}

TEST_P(FeaturesGolden, RegionMeanEntropyBothWays) {
  const auto got = compute(golden_case());
  const auto want = to_tensor(expected().at("region_mean_entropy"));  // [K*N]
  EXPECT_TRUE(all_close(got.features.mean_entropy, want, tolerance())) << "from the region features";
  EXPECT_TRUE(all_close(region_means(got.maps.entropy, got.regions, got.region), want, tolerance()))
      << "from region_means";
}

TEST_P(FeaturesGolden, LabelledFractionsAndKlDistances) {
  const auto got = compute(golden_case());
  const auto want_fractions = to_tensor(expected().at("labelled_fractions"));
  // A case with no labelled region lists none ([] reads as shape [0]); the
  // code's fractions are then [0, C+1]. Otherwise the shapes must agree as stored.
  if (want_fractions.numel() == 0) {
    EXPECT_EQ(got.fractions.size(0), 0) << got.fractions.sizes();
    EXPECT_EQ(got.fractions.size(1), got.features.hist.size(1)) << got.fractions.sizes();
  } else {
    EXPECT_TRUE(all_close(got.fractions, want_fractions, tolerance()))
        << "labelled_fractions " << got.fractions.sizes() << " vs " << want_fractions.sizes();
  }
  EXPECT_TRUE(all_close(kl_distances(got.features.hist, got.fractions), to_tensor(expected().at("kl_labelled_d")),
                        tolerance()))
      << "kl_labelled_d";
  EXPECT_TRUE(all_close(kl_distances(got.features.hist, got.features.hist), to_tensor(expected().at("kl_pool_d")),
                        tolerance()))
      << "kl_pool_d";
}

TEST_P(FeaturesGolden, KlHistograms) {
  const auto got = compute(golden_case());
  EXPECT_TRUE(same_histogram(kl_histogram_features(got.features.hist, got.fractions),
                             to_tensor(expected().at("kl_labelled")), got.fractions.size(0)))
      << "kl_labelled";
  EXPECT_TRUE(same_histogram(kl_histogram_features(got.features.hist, got.features.hist),
                             to_tensor(expected().at("kl_pool")), got.features.size()))
      << "kl_pool";
}

TEST_P(FeaturesGolden, ActionVectorsGrouped) {
  const auto got = compute(golden_case());
  const auto actions = action_features(got.features, got.fractions, got.groups);  // [K, N, F]
  EXPECT_EQ(actions.scalar_type(), torch::kFloat);
  EXPECT_EQ(actions.size(2), action_feature_count(got.classes));
  EXPECT_TRUE(all_close(actions, to_tensor(expected().at("actions")), tolerance()));
}

INSTANTIATE_TEST_SUITE_P(Cases, FeaturesGolden, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace regal::al
