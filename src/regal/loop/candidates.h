#pragma once
// The candidates of one labelling step (ALGORITHM.md section 3) and the
// network passes that describe them: region features from one eval pass per
// drawn image, the action vectors of the query network, and the state matrix
// of the state set D_S.
#include <cstdint>
#include <random>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "regal/al/region_features.h"
#include "regal/data/sample_store.h"
#include "regal/loop/region_pool.h"
#include "regal/nn/fpn.h"

namespace regal::loop {

struct CandidateSet {
  int64_t groups = 0;     // K
  int64_t per_group = 0;  // N
  al::RegionSize region_size;
  // K * N regions in group order: entry n of group g is regions[g * N + n];
  // Region::image indexes the pool's images.
  std::vector<al::Region> regions;
  al::RegionFeatures features;  // K * N rows when computed (compute_region_features)
  at::Tensor actions;           // [K, N, F] when computed (compute_action_features)

  // requires: 0 <= group < K, 0 <= pick < N.
  const al::Region& at(int64_t group, int64_t pick) const;
  // ensures: [K * N, 3] int64 (image, x, y) on the CPU.
  at::Tensor regions_tensor() const;
  // The distinct images of the candidates, ascending.
  std::vector<int64_t> images() const;
};

// A batch of the candidates' images with the candidate regions inside them.
struct CandidateImageBatch {
  std::vector<int64_t> images;      // pool image indices, ascending
  std::vector<al::Region> regions;  // Region::image indexes `images`
  std::vector<int64_t> rows;        // candidate index of each region
};

// The candidates' distinct images cut into batches of `batch_size` (>= 1
// enforced), so that one forward pass serves every candidate of a batch.
std::vector<CandidateImageBatch> batches_by_image(const CandidateSet& candidates, int batch_size);

// Steps 1-2 of section 3 (sample_candidate_regions with K * N), then one
// random permutation that cuts them into K groups of N. No network pass.
// requires: groups, per_group >= 1. throws: regal::Error (too few regions).
CandidateSet draw_candidates(const RegionPool& pool, int64_t groups, int64_t per_group, std::mt19937_64& rng);

// Images `indices` of `store` stacked: [B, 3, H, W] on `device`.
// throws: regal::Error when their sizes differ.
at::Tensor stack_images(const data::SampleStore& store, const std::vector<int64_t>& indices, c10::Device device);

// Fills candidates.features: one eval pass (no grad) over each drawn image,
// `batch_size` images at a time. requires: candidates' images index `store`.
void compute_region_features(CandidateSet& candidates, nn::Fpn& net, const data::SampleStore& store,
                             c10::Device device, int batch_size);

// Fills candidates.actions [K, N, (C+1)+192+64] (float32, CPU) from the
// features and the ground-truth class fractions of the regions labelled so
// far (al::labelled_fractions, [L, C+1], L may be 0).
// requires: compute_region_features done.
void compute_action_features(CandidateSet& candidates, const at::Tensor& labelled_fractions);

// The state matrix of D_S: [|D_S| * regions per image, (C+1)+192] float32 on
// the CPU, from one eval pass over every image of `state_set`.
at::Tensor compute_state(nn::Fpn& net, const data::SampleStore& state_set, al::RegionSize region,
                         c10::Device device, int batch_size);

// Ground-truth class fractions (al::labelled_fractions) of `regions` of
// `store`'s images: [L, C+1] float64 on the CPU; [0, C+1] for no region.
at::Tensor region_fractions(const data::SampleStore& store, const std::vector<al::Region>& regions,
                            al::RegionSize region, int64_t num_classes);

}  // namespace regal::loop
