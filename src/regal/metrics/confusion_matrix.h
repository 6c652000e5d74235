#pragma once
// A C x C confusion matrix (rows = ground truth, columns = prediction) that
// accumulates on the device of the label maps it is given, with one bincount
// per update: no per-pixel loop, no copy of the maps to the host.
#include <torch/types.h>  // torch::Tensor

#include <cstdint>
#include <string>

namespace regal::metrics {

inline constexpr int64_t kIgnoreLabel = 255;

// requires: labels of an integer dtype (not bool), any shape and device.
// ensures: returns when every value is in 0..num_classes-1, or is 255 when
//   allow_ignore; one host sync.
// throws: regal::Error naming `what`, the dtype or the first bad value.
void check_labels(const torch::Tensor& labels, int64_t num_classes, bool allow_ignore,
                  const std::string& what);

class ConfusionMatrix {
 public:
  // requires: num_classes in [1, 255) (255 is the ignore label).
  // ensures: matrix() is [C, C] int64 zeros on the CPU.
  // throws: regal::Error for a bad num_classes.
  explicit ConfusionMatrix(int64_t num_classes);

  // requires: pred and target of equal shape, [B, H, W] or [H, W], integer
  //   dtype (uint8, int32, int64, ...), same device; target in {0..C-1, 255},
  //   pred in {0..C-1}.
  // ensures: adds the non-ignored pixels' counts; the matrix moves to the
  //   inputs' device if it lives elsewhere.
  // throws: regal::Error naming the shape, dtype or out-of-range value.
  void update(const torch::Tensor& pred, const torch::Tensor& target);

  // Adds another matrix with the same num_classes (e.g. from another worker).
  // throws: regal::Error when the class counts differ.
  void merge(const ConfusionMatrix& other);

  // ensures: all counts zero; the device is kept.
  void reset();

  // [C, C] int64, rows = ground truth, columns = prediction.
  const torch::Tensor& matrix() const { return matrix_; }
  int64_t num_classes() const { return num_classes_; }

 private:
  int64_t num_classes_;
  torch::Tensor matrix_;
};

}  // namespace regal::metrics
