#pragma once
// The two inputs of the query network (ALGORITHM.md section 4): the action
// vectors of the candidates of one step, grouped [K, N, F], and the state
// matrix of the state set D_S.
#include <ATen/core/Tensor.h>

#include <cstdint>

#include "regal/al/kl_histogram.h"
#include "regal/al/region_features.h"

namespace regal::al {

// Columns of a state row: [hist (C+1), min (64), mean (64), max (64)].
inline constexpr int64_t state_feature_count(int64_t num_classes) {
  return (num_classes + 1) + 3 * kEntropyCells;
}
// Columns of an action vector: the state columns, then KL-to-labelled (32)
// and KL-to-pool (32), the "similarity" part.
inline constexpr int64_t action_feature_count(int64_t num_classes) {
  return state_feature_count(num_classes) + 2 * kKlBins;
}

// Action vectors [hist, min, mean, max, KL-to-labelled, KL-to-pool] of the
// K*N candidates of a step, already in group order: candidate g*N+n is entry
// n of group g (the caller shuffles before computing, section 3; KL-to-pool
// does not depend on the order).
// requires: candidates.size() == groups * N, N >= 1; labelled [L, C+1]
// (labelled_fractions; L may be 0). ensures: [K, N, (C+1)+192+64] in the
// candidates' dtype and device. throws: regal::Error on mismatched sizes.
at::Tensor action_features(const RegionFeatures& candidates, const at::Tensor& labelled, int64_t groups);

// State matrix of a state set: [hist, min, mean, max] of every region of
// every image, image order then x-major region order.
// requires: maps of the D_S images (pixel_maps); region sides >= 8.
// ensures: [B * regions_per_image, (C+1)+192]. throws: regal::Error.
at::Tensor state_matrix(const PixelMaps& maps, RegionSize region);

}  // namespace regal::al
