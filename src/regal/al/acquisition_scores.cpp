#include "regal/al/acquisition_scores.h"

#include <torch/torch.h>

#include "regal/core/error.h"

namespace regal::al {
namespace {

// -sum_c p log(p + eps) over the class dimension `dim`.
at::Tensor guarded_entropy(const at::Tensor& p, int64_t dim) {
  return -(p * (p + kBaldLogEpsilon).log()).sum(dim);
}

// Unbiased draw in [0, n): reject the lowest 2^64 mod n outputs so that the
// rest split evenly into n residues.
int64_t uniform_index(std::mt19937_64& rng, uint64_t n) {
  const uint64_t rejected = (uint64_t{0} - n) % n;  // 2^64 mod n
  uint64_t draw = rng();
  while (draw < rejected) draw = rng();
  return static_cast<int64_t>(draw % n);
}

}  // namespace

void BaldAccumulator::add(const at::Tensor& logits) {
  REGAL_CHECK(logits.defined() && logits.dim() == 4 && logits.is_floating_point(),
              "MC-dropout logits: expected a floating tensor [B, C, H, W] but got ",
              logits.defined() ? logits.sizes() : at::IntArrayRef{});
  const auto x = logits.scalar_type() == torch::kDouble ? logits : logits.to(torch::kFloat);
  const auto p = torch::softmax(x, 1);  // [B, C, H, W]
  if (passes_ == 0) {
    probability_sum_ = p.clone();
    entropy_sum_ = guarded_entropy(p, 1);  // [B, H, W]
  } else {
    REGAL_CHECK(p.sizes() == probability_sum_.sizes() && p.scalar_type() == probability_sum_.scalar_type(),
                "MC-dropout pass ", passes_, ": logits ", logits.sizes(), " differ from the first pass ",
                probability_sum_.sizes());
    probability_sum_.add_(p);
    entropy_sum_.add_(guarded_entropy(p, 1));
  }
  ++passes_;
}

BaldMaps BaldAccumulator::maps() const {
  REGAL_CHECK(passes_ >= 1, "BALD needs at least one MC-dropout pass");
  const auto mean_p = probability_sum_ / static_cast<double>(passes_);  // [B, C, H, W]
  BaldMaps out;
  out.entropy_of_mean = guarded_entropy(mean_p, 1);                   // [B, H, W]
  out.mean_entropy = entropy_sum_ / static_cast<double>(passes_);     // [B, H, W]
  out.bald = out.entropy_of_mean - out.mean_entropy;                  // [B, H, W]
  return out;
}

BaldMaps bald_maps(const at::Tensor& mc_logits) {
  REGAL_CHECK(mc_logits.defined() && (mc_logits.dim() == 4 || mc_logits.dim() == 5) && mc_logits.size(0) >= 1,
              "MC-dropout logits: expected [T, B, C, H, W] or [T, C, H, W] with T >= 1 but got ",
              mc_logits.defined() ? mc_logits.sizes() : at::IntArrayRef{});
  const auto passes = mc_logits.dim() == 5 ? mc_logits : mc_logits.unsqueeze(1);  // [T, B, C, H, W]
  BaldAccumulator accumulator;
  for (int64_t t = 0; t < passes.size(0); ++t) accumulator.add(passes[t]);
  return accumulator.maps();
}

at::Tensor region_means(const at::Tensor& maps, const at::Tensor& regions, RegionSize region) {
  REGAL_CHECK(maps.defined() && maps.dim() == 3 && maps.is_floating_point(),
              "region means: expected floating maps [B, H, W] but got ",
              maps.defined() ? maps.sizes() : at::IntArrayRef{});
  const RegionGrid grid(maps.size(1), maps.size(2), region);
  const auto rows = grid.state_rows(regions, maps.size(0));  // [R]
  const std::vector<int64_t> kernel{region.height, region.width};
  // Kernel = stride = region: one mean per grid region, leftovers dropped.
  const auto means = torch::avg_pool2d(maps.unsqueeze(1), kernel, kernel).squeeze(1);  // [B, rows, columns]
  return grid.to_state_order(means).index_select(0, rows.to(maps.device()));           // [R]
}

at::Tensor pick_per_group(const at::Tensor& scores, int64_t groups) {
  REGAL_CHECK(scores.defined() && groups >= 1 && (scores.dim() == 1 || scores.dim() == 2) &&
                  scores.numel() >= groups && scores.numel() % groups == 0 &&
                  (scores.dim() == 1 || scores.size(0) == groups),
              "pick per group: expected scores [", groups, ", N] or [", groups, " * N] but got ",
              scores.defined() ? scores.sizes() : at::IntArrayRef{});
  const auto grouped = scores.reshape({groups, -1});  // [K, N]
  REGAL_CHECK(!grouped.isnan().any().item<bool>(), "pick per group: a score is NaN");
  return grouped.argmax(1).cpu();  // [K]
}

at::Tensor random_pick_per_group(int64_t groups, int64_t per_group, std::mt19937_64& rng) {
  REGAL_CHECK(groups >= 1 && per_group >= 1, "random pick: expected groups >= 1 and per_group >= 1 but got ",
              groups, " and ", per_group);
  auto picks = torch::empty({groups}, torch::kLong);  // [K]
  auto out = picks.accessor<int64_t, 1>();
  for (int64_t g = 0; g < groups; ++g) out[g] = uniform_index(rng, static_cast<uint64_t>(per_group));
  return picks;
}

}  // namespace regal::al
