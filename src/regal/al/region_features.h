#pragma once
// Per-region features of ALGORITHM.md section 4 that depend on one region
// only: the class histogram of the prediction and the entropy pools. They are
// computed for every grid region of a batch of whole images at once (the
// images' maps are cut into their regions with a view, the pools are pooling
// ops, the histogram one scatter_add), then candidates are gathered by row.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "regal/al/region_grid.h"

namespace regal::al {

// Cells per side of the entropy pools, and pool values per statistic.
inline constexpr int64_t kEntropyGridSide = 8;
inline constexpr int64_t kEntropyCells = kEntropyGridSide * kEntropyGridSide;  // 64
// Added to every histogram bin, so that the KL features never take log(0).
inline constexpr double kHistogramEpsilon = 1e-7;

// Pixel entropy e = -sum_c p_c log p_c with log p from log_softmax (exact at
// p -> 0, where p log p -> 0).
// requires: logits [B, C, H, W] floating (log-probabilities work too:
// log_softmax is idempotent). ensures: [B, H, W], float64 if the logits are
// float64, else float32. throws: regal::Error on another shape or dtype.
at::Tensor pixel_entropy(const at::Tensor& logits);

// What one eval pass over whole images says per pixel.
struct PixelMaps {
  at::Tensor pred;     // [B, H, W] int64, argmax over classes
  at::Tensor entropy;  // [B, H, W] float32 (float64 for float64 logits)
  int64_t num_classes = 0;
};

// requires: logits [B, C, H, W] floating, C >= 1. ensures: pred = argmax of
// the logits (= argmax of the softmax), entropy = pixel_entropy(logits).
// throws: regal::Error on another shape or dtype.
PixelMaps pixel_maps(const at::Tensor& logits);

// Features of R regions, one row per region. Everything is on the device of
// the maps they came from, in the entropy's dtype.
struct RegionFeatures {
  at::Tensor hist;          // [R, C+1] counts of pred == c, hist[C] = 0, + 1e-7 everywhere
  at::Tensor ent_min;       // [R, 64] per cell of the 8 x 8 grid, row-major
  at::Tensor ent_mean;      // [R, 64]
  at::Tensor ent_max;       // [R, 64]
  at::Tensor mean_entropy;  // [R] mean over all rh x rw pixels: the entropy baseline's score

  int64_t size() const { return hist.defined() ? hist.size(0) : 0; }
  // ensures: the rows `rows` ([R'] int64) of every field, in that order.
  RegionFeatures select(const at::Tensor& rows) const;
  // ensures: [R, (C+1) + 192] = [hist, min, mean, max]: a state row per region.
  at::Tensor state_columns() const;
};

// Features of every grid region of every image, in state order (image, then
// x-major). requires: maps from pixel_maps; region sides >= 8 and no larger
// than the image. ensures: B * regions_per_image rows.
// throws: regal::Error (check_region_size, RegionGrid).
RegionFeatures grid_region_features(const PixelMaps& maps, RegionSize region);

// Features of the given regions, in their order. requires: regions [R, 3]
// (image, x, y) on the grid, image < B. ensures: R rows.
// throws: regal::Error on a region off the grid or a bad size.
RegionFeatures region_features(const PixelMaps& maps, const at::Tensor& regions, RegionSize region);

// Rows of several feature sets one after another (e.g. candidates whose images
// went through the net in several batches). requires: the same C, dtype and device.
RegionFeatures concat(const std::vector<RegionFeatures>& parts);

}  // namespace regal::al
