#pragma once
// The two "similarity" features of ALGORITHM.md section 4: for each candidate,
// the histogram of its KL distances to the regions labelled so far
// (KL-to-labelled) and to all candidates of the step (KL-to-pool).
//
// The distances are computed in float64 whatever the features' dtype:
// d = sum a log a - a . log b is a difference of two sums of the size of the
// entropy, so in float32 a distance that should be 0 (a candidate against
// itself) comes out near 5e-7, half the golden atol of 1e-6 (float64: < 0.1%
// of the tolerance), and rows of identical histograms get distances that
// differ by float32 noise instead of being equal (the bin-16 case). The inner
// dimension is C+1, so float64 costs nothing next to the forward pass.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace regal::al {

inline constexpr int64_t kKlBins = 32;
// When every distance of a row is equal, the whole mass goes to this bin: the
// midpoint of numpy's [d-0.5, d+0.5] range (coded explicitly, see README).
inline constexpr int64_t kKlEqualBin = 16;
// Ground-truth label of pixels without a class; counted in bin C.
inline constexpr int64_t kIgnoreLabel = 255;

// Ground-truth class fractions of labelled regions over C+1 bins (IGNORE in
// bin C): count_c / (rh * rw) where the count is non-zero, else 1e-7.
// requires: ground_truth [L, rh, rw] integer with values in [0, C) or 255 (L may be 0).
// ensures: [L, C+1] float64 on the input's device. throws: regal::Error otherwise.
at::Tensor labelled_fractions(const at::Tensor& ground_truth, int64_t num_classes);

// All pairwise KL(a_i || b_j) after normalising every row to sum 1.
// requires: a [R, F], b [L, F] floating and positive. ensures: [R, L] float64.
// throws: regal::Error on mismatched shapes.
at::Tensor kl_distances(const at::Tensor& a, const at::Tensor& b);

// Row-wise histogram of distances: 32 equal bins over [min, max] of the row,
// bin = min(31, floor((d - min) / (max - min) * 32)), divided by the row length;
// a row whose values are all equal (spread <= 1e-12 (1 + |max|), i.e. up to
// float64 rounding) is one-hot at bin 16. requires: distances [R, L] floating.
// ensures: [R, 32] float32; all zeros when L == 0.
at::Tensor kl_histogram(const at::Tensor& distances);

// kl_histogram(kl_distances(a, b)), computed in blocks of rows so that memory
// stays O(block * L) even for a pool of tens of thousands of candidates.
// requires/throws: as kl_distances. ensures: [R, 32] float32; zeros when L == 0.
at::Tensor kl_histogram_features(const at::Tensor& a, const at::Tensor& b);

}  // namespace regal::al
