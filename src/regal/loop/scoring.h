#pragma once
// Scores of the segmentation net on a labelled split (ALGORITHM.md section 8):
// mIoU, the class-frequency-weighted IoU, and the reward metric chosen
// between them; plus the class pixel counts the wIoU weights come from.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "regal/data/sample_store.h"
#include "regal/loop/region_pool.h"
#include "regal/nn/fpn.h"

namespace regal::loop {

enum class RewardMetric { kMiou, kWiou };

// requires: "miou" or "wiou". throws: regal::Error naming `what` and the text.
RewardMetric parse_reward_metric(const std::string& text, const std::string& what);
std::string to_string(RewardMetric metric);

struct Scores {
  at::Tensor confusion;  // [C, C] int64, CPU, rows = ground truth
  at::Tensor iou;        // [C] float64, NaN for classes absent from gt and prediction
  double miou = 0.0;
  double wiou = 0.0;
  double loss = 0.0;     // mean cross-entropy over the non-ignored pixels
  double metric(RewardMetric which) const { return which == RewardMetric::kMiou ? miou : wiou; }
};

// Full-image evaluation (eval mode, no grad) of `net` on `store`.
// requires: weights [C] float64 (metrics::class_weights); store's class count C.
Scores score_on(nn::Fpn& net, const data::SampleStore& store, c10::Device device, int batch_size,
                const at::Tensor& weights);

// mIoU of `net` (eval mode, no grad) on the labelled pixels of the pool's
// images, scored against the oracle's labels: how well the net fits what it
// was taught (the "train" side of the paper's Figure 6). Images without a
// labelled region add nothing and are skipped; the rest are forwarded
// `batch_size` at a time. requires: the pool was made for `store`.
double labelled_pixels_miou(nn::Fpn& net, const data::SampleStore& store, const RegionPool& pool, c10::Device device,
                            int batch_size);

// Ground-truth pixel count per class over every image of the stores (IGNORE
// skipped). ensures: [C] int64 on the CPU. throws: regal::Error (bad labels).
at::Tensor class_counts_of(const std::vector<const data::SampleStore*>& stores, int64_t num_classes);

// Image height and width of the first image of `store`: a region pool needs
// images of one size (a later image of another size is rejected where it is
// used). throws: regal::Error when the split is empty.
std::pair<int64_t, int64_t> image_size_of(const data::SampleStore& store);

}  // namespace regal::loop
