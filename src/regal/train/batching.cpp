#include "regal/train/batching.h"

#include <algorithm>

#include "regal/core/error.h"

namespace regal::train {

namespace {
constexpr int64_t kBackboneStride = 32;  // ResNet: stem 4, then layer2-4 halve it three times
}  // namespace

bool single_crop_breaks_batchnorm(int64_t crop_h, int64_t crop_w) {
  return crop_h <= kBackboneStride && crop_w <= kBackboneStride;
}

std::vector<std::pair<size_t, size_t>> batch_ranges(size_t count, size_t batch_size, int64_t crop_h, int64_t crop_w,
                                                    const char* what) {
  REGAL_CHECK(batch_size >= 1, what, ": batch_size must be >= 1, got ", batch_size);
  const bool fold_single = single_crop_breaks_batchnorm(crop_h, crop_w);
  REGAL_CHECK(!fold_single || (batch_size >= 2 && count != 1), what, ": ",
              count == 1 ? "a single training sample" : "batches of one sample", " with crops of ", crop_h, " x ",
              crop_w, ": the backbone reduces them to 1 x 1, where BatchNorm cannot train on one sample; use a crop "
              "larger than 32 pixels on one side", count == 1 ? ", or train on more samples" : ", or batch_size >= 2");
  std::vector<std::pair<size_t, size_t>> ranges;
  for (size_t begin = 0; begin < count; begin += batch_size) {
    ranges.emplace_back(begin, std::min(count, begin + batch_size));
  }
  if (fold_single && ranges.size() >= 2 && ranges.back().second - ranges.back().first == 1) {
    ranges[ranges.size() - 2].second = ranges.back().second;
    ranges.pop_back();
  }
  return ranges;
}

}  // namespace regal::train
