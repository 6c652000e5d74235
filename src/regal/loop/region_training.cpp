#include "regal/loop/region_training.h"

#include <algorithm>
#include <limits>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "regal/core/error.h"
#include "regal/nn/pixel_cross_entropy.h"
#include "regal/train/batching.h"
#include "regal/train/checkpoint.h"

namespace regal::loop {

nlohmann::json options_json(const RegionTrainOptions& options) {
  return {{"lr", options.lr()},
          {"momentum", options.momentum()},
          {"weight_decay", options.weight_decay()},
          {"grad_clip", options.grad_clip()},
          {"crop", {options.crop_height(), options.crop_width()}},
          {"batch_size", options.batch_size()},
          {"max_epochs", options.max_epochs()},
          {"patience", options.patience()}};
}

namespace {

constexpr int64_t kIgnore = 255;

// Origin of a window of `crop` pixels along one axis of `size` pixels that
// contains pixel `centre`: uniform over [centre - crop + 1, centre], clipped
// to [0, size - crop].
int64_t crop_origin(int64_t centre, int64_t crop, int64_t size, std::mt19937_64& rng) {
  const int64_t low = std::max<int64_t>(0, centre - crop + 1);
  const int64_t high = std::min<int64_t>(size - crop, centre);
  return low + uniform_index(rng, high - low + 1);
}

// A copy of every parameter and buffer, to restore the best epoch's weights.
std::vector<at::Tensor> snapshot(const torch::nn::Module& module) {
  std::vector<at::Tensor> copies;
  for (const auto& p : module.parameters()) copies.push_back(p.detach().clone());
  for (const auto& b : module.buffers()) copies.push_back(b.detach().clone());
  return copies;
}

void restore(torch::nn::Module& module, const std::vector<at::Tensor>& copies) {
  torch::NoGradGuard no_grad;
  size_t i = 0;
  for (auto& p : module.parameters()) p.copy_(copies.at(i++));
  for (auto& b : module.buffers()) b.copy_(copies.at(i++));
}

}  // namespace

RegionCrop region_crop(const data::TensorSample& sample, const at::Tensor& mask, const al::Region& region,
                       al::RegionSize region_size, int64_t crop_height, int64_t crop_width, std::mt19937_64& rng) {
  const int64_t height = sample.label.size(0);
  const int64_t width = sample.label.size(1);
  REGAL_CHECK(mask.sizes() == sample.label.sizes(), "region crop: mask ", mask.sizes(), " and label ",
              sample.label.sizes(), " differ");
  REGAL_CHECK(region.x >= 0 && region.y >= 0 && region.x + region_size.width <= width &&
                  region.y + region_size.height <= height,
              "region crop: region (", region.x, ", ", region.y, ") is outside the ", height, "x", width, " image");
  const int64_t h = std::min(crop_height, height);
  const int64_t w = std::min(crop_width, width);
  RegionCrop crop;
  crop.origin_y = crop_origin(region.y + region_size.height / 2, h, height, rng);
  crop.origin_x = crop_origin(region.x + region_size.width / 2, w, width, rng);
  const auto label = oracle_label(sample.label, mask);  // [H, W]
  crop.sample.image = sample.image.slice(1, crop.origin_y, crop.origin_y + h)
                          .slice(2, crop.origin_x, crop.origin_x + w)
                          .contiguous();  // [3, h, w]
  crop.sample.label = label.slice(0, crop.origin_y, crop.origin_y + h)
                          .slice(1, crop.origin_x, crop.origin_x + w)
                          .contiguous();  // [h, w]
  return crop;
}

RegionTrainer::RegionTrainer(nn::Fpn net, const RegionTrainOptions& options, c10::Device device)
    : net_(std::move(net)), options_(options), device_(device) {
  REGAL_CHECK(options_.lr() > 0, "region training: lr must be positive, got ", options_.lr());
  REGAL_CHECK(options_.batch_size() >= 1, "region training: batch_size must be >= 1, got ", options_.batch_size());
  REGAL_CHECK(options_.max_epochs() >= 1, "region training: max_epochs must be >= 1, got ", options_.max_epochs());
  net_->to(device_);
  make_optimizer();
}

RegionTrainer::~RegionTrainer() = default;

void RegionTrainer::make_optimizer() {
  optimizer_ = std::make_unique<torch::optim::SGD>(
      net_->parameters(),
      torch::optim::SGDOptions(options_.lr()).momentum(options_.momentum()).weight_decay(options_.weight_decay()));
}

void RegionTrainer::reset_to(const std::filesystem::path& checkpoint) {
  train::load_checkpoint(checkpoint, *net_, nullptr);
  net_->to(device_);
  make_optimizer();
}

double RegionTrainer::train_epoch(const data::SampleStore& store, const RegionPool& pool,
                                  const std::vector<al::Region>& regions, std::mt19937_64& rng) {
  if (regions.empty()) return 0.0;
  net_->train();
  const auto order = random_permutation(static_cast<int64_t>(regions.size()), rng);
  double loss_sum = 0.0;
  int batches = 0;
  // The crops region_crop cuts: no larger than the images (the batch rule
  // for a trailing single crop depends on the size that reaches the net).
  const int64_t crop_height = std::min(options_.crop_height(), pool.grid().image_height());
  const int64_t crop_width = std::min(options_.crop_width(), pool.grid().image_width());
  for (const auto& [begin, end] : train::batch_ranges(order.size(), static_cast<size_t>(options_.batch_size()),
                                                      crop_height, crop_width, "region training")) {
    std::vector<at::Tensor> images;
    std::vector<at::Tensor> labels;
    for (size_t i = begin; i < end; ++i) {
      const auto& region = regions[static_cast<size_t>(order[i])];
      const auto sample = store.get(static_cast<size_t>(region.image));
      auto crop = region_crop(sample, pool.pixel_mask(region.image), region, pool.grid().region_size(),
                              options_.crop_height(), options_.crop_width(), rng);
      images.push_back(crop.sample.image);
      labels.push_back(crop.sample.label);
    }
    const auto image_batch = torch::stack(images).to(device_);  // [B, 3, h, w]
    const auto label_batch = torch::stack(labels).to(device_);  // [B, h, w]
    // Crops whose labels are all unknown (regions that are void throughout,
    // or selected but never annotated) have no loss: a mean over no pixel.
    if (!label_batch.ne(kIgnore).any().item<bool>()) continue;
    const auto logits = net_->forward(image_batch);             // [B, C, h, w]
    const auto loss = nn::pixel_cross_entropy(logits, label_batch, kIgnore, nn::LossReduction::Mean);
    optimizer_->zero_grad();
    loss.backward();
    if (options_.grad_clip() > 0) torch::nn::utils::clip_grad_norm_(net_->parameters(), options_.grad_clip());
    optimizer_->step();
    loss_sum += loss.item<double>();
    ++batches;
  }
  return batches > 0 ? loss_sum / batches : std::numeric_limits<double>::quiet_NaN();
}

RegionTrainer::EarlyStopResult RegionTrainer::train_until_early_stopping(
    const data::SampleStore& store, const RegionPool& pool, const std::function<double()>& score,
    double initial_score, std::mt19937_64& rng, const std::function<void(int, double, double)>& after_epoch) {
  const auto regions = pool.labelled_regions();
  EarlyStopResult result;
  result.best_score = initial_score;
  auto best_weights = snapshot(*net_);
  int epochs_without_gain = 0;
  for (int epoch = 0; epoch < options_.max_epochs(); ++epoch) {
    const double train_loss = train_epoch(store, pool, regions, rng);
    const double value = score();
    ++result.epochs;
    if (value > result.best_score) {
      result.best_score = value;
      result.best_epoch = epoch;
      best_weights = snapshot(*net_);
      epochs_without_gain = 0;
    } else {
      ++epochs_without_gain;
    }
    if (after_epoch) after_epoch(epoch, train_loss, value);
    if (options_.patience() > 0 && epochs_without_gain >= options_.patience()) break;
  }
  restore(*net_, best_weights);
  return result;
}

}  // namespace regal::loop
