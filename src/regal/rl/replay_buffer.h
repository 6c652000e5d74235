#pragma once
// The DQN replay buffer (ALGORITHM.md sections 6-7): one transition per
// candidate group and step, a fixed capacity with the oldest transitions
// dropped first, uniform sampling without replacement, and save/load so that
// a resumed run continues with the same contents.
//
// Memory: the K transitions of one step share their state (and next state).
// Push the same tensor to all K and the buffer keeps one copy; save() keeps
// that sharing in the file and load() restores it, so a buffer of thousands
// of transitions costs a few states, not thousands.
#include <cstdint>
#include <deque>
#include <filesystem>
#include <random>
#include <vector>

#include <torch/arg.h>
#include <torch/types.h>

namespace regal::rl {

struct Transition {
  torch::Tensor state;    // [M, Fs] float
  torch::Tensor actions;  // [N, F] float, F = Fa + 64: the group's candidates
  int64_t action = 0;     // the picked row of `actions`
  double reward = 0.0;
  torch::Tensor next_state;    // [M, Fs]; undefined when terminal
  torch::Tensor next_actions;  // [N, F]; undefined when terminal
  bool terminal = false;
};

// Sampled transitions stacked for one DQN update. Only the non-terminal
// transitions have a next state: they are stacked apart, with `next_rows`
// saying which batch row each belongs to (the reference's non_final_mask).
struct TransitionBatch {
  torch::Tensor states;        // [B, M, Fs] float
  torch::Tensor actions;       // [B, N, F] float
  torch::Tensor action;        // [B] int64
  torch::Tensor reward;        // [B] float
  torch::Tensor terminal;      // [B] bool
  torch::Tensor next_rows;     // [B'] int64, B' = non-terminal count, ascending
  torch::Tensor next_states;   // [B', M, Fs]; undefined when B' == 0
  torch::Tensor next_actions;  // [B', N, F]; undefined when B' == 0
  int64_t size() const { return action.defined() ? action.size(0) : 0; }
};

// requires: transitions non-empty, each valid (see ReplayBuffer::push) and all
//   of the same shapes. ensures: a batch in the given order, on the CPU.
// throws: regal::Error naming the first transition that does not fit.
TransitionBatch collate(const std::vector<Transition>& transitions);

struct ReplayBufferOptions {
  // requires: capacity >= 1 (checked when the buffer is built).
  explicit ReplayBufferOptions(int64_t capacity) : capacity_(capacity) {}
  TORCH_ARG(int64_t, capacity);
};

class ReplayBuffer {
 public:
  // throws: regal::Error when options.capacity() < 1.
  explicit ReplayBuffer(const ReplayBufferOptions& options);

  // requires: state [M, Fs], actions [N, F] 2-D, 0 <= action < N, a finite
  //   reward, next_state/next_actions undefined iff terminal and otherwise of
  //   the same shapes as state/actions; shapes equal to those already held.
  // ensures: stored (tensors detached, storage shared, not copied) as the
  //   newest; the oldest is dropped when the buffer was full.
  // throws: regal::Error naming the field that does not fit.
  void push(Transition transition);

  int64_t size() const { return static_cast<int64_t>(items_.size()); }
  int64_t capacity() const { return options_.capacity(); }
  bool empty() const { return items_.empty(); }
  // requires: 0 <= index < size(); 0 is the oldest transition.
  const Transition& at(int64_t index) const;
  void clear() { items_.clear(); }

  // requires: 1 <= count <= size(). ensures: `count` distinct indices, every
  //   subset equally likely (partial Fisher-Yates on `rng`).
  std::vector<int64_t> sample_indices(int64_t count, std::mt19937_64& rng) const;
  // sample_indices, then collate() of those transitions.
  TransitionBatch sample(int64_t count, std::mt19937_64& rng) const;

  // Writes every transition (oldest first) as a torch archive, atomically.
  // throws: regal::Error naming the path when it cannot be written.
  void save(const std::filesystem::path& path) const;
  // Replaces the contents by the file's; shared tensors stay shared.
  // throws: regal::Error naming the path when it is missing or corrupt, or
  //   holds more transitions than this buffer's capacity.
  void load(const std::filesystem::path& path);

 private:
  ReplayBufferOptions options_;
  std::deque<Transition> items_;
};

}  // namespace regal::rl
