// The plan of `regal experiment`: units, their file names, and the checks
// that stop a bad --methods / --budgets / --seeds before anything runs.
#include "regal/experiment/experiment_plan.h"

#include <gtest/gtest.h>

#include "data/dataset_fixtures.h"

namespace regal::experiment {
namespace {

using testing::error_message;

TEST(ExperimentPlan, UnitsGoBudgetBySeedByMethodWithStableIds) {
  const ExperimentPlan plan{{"random", "ralis-wiou"}, {"1%", "64"}, {0, 2}};
  const auto units = plan.units();
  ASSERT_EQ(units.size(), 8u);
  EXPECT_EQ(units[0].id(), "random-1pct-seed0");
  EXPECT_EQ(units[1].id(), "ralis-wiou-1pct-seed0");
  EXPECT_EQ(units[2].id(), "random-1pct-seed2");
  EXPECT_EQ(units[4].id(), "random-64-seed0");
  EXPECT_EQ(units[7].id(), "ralis-wiou-64-seed2");
}

TEST(ExperimentPlan, PolicyRewardsFollowTheRalisMethods) {
  EXPECT_TRUE((ExperimentPlan{{"random", "bald"}, {"1%"}, {0}}.policy_rewards().empty()));
  const auto both = ExperimentPlan{{"ralis-wiou", "entropy", "ralis-miou"}, {"1%"}, {0}}.policy_rewards();
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0], loop::RewardMetric::kMiou);
  EXPECT_EQ(both[1], loop::RewardMetric::kWiou);
  const auto spec = method_spec("ralis-wiou", "test");
  EXPECT_EQ(spec.method, loop::Method::kPolicy);
  EXPECT_EQ(method_spec("bald", "test").policy_reward, std::nullopt);
}

TEST(ExperimentPlan, BadPlansNameWhatIsWrong) {
  EXPECT_CONTAINS(error_message([] { ExperimentPlan{{"random", "ralis"}, {"1%"}, {0}}.validate("--methods"); }),
                  "unknown method 'ralis'");
  EXPECT_CONTAINS(error_message([] { ExperimentPlan{{"random"}, {"1%", "1%"}, {0}}.validate("--budgets"); }),
                  "budget '1%' is listed twice");
  EXPECT_CONTAINS(error_message([] { ExperimentPlan{{"random"}, {"0%"}, {0}}.validate("--budgets"); }), "0%");
  EXPECT_CONTAINS(error_message([] { ExperimentPlan{{"random"}, {"1%"}, {1, 1}}.validate("--seeds"); }),
                  "seed '1' is listed twice");
  EXPECT_CONTAINS(error_message([] { ExperimentPlan{{}, {"1%"}, {0}}.validate("plan"); }), "no methods");
}

TEST(ExperimentPlan, CommandLineListsAreSplitAndChecked) {
  EXPECT_EQ(split_list("random, bald ,entropy", "--methods"), (std::vector<std::string>{"random", "bald", "entropy"}));
  EXPECT_EQ(parse_seed_list("0,1,2", "--seeds"), (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_CONTAINS(error_message([] { split_list("random,,bald", "--methods"); }), "empty item");
  EXPECT_CONTAINS(error_message([] { parse_seed_list("0,x", "--seeds"); }), "seed 'x'");
  EXPECT_CONTAINS(error_message([] { parse_seed_list("-1", "--seeds"); }), "seed '-1'");
}

}  // namespace
}  // namespace regal::experiment
