#include "regal/rl/query_net.h"

#include <tuple>

#include <torch/torch.h>

#include "regal/core/error.h"

namespace regal::rl {
namespace {

torch::nn::BatchNorm1d make_bn(const QueryNetOptions& options, int64_t features) {
  return torch::nn::BatchNorm1d(torch::nn::BatchNorm1dOptions(features)
                                    .eps(options.bn_eps())
                                    .momentum(options.bn_momentum()));
}

torch::nn::Conv1d make_conv(int64_t in_channels, int64_t out_channels) {
  return torch::nn::Conv1d(torch::nn::Conv1dOptions(in_channels, out_channels, 1));
}

// The pre-activation block every path is built from: BN -> ReLU -> Conv1d.
// x [B, in, L] -> [B, out, L].
torch::Tensor pre_activation(torch::nn::BatchNorm1d& bn, torch::nn::Conv1d& conv,
                             const torch::Tensor& x) {
  return conv->forward(torch::relu(bn->forward(x)));
}

}  // namespace

QueryStatePathImpl::QueryStatePathImpl(const QueryNetOptions& options) {
  bn1_ = register_module("bn1", make_bn(options, options.state_features()));
  conv1_ = register_module("conv1", make_conv(options.state_features(), 256));
  bn2_ = register_module("bn2", make_bn(options, 256));
  conv2_ = register_module("conv2", make_conv(256, 128));
  bn3_ = register_module("bn3", make_bn(options, 128));
  conv3_ = register_module("conv3", make_conv(128, 1));
  bn_rows_ = register_module("bn_rows", make_bn(options, options.state_rows()));
  linear_ = register_module("linear", torch::nn::Linear(options.state_rows(), 128));
}

std::pair<torch::Tensor, torch::Tensor> QueryStatePathImpl::forward(const torch::Tensor& state) {
  // The state's features become channels and its rows the sequence axis, so
  // the k=1 convs embed every region row with the same weights.
  auto x = state.transpose(1, 2);       // [B, Fs, M]
  x = pre_activation(bn1_, conv1_, x);  // [B, 256, M]
  x = pre_activation(bn2_, conv2_, x);  // [B, 128, M]
  x = pre_activation(bn3_, conv3_, x);  // [B, 1, M]
  auto rows = x.squeeze(1);             // [B, M]
  // BN(M) normalises each row position on its own: the rows are a fixed
  // layout (image, x, y), so the linear layer can weigh regions by position.
  auto embedding = linear_->forward(torch::relu(bn_rows_->forward(rows)));  // [B, 128]
  return {rows, embedding};
}

QuerySimilarityPathImpl::QuerySimilarityPathImpl(const QueryNetOptions& options) {
  bn_ = register_module("bn", make_bn(options, options.similarity_features()));
  conv_ = register_module("conv", make_conv(options.similarity_features(), 1));
}

torch::Tensor QuerySimilarityPathImpl::forward(const torch::Tensor& x) {
  return pre_activation(bn_, conv_, x);  // [B, 1, N]
}

QueryActionPathImpl::QueryActionPathImpl(const QueryNetOptions& options) {
  bn1_ = register_module("bn1", make_bn(options, options.action_features()));
  conv1_ = register_module("conv1", make_conv(options.action_features(), 512));
  bn2_ = register_module("bn2", make_bn(options, 512));
  conv2_ = register_module("conv2", make_conv(512, 256));
  bn3_ = register_module("bn3", make_bn(options, 256));
  conv3_ = register_module("conv3", make_conv(256, 128));
}

torch::Tensor QueryActionPathImpl::forward(const torch::Tensor& x) {
  auto y = pre_activation(bn1_, conv1_, x);  // [B, 512, N]
  y = pre_activation(bn2_, conv2_, y);       // [B, 256, N]
  return pre_activation(bn3_, conv3_, y);    // [B, 128, N]
}

QueryHeadImpl::QueryHeadImpl(const QueryNetOptions& options) {
  bn_ = register_module("bn", make_bn(options, 256));
  conv_ = register_module("conv", make_conv(256, 1));
}

torch::Tensor QueryHeadImpl::forward(const torch::Tensor& x) {
  return conv_->forward(bn_->forward(x));  // [B, 1, N]
}

QueryNetImpl::QueryNetImpl(const QueryNetOptions& options) : options_(options) {
  REGAL_CHECK(options.state_features() >= 1,
              "QueryNetOptions.state_features: expected >= 1 but got ", options.state_features());
  REGAL_CHECK(options.action_features() >= 1,
              "QueryNetOptions.action_features: expected >= 1 but got ", options.action_features());
  REGAL_CHECK(options.state_rows() >= 1, "QueryNetOptions.state_rows: expected >= 1 but got ",
              options.state_rows());
  REGAL_CHECK(options.similarity_features() >= 1,
              "QueryNetOptions.similarity_features: expected >= 1 but got ",
              options.similarity_features());
  REGAL_CHECK(options.bn_eps() > 0.0, "QueryNetOptions.bn_eps: expected > 0 but got ",
              options.bn_eps());
  state_ = register_module("state", QueryStatePath(options));
  sim_ = register_module("sim", QuerySimilarityPath(options));
  action_ = register_module("action", QueryActionPath(options));
  head_ = register_module("head", QueryHead(options));
}

torch::Tensor QueryNetImpl::forward(const torch::Tensor& state, const torch::Tensor& actions) {
  return forward_detailed(state, actions).q;
}

QueryNetOutput QueryNetImpl::forward_detailed(const torch::Tensor& state,
                                              const torch::Tensor& actions) {
  const int64_t m = options_.state_rows();
  const int64_t fs = options_.state_features();
  const int64_t fa = options_.action_features();
  const int64_t fsim = options_.similarity_features();
  REGAL_CHECK(state.dim() == 3 && state.size(1) == m && state.size(2) == fs,
              "QueryNet: expected state [B, ", m, ", ", fs, "] but got ", state.sizes());
  REGAL_CHECK(actions.dim() == 3 && actions.size(1) >= 1 && actions.size(2) == fa + fsim,
              "QueryNet: expected actions [B, N >= 1, ", fa + fsim, "] but got ", actions.sizes());
  const int64_t batch = actions.size(0);
  const int64_t n = actions.size(1);
  REGAL_CHECK(state.size(0) == batch || (state.size(0) == 1 && !is_training()),
              "QueryNet: state batch ", state.size(0), " does not match actions batch ", batch,
              " (a shared state of batch 1 is accepted in eval mode only, where BatchNorm uses "
              "running statistics and sharing equals repeating)");

  QueryNetOutput out;
  std::tie(out.state_rows_out, out.state_embedding) = state_->forward(state);
  // The state embedding is the same for every candidate: repeat it over N
  // (and over B when one state is shared).
  auto state_channels = out.state_embedding.unsqueeze(2).expand({batch, 128, n});  // [B, 128, N]

  auto columns = actions.transpose(1, 2);                               // [B, Fa+64, N]
  auto sim = sim_->forward(columns.narrow(1, fa, fsim));                // [B, 1, N]
  auto action = action_->forward(columns.narrow(1, 0, fa));             // [B, 128, N]
  auto head = head_->forward(torch::cat({action, state_channels}, 1));  // [B, 256, N] -> [B, 1, N]

  out.sim_logit = sim.squeeze(1);  // [B, N]
  out.head = head.squeeze(1);      // [B, N]
  // The similarity term gates the head: a candidate like those already
  // labelled (or like the rest of the pool) can be scaled down towards 0.
  out.q = torch::sigmoid(out.sim_logit) * out.head;  // [B, N]
  return out;
}

}  // namespace regal::rl
