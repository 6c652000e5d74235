#pragma once
// The query network Q(s, a) of RALis (ALGORITHM.md section 5): it scores the
// N candidate regions of a group given the state matrix (how the segmentation
// net does on D_S). Every block is pre-activation, BN -> ReLU -> Conv1d(k=1).
//
// Submodules are named after the reference's layers as the golden vectors
// spell them ("state.bn1", ..., "head.conv"), so parameter names read
// "state.conv1.weight", "head.bn.running_mean", ...; keep them stable: saved
// policies and the golden test depend on them.
#include <cstdint>
#include <utility>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace regal::rl {

struct QueryNetOptions {
  // requires: all three >= 1 (checked when the QueryNet is built).
  QueryNetOptions(int64_t state_features, int64_t action_features, int64_t state_rows)
      : state_features_(state_features),
        action_features_(action_features),
        state_rows_(state_rows) {}
  // Fs: columns of the state matrix, (C+1) + 192.
  TORCH_ARG(int64_t, state_features);
  // Fa: action columns before the similarity part, (C+1) + 192.
  TORCH_ARG(int64_t, action_features);
  // M: rows of the state matrix, |D_S| * regions per image.
  TORCH_ARG(int64_t, state_rows);
  // The trailing KL-histogram columns of an action vector (32 + 32).
  TORCH_ARG(int64_t, similarity_features) = 64;
  TORCH_ARG(double, bn_eps) = 1e-5;
  // PyTorch's default; the reference does not change it.
  TORCH_ARG(double, bn_momentum) = 0.1;
};

// Every stage of one forward pass; the golden test checks them one by one.
struct QueryNetOutput {
  torch::Tensor q;                // [B, N] = sigmoid(sim_logit) * head
  torch::Tensor state_rows_out;   // [Bs, M]  state path before BN(M)
  torch::Tensor state_embedding;  // [Bs, 128]
  torch::Tensor sim_logit;        // [B, N]
  torch::Tensor head;             // [B, N]
};

// State path: S^T [B, Fs, M] -> three blocks -> [B, M] -> BN(M), ReLU,
// Linear M->128. Submodules bn1 conv1 bn2 conv2 bn3 conv3 bn_rows linear.
class QueryStatePathImpl : public torch::nn::Module {
 public:
  explicit QueryStatePathImpl(const QueryNetOptions& options);
  // requires: state [B, M, Fs]. ensures: {rows [B, M], embedding [B, 128]}.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& state);

 private:
  torch::nn::BatchNorm1d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr}, bn_rows_{nullptr};
  torch::nn::Conv1d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::Linear linear_{nullptr};
};
TORCH_MODULE(QueryStatePath);

// Similarity path: the last 64 action columns [B, 64, N] -> BN, ReLU,
// Conv 64->1. Submodules bn conv.
class QuerySimilarityPathImpl : public torch::nn::Module {
 public:
  explicit QuerySimilarityPathImpl(const QueryNetOptions& options);
  // requires: x [B, 64, N]. ensures: logits [B, 1, N].
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::BatchNorm1d bn_{nullptr};
  torch::nn::Conv1d conv_{nullptr};
};
TORCH_MODULE(QuerySimilarityPath);

// Action path: [B, Fa, N] -> Fa->512->256->128. Submodules bn1 conv1 bn2
// conv2 bn3 conv3.
class QueryActionPathImpl : public torch::nn::Module {
 public:
  explicit QueryActionPathImpl(const QueryNetOptions& options);
  // requires: x [B, Fa, N]. ensures: [B, 128, N].
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::BatchNorm1d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
  torch::nn::Conv1d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
};
TORCH_MODULE(QueryActionPath);

// Head: [B, 256, N] -> BN(256) -> Conv 256->1, with no ReLU in between (as
// the reference). Submodules bn conv.
class QueryHeadImpl : public torch::nn::Module {
 public:
  explicit QueryHeadImpl(const QueryNetOptions& options);
  // requires: x [B, 256, N]. ensures: [B, 1, N].
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::BatchNorm1d bn_{nullptr};
  torch::nn::Conv1d conv_{nullptr};
};
TORCH_MODULE(QueryHead);

class QueryNetImpl : public torch::nn::Module {
 public:
  // requires: every option >= 1, bn_eps > 0. ensures: submodules "state",
  //   "sim", "action", "head" with PyTorch's default initialisation.
  // throws: regal::Error naming the bad option.
  explicit QueryNetImpl(const QueryNetOptions& options);

  // requires: state [Bs, M, Fs] and actions [B, N, Fa+64] float on the
  //   module's device, N >= 1, Bs == B, or Bs == 1 in eval mode (one state
  //   shared by all B candidate sets; equal to repeating it B times).
  // ensures: Q [B, N]. throws: regal::Error naming the mismatched dimension.
  torch::Tensor forward(const torch::Tensor& state, const torch::Tensor& actions);

  // forward() keeping every intermediate stage; same contract.
  QueryNetOutput forward_detailed(const torch::Tensor& state, const torch::Tensor& actions);

  const QueryNetOptions& options() const { return options_; }

 private:
  QueryNetOptions options_;
  QueryStatePath state_{nullptr};
  QuerySimilarityPath sim_{nullptr};
  QueryActionPath action_{nullptr};
  QueryHead head_{nullptr};
};
TORCH_MODULE(QueryNet);

}  // namespace regal::rl
