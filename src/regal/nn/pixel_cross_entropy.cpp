#include "regal/nn/pixel_cross_entropy.h"

#include <torch/torch.h>

#include "regal/core/error.h"

namespace regal::nn {
namespace {

void check_loss_inputs(const torch::Tensor& logits, const torch::Tensor& labels) {
  REGAL_CHECK(logits.dim() == 4 && labels.dim() == 3 && labels.size(0) == logits.size(0) &&
                  labels.size(1) == logits.size(2) && labels.size(2) == logits.size(3),
              "pixel_cross_entropy: expected logits [B, C, H, W] and labels [B, H, W], got ", logits.sizes(), " and ",
              labels.sizes());
}

}  // namespace

torch::Tensor pixel_cross_entropy_by_gather(const torch::Tensor& logits, const torch::Tensor& labels,
                                            int64_t ignore_label, LossReduction reduction) {
  check_loss_inputs(logits, labels);
  const torch::Tensor counted = labels != ignore_label;                            // [B, H, W]
  const torch::Tensor safe_labels = labels.masked_fill(counted.logical_not(), 0);  // [B, H, W]
  // Each pixel's gradient goes to its own label's entry: no two additions
  // meet in the gather's backward, so its order does not matter.
  const torch::Tensor picked =
      torch::log_softmax(logits, 1).gather(1, safe_labels.unsqueeze(1)).squeeze(1);  // [B, H, W]
  const torch::Tensor total = -picked.masked_fill(counted.logical_not(), 0.0).sum();
  if (reduction == LossReduction::Sum) return total;
  return total / counted.sum().to(total.scalar_type());
}

torch::Tensor pixel_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels, int64_t ignore_label,
                                  LossReduction reduction) {
  check_loss_inputs(logits, labels);
  if (logits.is_cuda()) return pixel_cross_entropy_by_gather(logits, labels, ignore_label, reduction);
  namespace F = torch::nn::functional;
  auto options = F::CrossEntropyFuncOptions().ignore_index(ignore_label);  // mean by default
  if (reduction == LossReduction::Sum) options.reduction(torch::kSum);
  return F::cross_entropy(logits, labels, options);
}

}  // namespace regal::nn
