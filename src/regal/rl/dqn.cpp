#include "regal/rl/dqn.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "regal/core/archive_file.h"
#include "regal/core/error.h"

namespace regal::rl {
namespace {

constexpr int64_t kCheckpointVersion = 1;

void validate(const DqnOptions& o) {
  REGAL_CHECK(o.gamma() >= 0.0 && o.gamma() <= 1.0, "DqnOptions.gamma: expected in [0, 1] but got ",
              o.gamma());
  REGAL_CHECK(o.batch_size() >= 2,
              "DqnOptions.batch_size: expected >= 2 (train-mode BatchNorm needs a batch) but got ",
              o.batch_size());
  REGAL_CHECK(o.lr() > 0.0, "DqnOptions.lr: expected > 0 but got ", o.lr());
  REGAL_CHECK(o.momentum() >= 0.0, "DqnOptions.momentum: expected >= 0 but got ", o.momentum());
  REGAL_CHECK(o.weight_decay() >= 0.0, "DqnOptions.weight_decay: expected >= 0 but got ",
              o.weight_decay());
  REGAL_CHECK(o.lr_decay() > 0.0 && o.lr_decay() <= 1.0,
              "DqnOptions.lr_decay: expected in (0, 1] but got ", o.lr_decay());
  REGAL_CHECK(o.target_sync_every() >= 1, "DqnOptions.target_sync_every: expected >= 1 but got ",
              o.target_sync_every());
  REGAL_CHECK(o.epsilon_start() >= 0.0 && o.epsilon_start() <= 1.0,
              "DqnOptions.epsilon_start: expected in [0, 1] but got ", o.epsilon_start());
  REGAL_CHECK(o.epsilon_end() >= 0.0 && o.epsilon_end() <= 1.0,
              "DqnOptions.epsilon_end: expected in [0, 1] but got ", o.epsilon_end());
  REGAL_CHECK(o.epsilon_decay() > 0.0, "DqnOptions.epsilon_decay: expected > 0 but got ",
              o.epsilon_decay());
}

torch::optim::SGDOptions sgd_options(const DqnOptions& o) {
  return torch::optim::SGDOptions(o.lr()).momentum(o.momentum()).weight_decay(o.weight_decay());
}

// Sets a module's train/eval mode for a scope and restores the previous one.
class ModeScope {
 public:
  ModeScope(torch::nn::Module& module, bool training)
      : module_(module), was_training_(module.is_training()) {
    module_.train(training);
  }
  ~ModeScope() { module_.train(was_training_); }
  ModeScope(const ModeScope&) = delete;
  ModeScope& operator=(const ModeScope&) = delete;

 private:
  torch::nn::Module& module_;
  bool was_training_;
};

void check_candidates(const QueryNetOptions& net, const torch::Tensor& state,
                      const torch::Tensor& candidates) {
  REGAL_CHECK(state.dim() == 2 && state.size(0) == net.state_rows() &&
                  state.size(1) == net.state_features(),
              "DqnTrainer: expected state [", net.state_rows(), ", ", net.state_features(),
              "] but got ", state.sizes());
  const int64_t f = net.action_features() + net.similarity_features();
  REGAL_CHECK(candidates.dim() == 3 && candidates.size(0) >= 1 && candidates.size(1) >= 1 &&
                  candidates.size(2) == f,
              "DqnTrainer: expected candidates [K >= 1, N >= 1, ", f, "] but got ",
              candidates.sizes());
}

// Module::load replaces each tensor by the archive's without comparing
// shapes, so a checkpoint of another QueryNetOptions would load "fine" and
// fail later: compare every parameter and buffer against the built net.
void load_checked(QueryNet& net, torch::serialize::InputArchive& archive, const char* name,
                  const std::filesystem::path& path) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected;
  for (const auto& item : net->named_parameters()) {
    expected.emplace_back(item.key(), item.value().sizes().vec());
  }
  for (const auto& item : net->named_buffers()) {
    expected.emplace_back(item.key(), item.value().sizes().vec());
  }
  net->load(archive);
  auto parameters = net->named_parameters();
  auto buffers = net->named_buffers();
  for (const auto& [key, shape] : expected) {
    const torch::Tensor* loaded = parameters.find(key);
    if (loaded == nullptr) {
      loaded = buffers.find(key);
    }
    REGAL_CHECK(loaded != nullptr && loaded->sizes().vec() == shape, "DQN checkpoint ", path, ": ",
                name, ".", key, " has shape ",
                loaded != nullptr ? loaded->sizes() : torch::IntArrayRef{}, " but the net expects ",
                torch::IntArrayRef(shape), " (saved with other QueryNetOptions?)");
  }
}

}  // namespace

double epsilon(int64_t t, const DqnOptions& options) {
  REGAL_CHECK(t >= 0, "epsilon: expected a step count t >= 0 but got ", t);
  REGAL_CHECK(options.epsilon_decay() > 0.0, "DqnOptions.epsilon_decay: expected > 0 but got ",
              options.epsilon_decay());
  return options.epsilon_end() + (options.epsilon_start() - options.epsilon_end()) *
                                     std::exp(-static_cast<double>(t) / options.epsilon_decay());
}

bool target_sync_due(int64_t episode_step, const DqnOptions& options) {
  REGAL_CHECK(episode_step >= 0, "target_sync_due: expected episode_step >= 0 but got ",
              episode_step);
  REGAL_CHECK(options.target_sync_every() >= 1,
              "DqnOptions.target_sync_every: expected >= 1 but got ", options.target_sync_every());
  return episode_step % options.target_sync_every() == 0;
}

torch::Tensor q_of_actions(const torch::Tensor& q, const torch::Tensor& actions) {
  REGAL_CHECK(q.dim() == 2 && actions.dim() == 1 && actions.size(0) == q.size(0) &&
                  actions.scalar_type() == torch::kLong,
              "q_of_actions: expected q [B, N] and int64 actions [B] but got ", q.sizes(), " and ",
              actions.sizes(), " of ", actions.scalar_type());
  REGAL_CHECK(actions.numel() == 0 ||
                  (actions.min().item<int64_t>() >= 0 && actions.max().item<int64_t>() < q.size(1)),
              "q_of_actions: expected actions in [0, ", q.size(1), ")");
  return q.gather(1, actions.unsqueeze(1)).squeeze(1);  // [B, 1] -> [B]
}

torch::Tensor double_dqn_next_action(const torch::Tensor& q_policy_next) {
  REGAL_CHECK(q_policy_next.dim() == 2 && q_policy_next.size(1) >= 1,
              "double_dqn_next_action: expected q_policy_next [B, N >= 1] but got ",
              q_policy_next.sizes());
  return q_policy_next.argmax(1);  // [B] int64
}

torch::Tensor double_dqn_next_value(const torch::Tensor& q_target_next,
                                    const torch::Tensor& next_action,
                                    const torch::Tensor& terminal) {
  REGAL_CHECK(terminal.dim() == 1 && terminal.size(0) == q_target_next.size(0) &&
                  terminal.scalar_type() == torch::kBool,
              "double_dqn_next_value: expected a bool terminal [", q_target_next.size(0),
              "] but got ", terminal.sizes(), " of ", terminal.scalar_type());
  // The decoupling of double DQN: the policy picked next_action, the target
  // net values it. Terminal rows have no next state, so no future value.
  auto value = q_of_actions(q_target_next, next_action);           // [B]
  return torch::where(terminal, torch::zeros_like(value), value);  // [B]
}

torch::Tensor td_target(const torch::Tensor& reward, const torch::Tensor& next_value,
                        double gamma) {
  REGAL_CHECK(reward.dim() == 1 && reward.sizes() == next_value.sizes(),
              "td_target: expected reward and next_value [B] but got ", reward.sizes(), " and ",
              next_value.sizes());
  return reward + gamma * next_value;  // [B]
}

DoubleDqnTarget double_dqn_target(const torch::Tensor& reward, const torch::Tensor& terminal,
                                  const torch::Tensor& q_policy_next,
                                  const torch::Tensor& q_target_next, double gamma) {
  REGAL_CHECK(q_policy_next.sizes() == q_target_next.sizes(), "double_dqn_target: q_policy_next ",
              q_policy_next.sizes(), " and q_target_next ", q_target_next.sizes(),
              " differ in shape");
  DoubleDqnTarget out;
  out.next_action = double_dqn_next_action(q_policy_next);
  out.next_value = double_dqn_next_value(q_target_next, out.next_action, terminal);
  out.y = td_target(reward, out.next_value, gamma);
  return out;
}

torch::Tensor dqn_loss(const torch::Tensor& q_sa, const torch::Tensor& y) {
  REGAL_CHECK(q_sa.dim() == 1 && q_sa.sizes() == y.sizes() && q_sa.numel() >= 1,
              "dqn_loss: expected q_sa and y [B >= 1] but got ", q_sa.sizes(), " and ", y.sizes());
  return torch::smooth_l1_loss(q_sa, y, at::Reduction::Mean, /*beta=*/1.0);  // []
}

DqnTrainer::DqnTrainer(const QueryNetOptions& net_options, const DqnOptions& options,
                       torch::Device device)
    : options_(options), device_(device) {
  validate(options);
  policy_ = QueryNet(net_options);
  target_ = QueryNet(net_options);
  policy_->to(device_);
  target_->to(device_);
  sync_target();
  target_->eval();
  optimizer_ = std::make_unique<torch::optim::SGD>(policy_->parameters(), sgd_options(options_));
}

DqnTrainer::~DqnTrainer() = default;

double DqnTrainer::update(const TransitionBatch& batch) {
  const int64_t b = batch.size();
  REGAL_CHECK(b >= 2,
              "DqnTrainer::update: expected a batch of >= 2 transitions (train-mode "
              "BatchNorm needs a batch) but got ",
              b);
  REGAL_CHECK(batch.states.defined() && batch.states.size(0) == b && batch.actions.defined() &&
                  batch.actions.dim() == 3 && batch.actions.size(0) == b,
              "DqnTrainer::update: states ", batch.states.sizes(), " and actions ",
              batch.actions.sizes(), " do not hold ", b, " transitions");
  ModeScope policy_mode(*policy_, /*training=*/true);
  target_->eval();

  auto q = policy_->forward(batch.states.to(device_), batch.actions.to(device_));  // [B, N]
  auto q_sa = q_of_actions(q, batch.action.to(device_));                           // [B]

  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    // Full [B, N] tables with zero rows for terminal transitions, so the
    // pure double_dqn_target (the golden-tested one) applies unchanged.
    auto q_policy_next = torch::zeros_like(q);  // [B, N]
    auto q_target_next = torch::zeros_like(q);  // [B, N]
    const int64_t non_terminal = batch.next_rows.size(0);
    if (non_terminal > 0) {
      auto rows = batch.next_rows.to(device_);             // [B']
      auto next_states = batch.next_states.to(device_);    // [B', M, Fs]
      auto next_actions = batch.next_actions.to(device_);  // [B', N, F]
      {
        ModeScope next_pass_mode(*policy_, /*training=*/non_terminal >= 2);
        q_policy_next.index_copy_(0, rows, policy_->forward(next_states, next_actions));
      }
      q_target_next.index_copy_(0, rows, target_->forward(next_states, next_actions));
    }
    const auto reward = batch.reward.to(device_).to(q.scalar_type());  // [B]
    const auto terminal = batch.terminal.to(device_);                  // [B]
    y = double_dqn_target(reward, terminal, q_policy_next, q_target_next, options_.gamma()).y;
  }
  auto loss = dqn_loss(q_sa, y);
  optimizer_->zero_grad();
  loss.backward();
  optimizer_->step();
  const double value = loss.item<double>();
  // A diverged network would otherwise go on training on NaN and pick fixed
  // indices (argmax treats NaN as the largest value) with no error.
  REGAL_CHECK(std::isfinite(value), "DQN update: the loss is ", value,
              "; the query network diverged (lower policy.dqn.lr, or check the rewards)");
  return value;
}

std::optional<double> DqnTrainer::update_from(const ReplayBuffer& buffer, std::mt19937_64& rng) {
  if (buffer.size() < options_.batch_size()) {
    return std::nullopt;
  }
  return update(buffer.sample(options_.batch_size(), rng));
}

void DqnTrainer::sync_target() {
  torch::NoGradGuard no_grad;
  auto target_parameters = target_->named_parameters(/*recurse=*/true);
  for (const auto& item : policy_->named_parameters(/*recurse=*/true)) {
    target_parameters[item.key()].copy_(item.value());
  }
  auto target_buffers = target_->named_buffers(/*recurse=*/true);
  for (const auto& item : policy_->named_buffers(/*recurse=*/true)) {
    target_buffers[item.key()].copy_(item.value());
  }
}

void DqnTrainer::decay_learning_rate() {
  for (auto& group : optimizer_->param_groups()) {
    group.options().set_lr(group.options().get_lr() * options_.lr_decay());
  }
}

double DqnTrainer::learning_rate() const {
  return optimizer_->param_groups().front().options().get_lr();
}

torch::Tensor DqnTrainer::policy_q(const torch::Tensor& state, const torch::Tensor& candidates) {
  check_candidates(policy_->options(), state, candidates);
  ModeScope policy_mode(*policy_, /*training=*/false);
  torch::NoGradGuard no_grad;
  // One state for all K groups: the net broadcasts a batch-1 state in eval
  // mode, so the state path (the costly part at M = 1280 rows) runs once.
  return policy_->forward(state.unsqueeze(0).to(device_), candidates.to(device_));  // [K, N]
}

std::vector<int64_t> DqnTrainer::select_actions(const torch::Tensor& state,
                                                const torch::Tensor& candidates, int64_t t,
                                                std::mt19937_64& rng) {
  check_candidates(policy_->options(), state, candidates);
  const int64_t groups = candidates.size(0);
  const int64_t per_group = candidates.size(1);
  std::vector<int64_t> picks(static_cast<size_t>(groups));
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  if (coin(rng) < epsilon(t, options_)) {
    std::uniform_int_distribution<int64_t> pick(0, per_group - 1);
    for (auto& p : picks) {
      p = pick(rng);
    }
    return picks;
  }
  const auto q = policy_q(state, candidates);  // [K, N]
  REGAL_CHECK(!q.isnan().any().item<bool>(), "query network: Q holds NaN; the network diverged (lower policy.dqn.lr)");
  auto best = q.argmax(1).cpu();  // [K] int64
  auto best_rows = best.accessor<int64_t, 1>();
  for (int64_t k = 0; k < groups; ++k) {
    picks[static_cast<size_t>(k)] = best_rows[k];
  }
  return picks;
}

void DqnTrainer::save(const std::filesystem::path& path) const {
  torch::serialize::OutputArchive root;
  torch::serialize::OutputArchive policy_archive;
  torch::serialize::OutputArchive target_archive;
  torch::serialize::OutputArchive optimizer_archive;
  policy_->save(policy_archive);
  target_->save(target_archive);
  optimizer_->save(optimizer_archive);
  root.write("format_version", torch::tensor(kCheckpointVersion));
  root.write("policy", policy_archive);
  root.write("target", target_archive);
  root.write("optimizer", optimizer_archive);
  // LibTorch's Optimizer::load restores the per-parameter state (momentum)
  // but not the param groups' options: the decayed lr is kept here.
  std::vector<double> learning_rates;
  for (const auto& group : optimizer_->param_groups()) {
    learning_rates.push_back(group.options().get_lr());
  }
  root.write("learning_rates", torch::tensor(learning_rates, torch::kDouble));  // [groups]
  save_archive_atomically(path, root);
}

void DqnTrainer::load(const std::filesystem::path& path) {
  // Everything is read into fresh nets and a fresh optimizer first, then
  // swapped in: a file that fails half-way leaves this trainer untouched.
  const QueryNetOptions& net_options = policy_->options();
  QueryNet policy(net_options);
  QueryNet target(net_options);
  policy->to(device_);
  target->to(device_);
  auto optimizer = std::make_unique<torch::optim::SGD>(policy->parameters(), sgd_options(options_));
  try {
    torch::serialize::InputArchive root;
    root.load_from(path.string(), device_);
    torch::Tensor version;
    root.read("format_version", version);
    REGAL_CHECK(version.item<int64_t>() == kCheckpointVersion, "DQN checkpoint ", path,
                ": format_version ", version.item<int64_t>(), " is not the supported ",
                kCheckpointVersion);
    torch::serialize::InputArchive policy_archive;
    torch::serialize::InputArchive target_archive;
    torch::serialize::InputArchive optimizer_archive;
    root.read("policy", policy_archive);
    root.read("target", target_archive);
    root.read("optimizer", optimizer_archive);
    load_checked(policy, policy_archive, "policy", path);
    load_checked(target, target_archive, "target", path);
    optimizer->load(optimizer_archive);
    torch::Tensor learning_rates;
    root.read("learning_rates", learning_rates);
    auto& groups = optimizer->param_groups();
    REGAL_CHECK(
        learning_rates.dim() == 1 && learning_rates.size(0) == static_cast<int64_t>(groups.size()),
        "DQN checkpoint ", path, ": expected ", groups.size(), " learning rates but got shape ",
        learning_rates.sizes());
    for (size_t i = 0; i < groups.size(); ++i) {
      groups[i].options().set_lr(learning_rates[static_cast<int64_t>(i)].item<double>());
    }
  } catch (const c10::Error& e) {
    REGAL_FAIL(
        "cannot load DQN checkpoint ", path,
        " (missing, corrupt, or saved with other QueryNetOptions): ", e.what_without_backtrace());
  }
  policy->train(policy_->is_training());
  target->eval();
  policy_ = policy;
  target_ = target;
  optimizer_ = std::move(optimizer);
}

}  // namespace regal::rl
