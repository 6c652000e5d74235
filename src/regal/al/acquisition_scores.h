#pragma once
// Region scores and per-group picks of the baselines (ALGORITHM.md section 9):
// random, entropy (highest mean pixel entropy) and BALD (highest mean mutual
// information under MC dropout). The candidates are in group order: candidate
// g*N+n is entry n of group g, and a pick is the index n within its group.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <random>

#include "regal/al/region_grid.h"

namespace regal::al {

// log(p + kBaldLogEpsilon) in the BALD entropies, as the reference does.
inline constexpr double kBaldLogEpsilon = 1e-10;

// Per-pixel BALD terms of a batch of images.
struct BaldMaps {
  at::Tensor entropy_of_mean;  // [B, H, W] H[mean_t p_t]
  at::Tensor mean_entropy;     // [B, H, W] mean_t H[p_t]
  at::Tensor bald;             // [B, H, W] entropy_of_mean - mean_entropy
};

// Sums the T MC-dropout passes one at a time, so that a caller never holds
// all T softmax maps of an image at once (T = 20 passes of 19 x 1024 x 2048
// are 3 GiB). Entropies use log(p + 1e-10), p = softmax(logits).
class BaldAccumulator {
 public:
  // requires: logits [B, C, H, W] floating, the same shape every pass.
  // throws: regal::Error on a shape change or another dtype.
  void add(const at::Tensor& logits);
  int64_t passes() const { return passes_; }
  // requires: at least one pass. ensures: maps [B, H, W] in float32 (float64
  // for float64 logits). throws: regal::Error with no pass.
  BaldMaps maps() const;

 private:
  at::Tensor probability_sum_;  // [B, C, H, W]
  at::Tensor entropy_sum_;      // [B, H, W]
  int64_t passes_ = 0;
};

// requires: mc_logits [T, B, C, H, W] or, for one image, [T, C, H, W]
// (then B = 1); T >= 1. ensures: as BaldAccumulator::maps.
// throws: regal::Error on another shape.
BaldMaps bald_maps(const at::Tensor& mc_logits);

// Mean of a per-pixel score over each region (entropy and BALD baselines).
// requires: maps [B, H, W] floating; regions [R, 3] (image, x, y) on the grid
// of `region` (any side >= 1: the >= 8 rule is for features).
// ensures: [R], the maps' dtype and device. throws: regal::Error off the grid.
at::Tensor region_means(const at::Tensor& maps, const at::Tensor& regions, RegionSize region);

// Index of the highest score within each group (the first one on ties).
// requires: scores [K, N], or [K*N] in group order with groups = K; no NaN.
// ensures: [K] int64 on the CPU, values in [0, N). throws: regal::Error.
at::Tensor pick_per_group(const at::Tensor& scores, int64_t groups);

// A uniform random index per group (the random baseline). The draw is an
// unbiased rejection on rng's 64-bit output, so the picks for a seed are the
// same with every standard library (std::uniform_int_distribution is not).
// requires: groups >= 1, per_group >= 1. ensures: [K] int64 on the CPU, in [0, N).
at::Tensor random_pick_per_group(int64_t groups, int64_t per_group, std::mt19937_64& rng);

}  // namespace regal::al
