#include "regal/al/kl_histogram.h"

#include <torch/torch.h>

#include <algorithm>

#include "regal/core/error.h"

namespace regal::al {
namespace {

// Rows of `a` per block in kl_histogram_features: keeps each [block, L]
// float64 distance matrix (and its few temporaries) near 16 MiB.
constexpr int64_t kBlockElements = int64_t{1} << 21;

// "All equal" up to float64 rounding of d (a few ulps of values of order 1-10).
constexpr double kEqualSpread = 1e-12;

}  // namespace

at::Tensor labelled_fractions(const at::Tensor& ground_truth, int64_t num_classes) {
  REGAL_CHECK(num_classes >= 1 && num_classes < kIgnoreLabel, "num_classes ", num_classes, " outside [1, ",
              kIgnoreLabel, ")");
  REGAL_CHECK(ground_truth.defined() && ground_truth.dim() == 3 && !ground_truth.is_floating_point() &&
                  ground_truth.scalar_type() != torch::kBool,
              "labelled ground truth: expected an integer tensor [L, rh, rw] but got ",
              ground_truth.defined() ? ground_truth.sizes() : at::IntArrayRef{});
  const int64_t count = ground_truth.size(0);
  const int64_t pixels = ground_truth.size(1) * ground_truth.size(2);
  REGAL_CHECK(pixels > 0, "labelled ground truth: empty regions ", ground_truth.sizes());
  const auto labels = ground_truth.to(torch::kLong).reshape({count, pixels});  // [L, rh*rw]
  const auto ignore = labels == kIgnoreLabel;                                   // [L, rh*rw]
  const auto valid = ((labels >= 0) & (labels < num_classes)) | ignore;
  if (!valid.all().item<bool>()) {
    const auto bad = labels.masked_select(valid.logical_not())[0].item<int64_t>();
    REGAL_FAIL("labelled ground truth: label ", bad, " is neither a class in [0, ", num_classes, ") nor IGNORE (",
               kIgnoreLabel, ")");
  }
  const auto bins = labels.masked_fill(ignore, num_classes);  // [L, rh*rw], IGNORE -> bin C
  const auto counts = torch::zeros({count, num_classes + 1}, labels.options())
                          .scatter_add_(1, bins, torch::ones_like(bins));  // [L, C+1]
  return counts.to(torch::kDouble).div_(static_cast<double>(pixels)).masked_fill_(counts == 0, 1e-7);
}

at::Tensor kl_distances(const at::Tensor& a, const at::Tensor& b) {
  REGAL_CHECK(a.defined() && b.defined() && a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(1) &&
                  a.is_floating_point() && b.is_floating_point(),
              "kl_distances: expected floating [R, F] and [L, F] but got ",
              a.defined() ? a.sizes() : at::IntArrayRef{}, " and ", b.defined() ? b.sizes() : at::IntArrayRef{});
  auto pa = a.to(torch::kDouble);                      // [R, F]
  auto pb = b.to(pa.device(), torch::kDouble);         // [L, F]
  REGAL_CHECK((pa > 0).all().item<bool>() && (pb > 0).all().item<bool>(),
              "kl_distances: histograms must be positive (the features add 1e-7 to every bin)");
  pa = pa / pa.sum(1, true);
  pb = pb / pb.sum(1, true);
  // KL(a_i || b_j) = sum_c a_ic log a_ic - sum_c a_ic log b_jc, all pairs in one matmul.
  const auto neg_entropy = (pa * pa.log()).sum(1, true);  // [R, 1]
  return neg_entropy - pa.matmul(pb.log().t());           // [R, L]
}

at::Tensor kl_histogram(const at::Tensor& distances) {
  REGAL_CHECK(distances.defined() && distances.dim() == 2 && distances.is_floating_point(),
              "kl_histogram: expected floating distances [R, L] but got ",
              distances.defined() ? distances.sizes() : at::IntArrayRef{});
  const int64_t rows = distances.size(0);
  const int64_t count = distances.size(1);
  auto out = torch::zeros({rows, kKlBins}, distances.options().dtype(torch::kFloat));  // [R, 32]
  if (rows == 0 || count == 0) return out;  // no labelled region yet: 32 zeros

  const auto d = distances.to(torch::kDouble);  // [R, L]
  const auto lo = d.amin(1, true);              // [R, 1]
  const auto hi = d.amax(1, true);              // [R, 1]
  const auto spread = hi - lo;                  // [R, 1]
  const auto equal = spread <= (hi.abs() + 1.0) * kEqualSpread;  // [R, 1]
  // Equal rows divide by 1 instead of ~0 and are then overwritten with bin 16.
  const auto bins = ((d - lo) / spread.masked_fill(equal, 1.0) * static_cast<double>(kKlBins))
                        .floor_()
                        .clamp_(0, kKlBins - 1)
                        .to(torch::kLong)
                        .masked_fill_(equal, kKlEqualBin);  // [R, L]
  out.scatter_add_(1, bins, torch::ones({rows, count}, out.options()));
  return out.div_(static_cast<double>(count));
}

at::Tensor kl_histogram_features(const at::Tensor& a, const at::Tensor& b) {
  REGAL_CHECK(a.defined() && b.defined() && a.dim() == 2 && b.dim() == 2,
              "kl_histogram_features: expected [R, F] and [L, F]");
  const int64_t rows = a.size(0);
  const int64_t block = std::max<int64_t>(1, kBlockElements / std::max<int64_t>(1, b.size(0)));
  if (rows <= block) return kl_histogram(kl_distances(a, b));
  std::vector<at::Tensor> parts;
  for (int64_t start = 0; start < rows; start += block) {
    parts.push_back(kl_histogram(kl_distances(a.slice(0, start, std::min(rows, start + block)), b)));
  }
  return torch::cat(parts);  // [R, 32]
}

}  // namespace regal::al
