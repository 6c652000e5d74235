#include "regal/train/segmentation_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "regal/core/atomic_file.h"
#include "regal/core/csv_table.h"
#include "regal/core/error.h"
#include "regal/core/progress.h"
#include "regal/metrics/confusion_matrix.h"
#include "regal/metrics/iou.h"
#include "regal/nn/pixel_cross_entropy.h"
#include "regal/train/augment.h"
#include "regal/train/batching.h"
#include "regal/train/checkpoint.h"

namespace regal::train {

namespace fs = std::filesystem;

namespace {

// best.pt is replaced in two phases around last.pt, the commit point of an
// epoch: an improving epoch E writes best.epoch<E>.pt, then last.pt, then
// renames the first to best.pt. Otherwise a run killed between the two
// writes would resume from the earlier last.pt with a best.pt of the epoch
// it is about to train again, whose weights its record does not know (on a
// GPU the retrained epoch can differ).
fs::path pending_best_path(const fs::path& dir, int epoch) { return dir / fmt::format("best.epoch{}.pt", epoch); }

// Settles what a killed run left: the pending best of the epoch last.pt
// names as best (`committed_best_epoch`, -1 for none) is moved into place;
// one of `next_epoch`, never committed and about to be trained again, is
// dropped. No other can be left: each start settles these two.
void settle_pending_best(const fs::path& dir, int committed_best_epoch, int next_epoch) {
  const fs::path committed = pending_best_path(dir, committed_best_epoch);
  if (committed_best_epoch >= 0 && fs::exists(committed)) fs::rename(committed, dir / "best.pt");
  std::error_code ignored;  // usually there is none
  fs::remove(pending_best_path(dir, next_epoch), ignored);
}

constexpr int64_t kIgnore = 255;


std::vector<std::string> log_header(const data::DatasetInfo& info) {
  std::vector<std::string> header = {"epoch", "lr", "train_loss", "train_miou", "val_loss", "val_miou", "seconds"};
  for (const auto& name : info.class_names) {
    std::string column = "iou_" + name;
    std::replace(column.begin(), column.end(), ',', '_');
    std::replace(column.begin(), column.end(), ' ', '_');
    header.push_back(column);
  }
  return header;
}

std::vector<std::string> log_row(const EpochRecord& record) {
  std::vector<std::string> row = {std::to_string(record.epoch),       format_number(record.lr),
                                  format_number(record.train_loss),   format_number(record.train_miou),
                                  format_number(record.val_loss),     format_number(record.val_miou),
                                  format_number(record.seconds)};
  for (double iou : record.val_iou) row.push_back(format_number(iou));
  return row;
}

EpochRecord record_from_row(const std::vector<std::string>& row) {
  EpochRecord record;
  record.epoch = std::stoi(row[0]);
  record.lr = std::stod(row[1]);
  record.train_loss = std::stod(row[2]);
  record.train_miou = std::stod(row[3]);
  record.val_loss = std::stod(row[4]);
  record.val_miou = std::stod(row[5]);
  record.seconds = std::stod(row[6]);
  for (size_t i = 7; i < row.size(); ++i) record.val_iou.push_back(std::stod(row[i]));
  return record;
}

// OptimizerOptions::set_lr is protected in LibTorch 1.13: go through the
// concrete options type.
void set_learning_rate(torch::optim::Optimizer& optimizer, const std::string& kind, double lr) {
  for (auto& group : optimizer.param_groups()) {
    if (kind == "adam") {
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    } else {
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
    }
  }
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(nn::Fpn& net, const TrainOptions& options) {
  if (options.optimizer() == "adam") {
    return std::make_unique<torch::optim::Adam>(
        net->parameters(), torch::optim::AdamOptions(options.lr()).weight_decay(options.weight_decay()));
  }
  REGAL_CHECK(options.optimizer() == "sgd", "optimizer '", options.optimizer(), "': expected sgd or adam");
  return std::make_unique<torch::optim::SGD>(
      net->parameters(),
      torch::optim::SGDOptions(options.lr()).momentum(options.momentum()).weight_decay(options.weight_decay()));
}

// Groups consecutive indices whose images share a size, at most `batch_size`
// each, so that full-image evaluation can batch without resizing.
std::vector<std::vector<size_t>> same_size_batches(const data::SampleStore& samples, int batch_size) {
  std::vector<std::vector<size_t>> batches;
  std::vector<int64_t> last_size;
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto sample = samples.get(i);
    const std::vector<int64_t> size = sample.label.sizes().vec();
    if (batches.empty() || size != last_size || static_cast<int>(batches.back().size()) >= batch_size) {
      batches.emplace_back();
      last_size = size;
    }
    batches.back().push_back(i);
  }
  return batches;
}

}  // namespace

EvalResult evaluate_segmentation(nn::Fpn& net, const data::SampleStore& samples, const c10::Device& device,
                                 int batch_size, int num_classes) {
  torch::NoGradGuard no_grad;
  const bool was_training = net->is_training();
  net->eval();
  metrics::ConfusionMatrix confusion(num_classes);
  double loss_sum = 0.0;
  int64_t counted_pixels = 0;
  for (const auto& batch : same_size_batches(samples, std::max(1, batch_size))) {
    std::vector<at::Tensor> images;
    std::vector<at::Tensor> labels;
    for (size_t index : batch) {
      auto sample = samples.get(index);
      images.push_back(sample.image);
      labels.push_back(sample.label);
    }
    auto image_batch = torch::stack(images).to(device);  // [B, 3, H, W]
    auto label_batch = torch::stack(labels).to(device);  // [B, H, W]
    auto logits = net->forward(image_batch);             // [B, C, H, W]
    const int64_t valid = (label_batch != kIgnore).sum().item<int64_t>();
    if (valid > 0) {
      loss_sum += nn::pixel_cross_entropy(logits, label_batch, kIgnore, nn::LossReduction::Sum).item<double>();
      counted_pixels += valid;
    }
    confusion.update(logits.argmax(1), label_batch);
  }
  net->train(was_training);
  EvalResult result;
  result.loss = counted_pixels > 0 ? loss_sum / static_cast<double>(counted_pixels) : 0.0;
  result.confusion = confusion.matrix().to(torch::kCPU);
  const auto iou = metrics::per_class_iou(result.confusion);  // [C] float64
  result.iou = std::vector<double>(iou.data_ptr<double>(), iou.data_ptr<double>() + iou.numel());
  result.miou = metrics::mean_iou(iou);
  return result;
}

TrainResult train_segmentation(nn::Fpn& net, const data::SampleStore& train_set,
                               const data::SampleStore& val_set, const c10::Device& device,
                               const TrainJob& job) {
  const auto& options = job.options;
  const auto& info = train_set.dataset().info();
  const int num_classes = info.num_classes();
  REGAL_CHECK(options.epochs() > 0, job.name, ": epochs must be positive, got ", options.epochs());
  REGAL_CHECK(options.batch_size() > 0, job.name, ": batch_size must be positive, got ", options.batch_size());
  REGAL_CHECK(val_set.dataset().info().num_classes() == num_classes, job.name, ": the training set has ",
              num_classes, " classes but the validation set has ", val_set.dataset().info().num_classes());

  const fs::path last_path = job.out_dir / "last.pt";
  const fs::path best_path = job.out_dir / "best.pt";
  const fs::path log_path = job.out_dir / "log.csv";
  if (!job.resume) {
    REGAL_CHECK(!fs::exists(last_path), job.out_dir,
                " already holds a training run; pass --resume to continue it, or remove the directory");
  }
  fs::create_directories(job.out_dir);

  net->to(device);
  const auto optimizer_holder = make_optimizer(net, options);
  torch::optim::Optimizer& optimizer = *optimizer_holder;
  CsvTable log(log_header(info));
  TrainResult result;
  int start_epoch = 0;
  int epochs_without_gain = 0;
  double lr = options.lr();
  if (job.resume) {
    REGAL_CHECK(fs::exists(last_path), "--resume: no checkpoint ", last_path, " to continue from");
    const auto meta = load_checkpoint(last_path, *net, &optimizer);
    start_epoch = meta.at("next_epoch").get<int>();
    epochs_without_gain = meta.at("epochs_without_gain").get<int>();
    lr = meta.at("lr").get<double>();
    result.best_epoch = meta.at("best_epoch").get<int>();
    result.best_val_miou = meta.at("best_val_miou").get<double>();
    log = CsvTable::load_or_empty(log_path, log_header(info));
    log.keep_rows_if([&](const std::vector<std::string>& row) { return std::stoi(row[0]) < start_epoch; });
    for (const auto& row : log.rows()) result.epochs.push_back(record_from_row(row));
    spdlog::info("{}: resuming at epoch {} (best val mIoU {:.2f}% at epoch {})", job.name, start_epoch + 1,
                 100.0 * result.best_val_miou, result.best_epoch + 1);
    if (meta.value("stopped_early", false)) {
      spdlog::info("{}: the run had already stopped early; nothing to continue", job.name);
      result.stopped_early = true;
      start_epoch = options.epochs();
    } else if (start_epoch >= options.epochs()) {
      spdlog::info("{}: all {} epochs already done", job.name, options.epochs());
    }
  }
  settle_pending_best(job.out_dir, result.best_epoch, start_epoch);
  net->to(device);

  const auto run_start = std::chrono::steady_clock::now();
  for (int epoch = start_epoch; epoch < options.epochs(); ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    // Each epoch's randomness derives from (seed, epoch) alone, so a resumed
    // run draws exactly what an uninterrupted one would.
    std::mt19937_64 rng(options.seed() * 1000003ULL + static_cast<uint64_t>(epoch));
    torch::manual_seed(options.seed() * 1000003ULL + static_cast<uint64_t>(epoch));
    set_learning_rate(optimizer, options.optimizer(), lr);
    net->train();

    std::vector<size_t> order(train_set.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::shuffle(order.begin(), order.end(), rng);

    metrics::ConfusionMatrix train_confusion(num_classes);
    double loss_sum = 0.0;
    int batches = 0;
    Progress progress(fmt::format("{} epoch {}/{}", job.name, epoch + 1, options.epochs()),
                      static_cast<int64_t>(order.size()));
    for (const auto& [begin, end] : batch_ranges(order.size(), static_cast<size_t>(options.batch_size()),
                                                 options.crop_height(), options.crop_width(), job.name.c_str())) {
      std::vector<at::Tensor> images;
      std::vector<at::Tensor> labels;
      for (size_t i = begin; i < end; ++i) {
        auto crop = random_crop_flip(train_set.get(order[i]), options.crop_height(), options.crop_width(),
                                     options.flip(), rng);
        images.push_back(crop.image);
        labels.push_back(crop.label);
      }
      auto image_batch = torch::stack(images).to(device);  // [B, 3, h, w]
      auto label_batch = torch::stack(labels).to(device);  // [B, h, w]
      auto logits = net->forward(image_batch);             // [B, C, h, w]
      if ((label_batch != kIgnore).any().item<bool>()) {
        auto loss = nn::pixel_cross_entropy(logits, label_batch, kIgnore, nn::LossReduction::Mean);
        optimizer.zero_grad();
        loss.backward();
        if (options.grad_clip() > 0) {
          torch::nn::utils::clip_grad_norm_(net->parameters(), options.grad_clip());
        }
        optimizer.step();
        loss_sum += loss.item<double>();
        ++batches;
      }
      train_confusion.update(logits.detach().argmax(1), label_batch);
      progress.advance(static_cast<int64_t>(end - begin),
                       fmt::format("loss {:.3f}", batches > 0 ? loss_sum / batches : 0.0));
    }
    progress.finish(fmt::format("loss {:.3f}", batches > 0 ? loss_sum / batches : 0.0));

    const EvalResult val = evaluate_segmentation(net, val_set, device, options.eval_batch_size(), num_classes);
    EpochRecord record;
    record.epoch = epoch;
    record.lr = lr;
    record.train_loss = batches > 0 ? loss_sum / batches : 0.0;
    record.train_miou = metrics::mean_iou(metrics::per_class_iou(train_confusion.matrix().to(torch::kCPU)));
    record.val_loss = val.loss;
    record.val_miou = val.miou;
    record.val_iou = val.iou;
    record.seconds = seconds_since(epoch_start);
    result.epochs.push_back(record);
    log.add_row(log_row(record));
    log.save(log_path);

    const bool improved = result.best_epoch < 0 || val.miou > result.best_val_miou;
    if (improved) {
      result.best_epoch = epoch;
      result.best_val_miou = val.miou;
      epochs_without_gain = 0;
      save_checkpoint(pending_best_path(job.out_dir, epoch), *net, nullptr,
                      {{"epoch", epoch}, {"val_miou", val.miou}});
    } else {
      ++epochs_without_gain;
    }
    spdlog::info("{} epoch {}/{}: train loss {:.4f} mIoU {:.2f}% | val loss {:.4f} mIoU {:.2f}%{} | {}",
                 job.name, epoch + 1, options.epochs(), record.train_loss, 100.0 * record.train_miou, val.loss,
                 100.0 * val.miou, improved ? " (best)" : "", format_duration(record.seconds));
    lr *= options.lr_decay();
    const bool stop = options.patience() > 0 && epochs_without_gain >= options.patience();
    save_checkpoint(last_path, *net, &optimizer,
                    {{"next_epoch", epoch + 1},
                     {"epochs_without_gain", epochs_without_gain},
                     {"lr", lr},
                     {"best_epoch", result.best_epoch},
                     {"best_val_miou", result.best_val_miou},
                     {"stopped_early", stop}});
    if (improved) fs::rename(pending_best_path(job.out_dir, epoch), best_path);
    if (stop) {
      spdlog::info("{}: no val improvement for {} epochs, stopping early", job.name, epochs_without_gain);
      result.stopped_early = true;
      break;
    }
  }
  result.seconds = seconds_since(run_start);
  REGAL_CHECK(result.best_epoch >= 0 && fs::exists(best_path), job.name, ": no epoch completed; nothing in ",
              best_path);
  load_checkpoint(best_path, *net, nullptr);
  result.best_checkpoint = best_path;
  return result;
}

}  // namespace regal::train
