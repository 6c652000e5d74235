#include "regal/loop/scoring.h"

#include <algorithm>

#include <torch/torch.h>

#include "regal/core/error.h"
#include "regal/metrics/confusion_matrix.h"
#include "regal/metrics/iou.h"
#include "regal/train/segmentation_trainer.h"

namespace regal::loop {

RewardMetric parse_reward_metric(const std::string& text, const std::string& what) {
  if (text == "miou") return RewardMetric::kMiou;
  if (text == "wiou") return RewardMetric::kWiou;
  REGAL_FAIL(what, ": reward metric '", text, "' is unknown, expected miou or wiou");
}

std::string to_string(RewardMetric metric) { return metric == RewardMetric::kMiou ? "miou" : "wiou"; }

Scores score_on(nn::Fpn& net, const data::SampleStore& store, c10::Device device, int batch_size,
                const at::Tensor& weights) {
  const int num_classes = store.dataset().info().num_classes();
  const auto eval = train::evaluate_segmentation(net, store, device, batch_size, num_classes);
  const auto scores = metrics::iou_scores(eval.confusion, weights);
  return Scores{eval.confusion, scores.iou, scores.miou, scores.wiou, eval.loss};
}

double labelled_pixels_miou(nn::Fpn& net, const data::SampleStore& store, const RegionPool& pool, c10::Device device,
                            int batch_size) {
  REGAL_CHECK(static_cast<size_t>(pool.num_images()) == store.size(), "the region pool holds ", pool.num_images(),
              " images, the split '", store.dataset().split(), "' ", store.size());
  std::vector<int64_t> labelled_images;
  for (int64_t image = 0; image < pool.num_images(); ++image) {
    if (pool.unlabelled_count(image) < pool.grid().regions_per_image()) labelled_images.push_back(image);
  }
  torch::NoGradGuard no_grad;
  const bool was_training = net->is_training();
  net->eval();
  metrics::ConfusionMatrix confusion(store.dataset().info().num_classes());
  const auto batch = static_cast<size_t>(std::max(1, batch_size));
  const auto& grid = pool.grid();
  for (size_t first = 0; first < labelled_images.size(); first += batch) {
    const size_t end = std::min(first + batch, labelled_images.size());
    std::vector<at::Tensor> inputs;
    std::vector<at::Tensor> labels;
    for (size_t position = first; position < end; ++position) {
      const int64_t image = labelled_images[position];
      const auto sample = store.get(static_cast<size_t>(image));  // decoded once (no cache: from disk)
      REGAL_CHECK(sample.label.size(0) == grid.image_height() && sample.label.size(1) == grid.image_width(), "split '",
                  store.dataset().split(), "': image ", store.dataset().files(static_cast<size_t>(image)).id, " is ",
                  sample.label.sizes(), " but the region pool's images are ", grid.image_height(), " x ",
                  grid.image_width());
      inputs.push_back(sample.image);
      labels.push_back(oracle_label(sample.label, pool.pixel_mask(image)));  // [H, W]
    }
    const auto logits = net->forward(torch::stack(inputs).to(device));  // [B, C, H, W]
    confusion.update(logits.argmax(1), torch::stack(labels).to(device));  // [B, H, W]
  }
  net->train(was_training);
  return metrics::mean_iou(metrics::per_class_iou(confusion.matrix().to(torch::kCPU)));
}

at::Tensor class_counts_of(const std::vector<const data::SampleStore*>& stores, int64_t num_classes) {
  auto counts = torch::zeros({num_classes}, torch::kInt64);  // [C]
  for (const auto* store : stores) {
    for (size_t i = 0; i < store->size(); ++i) {
      // Labels alone: at Cityscapes scale decoding the images too would take minutes.
      counts += metrics::class_pixel_counts(store->label(i), num_classes).to(torch::kCPU);
    }
  }
  return counts;
}

std::pair<int64_t, int64_t> image_size_of(const data::SampleStore& store) {
  REGAL_CHECK(store.size() > 0, "split '", store.dataset().split(), "' is empty");
  // Only the first image is decoded: at Cityscapes scale decoding every image
  // up front would take minutes. Later images of another size are caught
  // where their masks meet their labels (region_crop, the candidate features).
  const auto first = store.get(0).label;  // [H, W]
  return {first.size(0), first.size(1)};
}

}  // namespace regal::loop
