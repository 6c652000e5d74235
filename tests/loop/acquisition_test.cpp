// Each acquisition method picks what it should on a constructed case
// (ALGORITHM.md section 9).
#include "regal/loop/acquisition.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "regal/al/acquisition_scores.h"
#include "regal/al/action_features.h"
#include "regal/al/region_features.h"
#include "regal/core/error.h"
#include "regal/loop/candidates.h"
#include "regal/loop/policy_training.h"
#include "policy_acquisition_world.h"
#include "support/test_support.h"

namespace regal::loop {
namespace {

constexpr int kClasses = 3;

CandidateSet grid_candidates(int64_t groups, int64_t per_group) {
  RegionPool pool(4, 32, 64, {16, 16});
  std::mt19937_64 rng(2);
  return draw_candidates(pool, groups, per_group, rng);
}

TEST(Acquisition, ParsesMethodNames) {
  EXPECT_EQ(parse_method("ralis", "m"), Method::kPolicy);
  EXPECT_EQ(to_string(parse_method("bald", "m")), "bald");
  EXPECT_THROW(parse_method("greedy", "m"), Error);
}

TEST(Acquisition, RandomIsDeterministicPerSeedAndInRange) {
  auto candidates = grid_candidates(6, 4);
  std::mt19937_64 a(11);
  std::mt19937_64 b(11);
  std::mt19937_64 c(12);
  const auto first = pick_random(candidates, a);
  EXPECT_EQ(first, pick_random(candidates, b));
  ASSERT_EQ(first.size(), 6u);
  for (const auto pick : first) {
    EXPECT_GE(pick, 0);
    EXPECT_LT(pick, 4);
  }
  std::set<int64_t> values;
  for (int i = 0; i < 20; ++i) {
    for (const auto pick : pick_random(candidates, c)) values.insert(pick);
  }
  EXPECT_EQ(values.size(), 4u);
}

TEST(Acquisition, EntropyPicksTheMostUncertainCandidate) {
  auto candidates = grid_candidates(3, 4);
  // Group 0 peaks at 2, group 1 at 0, group 2 at 3.
  candidates.features.hist = torch::ones({12, kClasses + 1});
  candidates.features.mean_entropy =
      torch::tensor({0.1, 0.2, 0.9, 0.3, 1.5, 0.2, 0.1, 0.0, 0.4, 0.4, 0.3, 0.8}, torch::kFloat32);  // [12]
  EXPECT_EQ(pick_entropy(candidates), (std::vector<int64_t>{2, 0, 3}));
  CandidateSet without_features = grid_candidates(3, 4);
  EXPECT_THROW(pick_entropy(without_features), Error);
}

TEST(Acquisition, BaldPicksTheHighestMutualInformationAndSwitchesMcDropoutOff) {
  testing::ScratchDir dir("bald");
  testing::write_band_dataset(dir.path(), "pool", 4, 32, 64, kClasses, 3);
  data::SampleStore store(data::open_dataset({"folder", dir.path(), "pool"}), true);
  torch::manual_seed(0);
  nn::Fpn net(nn::FpnOptions(kClasses).fpn_channels(8).dropout(0.5));
  auto candidates = grid_candidates(3, 4);

  torch::manual_seed(21);
  const auto scores = bald_scores(candidates, net, store, torch::kCPU, 5, 8);  // [12]
  EXPECT_FALSE(net->mc_dropout());

  // The same passes by hand: all candidate images in one batch, same seed.
  torch::manual_seed(21);
  net->eval();
  net->set_mc_dropout(true);
  const auto images = candidates.images();
  const auto input = stack_images(store, images, torch::kCPU);  // [B, 3, 32, 64]
  al::BaldAccumulator accumulator;
  {
    torch::NoGradGuard no_grad;
    for (int t = 0; t < 5; ++t) accumulator.add(net->forward(input));
  }
  net->set_mc_dropout(false);
  std::vector<al::Region> local;
  for (const auto& r : candidates.regions) {
    const auto position = std::find(images.begin(), images.end(), r.image) - images.begin();
    local.push_back({position, r.x, r.y});
  }
  const auto expected = al::region_means(accumulator.maps().bald, al::regions_to_tensor(local), {16, 16});
  EXPECT_TRUE(torch::allclose(scores, expected.to(torch::kFloat32), 1e-5, 1e-6));
  EXPECT_GT(scores.max().item<float>(), 0.0f);  // dropout makes the passes disagree

  torch::manual_seed(21);
  const auto picks = pick_bald(candidates, net, store, torch::kCPU, 5, 8);
  EXPECT_EQ(picks, to_picks(al::pick_per_group(expected, 3)));
}

TEST(Acquisition, PickRegionsPicksAsEachMethodAndReportsTheWinningScore) {
  testing::ScratchDir dir("pick-regions");
  testing::write_band_dataset(dir.path(), "pool", 4, 32, 64, kClasses, 3);
  data::SampleStore store(data::open_dataset({"folder", dir.path(), "pool"}), true);
  torch::manual_seed(0);
  nn::Fpn net(nn::FpnOptions(kClasses).fpn_channels(8).dropout(0.5));
  AcquisitionContext context;
  context.net = net;
  context.pool_images = &store;
  context.region = {16, 16};
  context.bald_passes = 3;
  const auto no_fractions = torch::zeros({0, kClasses + 1});
  std::mt19937_64 rng(5);

  // Entropy: the picks of pick_entropy, each with the largest mean entropy of its group.
  auto candidates = grid_candidates(3, 4);
  const auto entropy = pick_regions(Method::kEntropy, candidates, no_fractions, context, rng);
  EXPECT_EQ(entropy.index, pick_entropy(candidates));
  // The table from one eval pass over all four images, not from the
  // features pick_regions stored: its batching and row order are checked too.
  at::Tensor table;  // [K, N]
  {
    torch::NoGradGuard no_grad;
    net->eval();
    const auto maps = al::pixel_maps(net->forward(stack_images(store, {0, 1, 2, 3}, torch::kCPU)));  // [4, H, W]
    table = al::region_features(maps, candidates.regions_tensor(), context.region)
                .mean_entropy.to(torch::kDouble)
                .reshape({3, 4});
    net->train();
  }
  ASSERT_EQ(entropy.score.size(), 3u);
  for (int64_t k = 0; k < 3; ++k) {
    const auto pick = entropy.index[static_cast<size_t>(k)];
    EXPECT_EQ(pick, table[k].argmax().item<int64_t>()) << "group " << k;
    EXPECT_NEAR(entropy.score[static_cast<size_t>(k)], table[k][pick].item<double>(), 1e-6) << "group " << k;
  }

  // BALD: the picks of pick_bald under the same seed, each with its group's largest score.
  torch::manual_seed(9);
  const auto bald = pick_regions(Method::kBald, candidates, no_fractions, context, rng);
  torch::manual_seed(9);
  const auto scores = bald_scores(candidates, net, store, torch::kCPU, 3, 8).to(torch::kDouble).reshape({3, 4});
  for (int64_t k = 0; k < 3; ++k) {
    EXPECT_EQ(bald.index[static_cast<size_t>(k)], scores[k].argmax().item<int64_t>());
    EXPECT_DOUBLE_EQ(bald.score[static_cast<size_t>(k)], scores[k].max().item<double>());
  }

  // Random: the picks of pick_random from the same generator state, no score.
  std::mt19937_64 a(17);
  std::mt19937_64 b(17);
  const auto random = pick_regions(Method::kRandom, candidates, no_fractions, context, a);
  EXPECT_EQ(random.index, pick_random(candidates, b));
  for (const double score : random.score) EXPECT_TRUE(std::isnan(score));
}

TEST(Acquisition, PickRegionsWithThePolicyRanksByQOfTheStateItIsGivenOrComputes) {
  testing::PolicyAcquisitionWorld world("pick-regions-policy", 4, kClasses);
  auto& net = world.net;
  auto& state_set = world.state_set;
  auto& dqn = world.dqn;
  auto& context = world.context;
  const int64_t state_rows = testing::PolicyAcquisitionWorld::kStateRows;
  const auto no_fractions = torch::zeros({0, kClasses + 1});
  std::mt19937_64 rng(5);

  // Neither a state set nor a state: refused.
  auto candidates = grid_candidates(3, 4);
  EXPECT_THROW(pick_regions(Method::kPolicy, candidates, no_fractions, context, rng), Error);

  // From the state set: the picks of pick_policy on the state it computes,
  // each with its group's largest Q.
  context.state_set = &state_set;
  const auto computed = pick_regions(Method::kPolicy, candidates, no_fractions, context, rng);
  const auto state = compute_state(net, state_set, {16, 16}, torch::kCPU, 8);  // [M, Fs]
  ASSERT_EQ(state.size(0), state_rows);
  EXPECT_EQ(computed.index, pick_policy(dqn, state, candidates));
  const auto q = policy_scores(dqn, state, candidates).to(torch::kDouble);  // [K, N]
  for (int64_t k = 0; k < 3; ++k) {
    EXPECT_DOUBLE_EQ(computed.score[static_cast<size_t>(k)], q[k].max().item<double>());
  }

  // A state given by the caller is the one ranked by: the same state gives
  // the same picks and scores, another state its own Q.
  context.state = state;
  const auto given = pick_regions(Method::kPolicy, candidates, no_fractions, context, rng);
  EXPECT_EQ(given.index, computed.index);
  EXPECT_EQ(given.score, computed.score);
  torch::manual_seed(8);
  const auto other_state = torch::randn_like(state) * 5.0;  // [M, Fs]
  const auto other_q = policy_scores(dqn, other_state, candidates).to(torch::kDouble);  // [K, N]
  ASSERT_FALSE(torch::equal(other_q, q)) << "the case must tell the two states apart";
  context.state = other_state;
  const auto other = pick_regions(Method::kPolicy, candidates, no_fractions, context, rng);
  for (int64_t k = 0; k < 3; ++k) {
    EXPECT_DOUBLE_EQ(other.score[static_cast<size_t>(k)], other_q[k].max().item<double>());
  }
}

TEST(Acquisition, PolicyPicksTheArgmaxOfQ) {
  torch::manual_seed(4);
  const int64_t state_rows = 8;
  rl::DqnTrainer dqn(query_net_options(kClasses, state_rows), rl::DqnOptions());
  auto candidates = grid_candidates(5, 3);
  const int64_t features = al::action_feature_count(kClasses);
  candidates.actions = torch::rand({5, 3, features});  // [K, N, F]
  const auto state = torch::rand({state_rows, al::state_feature_count(kClasses)});  // [M, Fs]
  const auto q = dqn.policy_q(state, candidates.actions);  // [K, N]
  const auto expected = to_picks(q.argmax(1));
  EXPECT_EQ(pick_policy(dqn, state, candidates), expected);
  // Reversing each group's candidates moves each pick with its candidate (in
  // eval mode a candidate's Q depends on itself and the state only).
  CandidateSet reversed = candidates;
  reversed.actions = candidates.actions.flip({1});
  const auto picks = pick_policy(dqn, state, reversed);
  for (size_t k = 0; k < picks.size(); ++k) EXPECT_EQ(picks[k], 2 - expected[k]);
  CandidateSet no_actions = grid_candidates(5, 3);
  EXPECT_THROW(pick_policy(dqn, state, no_actions), Error);
}

}  // namespace
}  // namespace regal::loop
