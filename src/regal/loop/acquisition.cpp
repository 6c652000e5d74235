#include "regal/loop/acquisition.h"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "regal/al/acquisition_scores.h"
#include "regal/core/error.h"

namespace regal::loop {

namespace {

// Switches MC dropout on for its lifetime, whatever leaves the scope.
class McDropoutScope {
 public:
  explicit McDropoutScope(nn::Fpn& net) : net_(net), was_training_(net->is_training()) {
    net_->eval();
    net_->set_mc_dropout(true);
  }
  ~McDropoutScope() {
    net_->set_mc_dropout(false);
    net_->train(was_training_);
  }
  McDropoutScope(const McDropoutScope&) = delete;
  McDropoutScope& operator=(const McDropoutScope&) = delete;

 private:
  nn::Fpn& net_;
  bool was_training_;
};

}  // namespace

Method parse_method(const std::string& text, const std::string& what) {
  if (text == "random") return Method::kRandom;
  if (text == "entropy") return Method::kEntropy;
  if (text == "bald") return Method::kBald;
  if (text == "ralis" || text == "policy") return Method::kPolicy;
  REGAL_FAIL(what, ": method '", text, "' is unknown, expected random, entropy, bald or ralis");
}

std::string to_string(Method method) {
  switch (method) {
    case Method::kRandom: return "random";
    case Method::kEntropy: return "entropy";
    case Method::kBald: return "bald";
    case Method::kPolicy: return "ralis";
  }
  return "unknown";
}

std::vector<int64_t> to_picks(const at::Tensor& picks) {
  const auto cpu = picks.to(torch::kCPU, torch::kInt64).contiguous();
  return std::vector<int64_t>(cpu.data_ptr<int64_t>(), cpu.data_ptr<int64_t>() + cpu.numel());
}

std::vector<int64_t> pick_random(const CandidateSet& candidates, std::mt19937_64& rng) {
  return to_picks(al::random_pick_per_group(candidates.groups, candidates.per_group, rng));
}

at::Tensor entropy_scores(const CandidateSet& candidates) {
  REGAL_CHECK(candidates.features.size() == candidates.groups * candidates.per_group,
              "entropy acquisition needs the region features of the candidates");
  return candidates.features.mean_entropy;  // [K*N]
}

std::vector<int64_t> pick_entropy(const CandidateSet& candidates) {
  return to_picks(al::pick_per_group(entropy_scores(candidates), candidates.groups));
}

at::Tensor bald_scores(const CandidateSet& candidates, nn::Fpn& net, const data::SampleStore& store,
                       c10::Device device, int passes, int batch_size) {
  REGAL_CHECK(passes >= 1, "BALD needs at least one MC-dropout pass, got ", passes);
  torch::NoGradGuard no_grad;
  McDropoutScope mc_dropout(net);
  auto scores = torch::zeros({static_cast<int64_t>(candidates.regions.size())}, torch::kFloat32);  // [K*N]
  for (const auto& batch : batches_by_image(candidates, batch_size)) {
    const auto input = stack_images(store, batch.images, device);  // [B, 3, H, W]
    al::BaldAccumulator accumulator;
    // The dropout sits just before the classifier, so the passes differ only
    // in the head: the backbone and pyramid run once per batch.
    const auto features = net->features(input);  // [B, F, H/4, W/4]
    for (int t = 0; t < passes; ++t) {
      accumulator.add(net->head(features, input.size(2), input.size(3)));  // [B, C, H, W] each
    }
    const auto means = al::region_means(accumulator.maps().bald, al::regions_to_tensor(batch.regions).to(input.device()),
                                        candidates.region_size);  // [R]
    scores.index_put_({torch::tensor(batch.rows, torch::kInt64)}, means.to(torch::kCPU, torch::kFloat32));
  }
  return scores;
}

std::vector<int64_t> pick_bald(const CandidateSet& candidates, nn::Fpn& net, const data::SampleStore& store,
                               c10::Device device, int passes, int batch_size) {
  return to_picks(
      al::pick_per_group(bald_scores(candidates, net, store, device, passes, batch_size), candidates.groups));
}

at::Tensor policy_scores(rl::DqnTrainer& dqn, const at::Tensor& state, const CandidateSet& candidates) {
  REGAL_CHECK(candidates.actions.defined(), "policy acquisition needs the action features of the candidates");
  return dqn.policy_q(state.to(dqn.device()), candidates.actions.to(dqn.device())).to(torch::kCPU);  // [K, N]
}

std::vector<int64_t> pick_policy(rl::DqnTrainer& dqn, const at::Tensor& state, const CandidateSet& candidates) {
  return to_picks(al::pick_per_group(policy_scores(dqn, state, candidates), candidates.groups));
}

GroupPicks pick_regions(Method method, CandidateSet& candidates, const at::Tensor& labelled_fractions,
                        const AcquisitionContext& context, std::mt19937_64& rng) {
  REGAL_CHECK(context.pool_images != nullptr, "acquisition: no images to pick regions of");
  REGAL_CHECK(method == Method::kRandom || !context.net.is_empty(), "acquisition: no segmentation net");
  nn::Fpn net = context.net;  // a handle to the same module
  GroupPicks picks;
  if (method == Method::kRandom) {
    picks.index = pick_random(candidates, rng);
    picks.score.assign(picks.index.size(), std::nan(""));
    return picks;
  }
  // The scores every candidate is ranked by within its group: the same
  // functions pick_entropy, pick_bald and pick_policy rank by.
  at::Tensor scores;  // [K * N] or [K, N]
  switch (method) {
    case Method::kEntropy:
      compute_region_features(candidates, net, *context.pool_images, context.device, context.eval_batch_size);
      scores = entropy_scores(candidates);
      break;
    case Method::kBald:
      scores = bald_scores(candidates, net, *context.pool_images, context.device, context.bald_passes,
                           context.eval_batch_size);
      break;
    case Method::kPolicy: {
      REGAL_CHECK(context.policy != nullptr && (context.state_set != nullptr || context.state.defined()),
                  "acquisition with the policy needs the query network and the state set");
      compute_region_features(candidates, net, *context.pool_images, context.device, context.eval_batch_size);
      compute_action_features(candidates, labelled_fractions);
      const auto state = context.state.defined()
                             ? context.state
                             : compute_state(net, *context.state_set, context.region, context.device,
                                             context.eval_batch_size);  // [M, Fs]
      scores = policy_scores(*context.policy, state, candidates);
      break;
    }
    case Method::kRandom:
      break;
  }
  const auto index = al::pick_per_group(scores, candidates.groups).to(torch::kCPU, torch::kInt64);  // [K]
  picks.index = to_picks(index);
  const auto table = scores.to(torch::kCPU, torch::kDouble).reshape({candidates.groups, candidates.per_group});  // [K, N]
  const auto won = table.gather(1, index.unsqueeze(1)).reshape({-1}).contiguous();  // [K]
  picks.score.assign(won.data_ptr<double>(), won.data_ptr<double>() + won.numel());
  return picks;
}

std::string score_name(Method method) {
  switch (method) {
    case Method::kRandom: return "";
    case Method::kEntropy: return "mean_entropy";
    case Method::kBald: return "bald";
    case Method::kPolicy: return "q";
  }
  return "";
}

}  // namespace regal::loop
