#include "regal/al/region_features.h"

#include <torch/torch.h>

#include "regal/core/error.h"

namespace regal::al {
namespace {

void check_logits(const at::Tensor& logits) {
  REGAL_CHECK(logits.defined() && logits.dim() == 4 && logits.size(1) >= 1 && logits.is_floating_point(),
              "logits: expected a floating tensor [B, C, H, W] with C >= 1 but got ",
              logits.defined() ? logits.sizes() : at::IntArrayRef{}, " ",
              logits.defined() ? logits.scalar_type() : at::ScalarType::Undefined);
}

void check_maps(const PixelMaps& maps) {
  REGAL_CHECK(maps.pred.defined() && maps.entropy.defined() && maps.pred.dim() == 3 &&
                  maps.pred.sizes() == maps.entropy.sizes() && maps.num_classes >= 1,
              "pixel maps: expected pred and entropy [B, H, W] of one shape and num_classes >= 1");
}

}  // namespace

at::Tensor pixel_entropy(const at::Tensor& logits) {
  check_logits(logits);
  // float32 is enough for the features (see the golden README); float64 stays float64.
  const auto x = logits.scalar_type() == torch::kDouble ? logits : logits.to(torch::kFloat);
  const auto log_p = torch::log_softmax(x, 1);  // [B, C, H, W]
  return -(log_p.exp() * log_p).sum(1);         // [B, H, W]
}

PixelMaps pixel_maps(const at::Tensor& logits) {
  check_logits(logits);
  // argmax of the logits: softmax is monotone, and the logits keep the full gap
  // between the top two classes that a rounded softmax could shrink.
  return {logits.argmax(1), pixel_entropy(logits), logits.size(1)};  // [B, H, W] each
}

RegionFeatures RegionFeatures::select(const at::Tensor& rows) const {
  const auto index = rows.to(hist.device(), torch::kLong);  // [R']
  return {hist.index_select(0, index), ent_min.index_select(0, index), ent_mean.index_select(0, index),
          ent_max.index_select(0, index), mean_entropy.index_select(0, index)};
}

at::Tensor RegionFeatures::state_columns() const {
  return torch::cat({hist, ent_min, ent_mean, ent_max}, 1);  // [R, (C+1) + 192]
}

RegionFeatures grid_region_features(const PixelMaps& maps, RegionSize region) {
  check_maps(maps);
  check_region_size(region);
  const RegionGrid grid(maps.pred.size(1), maps.pred.size(2), region);
  const int64_t classes = maps.num_classes;
  const int64_t rows = maps.pred.size(0) * grid.regions_per_image();
  const int64_t pixels = region.height * region.width;

  // Class counts of all regions in one bincount: region r's pixel of class c
  // lands in bin r * (C+1) + c. Bin C of every region stays 0.
  const auto pred_regions = grid.split(maps.pred).view({rows, pixels});  // [B*R, rh*rw]
  const auto offsets = torch::arange(rows, maps.pred.options().dtype(torch::kLong)).mul_(classes + 1).unsqueeze(1);
  const auto counts = torch::bincount((pred_regions + offsets).view(-1), {}, rows * (classes + 1))
                          .view({rows, classes + 1});  // [B*R, C+1] int64

  RegionFeatures out;
  out.hist = counts.to(maps.entropy.scalar_type()).add_(kHistogramEpsilon);  // [B*R, C+1]

  // 8 x 8 cells of floor(rh/8) x floor(rw/8) pixels anchored at the top left:
  // crop the leftovers first, so that pooling with kernel = stride = cell makes
  // exactly 8 cells per side (pooling the whole region would make more when
  // rh mod 8 >= rh div 8).
  const auto entropy_regions = grid.split(maps.entropy);  // [B*R, rh, rw]
  const int64_t cell_h = region.height / kEntropyGridSide;
  const int64_t cell_w = region.width / kEntropyGridSide;
  const auto cells = entropy_regions.slice(1, 0, kEntropyGridSide * cell_h)
                         .slice(2, 0, kEntropyGridSide * cell_w)
                         .unsqueeze(1);  // [B*R, 1, 8*ch, 8*cw]
  const std::vector<int64_t> kernel{cell_h, cell_w};
  out.ent_max = torch::max_pool2d(cells, kernel, kernel).reshape({rows, kEntropyCells});     // [B*R, 64]
  out.ent_min = torch::max_pool2d(-cells, kernel, kernel).neg().reshape({rows, kEntropyCells});  // [B*R, 64]
  out.ent_mean = torch::avg_pool2d(cells, kernel, kernel).reshape({rows, kEntropyCells});    // [B*R, 64]
  out.mean_entropy = entropy_regions.mean({1, 2});                                            // [B*R]
  return out;
}

RegionFeatures region_features(const PixelMaps& maps, const at::Tensor& regions, RegionSize region) {
  check_maps(maps);
  check_region_size(region);
  const RegionGrid grid(maps.pred.size(1), maps.pred.size(2), region);
  // Validate the regions before the (larger) whole-grid computation.
  const auto rows = grid.state_rows(regions, maps.pred.size(0));  // [R]
  return grid_region_features(maps, region).select(rows);
}

RegionFeatures concat(const std::vector<RegionFeatures>& parts) {
  REGAL_CHECK(!parts.empty(), "concat: expected at least one set of region features");
  std::vector<at::Tensor> hist, ent_min, ent_mean, ent_max, mean_entropy;
  for (const auto& part : parts) {
    REGAL_CHECK(part.hist.defined() && part.hist.size(1) == parts.front().hist.size(1),
                "concat: every part needs histograms with ", parts.front().hist.size(1), " bins");
    hist.push_back(part.hist);
    ent_min.push_back(part.ent_min);
    ent_mean.push_back(part.ent_mean);
    ent_max.push_back(part.ent_max);
    mean_entropy.push_back(part.mean_entropy);
  }
  return {torch::cat(hist), torch::cat(ent_min), torch::cat(ent_mean), torch::cat(ent_max),
          torch::cat(mean_entropy)};
}

}  // namespace regal::al
