#pragma once
// Double DQN for the query network (ALGORITHM.md sections 6-7): the
// exploration schedule, the target and loss as pure functions (checked
// against the golden vectors), and DqnTrainer, which owns the policy and
// target networks and the SGD optimizer and does one update per labelling
// step with the reference's BatchNorm modes.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include <torch/arg.h>
#include <torch/types.h>

#include "regal/rl/query_net.h"
#include "regal/rl/replay_buffer.h"

namespace torch::optim {
class SGD;
}  // namespace torch::optim

namespace regal::rl {

struct DqnOptions {
  TORCH_ARG(double, gamma) = 0.999;
  // Transitions per update; >= 2, since train-mode BatchNorm needs a batch.
  TORCH_ARG(int64_t, batch_size) = 16;
  TORCH_ARG(double, lr) = 1e-4;
  TORCH_ARG(double, momentum) = 0.95;
  TORCH_ARG(double, weight_decay) = 1e-3;
  // The lr is multiplied by this after every labelling step (and every epoch
  // of the end-of-episode training): decay_learning_rate().
  TORCH_ARG(double, lr_decay) = 0.97;
  // The target net is synced when the per-episode step counter (from 0) is a
  // multiple of this: target_sync_due().
  TORCH_ARG(int64_t, target_sync_every) = 5;
  TORCH_ARG(double, epsilon_start) = 0.9;
  TORCH_ARG(double, epsilon_end) = 0.05;
  // Steps for epsilon's distance to its end value to shrink by a factor e.
  TORCH_ARG(double, epsilon_decay) = 10.0;
};

// requires: t >= 0 (steps taken so far over all episodes).
// ensures: end + (start - end) * exp(-t / decay); 0.9 at t = 0, -> 0.05.
double epsilon(int64_t t, const DqnOptions& options = DqnOptions());

// requires: episode_step >= 0, counted from 0 within the episode.
// ensures: true when the target net is to be copied after this step
//   (steps 0, 5, 10, ... with the defaults).
bool target_sync_due(int64_t episode_step, const DqnOptions& options = DqnOptions());

// requires: q [B, N], actions [B] int64 in [0, N). ensures: q[b, actions[b]], [B].
torch::Tensor q_of_actions(const torch::Tensor& q, const torch::Tensor& actions);

// requires: q_policy_next [B, N]. ensures: argmax_n per row, [B] int64 (the
//   first maximum on ties). Terminal rows are computed too and unused.
torch::Tensor double_dqn_next_action(const torch::Tensor& q_policy_next);

// requires: q_target_next [B, N], next_action [B] int64, terminal [B] bool.
// ensures: q_target_next[b, next_action[b]], or 0 where terminal, [B].
torch::Tensor double_dqn_next_value(const torch::Tensor& q_target_next,
                                    const torch::Tensor& next_action,
                                    const torch::Tensor& terminal);

// requires: reward, next_value [B]. ensures: y = reward + gamma * next_value.
torch::Tensor td_target(const torch::Tensor& reward, const torch::Tensor& next_value, double gamma);

struct DoubleDqnTarget {
  torch::Tensor next_action;  // [B] int64
  torch::Tensor next_value;   // [B]
  torch::Tensor y;            // [B]
};

// The three steps above in order; the rows of q_policy_next / q_target_next
// at terminal transitions may hold anything finite (they are ignored).
DoubleDqnTarget double_dqn_target(const torch::Tensor& reward, const torch::Tensor& terminal,
                                  const torch::Tensor& q_policy_next,
                                  const torch::Tensor& q_target_next, double gamma);

// The DQN loss, Huber (smooth L1, beta 1) averaged over the batch.
// requires: q_sa, y [B >= 1] (y without gradient). ensures: a scalar.
torch::Tensor dqn_loss(const torch::Tensor& q_sa, const torch::Tensor& y);

class DqnTrainer {
 public:
  // Builds the policy net (initialised from torch's global generator: seed it
  // first for reproducible runs), a target net equal to it, and SGD on the
  // policy's parameters. Both nets live on `device`.
  // throws: regal::Error for bad options (either struct).
  DqnTrainer(const QueryNetOptions& net_options, const DqnOptions& options,
             torch::Device device = torch::kCPU);
  ~DqnTrainer();
  DqnTrainer(const DqnTrainer&) = delete;
  DqnTrainer& operator=(const DqnTrainer&) = delete;

  // One SGD step on the Huber loss between Q_policy(S, A; a) and the double
  // DQN target. The policy is in train mode for both its passes, on (S, A)
  // and on the non-terminal (S', A') (both update its running statistics);
  // the target net is in eval mode. With a single non-terminal row the
  // policy's (S', A') pass runs in eval mode, as train-mode BatchNorm cannot
  // take a batch of one. The policy's mode is restored afterwards.
  // requires: batch.size() >= 2, shapes matching the nets' options.
  // ensures: returns the loss before the step. throws: regal::Error on shapes.
  double update(const TransitionBatch& batch);

  // update() on options().batch_size() transitions sampled from `buffer`;
  // std::nullopt (and no update) while the buffer holds fewer (section 7).
  std::optional<double> update_from(const ReplayBuffer& buffer, std::mt19937_64& rng);

  // Copies every parameter and buffer (BatchNorm running statistics
  // included) of the policy into the target net.
  void sync_target();

  // Multiplies the learning rate of every parameter group by lr_decay.
  void decay_learning_rate();
  double learning_rate() const;

  // requires: state [M, Fs], candidates [K, N, Fa+64].
  // ensures: the policy's Q in eval mode, [K, N], without gradient; the
  //   state path runs once for all K groups. The policy's mode is restored.
  torch::Tensor policy_q(const torch::Tensor& state, const torch::Tensor& candidates);

  // Epsilon-greedy pick of one candidate per group, epsilon = epsilon(t).
  // One draw decides for the whole step (section 6): greedy means the argmax
  // of policy_q in every group, random means a uniform index per group.
  // requires: as policy_q; t >= 0. ensures: K indices in [0, N).
  std::vector<int64_t> select_actions(const torch::Tensor& state, const torch::Tensor& candidates,
                                      int64_t t, std::mt19937_64& rng);

  // Policy, target and optimizer state (momentum buffers, current lr) in one
  // archive, written atomically. throws: regal::Error naming the path.
  void save(const std::filesystem::path& path) const;
  // Restores what save() wrote; the nets must have the same options.
  // throws: regal::Error naming the path when missing, corrupt or mismatched.
  void load(const std::filesystem::path& path);

  QueryNet& policy() { return policy_; }
  QueryNet& target() { return target_; }
  const DqnOptions& options() const { return options_; }
  torch::Device device() const { return device_; }

 private:
  DqnOptions options_;
  torch::Device device_;
  QueryNet policy_{nullptr};
  QueryNet target_{nullptr};
  std::unique_ptr<torch::optim::SGD> optimizer_;
};

}  // namespace regal::rl
