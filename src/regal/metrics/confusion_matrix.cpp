#include "regal/metrics/confusion_matrix.h"

#include <torch/torch.h>

#include "regal/core/error.h"

namespace regal::metrics {

void check_labels(const torch::Tensor& labels, int64_t num_classes, bool allow_ignore,
                  const std::string& what) {
  REGAL_CHECK(labels.defined(), what, ": expected a label tensor but got an undefined one");
  REGAL_CHECK(c10::isIntegralType(labels.scalar_type(), /*includeBool=*/false), what,
              ": expected an integer label dtype (uint8, int32, int64) but got ",
              labels.scalar_type());
  torch::Tensor bad = (labels < 0) | (labels >= num_classes);  // same shape as labels
  if (allow_ignore) {
    bad &= labels != kIgnoreLabel;
  }
  if (bad.any().item<bool>()) {
    const int64_t value = labels.masked_select(bad)[0].item<int64_t>();
    REGAL_FAIL(what, ": expected labels in 0..", num_classes - 1, allow_ignore ? " or 255" : "",
               " but found ", value);
  }
}

namespace {

// Checked before the member initialisers use it as a tensor size.
int64_t checked_num_classes(int64_t num_classes) {
  REGAL_CHECK(num_classes >= 1 && num_classes < kIgnoreLabel,
              "ConfusionMatrix: expected num_classes in 1..254 but got ", num_classes);
  return num_classes;
}

}  // namespace

ConfusionMatrix::ConfusionMatrix(int64_t num_classes)
    : num_classes_(checked_num_classes(num_classes)),
      matrix_(torch::zeros({num_classes_, num_classes_}, torch::kLong)) {}  // [C, C]

void ConfusionMatrix::update(const torch::Tensor& pred, const torch::Tensor& target) {
  REGAL_CHECK(pred.defined() && target.defined(), "ConfusionMatrix::update: undefined tensor");
  REGAL_CHECK(pred.sizes() == target.sizes(), "ConfusionMatrix::update: pred shape ", pred.sizes(),
              " differs from target shape ", target.sizes());
  REGAL_CHECK(pred.dim() == 2 || pred.dim() == 3,
              "ConfusionMatrix::update: expected [B, H, W] or [H, W] maps but got shape ",
              pred.sizes());
  REGAL_CHECK(pred.device() == target.device(), "ConfusionMatrix::update: pred on ", pred.device(),
              " but target on ", target.device());
  check_labels(target, num_classes_, /*allow_ignore=*/true, "ConfusionMatrix::update target");
  check_labels(pred, num_classes_, /*allow_ignore=*/false, "ConfusionMatrix::update pred");

  const torch::Tensor t = target.reshape({-1}).to(torch::kLong);  // [N]
  const torch::Tensor p = pred.reshape({-1}).to(torch::kLong);    // [N]
  // Cell (gt, pred) of the row-major C x C matrix is bin gt * C + pred.
  const torch::Tensor cells = (t * num_classes_ + p).masked_select(t != kIgnoreLabel);  // [N_kept]
  const torch::Tensor counts = torch::bincount(cells, /*weights=*/{}, num_classes_ * num_classes_)
                                   .reshape({num_classes_, num_classes_});  // [C, C]
  if (matrix_.device() != counts.device()) {
    matrix_ = matrix_.to(counts.device());
  }
  matrix_ += counts;
}

void ConfusionMatrix::merge(const ConfusionMatrix& other) {
  REGAL_CHECK(other.num_classes_ == num_classes_, "ConfusionMatrix::merge: ", num_classes_,
              " classes here but ", other.num_classes_, " in the other matrix");
  matrix_ += other.matrix_.to(matrix_.device());
}

void ConfusionMatrix::reset() { matrix_.zero_(); }

}  // namespace regal::metrics
