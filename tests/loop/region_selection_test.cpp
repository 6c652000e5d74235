// select_regions chooses what a person annotates: distinct regions, never an
// excluded one, in steps of K, the same for a seed.
#include "regal/loop/region_selection.h"

#include <cmath>
#include <set>
#include <tuple>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "regal/core/error.h"
#include "regal/loop/candidates.h"
#include "regal/loop/policy_training.h"
#include "policy_acquisition_world.h"
#include "support/test_support.h"

namespace regal::loop {
namespace {

constexpr int kClasses = 3;

std::tuple<int64_t, int64_t, int64_t> key(const al::Region& region) { return {region.image, region.y, region.x}; }

TEST(RegionSelection, ChoosesDistinctRegionsThatAreNotExcludedInStepsOfK) {
  testing::ScratchDir dir("select-random");
  testing::write_band_dataset(dir.path(), "pool", 3, 32, 64, kClasses, 3);
  data::SampleStore pool(data::open_dataset({"folder", dir.path(), "pool"}), true);
  AcquisitionContext context;
  context.pool_images = &pool;
  context.region = {16, 16};  // 8 regions per image, 24 in all
  const std::vector<al::Region> excluded = {{0, 0, 0}, {1, 16, 16}, {2, 48, 16}};
  const auto options = SelectionOptions().method(Method::kRandom).regions(11).groups(4).per_group(3).seed(7);

  const auto selected = select_regions(context, options, excluded);
  ASSERT_EQ(selected.size(), 11u);
  std::set<std::tuple<int64_t, int64_t, int64_t>> seen;
  for (size_t i = 0; i < selected.size(); ++i) {
    const auto& chosen = selected[i];
    EXPECT_TRUE(seen.insert(key(chosen.region)).second) << "region chosen twice";
    for (const auto& region : excluded) EXPECT_NE(key(chosen.region), key(region));
    EXPECT_EQ(chosen.step, static_cast<int64_t>(i / 4));  // 4 + 4 + 3
    EXPECT_TRUE(std::isnan(chosen.score));
  }
  const auto again = select_regions(context, options, excluded);
  for (size_t i = 0; i < selected.size(); ++i) EXPECT_EQ(key(again[i].region), key(selected[i].region));

  // Every region that is left, and one more: refused before anything is chosen.
  auto every = options;
  EXPECT_EQ(select_regions(context, every.regions(21), excluded).size(), 21u);
  EXPECT_THROW(select_regions(context, every.regions(22), excluded), Error);
}

TEST(RegionSelection, ThePolicyPicksTheSameWithTheStateComputedOnceOrGiven) {
  testing::PolicyAcquisitionWorld world("select-policy", 3, kClasses);
  auto& net = world.net;
  auto& context = world.context;
  context.state_set = &world.state_set;
  const auto options = SelectionOptions().method(Method::kPolicy).regions(9).groups(3).per_group(4).seed(1);

  // The state select computes once, before its first step, is the state of
  // the state set: giving that state instead changes no pick and no score.
  const auto computed = select_regions(context, options);
  context.state = compute_state(net, world.state_set, {16, 16}, torch::kCPU, 8);  // [M, Fs]
  const auto given = select_regions(context, options);
  ASSERT_EQ(computed.size(), 9u);
  ASSERT_EQ(given.size(), 9u);
  for (size_t i = 0; i < computed.size(); ++i) {
    EXPECT_EQ(key(given[i].region), key(computed[i].region));
    EXPECT_DOUBLE_EQ(given[i].score, computed[i].score);
    EXPECT_FALSE(std::isnan(computed[i].score));
  }
  // And the state given is the one ranked by: another state, other scores.
  torch::manual_seed(8);
  context.state = torch::randn_like(context.state) * 5.0;  // [M, Fs]
  const auto other = select_regions(context, options);
  bool any_other_score = false;
  for (size_t i = 0; i < other.size(); ++i) any_other_score |= other[i].score != computed[i].score;
  EXPECT_TRUE(any_other_score);
  // Without a net the state cannot be computed: refused.
  context.state = at::Tensor();
  context.net = nn::Fpn{nullptr};
  EXPECT_THROW(select_regions(context, options), Error);
}

}  // namespace
}  // namespace regal::loop
