#include "regal/loop/candidates.h"

#include <algorithm>
#include <map>
#include <utility>

#include <torch/torch.h>

#include "regal/al/action_features.h"
#include "regal/al/kl_histogram.h"
#include "regal/core/error.h"

namespace regal::loop {

const al::Region& CandidateSet::at(int64_t group, int64_t pick) const {
  REGAL_CHECK(group >= 0 && group < groups && pick >= 0 && pick < per_group, "candidate (group ", group, ", pick ",
              pick, ") is outside ", groups, " groups of ", per_group);
  return regions[static_cast<size_t>(group * per_group + pick)];
}

at::Tensor CandidateSet::regions_tensor() const { return al::regions_to_tensor(regions); }

std::vector<int64_t> CandidateSet::images() const {
  std::vector<int64_t> out;
  for (const auto& region : regions) out.push_back(region.image);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<CandidateImageBatch> batches_by_image(const CandidateSet& candidates, int batch_size) {
  const auto images = candidates.images();
  const auto step = static_cast<size_t>(std::max(1, batch_size));
  std::vector<CandidateImageBatch> batches;
  std::map<int64_t, std::pair<size_t, int64_t>> where;  // pool image -> (batch, index in it)
  for (size_t i = 0; i < images.size(); ++i) {
    if (i % step == 0) batches.emplace_back();
    batches.back().images.push_back(images[i]);
    where[images[i]] = {batches.size() - 1, static_cast<int64_t>(batches.back().images.size() - 1)};
  }
  for (size_t c = 0; c < candidates.regions.size(); ++c) {
    const auto& region = candidates.regions[c];
    const auto [batch, local] = where.at(region.image);
    batches[batch].regions.push_back({local, region.x, region.y});
    batches[batch].rows.push_back(static_cast<int64_t>(c));
  }
  return batches;
}

CandidateSet draw_candidates(const RegionPool& pool, int64_t groups, int64_t per_group, std::mt19937_64& rng) {
  REGAL_CHECK(groups >= 1 && per_group >= 1, "candidates: K and N must be >= 1, got K = ", groups,
              ", N = ", per_group);
  const auto drawn = sample_candidate_regions(pool, groups * per_group, rng);
  const auto order = random_permutation(groups * per_group, rng);
  CandidateSet candidates;
  candidates.region_size = pool.grid().region_size();
  candidates.groups = groups;
  candidates.per_group = per_group;
  candidates.regions.reserve(drawn.size());
  for (const int64_t index : order) candidates.regions.push_back(drawn[static_cast<size_t>(index)]);
  return candidates;
}

at::Tensor stack_images(const data::SampleStore& store, const std::vector<int64_t>& indices, c10::Device device) {
  std::vector<at::Tensor> images;
  images.reserve(indices.size());
  for (const int64_t index : indices) {
    images.push_back(store.get(static_cast<size_t>(index)).image);
    REGAL_CHECK(images.back().sizes() == images.front().sizes(), "split '", store.dataset().split(), "': image ",
                store.dataset().files(static_cast<size_t>(index)).id, " is ", images.back().sizes(),
                " but image ", store.dataset().files(static_cast<size_t>(indices.front())).id, " is ",
                images.front().sizes(), "; a region pool needs images of one size");
  }
  return torch::stack(images).to(device);  // [B, 3, H, W]
}

void compute_region_features(CandidateSet& candidates, nn::Fpn& net, const data::SampleStore& store,
                             c10::Device device, int batch_size) {
  torch::NoGradGuard no_grad;
  const bool was_training = net->is_training();
  net->eval();
  std::vector<al::RegionFeatures> parts;
  std::vector<int64_t> part_rows;  // candidate index of each row of the concatenated parts
  for (const auto& batch : batches_by_image(candidates, batch_size)) {
    const auto logits = net->forward(stack_images(store, batch.images, device));  // [B, C, H, W]
    const auto maps = al::pixel_maps(logits);
    parts.push_back(al::region_features(maps, al::regions_to_tensor(batch.regions).to(logits.device()),
                                        candidates.region_size));
    part_rows.insert(part_rows.end(), batch.rows.begin(), batch.rows.end());
  }
  net->train(was_training);
  // Rows back into candidate (group) order: row i of the parts is candidate
  // part_rows[i], so the candidate order is the inverse permutation.
  const auto rows = torch::tensor(part_rows, torch::kInt64);  // [K*N]
  const auto inverse = torch::argsort(rows);                  // [K*N]
  const auto all = al::concat(parts);
  candidates.features = all.select(inverse.to(all.hist.device()));
}

void compute_action_features(CandidateSet& candidates, const at::Tensor& labelled_fractions) {
  REGAL_CHECK(candidates.features.size() == candidates.groups * candidates.per_group,
              "action features need the region features of all ", candidates.groups * candidates.per_group,
              " candidates, got ", candidates.features.size());
  const auto device = candidates.features.hist.device();
  candidates.actions = al::action_features(candidates.features, labelled_fractions.to(device), candidates.groups)
                           .to(torch::kCPU, torch::kFloat32);  // [K, N, F]
}

at::Tensor compute_state(nn::Fpn& net, const data::SampleStore& state_set, al::RegionSize region,
                         c10::Device device, int batch_size) {
  torch::NoGradGuard no_grad;
  const bool was_training = net->is_training();
  net->eval();
  std::vector<at::Tensor> parts;
  const auto step = static_cast<int64_t>(std::max(1, batch_size));
  const auto count = static_cast<int64_t>(state_set.size());
  for (int64_t begin = 0; begin < count; begin += step) {
    std::vector<int64_t> batch;
    for (int64_t i = begin; i < std::min(count, begin + step); ++i) batch.push_back(i);
    const auto logits = net->forward(stack_images(state_set, batch, device));  // [B, C, H, W]
    // Image order is kept across batches: rows of batch b follow those of b-1.
    parts.push_back(al::state_matrix(al::pixel_maps(logits), region).to(torch::kCPU, torch::kFloat32));
  }
  net->train(was_training);
  return torch::cat(parts, 0);  // [M, Fs]
}

at::Tensor region_fractions(const data::SampleStore& store, const std::vector<al::Region>& regions,
                            al::RegionSize region, int64_t num_classes) {
  std::vector<at::Tensor> crops;
  crops.reserve(regions.size());
  for (const auto& r : regions) {
    const auto label = store.label(static_cast<size_t>(r.image));  // [H, W]
    crops.push_back(label.slice(0, r.y, r.y + region.height).slice(1, r.x, r.x + region.width));  // [rh, rw]
  }
  const auto stacked = crops.empty() ? torch::zeros({0, region.height, region.width}, torch::kInt64)
                                     : torch::stack(crops);  // [L, rh, rw]
  return al::labelled_fractions(stacked, num_classes).to(torch::kCPU);  // [L, C+1]
}

}  // namespace regal::loop
