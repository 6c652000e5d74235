#include "regal/train/augment.h"

#include <torch/torch.h>

namespace regal::train {

data::TensorSample random_crop_flip(const data::TensorSample& sample, int64_t crop_h, int64_t crop_w,
                                    bool flip, std::mt19937_64& rng) {
  auto image = sample.image;
  auto label = sample.label;
  const int64_t height = image.size(1);
  const int64_t width = image.size(2);
  if (height < crop_h || width < crop_w) {
    const int64_t pad_h = std::max<int64_t>(0, crop_h - height);
    const int64_t pad_w = std::max<int64_t>(0, crop_w - width);
    image = torch::constant_pad_nd(image, {0, pad_w, 0, pad_h}, 0.0);   // [3, H', W']
    label = torch::constant_pad_nd(label, {0, pad_w, 0, pad_h}, 255);   // [H', W']
  }
  std::uniform_int_distribution<int64_t> pick_y(0, image.size(1) - crop_h);
  std::uniform_int_distribution<int64_t> pick_x(0, image.size(2) - crop_w);
  const int64_t y = pick_y(rng);
  const int64_t x = pick_x(rng);
  image = image.slice(1, y, y + crop_h).slice(2, x, x + crop_w);  // [3, crop_h, crop_w]
  label = label.slice(0, y, y + crop_h).slice(1, x, x + crop_w);  // [crop_h, crop_w]
  if (flip && std::bernoulli_distribution(0.5)(rng)) {
    image = image.flip({2});
    label = label.flip({1});
  }
  return {image.contiguous(), label.contiguous()};
}

}  // namespace regal::train
