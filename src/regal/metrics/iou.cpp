#include "regal/metrics/iou.h"

#include <torch/torch.h>

#include <limits>

#include "regal/core/error.h"
#include "regal/metrics/confusion_matrix.h"

namespace regal::metrics {
namespace {

void check_vector(const torch::Tensor& t, const char* what) {
  REGAL_CHECK(t.defined() && t.dim() == 1, what, ": expected a [C] tensor but got ",
              t.defined() ? t.sizes() : torch::IntArrayRef{});
}

}  // namespace

torch::Tensor per_class_iou(const torch::Tensor& confusion) {
  REGAL_CHECK(confusion.defined() && confusion.dim() == 2 && confusion.size(0) == confusion.size(1),
              "per_class_iou: expected a square [C, C] confusion matrix but got ",
              confusion.defined() ? confusion.sizes() : torch::IntArrayRef{});
  // float64 holds counts exactly up to 2^53.
  const torch::Tensor cm = confusion.to(torch::kDouble);  // [C, C]
  const torch::Tensor tp = cm.diagonal();                 // [C]
  // TP + FP + FN = (row sum: all GT c) + (column sum: all predicted c) - TP.
  const torch::Tensor union_ = cm.sum(1) + cm.sum(0) - tp;  // [C]
  const torch::Tensor nan = torch::full_like(tp, std::numeric_limits<double>::quiet_NaN());
  return torch::where(union_ > 0, tp / union_, nan);  // [C]
}

double mean_iou(const torch::Tensor& iou) {
  check_vector(iou, "mean_iou");
  const torch::Tensor present = iou.masked_select(~torch::isnan(iou)).to(torch::kDouble);
  return present.numel() == 0 ? 0.0 : present.mean().item<double>();
}

double weighted_iou(const torch::Tensor& iou, const torch::Tensor& weights) {
  check_vector(iou, "weighted_iou iou");
  check_vector(weights, "weighted_iou weights");
  REGAL_CHECK(iou.size(0) == weights.size(0), "weighted_iou: ", iou.size(0), " IoUs but ",
              weights.size(0), " class weights");
  const torch::Tensor present = ~torch::isnan(iou);  // [C] bool
  const torch::Tensor w = weights.to(iou.device(), torch::kDouble).masked_select(present);  // [P]
  if (w.numel() == 0) {
    return 0.0;  // no class in GT or prediction: ALGORITHM.md §8 scores 0
  }
  const torch::Tensor v = iou.to(torch::kDouble).masked_select(present);  // [P]
  return ((w * v).sum() / w.sum()).item<double>();
}

IouScores iou_scores(const torch::Tensor& confusion, const torch::Tensor& weights) {
  IouScores scores;
  scores.iou = per_class_iou(confusion);
  scores.miou = mean_iou(scores.iou);
  scores.wiou = weighted_iou(scores.iou, weights);
  return scores;
}

torch::Tensor class_weights(const torch::Tensor& frequencies) {
  check_vector(frequencies, "class_weights");
  const torch::Tensor f = frequencies.to(torch::kDouble);  // [C]
  // Written so that NaN fails too.
  REGAL_CHECK(((f >= 0.0) & (f <= 1.0)).all().item<bool>(),
              "class_weights: expected frequencies in [0, 1] but got ", f);
  return 1.0 / torch::log(1.02 + f);  // [C]
}

torch::Tensor class_pixel_counts(const torch::Tensor& label_maps, int64_t num_classes) {
  REGAL_CHECK(num_classes >= 1 && num_classes < kIgnoreLabel,
              "class_pixel_counts: expected num_classes in 1..254 but got ", num_classes);
  check_labels(label_maps, num_classes, /*allow_ignore=*/true, "class_pixel_counts");
  const torch::Tensor flat = label_maps.reshape({-1}).to(torch::kLong);  // [N]
  return torch::bincount(flat.masked_select(flat != kIgnoreLabel), /*weights=*/{},
                         num_classes);  // [C] int64
}

torch::Tensor class_pixel_counts(const std::vector<torch::Tensor>& label_maps,
                                 int64_t num_classes) {
  REGAL_CHECK(!label_maps.empty(), "class_pixel_counts: expected at least one label map");
  torch::Tensor total = class_pixel_counts(label_maps.front(), num_classes);  // [C]
  for (size_t i = 1; i < label_maps.size(); ++i) {
    total += class_pixel_counts(label_maps[i], num_classes).to(total.device());
  }
  return total;
}

torch::Tensor class_frequencies(const torch::Tensor& counts) {
  check_vector(counts, "class_frequencies");
  const torch::Tensor c = counts.to(torch::kDouble);  // [C]
  REGAL_CHECK((c >= 0).all().item<bool>(), "class_frequencies: negative count in ", counts);
  const double total = c.sum().item<double>();
  REGAL_CHECK(total > 0.0,
              "class_frequencies: no labelled pixel (every count is 0), frequencies are undefined");
  return c / total;  // [C]
}

}  // namespace regal::metrics
