#pragma once
// Training-time augmentation: random crops of a fixed size and horizontal
// flips, drawn from the run's seeded generator.
#include <cstdint>
#include <random>

#include <ATen/core/Tensor.h>

#include "regal/data/sample_store.h"

namespace regal::train {

// requires: sample.image [3, H, W], sample.label [H, W].
// ensures: image [3, crop_h, crop_w], label [crop_h, crop_w]; an image smaller
// than the crop is padded (image 0, label 255) so padding never trains.
data::TensorSample random_crop_flip(const data::TensorSample& sample, int64_t crop_h, int64_t crop_w,
                                    bool flip, std::mt19937_64& rng);

}  // namespace regal::train
