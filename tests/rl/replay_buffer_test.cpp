// The replay buffer: capacity and eviction, validation, uniform sampling,
// collation into a batch, and the save/load round trip a resumed run needs.
#include "regal/rl/replay_buffer.h"

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

constexpr int64_t kRows = 3;        // M
constexpr int64_t kStateCols = 4;   // Fs
constexpr int64_t kCandidates = 5;  // N
constexpr int64_t kActionCols = 6;  // F

// A transition whose reward is `id`, so tests can tell transitions apart.
// Every third one is terminal.
Transition make_transition(int64_t id) {
  Transition t;
  t.state = torch::full({kRows, kStateCols}, static_cast<float>(id));  // [M, Fs]
  t.actions = torch::rand({kCandidates, kActionCols});                 // [N, F]
  t.action = id % kCandidates;
  t.reward = static_cast<double>(id);
  t.terminal = id % 3 == 2;
  if (!t.terminal) {
    t.next_state = torch::full({kRows, kStateCols}, static_cast<float>(id + 1));  // [M, Fs]
    t.next_actions = torch::rand({kCandidates, kActionCols});                     // [N, F]
  }
  return t;
}

void expect_same_transition(const Transition& a, const Transition& b) {
  EXPECT_TRUE(torch::equal(a.state, b.state));
  EXPECT_TRUE(torch::equal(a.actions, b.actions));
  EXPECT_EQ(a.action, b.action);
  EXPECT_EQ(a.reward, b.reward);
  EXPECT_EQ(a.terminal, b.terminal);
  ASSERT_EQ(a.next_state.defined(), b.next_state.defined());
  ASSERT_EQ(a.next_actions.defined(), b.next_actions.defined());
  if (a.next_state.defined()) {
    EXPECT_TRUE(torch::equal(a.next_state, b.next_state));
    EXPECT_TRUE(torch::equal(a.next_actions, b.next_actions));
  }
}

TEST(ReplayBuffer, DropsTheOldestBeyondCapacity) {
  ReplayBuffer buffer(ReplayBufferOptions(4));
  EXPECT_TRUE(buffer.empty());
  for (int64_t id = 0; id < 7; ++id) {
    buffer.push(make_transition(id));
    EXPECT_EQ(buffer.size(), std::min<int64_t>(id + 1, 4));
  }
  // 0, 1, 2 were dropped; 3 is now the oldest.
  for (int64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(buffer.at(i).reward, static_cast<double>(i + 3));
  }
  EXPECT_THROW(buffer.at(4), Error);
  EXPECT_THROW(ReplayBuffer(ReplayBufferOptions(0)), Error);
}

TEST(ReplayBuffer, RejectsTransitionsThatDoNotFit) {
  ReplayBuffer buffer(ReplayBufferOptions(8));
  auto bad_action = make_transition(0);
  bad_action.action = kCandidates;
  EXPECT_THROW(buffer.push(bad_action), Error);

  auto terminal_with_next = make_transition(0);
  terminal_with_next.terminal = true;
  EXPECT_THROW(buffer.push(terminal_with_next), Error);

  auto missing_next = make_transition(2);  // terminal
  missing_next.terminal = false;
  EXPECT_THROW(buffer.push(missing_next), Error);

  auto not_finite = make_transition(0);
  not_finite.reward = std::nan("");
  EXPECT_THROW(buffer.push(not_finite), Error);

  buffer.push(make_transition(0));
  auto other_shape = make_transition(1);
  other_shape.actions = torch::rand({kCandidates + 1, kActionCols});  // [N+1, F]
  other_shape.next_actions = torch::rand({kCandidates + 1, kActionCols});
  try {
    buffer.push(other_shape);
    FAIL() << "expected regal::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("actions"), std::string::npos) << e.what();
  }
  EXPECT_EQ(buffer.size(), 1);
}

TEST(ReplayBuffer, SamplingIsUniformWithoutReplacementAndSeeded) {
  ReplayBuffer buffer(ReplayBufferOptions(10));
  for (int64_t id = 0; id < 10; ++id) {
    buffer.push(make_transition(id));
  }
  std::mt19937_64 rng(7);
  std::vector<int64_t> hits(10, 0);
  const int draws = 2000;
  for (int d = 0; d < draws; ++d) {
    const auto indices = buffer.sample_indices(3, rng);
    ASSERT_EQ(indices.size(), 3u);
    EXPECT_EQ(std::set<int64_t>(indices.begin(), indices.end()).size(), 3u) << "repeated index";
    for (int64_t i : indices) {
      ASSERT_GE(i, 0);
      ASSERT_LT(i, 10);
      ++hits[static_cast<size_t>(i)];
    }
  }
  // Every transition is drawn, each about 3/10 of the time (600 of 2000;
  // the binomial's standard deviation is about 20).
  for (int64_t h : hits) {
    EXPECT_GT(h, 500);
    EXPECT_LT(h, 700);
  }
  std::mt19937_64 a(11), b(11);
  EXPECT_EQ(buffer.sample_indices(5, a), buffer.sample_indices(5, b));
  EXPECT_THROW(buffer.sample_indices(11, a), Error);
  EXPECT_THROW(buffer.sample_indices(0, a), Error);
}

TEST(ReplayBuffer, CollateStacksAndSeparatesTerminalRows) {
  // ids 0..3: id 2 is terminal.
  std::vector<Transition> transitions;
  for (int64_t id = 0; id < 4; ++id) {
    transitions.push_back(make_transition(id));
  }
  const auto batch = collate(transitions);
  EXPECT_EQ(batch.size(), 4);
  EXPECT_EQ(batch.states.sizes(), torch::IntArrayRef({4, kRows, kStateCols}));
  EXPECT_EQ(batch.actions.sizes(), torch::IntArrayRef({4, kCandidates, kActionCols}));
  EXPECT_TRUE(torch::equal(batch.action, torch::tensor({0, 1, 2, 3}, torch::kLong)));
  EXPECT_TRUE(torch::equal(batch.reward, torch::tensor({0.f, 1.f, 2.f, 3.f})));
  EXPECT_TRUE(
      torch::equal(batch.terminal, torch::tensor({0, 0, 1, 0}, torch::kLong).to(torch::kBool)));
  EXPECT_TRUE(torch::equal(batch.next_rows, torch::tensor({0, 1, 3}, torch::kLong)));
  ASSERT_EQ(batch.next_states.size(0), 3);
  EXPECT_TRUE(torch::equal(batch.next_states[2], transitions[3].next_state));
  EXPECT_TRUE(torch::equal(batch.next_actions[1], transitions[1].next_actions));

  const auto all_terminal = collate({make_transition(2), make_transition(5)});
  EXPECT_EQ(all_terminal.next_rows.size(0), 0);
  EXPECT_FALSE(all_terminal.next_states.defined());
}

TEST(ReplayBuffer, SaveLoadRoundTripKeepsContentsAndSharing) {
  testing::ScratchDir dir("replay");
  ReplayBuffer buffer(ReplayBufferOptions(6));
  // Two "steps" of K = 4 groups each sharing one state tensor; capacity 6
  // evicts the first two of step one.
  for (int64_t step = 0; step < 2; ++step) {
    const auto state = torch::rand({kRows, kStateCols});       // [M, Fs]
    const auto next_state = torch::rand({kRows, kStateCols});  // [M, Fs]
    for (int64_t k = 0; k < 4; ++k) {
      Transition t;
      t.state = state;
      t.actions = torch::rand({kCandidates, kActionCols});  // [N, F]
      t.action = k;
      t.reward = 0.25 * static_cast<double>(step * 4 + k);
      t.terminal = step == 1;
      if (!t.terminal) {
        t.next_state = next_state;
        t.next_actions = torch::rand({kCandidates, kActionCols});
      }
      buffer.push(t);
    }
  }
  const auto path = dir.path() / "sub" / "replay.pt";
  buffer.save(path);

  ReplayBuffer restored(ReplayBufferOptions(6));
  restored.push(make_transition(0));  // replaced by load
  restored.load(path);
  ASSERT_EQ(restored.size(), buffer.size());
  for (int64_t i = 0; i < buffer.size(); ++i) {
    SCOPED_TRACE(i);
    expect_same_transition(restored.at(i), buffer.at(i));
  }
  // Transitions of one step still share one state tensor.
  EXPECT_EQ(restored.at(0).state.data_ptr(), restored.at(1).state.data_ptr());
  EXPECT_EQ(restored.at(2).state.data_ptr(), restored.at(5).state.data_ptr());
  EXPECT_NE(restored.at(1).state.data_ptr(), restored.at(2).state.data_ptr());

  // The restored buffer evicts like the original.
  buffer.push(make_transition(40));
  restored.push(make_transition(40));
  EXPECT_EQ(restored.at(0).reward, buffer.at(0).reward);

  ReplayBuffer too_small(ReplayBufferOptions(3));
  EXPECT_THROW(too_small.load(path), Error);
  EXPECT_EQ(too_small.size(), 0);
}

TEST(ReplayBuffer, SavesViewsWithoutTheirWholeStorage) {
  testing::ScratchDir dir("replay");
  // A state that is a row of a much larger batch tensor: the file must hold
  // the row, not the batch.
  const auto big = torch::rand({200, kRows, kStateCols});  // [200, M, Fs]
  Transition t = make_transition(2);                       // terminal
  t.state = big[7];
  ReplayBuffer buffer(ReplayBufferOptions(2));
  buffer.push(t);
  const auto small_path = dir.path() / "view.pt";
  buffer.save(small_path);
  buffer.clear();
  buffer.push(make_transition(2));
  const auto reference_path = dir.path() / "plain.pt";
  buffer.save(reference_path);
  EXPECT_LT(std::filesystem::file_size(small_path),
            std::filesystem::file_size(reference_path) + 1024);
  ReplayBuffer restored(ReplayBufferOptions(2));
  restored.load(small_path);
  EXPECT_TRUE(torch::equal(restored.at(0).state, big[7]));
}

TEST(ReplayBuffer, LoadErrorsNameThePath) {
  testing::ScratchDir dir("replay");
  ReplayBuffer buffer(ReplayBufferOptions(2));
  const auto missing = dir.path() / "missing.pt";
  try {
    buffer.load(missing);
    FAIL() << "expected regal::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace regal::rl
