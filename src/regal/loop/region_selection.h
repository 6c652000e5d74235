#pragma once
// Choosing regions of unlabelled images for a person to annotate: one round
// of active learning outside the simulation. The same acquisition as
// `regal evaluate` (ALGORITHM.md sections 3 and 9: K groups of N candidates,
// one pick per group), step after step until the requested number of regions
// is chosen; regions chosen in an earlier step, or excluded by the caller
// (chosen in an earlier round), are never candidates again. The net is not
// retrained between steps (the annotations do not exist yet), so the policy
// sees every step with no labelled region: the state of the first step of
// an episode, which is how a policy is applied to a fresh pool.
#include <cstdint>
#include <random>
#include <vector>

#include <c10/core/Device.h>
#include <torch/arg.h>

#include "regal/al/region_grid.h"
#include "regal/data/sample_store.h"
#include "regal/loop/acquisition.h"

namespace regal::loop {

struct SelectionOptions {
  TORCH_ARG(Method, method) = Method::kPolicy;
  TORCH_ARG(int64_t, regions) = 256;    // how many regions to choose
  TORCH_ARG(int64_t, groups) = 256;     // K: regions per step
  TORCH_ARG(int64_t, per_group) = 100;  // N: candidates per group
  TORCH_ARG(uint64_t, seed) = 0;
};

struct SelectedRegion {
  al::Region region;  // image index into the selection's images, x, y
  int64_t step = 0;   // the step that chose it (0-based)
  double score = 0.0;  // what won its group (score_name(method)); NaN for random
};

// Chooses options.regions() regions of context.pool_images, excluding
// `excluded` (regions on its grid), in steps of min(K, regions left).
// requires: context as pick_regions needs for the method; regions >= 1.
// ensures: distinct regions, none excluded, in the order chosen.
// throws: regal::Error when fewer regions than asked are left to choose from.
std::vector<SelectedRegion> select_regions(const AcquisitionContext& context, const SelectionOptions& options,
                                           const std::vector<al::Region>& excluded = {});

}  // namespace regal::loop
