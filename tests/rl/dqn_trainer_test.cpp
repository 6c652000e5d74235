// DqnTrainer behaviour (ALGORITHM.md sections 6-7): target sync, BatchNorm
// modes, the double-DQN target through a real update, exploration, learning
// rate decay, and checkpoint round trips. Nets are tiny (M = 4 rows, 5 + 64
// action columns) so the whole file runs in well under a second or two.
#include "regal/rl/dqn.h"

#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "regal/core/error.h"
#include "support/test_support.h"

namespace regal::rl {
namespace {

constexpr int64_t kFs = 5;  // state columns
constexpr int64_t kFa = 5;  // action columns before the similarity part
constexpr int64_t kM = 4;   // state rows
constexpr int64_t kN = 3;   // candidates per group
constexpr int64_t kF = kFa + 64;

QueryNetOptions small_net() { return QueryNetOptions(kFs, kFa, kM); }

Transition random_transition(bool terminal, double reward, int64_t action) {
  Transition t;
  t.state = torch::randn({kM, kFs});   // [M, Fs]
  t.actions = torch::randn({kN, kF});  // [N, F]
  t.action = action;
  t.reward = reward;
  t.terminal = terminal;
  if (!terminal) {
    t.next_state = torch::randn({kM, kFs});   // [M, Fs]
    t.next_actions = torch::randn({kN, kF});  // [N, F]
  }
  return t;
}

// Transitions b = 0.. with the given terminal flags, rewards 1 + b/2, and
// actions b mod N.
TransitionBatch toy_batch(const std::vector<bool>& terminal) {
  std::vector<Transition> transitions;
  for (size_t b = 0; b < terminal.size(); ++b) {
    transitions.push_back(random_transition(terminal[b], 1.0 + 0.5 * static_cast<double>(b),
                                            static_cast<int64_t>(b) % kN));
  }
  return collate(transitions);
}

// Eval-mode Q of a net on a batch, leaving the net's mode as it was.
torch::Tensor eval_q(QueryNet& net, const TransitionBatch& batch) {
  const bool was_training = net->is_training();
  net->eval();
  torch::NoGradGuard no_grad;
  auto q = net->forward(batch.states, batch.actions);  // [B, N]
  net->train(was_training);
  return q;
}

bool same_tensors(const torch::OrderedDict<std::string, torch::Tensor>& a,
                  const torch::OrderedDict<std::string, torch::Tensor>& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (const auto& item : a) {
    const torch::Tensor* other = b.find(item.key());
    if (other == nullptr || !torch::equal(item.value(), *other)) {
      return false;
    }
  }
  return true;
}

int64_t batches_tracked(QueryNet& net, const std::string& bn) {
  return net->named_buffers()[bn + ".num_batches_tracked"].item<int64_t>();
}

TEST(DqnTrainer, StartsWithTargetEqualToPolicyAndSyncCopiesEverything) {
  torch::manual_seed(1);
  DqnTrainer trainer(small_net(), DqnOptions());
  const auto batch = toy_batch({false, false, true, false});
  EXPECT_TRUE(torch::equal(eval_q(trainer.policy(), batch), eval_q(trainer.target(), batch)));

  trainer.update(batch);
  // The update moved the policy (weights and running statistics), not the target.
  EXPECT_FALSE(torch::allclose(eval_q(trainer.policy(), batch), eval_q(trainer.target(), batch)));

  trainer.sync_target();
  EXPECT_TRUE(
      same_tensors(trainer.policy()->named_parameters(), trainer.target()->named_parameters()));
  EXPECT_TRUE(same_tensors(trainer.policy()->named_buffers(), trainer.target()->named_buffers()));
  EXPECT_TRUE(torch::equal(eval_q(trainer.policy(), batch), eval_q(trainer.target(), batch)));
  // Copies, not shared tensors: a further update leaves the target alone.
  trainer.update(batch);
  EXPECT_FALSE(torch::allclose(eval_q(trainer.policy(), batch), eval_q(trainer.target(), batch)));
}

TEST(DqnTrainer, UpdateUsesTheBatchNormModesOfTheReference) {
  torch::manual_seed(2);
  DqnTrainer trainer(small_net(), DqnOptions());
  trainer.policy()->eval();  // as after picking actions
  const auto policy_mean = trainer.policy()->named_buffers()["action.bn1.running_mean"].clone();
  const auto target_mean = trainer.target()->named_buffers()["action.bn1.running_mean"].clone();

  trainer.update(toy_batch({false, true, false, false}));
  // Policy: running statistics updated by two train-mode passes, (S, A) and
  // the non-terminal (S', A'). Target: eval mode, untouched.
  EXPECT_FALSE(
      torch::equal(trainer.policy()->named_buffers()["action.bn1.running_mean"], policy_mean));
  EXPECT_EQ(batches_tracked(trainer.policy(), "action.bn1"), 2);
  EXPECT_EQ(batches_tracked(trainer.policy(), "state.bn_rows"), 2);
  EXPECT_TRUE(
      torch::equal(trainer.target()->named_buffers()["action.bn1.running_mean"], target_mean));
  EXPECT_EQ(batches_tracked(trainer.target(), "action.bn1"), 0);
  EXPECT_FALSE(trainer.target()->is_training());
  EXPECT_FALSE(trainer.policy()->is_training()) << "the policy's mode is restored";

  // All terminal: only the (S, A) pass.
  trainer.update(toy_batch({true, true}));
  EXPECT_EQ(batches_tracked(trainer.policy(), "action.bn1"), 3);
  // One non-terminal row: its (S', A') pass runs in eval mode.
  const double loss = trainer.update(toy_batch({true, false, true}));
  EXPECT_TRUE(std::isfinite(loss));
  EXPECT_EQ(batches_tracked(trainer.policy(), "action.bn1"), 4);
}

// The expected loss computed independently, before the update: Q in train
// mode (batch statistics), y = r for terminal rows, else r + gamma *
// Q_target(S', A')[argmax Q_policy(S', A')].
// With `double_dqn` false, the plain DQN target max_a Q_target(S', a) instead.
double expected_loss(DqnTrainer& trainer, const TransitionBatch& batch, bool double_dqn = true) {
  torch::NoGradGuard no_grad;
  QueryNet& policy = trainer.policy();
  QueryNet& target = trainer.target();
  policy->train();
  const auto q = policy->forward(batch.states, batch.actions);  // [B, N]
  torch::Tensor q_policy_next, q_target_next;
  if (batch.next_rows.size(0) > 0) {
    q_policy_next = policy->forward(batch.next_states, batch.next_actions);  // [B', N]
    q_target_next = target->forward(batch.next_states, batch.next_actions);  // [B', N]
  }
  double sum = 0.0;
  int64_t next = 0;
  for (int64_t b = 0; b < batch.size(); ++b) {
    const double q_sa = q[b][batch.action[b].item<int64_t>()].item<double>();
    double y = batch.reward[b].item<double>();
    if (!batch.terminal[b].item<bool>()) {
      const int64_t a = (double_dqn ? q_policy_next[next] : q_target_next[next]).argmax().item<int64_t>();
      y += trainer.options().gamma() * q_target_next[next][a].item<double>();
      ++next;
    }
    const double d = std::abs(q_sa - y);
    sum += d < 1.0 ? 0.5 * d * d : d - 0.5;
  }
  return sum / static_cast<double>(batch.size());
}

TEST(DqnTrainer, UpdateLossFollowsTheDoubleDqnTarget) {
  torch::manual_seed(3);
  DqnTrainer trainer(small_net(), DqnOptions());
  trainer.update(toy_batch({false, false, false}));  // policy != target from here
  const auto batch = toy_batch({false, false, true, false, true});
  const double want = expected_loss(trainer, batch);
  // The case tells double DQN from DQN: the plain target gives another loss.
  ASSERT_GT(std::abs(expected_loss(trainer, batch, false) - want), 1e-4 * (1.0 + want));
  EXPECT_NEAR(trainer.update(batch), want, 1e-5 * (1.0 + want));
}

TEST(DqnTrainer, TerminalTransitionsUseTheRewardAsTarget) {
  torch::manual_seed(4);
  DqnTrainer trainer(small_net(), DqnOptions());
  const auto batch = toy_batch({true, true, true});
  double want = 0.0;
  {
    torch::NoGradGuard no_grad;
    trainer.policy()->train();
    const auto q = trainer.policy()->forward(batch.states, batch.actions);  // [B, N]
    const auto q_sa = q.gather(1, batch.action.unsqueeze(1)).squeeze(1);    // [B]
    want = torch::smooth_l1_loss(q_sa, batch.reward).item<double>();
  }
  EXPECT_NEAR(trainer.update(batch), want, 1e-6 * (1.0 + want));
}

TEST(DqnTrainer, OneUpdateLowersTheLossOnItsBatch) {
  torch::manual_seed(5);
  DqnTrainer trainer(small_net(), DqnOptions());
  // All terminal, so y = r does not move with the nets: the second update's
  // loss (computed before its step) is the first step's result.
  const auto batch = toy_batch({true, true, true, true});
  const double before = trainer.update(batch);
  const double after = trainer.update(batch);
  EXPECT_LT(after, before);
}

// A diverged query network stops the run with an error instead of training
// on NaN and picking whatever index argmax makes of it.
TEST(DqnTrainer, DivergedNetworkIsReportedNotUsed) {
  torch::manual_seed(8);
  DqnTrainer trainer(small_net(), DqnOptions().epsilon_start(0.0).epsilon_end(0.0));
  {
    torch::NoGradGuard no_grad;
    for (auto& parameter : trainer.policy()->parameters()) parameter.fill_(std::nan(""));
  }
  const auto state = torch::randn({kM, kFs});         // [M, Fs]
  const auto candidates = torch::randn({2, kN, kF});  // [K, N, F]
  std::mt19937_64 rng(1);
  EXPECT_THROW(trainer.select_actions(state, candidates, /*t=*/0, rng), Error);
  EXPECT_THROW(trainer.update(toy_batch({true, false, true, false})), Error);
}

TEST(DqnTrainer, GreedySelectionTakesTheArgmaxOfEachGroup) {
  torch::manual_seed(6);
  DqnTrainer trainer(small_net(), DqnOptions().epsilon_start(0.0).epsilon_end(0.0));
  trainer.update(toy_batch({false, true, false, false}));  // non-trivial running stats
  const auto state = torch::randn({kM, kFs});              // [M, Fs]
  const auto candidates = torch::randn({6, kN, kF});       // [K, N, F]

  // Reference: the policy in eval mode on the state repeated per group.
  torch::Tensor q_repeated;
  {
    trainer.policy()->eval();
    torch::NoGradGuard no_grad;
    q_repeated = trainer.policy()->forward(state.unsqueeze(0).expand({6, kM, kFs}).contiguous(),
                                           candidates);  // [K, N]
    trainer.policy()->train();
  }
  EXPECT_TRUE(torch::allclose(trainer.policy_q(state, candidates), q_repeated, 1e-5, 1e-6));
  EXPECT_TRUE(trainer.policy()->is_training()) << "policy_q restores the mode";

  std::mt19937_64 rng(1);
  const auto picks = trainer.select_actions(state, candidates, /*t=*/0, rng);
  ASSERT_EQ(picks.size(), 6u);
  const auto best = q_repeated.argmax(1);  // [K]
  std::set<int64_t> distinct;
  for (int64_t k = 0; k < 6; ++k) {
    EXPECT_EQ(picks[static_cast<size_t>(k)], best[k].item<int64_t>()) << "group " << k;
    distinct.insert(picks[static_cast<size_t>(k)]);
  }
  EXPECT_GT(distinct.size(), 1u) << "the groups' argmaxes should not all coincide";
}

TEST(DqnTrainer, ExplorationIsDecidedOncePerStep) {
  torch::manual_seed(7);
  // epsilon = 0.5 at every t: half of the steps are greedy in every group.
  DqnTrainer trainer(small_net(), DqnOptions().epsilon_start(0.5).epsilon_end(0.5));
  const int64_t groups = 8;
  const auto state = torch::randn({kM, kFs});                       // [M, Fs]
  const auto candidates = torch::randn({groups, kN, kF});           // [K, N, F]
  const auto best = trainer.policy_q(state, candidates).argmax(1);  // [K]
  std::mt19937_64 rng(3);
  int all_greedy = 0;
  std::vector<std::set<int64_t>> seen(groups);
  const int steps = 300;
  for (int s = 0; s < steps; ++s) {
    const auto picks = trainer.select_actions(state, candidates, s, rng);
    bool greedy = true;
    for (int64_t k = 0; k < groups; ++k) {
      const int64_t p = picks[static_cast<size_t>(k)];
      ASSERT_GE(p, 0);
      ASSERT_LT(p, kN);
      seen[static_cast<size_t>(k)].insert(p);
      greedy = greedy && p == best[k].item<int64_t>();
    }
    all_greedy += greedy ? 1 : 0;
  }
  // One draw per step: about half the steps match the argmax everywhere. A
  // draw per group would make that (1/2 + 1/2 * 1/3)^8 = 4% of the steps.
  EXPECT_GT(all_greedy, steps * 35 / 100);
  EXPECT_LT(all_greedy, steps * 65 / 100);
  for (const auto& s : seen) {
    EXPECT_EQ(s.size(), static_cast<size_t>(kN)) << "random steps reach every candidate";
  }
  std::mt19937_64 a(9), b(9);
  EXPECT_EQ(trainer.select_actions(state, candidates, 0, a),
            trainer.select_actions(state, candidates, 0, b));
}

TEST(DqnTrainer, LearningRateDecaysAndTargetSyncFollowsTheStepCounter) {
  torch::manual_seed(8);
  DqnTrainer trainer(small_net(), DqnOptions());
  EXPECT_DOUBLE_EQ(trainer.learning_rate(), 1e-4);
  trainer.decay_learning_rate();
  trainer.decay_learning_rate();
  EXPECT_NEAR(trainer.learning_rate(), 1e-4 * 0.97 * 0.97, 1e-18);

  for (int64_t step = 0; step <= 11; ++step) {
    EXPECT_EQ(target_sync_due(step), step % 5 == 0) << "step " << step;
  }
  EXPECT_TRUE(target_sync_due(3, DqnOptions().target_sync_every(3)));
  EXPECT_THROW(DqnTrainer(small_net(), DqnOptions().batch_size(1)), Error);
}

TEST(DqnTrainer, UpdateFromWaitsForAFullBatch) {
  torch::manual_seed(9);
  DqnTrainer trainer(small_net(), DqnOptions().batch_size(4));
  ReplayBuffer buffer(ReplayBufferOptions(10));
  std::mt19937_64 rng(2);
  for (int64_t i = 0; i < 3; ++i) {
    buffer.push(random_transition(i == 1, 0.5, i % kN));
  }
  const auto before = trainer.policy()->named_parameters()["head.conv.weight"].clone();
  EXPECT_FALSE(trainer.update_from(buffer, rng).has_value());
  EXPECT_TRUE(torch::equal(trainer.policy()->named_parameters()["head.conv.weight"], before));
  buffer.push(random_transition(false, 0.5, 0));
  const auto loss = trainer.update_from(buffer, rng);
  ASSERT_TRUE(loss.has_value());
  EXPECT_TRUE(std::isfinite(*loss));
  EXPECT_FALSE(torch::equal(trainer.policy()->named_parameters()["head.conv.weight"], before));
}

TEST(DqnTrainer, SaveLoadResumesExactly) {
  testing::ScratchDir dir("dqn");
  const auto batch = toy_batch({false, true, false, false});
  torch::manual_seed(10);
  DqnTrainer original(small_net(), DqnOptions());
  original.update(batch);
  original.update(batch);  // momentum buffers are non-zero now
  original.decay_learning_rate();
  original.sync_target();
  original.update(batch);  // policy != target
  const auto path = dir.path() / "dqn.pt";
  original.save(path);

  torch::manual_seed(11);
  DqnTrainer resumed(small_net(), DqnOptions());
  resumed.load(path);
  EXPECT_DOUBLE_EQ(resumed.learning_rate(), original.learning_rate());
  EXPECT_TRUE(
      same_tensors(resumed.policy()->named_parameters(), original.policy()->named_parameters()));
  EXPECT_TRUE(same_tensors(resumed.policy()->named_buffers(), original.policy()->named_buffers()));
  EXPECT_TRUE(
      same_tensors(resumed.target()->named_parameters(), original.target()->named_parameters()));
  EXPECT_TRUE(same_tensors(resumed.target()->named_buffers(), original.target()->named_buffers()));
  EXPECT_FALSE(resumed.target()->is_training());

  // The next step matches too, which needs the optimizer's momentum.
  const double loss_original = original.update(batch);
  const double loss_resumed = resumed.update(batch);
  EXPECT_DOUBLE_EQ(loss_resumed, loss_original);
  const torch::Tensor w_original = original.policy()->named_parameters()["action.conv1.weight"];
  const torch::Tensor w_resumed = resumed.policy()->named_parameters()["action.conv1.weight"];
  EXPECT_TRUE(torch::allclose(w_resumed, w_original, 0.0, 1e-7));
}

TEST(DqnTrainer, LoadRejectsAnotherNetShapeAndKeepsItsState) {
  testing::ScratchDir dir("dqn");
  torch::manual_seed(12);
  DqnTrainer saved(small_net(), DqnOptions());
  const auto path = dir.path() / "dqn.pt";
  saved.save(path);

  DqnTrainer other(QueryNetOptions(kFs, kFa, kM + 1), DqnOptions());
  const auto before = other.policy()->named_parameters()["state.linear.weight"].clone();
  try {
    other.load(path);
    FAIL() << "expected regal::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
  EXPECT_TRUE(torch::equal(other.policy()->named_parameters()["state.linear.weight"], before));
  EXPECT_THROW(other.load(dir.path() / "missing.pt"), Error);
}

}  // namespace
}  // namespace regal::rl
