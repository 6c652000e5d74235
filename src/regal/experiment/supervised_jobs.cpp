#include "regal/experiment/supervised_jobs.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "regal/core/atomic_file.h"
#include "regal/core/device.h"
#include "regal/core/error.h"
#include "regal/core/progress.h"
#include "regal/data/sample_store.h"
#include "regal/experiment/role_split_file.h"
#include "regal/experiment/run_data_record.h"
#include "regal/nn/backbone_weights.h"
#include "regal/nn/fpn.h"
#include "regal/train/checkpoint.h"

namespace regal::experiment {

namespace fs = std::filesystem;

void apply_overrides(RunConfig& config, TrainSection& section, const JobOverrides& overrides) {
  if (overrides.device) config.device = *overrides.device;
  if (overrides.threads) config.threads = *overrides.threads;
  if (overrides.seed) {
    config.seed = *overrides.seed;
    section.options.seed(*overrides.seed);
  }
  if (overrides.epochs) {
    REGAL_CHECK(*overrides.epochs > 0, "--epochs must be positive, got ", *overrides.epochs);
    section.options.epochs(*overrides.epochs);
  }
  if (overrides.out) section.out = *overrides.out;
}

void ensure_scenes(const RunConfig& config) {
  if (!config.scenes) return;
  const auto& options = *config.scenes;
  const auto report = data::generate_or_reuse_scenes(options, options.out());
  if (report.reused) {
    spdlog::info("scenes: reusing {} ({})", options.out().string(), report.reason);
  } else {
    spdlog::info("scenes: wrote {} images to {} in {} ({})", report.images_written, options.out().string(),
                 format_duration(report.seconds), report.reason);
  }
}

namespace {

struct PreparedJob {
  c10::Device device{c10::kCPU};
  data::DatasetSpec train_spec;
  data::DatasetSpec val_spec;
  std::unique_ptr<data::SampleStore> train_set;
  std::unique_ptr<data::SampleStore> val_set;
  nn::Fpn net{nullptr};
};

// `train_domain` and `train_role` name the training data; the specs are made
// here, once the scenes exist and the role split file has been read.
PreparedJob prepare(RunConfig& config, const TrainSection& section, DomainConfig RunConfig::*train_domain,
                    const std::string& train_role) {
  set_thread_count(config.threads);
  PreparedJob job;
  job.device = resolve_device(config.device);
  ensure_scenes(config);
  // Pretraining reads no drawn role (source train, target val): it neither
  // needs the split file nor writes it.
  if (train_domain == &RunConfig::target) ensure_role_splits(config);
  job.train_spec = (config.*train_domain).spec(train_role);
  job.val_spec = config.target.spec("val");
  const data::DatasetSpec& train_spec = job.train_spec;
  const data::DatasetSpec& val_spec = job.val_spec;
  job.train_set = std::make_unique<data::SampleStore>(data::open_dataset(train_spec), section.options.cache_images());
  job.val_set = std::make_unique<data::SampleStore>(data::open_dataset(val_spec), section.options.cache_images());
  const int num_classes = job.train_set->dataset().info().num_classes();
  spdlog::info("train: {} images ({} {}{}), val: {} images ({} {})", job.train_set->size(),
               train_spec.root.string(), train_spec.split, train_spec.ids.empty() ? "" : ", " + train_role + " ids",
               job.val_set->size(), val_spec.root.string(), val_spec.split);
  torch::manual_seed(section.options.seed());
  job.net = nn::Fpn(config.model.fpn_options(num_classes));
  spdlog::info("net: {}", job.net->summary());
  spdlog::info("device: {}", describe_device(job.device));
  return job;
}

JobReport finish(const RunConfig& config, const TrainSection& section, const std::string& name,
                 PreparedJob& job, const JobOverrides& overrides) {
  REGAL_CHECK(overrides.resume || !fs::exists(section.out / "last.pt"), section.out,
              " already holds a training run; pass --resume to continue it, or remove the directory");
  fs::create_directories(section.out);
  // First, so that resuming on other data fails before the run is touched.
  record_run_data(section.out,
                  {{"train", job.train_spec, &job.train_set->dataset()},
                   {"val", job.val_spec, &job.val_set->dataset()}},
                  overrides.resume);
  // A resumed run keeps the config it was started with as its record.
  if (!overrides.resume || !fs::exists(section.out / "config.yaml")) {
    write_file_atomically(section.out / "config.yaml", read_file(config.file));
  }
  train::TrainJob train_job{name, section.out, section.options, overrides.resume};
  JobReport report;
  report.out_dir = section.out;
  report.device = describe_device(job.device);
  report.parameters = nn::parameter_count(*job.net);
  report.result = train::train_segmentation(job.net, *job.train_set, *job.val_set, job.device, train_job);
  report.final_val_miou = report.result.best_val_miou;

  nlohmann::json summary = {
      {"job", name},
      {"config", config.file.string()},
      {"train_split", job.train_set->dataset().split()},
      {"val_split", job.val_set->dataset().split()},
      {"train_images", job.train_set->size()},
      {"val_images", job.val_set->size()},
      {"device", report.device},
      {"parameters", report.parameters},
      {"epochs_run", report.result.epochs.size()},
      {"best_epoch", report.result.best_epoch + 1},
      {"best_val_miou", report.result.best_val_miou},
      {"stopped_early", report.result.stopped_early},
      {"seconds_this_invocation", report.result.seconds},
  };
  double total_seconds = 0.0;
  for (const auto& epoch : report.result.epochs) total_seconds += epoch.seconds;
  summary["seconds_total"] = total_seconds;
  const auto& best = report.result.epochs.at(static_cast<size_t>(report.result.best_epoch));
  nlohmann::json per_class = nlohmann::json::object();
  const auto& names = job.val_set->dataset().info().class_names;
  for (size_t c = 0; c < names.size() && c < best.val_iou.size(); ++c) {
    per_class[names[c]] = std::isnan(best.val_iou[c]) ? nlohmann::json(nullptr) : nlohmann::json(best.val_iou[c]);
  }
  summary["best_val_iou"] = per_class;
  write_file_atomically(section.out / "summary.json", summary.dump(2) + "\n");
  spdlog::info("{}: best val mIoU {:.2f}% at epoch {} ({} epochs, {}); best weights in {}", name,
               100.0 * report.result.best_val_miou, report.result.best_epoch + 1, report.result.epochs.size(),
               format_duration(total_seconds), report.result.best_checkpoint.string());
  return report;
}

}  // namespace

JobReport run_pretrain(const RunConfig& config_in, const JobOverrides& overrides) {
  RunConfig config = config_in;
  apply_overrides(config, config.pretrain, overrides);
  auto job = prepare(config, config.pretrain, &RunConfig::source, "train");
  if (!config.model.backbone_weights.empty()) {
    const auto loaded = nn::load_backbone_weights(job.net, config.model.backbone_weights);
    spdlog::info("backbone weights: {} tensors from {}", loaded.loaded, config.model.backbone_weights.string());
  }
  return finish(config, config.pretrain, "pretrain", job, overrides);
}

JobReport run_train_supervised(const RunConfig& config_in, const JobOverrides& overrides) {
  RunConfig config = config_in;
  apply_overrides(config, config.supervised, overrides);
  auto job = prepare(config, config.supervised, &RunConfig::target, "d_v");
  if (config.supervised.init == "pretrained" && !overrides.resume) {
    const fs::path pretrained = config.pretrain.out / "best.pt";
    REGAL_CHECK(fs::exists(pretrained), "supervised.init is 'pretrained' but ", pretrained,
                " does not exist; run `regal pretrain --config ", config.file.string(), "` first");
    train::load_checkpoint(pretrained, *job.net, nullptr);
    spdlog::info("starting from {}", pretrained.string());
  }
  return finish(config, config.supervised, "train-supervised", job, overrides);
}

}  // namespace regal::experiment
