#include "regal/data/sample_store.h"

#include "regal/data/image_tensor.h"

namespace regal::data {

SampleStore::SampleStore(Dataset dataset, bool cache)
    : dataset_(std::move(dataset)), cache_(cache), cached_(cache ? dataset_.size() : 0) {}

TensorSample SampleStore::get(size_t index) const {
  if (cache_ && cached_.at(index)) {
    return *cached_[index];
  }
  const Sample sample = dataset_.load(index);
  TensorSample tensors{image_to_tensor(sample.image), label_to_tensor(sample.label)};
  if (cache_) {
    cached_[index] = tensors;
  }
  return tensors;
}

at::Tensor SampleStore::label(size_t index) const {
  // A cached split is decoded whole once anyway: filling the cache here
  // decodes nothing twice.
  if (cache_) {
    return get(index).label;
  }
  return label_to_tensor(dataset_.load_label(index));
}

void SampleStore::preload() {
  if (!cache_) return;
  for (size_t i = 0; i < size(); ++i) {
    get(i);
  }
}

}  // namespace regal::data
