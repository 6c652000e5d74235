#include "regal/al/action_features.h"

#include <torch/torch.h>

#include "regal/core/error.h"

namespace regal::al {

at::Tensor action_features(const RegionFeatures& candidates, const at::Tensor& labelled, int64_t groups) {
  const int64_t total = candidates.size();
  REGAL_CHECK(groups >= 1 && total >= groups && total % groups == 0, "action features: ", total,
              " candidates cannot be cut into ", groups, " groups of equal size >= 1");
  const int64_t bins = candidates.hist.size(1);
  REGAL_CHECK(labelled.defined() && labelled.dim() == 2 && labelled.size(1) == bins,
              "action features: labelled fractions must be [L, ", bins, "] (C+1 bins) but got ",
              labelled.defined() ? labelled.sizes() : at::IntArrayRef{});
  const auto dtype = candidates.hist.scalar_type();
  const auto to_labelled = kl_histogram_features(candidates.hist, labelled).to(dtype);    // [K*N, 32]
  const auto to_pool = kl_histogram_features(candidates.hist, candidates.hist).to(dtype);  // [K*N, 32]
  return torch::cat({candidates.state_columns(), to_labelled, to_pool}, 1)
      .view({groups, total / groups, -1});  // [K, N, (C+1)+192+64]
}

at::Tensor state_matrix(const PixelMaps& maps, RegionSize region) {
  return grid_region_features(maps, region).state_columns();  // [B*R, (C+1)+192]
}

}  // namespace regal::al
