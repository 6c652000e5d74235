#pragma once
// Decoded samples of one dataset split as tensors, decoded once and kept in
// memory when `cache` is on (the embedded scenes fit easily); otherwise
// decoded on every access (Cityscapes at full size does not fit).
#include <optional>
#include <vector>

#include <ATen/core/Tensor.h>

#include "regal/data/dataset.h"

namespace regal::data {

struct TensorSample {
  at::Tensor image;  // [3, H, W] float32, normalised
  at::Tensor label;  // [H, W] int64, train ids / 255
};

class SampleStore {
 public:
  SampleStore(Dataset dataset, bool cache);

  const Dataset& dataset() const { return dataset_; }
  size_t size() const { return dataset_.size(); }
  // throws regal::Error (from Dataset::load) naming a bad file.
  TensorSample get(size_t index) const;
  // get(index).label; without a cache, the image is not decoded where the
  // dataset can do without it (Dataset::load_label), and a label whose size
  // differs from its image's is not caught here.
  at::Tensor label(size_t index) const;  // [H, W] int64
  // Decodes every sample now (so errors and decode time come up front).
  void preload();

 private:
  Dataset dataset_;
  bool cache_;
  mutable std::vector<std::optional<TensorSample>> cached_;
};

}  // namespace regal::data
