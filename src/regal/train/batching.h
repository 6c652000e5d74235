#pragma once
// How an epoch's samples are cut into training batches. The ResNet backbone
// reduces a crop by 32; a crop of at most 32 x 32 leaves its last stage 1 x 1,
// where BatchNorm in training mode cannot compute statistics from a batch of
// one sample ("Expected more than 1 value per channel"). Such a trailing
// batch of one is folded into the batch before it.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace regal::train {

// Whether a training batch of one crop of crop_h x crop_w fails in BatchNorm.
bool single_crop_breaks_batchnorm(int64_t crop_h, int64_t crop_w);

// [begin, end) ranges of batch_size samples over `count`, the last one
// shorter. When a batch of one crop would fail (above), a trailing batch of
// one joins the batch before it (which then holds batch_size + 1).
// requires: batch_size >= 1.
// throws: regal::Error naming `what` when a batch of one fails and count is 1
//   or batch_size is 1 (no batch of two can be formed).
std::vector<std::pair<size_t, size_t>> batch_ranges(size_t count, size_t batch_size, int64_t crop_h, int64_t crop_w,
                                                    const char* what);

}  // namespace regal::train
