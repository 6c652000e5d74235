#pragma once
// IoU, mIoU and weighted IoU from a confusion matrix, and the class weights
// w_c = 1 / ln(1.02 + f_c) from class pixel frequencies (ALGORITHM.md §8).
// All results are float64: the reward is a difference of two wIoUs, and the
// confusion counts can exceed float32's exact integer range.
#include <torch/types.h>  // torch::Tensor

#include <cstdint>
#include <vector>

namespace regal::metrics {

struct IouScores {
  torch::Tensor iou;  // [C] float64, NaN for a class absent from both GT and prediction
  double miou = 0.0;  // mean over the non-NaN classes; 0 when there are none
  double wiou = 0.0;  // weighted mean over the non-NaN classes; 0 when there are none
};

// requires: confusion [C, C] (rows GT, columns prediction), non-negative counts.
// ensures: [C] float64 on confusion's device, TP / (TP + FP + FN), NaN where that is 0 / 0.
// throws: regal::Error when confusion is not square 2-D.
torch::Tensor per_class_iou(const torch::Tensor& confusion);

// requires: iou [C]. ensures: mean of the non-NaN entries, 0 when all are NaN.
double mean_iou(const torch::Tensor& iou);

// requires: iou [C] and weights [C].
// ensures: sum w_c IoU_c / sum w_c over the non-NaN IoUs, 0 when all are NaN.
// throws: regal::Error when the sizes differ.
double weighted_iou(const torch::Tensor& iou, const torch::Tensor& weights);

// requires: confusion [C, C], weights [C].
// ensures: per_class_iou, mean_iou and weighted_iou together.
IouScores iou_scores(const torch::Tensor& confusion, const torch::Tensor& weights);

// requires: frequencies [C] in [0, 1].
// ensures: [C] float64, 1 / ln(1.02 + f_c) (about 50.5 for f = 0, 1.42 for f = 1).
// throws: regal::Error for a frequency outside [0, 1] or NaN.
torch::Tensor class_weights(const torch::Tensor& frequencies);

// requires: label_maps of any shape, integer dtype, values in {0..C-1, 255}.
// ensures: [C] int64 pixel count per class (255 skipped), on the maps' device.
// throws: regal::Error naming an out-of-range label.
torch::Tensor class_pixel_counts(const torch::Tensor& label_maps, int64_t num_classes);

// The same over maps of different sizes, summed (e.g. every labelled image).
// throws: regal::Error when the list is empty or as above.
torch::Tensor class_pixel_counts(const std::vector<torch::Tensor>& label_maps, int64_t num_classes);

// requires: counts [C] non-negative with a positive sum.
// ensures: [C] float64, f_c = count_c / sum of counts (IGNORE is not counted).
// throws: regal::Error when there is no labelled pixel at all.
torch::Tensor class_frequencies(const torch::Tensor& counts);

}  // namespace regal::metrics
