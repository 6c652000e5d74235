#pragma once
// Acquisition functions (ALGORITHM.md section 9): each picks one candidate
// per group of the same CandidateSet. random: uniform; entropy: highest mean
// pixel entropy; bald: highest mean mutual information under MC dropout;
// policy: the query network's greedy argmax of Q.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "regal/al/region_grid.h"
#include "regal/data/sample_store.h"
#include "regal/loop/candidates.h"
#include "regal/nn/fpn.h"
#include "regal/rl/dqn.h"

namespace regal::loop {

enum class Method { kRandom, kEntropy, kBald, kPolicy };

// requires: "random", "entropy", "bald", or "ralis"/"policy".
// throws: regal::Error naming `what` and the text otherwise.
Method parse_method(const std::string& text, const std::string& what);
std::string to_string(Method method);  // "random", "entropy", "bald", "ralis"

// A uniform random index per group. ensures: K indices in [0, N).
std::vector<int64_t> pick_random(const CandidateSet& candidates, std::mt19937_64& rng);

// The score entropy acquisition ranks by: each candidate's mean pixel entropy.
// requires: candidates.features computed. ensures: [K * N], candidate order.
// throws: regal::Error otherwise.
at::Tensor entropy_scores(const CandidateSet& candidates);

// The candidate with the highest mean pixel entropy per group (first on ties).
// requires: candidates.features computed. throws: regal::Error otherwise.
std::vector<int64_t> pick_entropy(const CandidateSet& candidates);

// BALD score of every candidate, in candidate order: the region mean of
// H[mean_t p_t] - mean_t H[p_t] over `passes` MC-dropout passes (dropout
// sampling, BatchNorm in eval) of each drawn image. MC dropout is switched
// off again on return, exceptions included.
// requires: passes >= 1; net built with dropout > 0.
// ensures: [K * N] float32 on the CPU. throws: regal::Error.
at::Tensor bald_scores(const CandidateSet& candidates, nn::Fpn& net, const data::SampleStore& store,
                       c10::Device device, int passes, int batch_size);
std::vector<int64_t> pick_bald(const CandidateSet& candidates, nn::Fpn& net, const data::SampleStore& store,
                               c10::Device device, int passes, int batch_size);

// The score the policy ranks by: Q(state, A_k)[n] of the query network.
// requires: state [M, Fs]; candidates.actions computed.
// ensures: [K, N] float32 on the CPU. throws: regal::Error otherwise.
at::Tensor policy_scores(rl::DqnTrainer& dqn, const at::Tensor& state, const CandidateSet& candidates);

// Greedy pick of the query network: argmax_n Q(state, A_k)[n] per group.
// requires: state [M, Fs]; candidates.actions computed.
std::vector<int64_t> pick_policy(rl::DqnTrainer& dqn, const at::Tensor& state, const CandidateSet& candidates);

// What a method needs besides the candidates: the net, the images the
// candidates come from, and for the policy the state set and query network.
struct AcquisitionContext {
  nn::Fpn net{nullptr};
  const data::SampleStore* pool_images = nullptr;
  const data::SampleStore* state_set = nullptr;  // policy only
  rl::DqnTrainer* policy = nullptr;              // policy only
  // Policy only, optional: the state of state_set [M, Fs] computed once by a
  // caller whose net does not change between steps (select); undefined, it
  // is computed at every pick, as evaluation needs after each training step.
  at::Tensor state;
  c10::Device device = c10::kCPU;
  al::RegionSize region{128, 128};
  int bald_passes = 20;
  int eval_batch_size = 8;
};

// The picks of one step: an index per group, and the score that won it (Q
// for the policy, mean pixel entropy, BALD score; NaN for random).
struct GroupPicks {
  std::vector<int64_t> index;  // [K]
  std::vector<double> score;   // [K]
};

// One pick per group with `method`, computing the features it needs (region
// features; for the policy also the action features against
// `labelled_fractions` [L, C+1] and the state of the state set). The picks
// are those of pick_random / pick_entropy / pick_bald / pick_policy.
// requires: the context fields the method uses. throws: regal::Error.
GroupPicks pick_regions(Method method, CandidateSet& candidates, const at::Tensor& labelled_fractions,
                        const AcquisitionContext& context, std::mt19937_64& rng);

// What pick_regions' scores are for `method`: "q", "mean_entropy", "bald" or
// "" (random).
std::string score_name(Method method);

// Converts a [K] int64 tensor of picks to a vector.
std::vector<int64_t> to_picks(const at::Tensor& picks);

}  // namespace regal::loop
