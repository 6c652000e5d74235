#include "regal/rl/replay_buffer.h"

#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include <torch/torch.h>

#include "regal/core/archive_file.h"
#include "regal/core/error.h"

namespace regal::rl {
namespace {

constexpr int64_t kFormatVersion = 1;

// Checks one transition on its own; `where` names it in messages.
void validate(const Transition& t, const std::string& where) {
  REGAL_CHECK(t.state.defined() && t.state.dim() == 2 && t.state.scalar_type() == torch::kFloat,
              where, ".state: expected a float [M, Fs] tensor but got ",
              t.state.defined() ? t.state.sizes() : torch::IntArrayRef{});
  REGAL_CHECK(t.actions.defined() && t.actions.dim() == 2 && t.actions.size(0) >= 1 &&
                  t.actions.scalar_type() == torch::kFloat,
              where, ".actions: expected a float [N >= 1, F] tensor but got ",
              t.actions.defined() ? t.actions.sizes() : torch::IntArrayRef{});
  REGAL_CHECK(t.action >= 0 && t.action < t.actions.size(0), where, ".action: expected 0 <= a < ",
              t.actions.size(0), " but got ", t.action);
  REGAL_CHECK(std::isfinite(t.reward), where, ".reward: expected a finite value but got ",
              t.reward);
  if (t.terminal) {
    REGAL_CHECK(!t.next_state.defined() && !t.next_actions.defined(), where,
                ": a terminal transition must leave next_state and next_actions undefined");
    return;
  }
  REGAL_CHECK(t.next_state.defined() && t.next_state.sizes() == t.state.sizes() &&
                  t.next_state.scalar_type() == torch::kFloat,
              where, ".next_state: expected a float tensor of shape ", t.state.sizes(),
              " (non-terminal) but got ",
              t.next_state.defined() ? t.next_state.sizes() : torch::IntArrayRef{});
  REGAL_CHECK(t.next_actions.defined() && t.next_actions.sizes() == t.actions.sizes() &&
                  t.next_actions.scalar_type() == torch::kFloat,
              where, ".next_actions: expected a float tensor of shape ", t.actions.sizes(),
              " (non-terminal) but got ",
              t.next_actions.defined() ? t.next_actions.sizes() : torch::IntArrayRef{});
}

// Checks that `t` can be stacked with `first` (states and action sets alike).
void check_same_shapes(const Transition& first, const Transition& t, const std::string& where) {
  REGAL_CHECK(t.state.sizes() == first.state.sizes(), where, ".state: expected shape ",
              first.state.sizes(), " like the others but got ", t.state.sizes());
  REGAL_CHECK(t.actions.sizes() == first.actions.sizes(), where, ".actions: expected shape ",
              first.actions.sizes(), " like the others but got ", t.actions.sizes());
}

// Tensors pushed by reference share storage; the archive stores each distinct
// view once. A view is identified by where its data starts and its geometry.
using TensorKey =
    std::tuple<const void*, std::vector<int64_t>, std::vector<int64_t>, torch::ScalarType>;

class TensorTable {
 public:
  // Index of `t` in the table (added when new), -1 for an undefined tensor.
  int64_t index_of(const torch::Tensor& t) {
    if (!t.defined()) {
      return -1;
    }
    TensorKey key{t.data_ptr(), t.sizes().vec(), t.strides().vec(), t.scalar_type()};
    auto [it, inserted] = index_.emplace(std::move(key), static_cast<int64_t>(tensors_.size()));
    if (inserted) {
      tensors_.push_back(t);
    }
    return it->second;
  }
  const std::vector<torch::Tensor>& tensors() const { return tensors_; }

 private:
  std::map<TensorKey, int64_t> index_;
  std::vector<torch::Tensor> tensors_;
};

// A view of a larger storage (e.g. one row of a stacked batch) would drag the
// whole storage into the archive: such tensors are copied to their own.
torch::Tensor compact(const torch::Tensor& t) {
  const bool owns_storage =
      t.is_contiguous() && t.storage_offset() == 0 &&
      t.storage().nbytes() == static_cast<size_t>(t.numel()) * t.element_size();
  return owns_storage ? t : t.clone(torch::MemoryFormat::Contiguous);
}

std::string tensor_key(int64_t index) { return "tensor_" + std::to_string(index); }

}  // namespace

TransitionBatch collate(const std::vector<Transition>& transitions) {
  REGAL_CHECK(!transitions.empty(), "collate: expected at least one transition");
  const int64_t batch = static_cast<int64_t>(transitions.size());
  std::vector<torch::Tensor> states, actions, next_states, next_actions;
  std::vector<int64_t> action(batch), next_rows;
  std::vector<double> reward(batch);
  auto terminal = torch::zeros({batch}, torch::kBool);  // [B]
  auto terminal_flags = terminal.accessor<bool, 1>();
  for (int64_t i = 0; i < batch; ++i) {
    const Transition& t = transitions[static_cast<size_t>(i)];
    const std::string where = "collate: transition " + std::to_string(i);
    validate(t, where);
    check_same_shapes(transitions.front(), t, where);
    states.push_back(t.state);
    actions.push_back(t.actions);
    action[static_cast<size_t>(i)] = t.action;
    reward[static_cast<size_t>(i)] = t.reward;
    terminal_flags[i] = t.terminal;
    if (!t.terminal) {
      next_rows.push_back(i);
      next_states.push_back(t.next_state);
      next_actions.push_back(t.next_actions);
    }
  }
  TransitionBatch out;
  out.states = torch::stack(states).cpu();                               // [B, M, Fs]
  out.actions = torch::stack(actions).cpu();                             // [B, N, F]
  out.action = torch::tensor(action, torch::kLong);                      // [B]
  out.reward = torch::tensor(reward, torch::kDouble).to(torch::kFloat);  // [B]
  out.terminal = terminal;
  out.next_rows = torch::tensor(next_rows, torch::kLong);  // [B']
  if (!next_rows.empty()) {
    out.next_states = torch::stack(next_states).cpu();    // [B', M, Fs]
    out.next_actions = torch::stack(next_actions).cpu();  // [B', N, F]
  }
  return out;
}

ReplayBuffer::ReplayBuffer(const ReplayBufferOptions& options) : options_(options) {
  REGAL_CHECK(options.capacity() >= 1, "ReplayBufferOptions.capacity: expected >= 1 but got ",
              options.capacity());
}

void ReplayBuffer::push(Transition transition) {
  validate(transition, "ReplayBuffer::push: transition");
  if (!items_.empty()) {
    check_same_shapes(items_.front(), transition, "ReplayBuffer::push: transition");
  }
  // Detached CPU views share storage with what the caller pushed (no copy
  // when it is already on the CPU), so the K transitions of a step that
  // share one state tensor keep sharing it here.
  auto keep = [](torch::Tensor& t) {
    if (t.defined()) {
      t = t.detach().cpu();
    }
  };
  keep(transition.state);
  keep(transition.actions);
  keep(transition.next_state);
  keep(transition.next_actions);
  if (size() == capacity()) {
    items_.pop_front();
  }
  items_.push_back(std::move(transition));
}

const Transition& ReplayBuffer::at(int64_t index) const {
  REGAL_CHECK(index >= 0 && index < size(), "ReplayBuffer::at: index ", index, " out of range [0, ",
              size(), ")");
  return items_[static_cast<size_t>(index)];
}

std::vector<int64_t> ReplayBuffer::sample_indices(int64_t count, std::mt19937_64& rng) const {
  REGAL_CHECK(count >= 1 && count <= size(),
              "ReplayBuffer::sample: expected 1 <= count <= ", size(),
              " (the transitions held) but got ", count);
  std::vector<int64_t> indices(static_cast<size_t>(size()));
  for (int64_t i = 0; i < size(); ++i) {
    indices[static_cast<size_t>(i)] = i;
  }
  // Partial Fisher-Yates: position i receives a uniform pick among the
  // indices not yet taken, so every count-subset (in every order) is equally
  // likely, as Python's random.sample in the reference.
  for (int64_t i = 0; i < count; ++i) {
    std::uniform_int_distribution<int64_t> pick(i, size() - 1);
    std::swap(indices[static_cast<size_t>(i)], indices[static_cast<size_t>(pick(rng))]);
  }
  indices.resize(static_cast<size_t>(count));
  return indices;
}

TransitionBatch ReplayBuffer::sample(int64_t count, std::mt19937_64& rng) const {
  std::vector<Transition> picked;
  picked.reserve(static_cast<size_t>(count));
  for (int64_t index : sample_indices(count, rng)) {
    picked.push_back(items_[static_cast<size_t>(index)]);
  }
  return collate(picked);
}

void ReplayBuffer::save(const std::filesystem::path& path) const {
  // Layout: the distinct tensors as tensor_<k>, and per transition (oldest
  // first) the table index of each tensor field (-1 = undefined) plus the
  // scalar fields, each field one [T] tensor.
  const int64_t count = size();
  TensorTable table;
  std::vector<int64_t> state_ref, actions_ref, next_state_ref, next_actions_ref, action, terminal;
  std::vector<double> reward;
  for (const Transition& t : items_) {
    state_ref.push_back(table.index_of(t.state));
    actions_ref.push_back(table.index_of(t.actions));
    next_state_ref.push_back(table.index_of(t.next_state));
    next_actions_ref.push_back(table.index_of(t.next_actions));
    action.push_back(t.action);
    reward.push_back(t.reward);
    terminal.push_back(t.terminal ? 1 : 0);
  }
  torch::serialize::OutputArchive archive;
  archive.write("format_version", torch::tensor(kFormatVersion));
  archive.write("capacity", torch::tensor(capacity()));
  archive.write("count", torch::tensor(count));
  archive.write("tensor_count", torch::tensor(static_cast<int64_t>(table.tensors().size())));
  for (size_t k = 0; k < table.tensors().size(); ++k) {
    archive.write(tensor_key(static_cast<int64_t>(k)), compact(table.tensors()[k]));
  }
  archive.write("state_ref", torch::tensor(state_ref, torch::kLong));                // [T]
  archive.write("actions_ref", torch::tensor(actions_ref, torch::kLong));            // [T]
  archive.write("next_state_ref", torch::tensor(next_state_ref, torch::kLong));      // [T]
  archive.write("next_actions_ref", torch::tensor(next_actions_ref, torch::kLong));  // [T]
  archive.write("action", torch::tensor(action, torch::kLong));                      // [T]
  archive.write("reward", torch::tensor(reward, torch::kDouble));                    // [T]
  archive.write("terminal", torch::tensor(terminal, torch::kLong));                  // [T]
  save_archive_atomically(path, archive);
}

void ReplayBuffer::load(const std::filesystem::path& path) {
  std::deque<Transition> loaded;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string());
    auto read = [&](const std::string& key) {
      torch::Tensor t;
      archive.read(key, t);
      return t;
    };
    const int64_t version = read("format_version").item<int64_t>();
    REGAL_CHECK(version == kFormatVersion, "replay buffer ", path, ": format_version ", version,
                " is not the supported ", kFormatVersion);
    const int64_t count = read("count").item<int64_t>();
    REGAL_CHECK(count <= capacity(), "replay buffer ", path, " holds ", count,
                " transitions but this buffer's capacity is ", capacity());
    const int64_t tensor_count = read("tensor_count").item<int64_t>();
    std::vector<torch::Tensor> tensors;
    for (int64_t k = 0; k < tensor_count; ++k) {
      tensors.push_back(read(tensor_key(k)));
    }
    // Each per-transition field must be a [count] tensor.
    auto field = [&](const std::string& key, torch::ScalarType type) {
      torch::Tensor t = read(key);
      REGAL_CHECK(t.dim() == 1 && t.size(0) == count && t.scalar_type() == type, "replay buffer ",
                  path, ": field ", key, " expected ", count, " values of type ", type, " but got ",
                  t.sizes(), " of ", t.scalar_type());
      return t;
    };
    auto state_ref = field("state_ref", torch::kLong);
    auto actions_ref = field("actions_ref", torch::kLong);
    auto next_state_ref = field("next_state_ref", torch::kLong);
    auto next_actions_ref = field("next_actions_ref", torch::kLong);
    auto action = field("action", torch::kLong);
    auto reward = field("reward", torch::kDouble);
    auto terminal = field("terminal", torch::kLong);
    auto lookup = [&](const torch::Tensor& refs, int64_t i, const char* name) {
      const int64_t ref = refs[i].item<int64_t>();
      REGAL_CHECK(ref >= -1 && ref < tensor_count, "replay buffer ", path, ": transition ", i, " ",
                  name, " refers to tensor ", ref, " of ", tensor_count);
      return ref < 0 ? torch::Tensor() : tensors[static_cast<size_t>(ref)];
    };
    for (int64_t i = 0; i < count; ++i) {
      Transition t;
      t.state = lookup(state_ref, i, "state");
      t.actions = lookup(actions_ref, i, "actions");
      t.next_state = lookup(next_state_ref, i, "next_state");
      t.next_actions = lookup(next_actions_ref, i, "next_actions");
      t.action = action[i].item<int64_t>();
      t.reward = reward[i].item<double>();
      t.terminal = terminal[i].item<int64_t>() != 0;
      const std::string where =
          "replay buffer " + path.string() + ": transition " + std::to_string(i);
      validate(t, where);
      if (!loaded.empty()) {
        check_same_shapes(loaded.front(), t, where);
      }
      loaded.push_back(std::move(t));
    }
  } catch (const c10::Error& e) {
    REGAL_FAIL("cannot read replay buffer ", path, ": ", e.what_without_backtrace());
  }
  items_ = std::move(loaded);
}

}  // namespace regal::rl
