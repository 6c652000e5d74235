#include "regal/loop/evaluation_run.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "regal/core/archive_file.h"
#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "regal/core/fnv_hash.h"
#include "regal/core/json_file.h"
#include "regal/core/progress.h"
#include "regal/loop/candidates.h"
#include "regal/loop/policy_training.h"
#include "regal/loop/rng_text.h"
#include "regal/loop/scoring.h"
#include "regal/metrics/iou.h"
#include "regal/rl/dqn.h"
#include "regal/train/checkpoint.h"

namespace regal::loop {

namespace {

using Clock = std::chrono::steady_clock;

nlohmann::json number_or_null(double value) {
  return std::isnan(value) ? nlohmann::json(nullptr) : nlohmann::json(value);
}

// Ground-truth pixel counts [C + 1] (the last entry IGNORE) of the labelled
// regions of the pool, or of all its regions: one masked bincount per image.
at::Tensor pool_class_counts(const data::SampleStore& store, const RegionPool& pool, bool labelled_only,
                             int64_t num_classes) {
  auto counts = torch::zeros({num_classes + 1}, torch::kInt64);  // [C+1]
  const auto size = pool.grid().region_size();
  // Pixels covered by the grid (the part right of / below the last region is in no region).
  auto grid_mask = torch::zeros({pool.grid().image_height(), pool.grid().image_width()}, torch::kBool);  // [H, W]
  grid_mask.slice(0, 0, pool.grid().rows() * size.height).slice(1, 0, pool.grid().columns() * size.width).fill_(true);
  for (int64_t image = 0; image < pool.num_images(); ++image) {
    if (labelled_only && pool.unlabelled_count(image) == pool.grid().regions_per_image()) continue;
    const auto mask = labelled_only ? pool.pixel_mask(image) : grid_mask;  // [H, W]
    auto values = store.label(static_cast<size_t>(image)).masked_select(mask);  // [P]
    values = torch::where(values == 255, torch::full_like(values, num_classes), values);  // IGNORE -> bin C
    counts += torch::bincount(values, {}, num_classes + 1);
  }
  return counts;
}

nlohmann::json distribution(const at::Tensor& counts, const std::vector<std::string>& names) {
  const double total = std::max<double>(1.0, static_cast<double>(counts.sum().item<int64_t>()));
  nlohmann::json out = nlohmann::json::object();
  for (size_t c = 0; c < names.size(); ++c) {
    out[names[c]] = static_cast<double>(counts[static_cast<int64_t>(c)].item<int64_t>()) / total;
  }
  out["(ignore)"] = static_cast<double>(counts[static_cast<int64_t>(names.size())].item<int64_t>()) / total;
  return out;
}

// Writes the argmax of the net on the first `count` images of `store` as
// 8-bit label PNGs named by sample id.
void write_predictions(nn::Fpn& net, const data::SampleStore& store, c10::Device device, int64_t count,
                       const std::filesystem::path& dir) {
  torch::NoGradGuard no_grad;
  const bool was_training = net->is_training();
  net->eval();
  const int64_t n = std::min<int64_t>(count, static_cast<int64_t>(store.size()));
  for (int64_t i = 0; i < n; ++i) {
    const auto sample = store.get(static_cast<size_t>(i));
    const auto logits = net->forward(sample.image.unsqueeze(0).to(device));  // [1, C, H, W]
    const auto ids = logits.argmax(1).squeeze(0).to(torch::kCPU, torch::kUInt8).contiguous();  // [H, W]
    const cv::Mat label(static_cast<int>(ids.size(0)), static_cast<int>(ids.size(1)), CV_8UC1, ids.data_ptr<uint8_t>());
    std::string name = store.dataset().files(static_cast<size_t>(i)).id;
    std::replace(name.begin(), name.end(), '/', '_');  // ids may name a subfolder (Cityscapes' city)
    const auto file = dir / (name + ".png");
    write_atomically_with(file, [&](const std::filesystem::path& temp) {
      REGAL_CHECK(cv::imwrite(temp.string(), label), "cannot write ", file);
    });
  }
  net->train(was_training);
}

}  // namespace

nlohmann::json run_evaluation(nn::Fpn net, const EvaluationData& data, c10::Device device,
                              const EvaluationOptions& options, const EvaluationJob& job) {
  REGAL_CHECK(data.d_v && data.d_r && data.val, "evaluation needs D_V, D_R and val");
  const auto method = options.method();
  REGAL_CHECK(method != Method::kPolicy || (job.policy && data.d_s), "method ralis needs a policy (--policy FILE)",
              " and the state set D_S");
  const auto& info = data.d_v->dataset().info();
  const int64_t num_classes = info.num_classes();
  REGAL_CHECK(job.class_frequencies.defined() && job.class_frequencies.numel() == num_classes,
              "evaluation: expected ", num_classes, " class frequencies");
  const auto weights = metrics::class_weights(job.class_frequencies);  // [C]
  al::check_region_size(options.region());
  const auto [height, width] = image_size_of(*data.d_v);
  RegionPool pool(static_cast<int64_t>(data.d_v->size()), height, width, options.region());
  const int64_t budget = options.budget().regions(pool.total_regions());

  torch::manual_seed(options.seed());
  std::mt19937_64 rng(options.seed());
  RegionTrainer trainer(std::move(net), options.segmentation(), device);
  trainer.reset_to(job.pretrained);

  std::unique_ptr<rl::DqnTrainer> dqn;
  if (method == Method::kPolicy) {
    dqn = load_policy(*job.policy, num_classes, *data.d_s, options.region(), device);
  }
  AcquisitionContext acquisition;
  acquisition.net = trainer.net();  // the module the trainer trains, not a copy
  acquisition.pool_images = data.d_v;
  acquisition.state_set = data.d_s;
  acquisition.policy = dqn.get();
  acquisition.device = device;
  acquisition.region = options.region();
  acquisition.bald_passes = options.bald_passes();
  acquisition.eval_batch_size = options.eval_batch_size();

  const auto start = Clock::now();
  const int64_t steps = (budget + options.groups() - 1) / options.groups();
  spdlog::info("evaluate {}: budget {} = {} of {} regions, {} steps of K = {} (N = {})", to_string(method),
               options.budget().to_string(), budget, pool.total_regions(), steps, options.groups(),
               options.per_group());
  REGAL_CHECK(job.stop_after_steps == 0 || !job.checkpoint_dir.empty(),
              "evaluation: stopping after some steps needs a checkpoint directory to continue from");
  double seconds_acquire = 0.0;
  double seconds_train = 0.0;
  at::Tensor fractions = region_fractions(*data.d_v, {}, options.region(), num_classes);  // [0, C+1]
  // Loss curves: one row per labelling step, then one per all-labelled epoch.
  nlohmann::json step_curve = nlohmann::json::array();
  nlohmann::json final_curve = nlohmann::json::array();
  double last_train_loss = 0.0;
  int64_t step = 0;

  // The checkpoint of the labelling loop: every file carries the step in its
  // name; progress.json, written last, names the complete set, and only then
  // is the previous set removed, so a crash always leaves one whole set.
  const std::filesystem::path progress_file = job.checkpoint_dir / "progress.json";
  const auto checkpoint_file = [&](int64_t tag, const char* what) {
    return job.checkpoint_dir / fmt::format("{:06d}-{}.pt", tag, what);
  };
  // What the labelling loop depends on: continuing a checkpoint made with
  // another K, N, region, training option, starting net or policy would mix
  // two runs in one result.
  const nlohmann::json identity = {
      {"method", to_string(method)},
      {"seed", options.seed()},
      {"budget_regions", budget},
      {"pool_regions", pool.total_regions()},
      {"region", {options.region().height, options.region().width}},
      {"groups", options.groups()},
      {"per_group", options.per_group()},
      {"bald_passes", method == Method::kBald ? nlohmann::json(options.bald_passes()) : nlohmann::json()},
      {"segmentation", options_json(options.segmentation())},
      {"pretrained", file_digest(job.pretrained)},
      {"policy", job.policy ? nlohmann::json(file_digest(*job.policy)) : nlohmann::json(nullptr)}};
  int64_t saved_step = -1;
  double seconds_before = 0.0;  // of the invocations before a continued one
  if (!job.checkpoint_dir.empty() && std::filesystem::exists(progress_file)) {
    const auto saved = read_json_file(progress_file);
    // A checkpoint of an older regal records fewer settings: those it has must match.
    const auto& saved_identity = saved.at("identity");
    for (const auto& [key, value] : saved_identity.items()) {
      REGAL_CHECK(identity.contains(key) && identity.at(key) == value, progress_file,
                  " is the checkpoint of another run (", key, " ", value.dump(), ", this run ",
                  identity.contains(key) ? identity.at(key).dump() : "(none)", "); remove ", job.checkpoint_dir,
                  " to start this one");
    }
    step = saved.at("step").get<int64_t>();
    train::load_checkpoint(checkpoint_file(step, "seg"), *trainer.net(), &trainer.optimizer());
    trainer.net()->to(device);
    pool.load(checkpoint_file(step, "pool"));
    torch::load(fractions, checkpoint_file(step, "fractions").string());
    rng_from_string(rng, saved.at("rng").get<std::string>(), progress_file);
    step_curve = saved.at("step_curve");
    // NaN (a step whose regions were all void) is written as null.
    const auto& saved_loss = saved.at("last_train_loss");
    last_train_loss = saved_loss.is_null() ? std::numeric_limits<double>::quiet_NaN() : saved_loss.get<double>();
    seconds_acquire = saved.at("seconds_acquisition").get<double>();
    seconds_train = saved.at("seconds_step_training").get<double>();
    seconds_before = saved.at("seconds_total").get<double>();
    saved_step = step;
    spdlog::info("evaluate {}: continuing from step {} ({} regions labelled) of {}", to_string(method), step,
                 pool.labelled_count(), job.checkpoint_dir.string());
  }
  auto last_save = Clock::now();
  const auto save_checkpoint = [&] {
    train::save_checkpoint(checkpoint_file(step, "seg"), *trainer.net(), &trainer.optimizer(), nlohmann::json{});
    pool.save(checkpoint_file(step, "pool"));
    save_tensor_atomically(checkpoint_file(step, "fractions"), fractions);
    const nlohmann::json progress_json = {{"identity", identity},
                                          {"step", step},
                                          {"labelled_regions", pool.labelled_count()},
                                          {"rng", rng_to_string(rng)},
                                          {"step_curve", step_curve},
                                          {"last_train_loss", last_train_loss},
                                          {"seconds_acquisition", seconds_acquire},
                                          {"seconds_step_training", seconds_train},
                                          {"seconds_total", seconds_before + seconds_since(start)}};
    write_file_atomically(progress_file, progress_json.dump(2) + "\n");
    if (saved_step >= 0 && saved_step != step) {
      for (const char* what : {"seg", "pool", "fractions"}) {
        std::error_code ignored;
        std::filesystem::remove(checkpoint_file(saved_step, what), ignored);
      }
    }
    saved_step = step;
    last_save = Clock::now();
  };

  // K x N candidates are drawn without replacement from the unlabelled pool:
  // from a pool smaller than that, every step draws fewer per group than
  // configured. Random picks do not care; for the others N is part of the
  // method, so the cut is said and recorded.
  const int64_t groups_at_start = std::min(options.groups(), pool.total_regions());
  const int64_t per_group_at_start = std::min(options.per_group(), pool.total_regions() / groups_at_start);
  if (per_group_at_start < options.per_group() && step == 0) {
    spdlog::warn("evaluate {}: K x N = {} x {} candidates exceed the pool's {} regions; drawing {} per group{}",
                 to_string(method), options.groups(), options.per_group(), pool.total_regions(), per_group_at_start,
                 method == Method::kRandom ? " (random picks are the same)" : "");
  }

  Progress progress("evaluate " + to_string(method), steps);
  if (step > 0) progress.advance(step, "continued");
  int64_t steps_this_invocation = 0;
  while (pool.labelled_count() < budget) {
    auto clock = Clock::now();
    // Never ask for more candidates than the pool still holds (the last steps
    // of a large budget): fewer per group, and when fewer than K regions are
    // left unlabelled (a budget near the whole pool), one group per region.
    // At least one region is left: labelled < budget <= pool.
    const int64_t groups = std::min(options.groups(), pool.unlabelled_count());
    const int64_t per_group = std::min(options.per_group(), pool.unlabelled_count() / groups);
    auto candidates = draw_candidates(pool, groups, per_group, rng);
    torch::manual_seed(options.seed() * 1000003ULL + static_cast<uint64_t>(step));
    const auto picks = pick_regions(method, candidates, fractions, acquisition, rng);
    std::vector<al::Region> labelled_now;
    for (int64_t k = 0; k < candidates.groups && pool.labelled_count() < budget; ++k) {
      const auto& region = candidates.at(k, picks.index[static_cast<size_t>(k)]);
      pool.label(region);
      labelled_now.push_back(region);
    }
    if (method == Method::kPolicy) {
      fractions = torch::cat({fractions, region_fractions(*data.d_v, labelled_now, options.region(), num_classes)}, 0);
    }
    seconds_acquire += seconds_since(clock);
    clock = Clock::now();
    const double step_loss = trainer.train_epoch(*data.d_v, pool, labelled_now, rng);
    seconds_train += seconds_since(clock);
    ++step;
    step_curve.push_back({{"step", step}, {"regions", pool.labelled_count()}, {"train_loss", step_loss}});
    last_train_loss = step_loss;
    progress.advance(1, std::to_string(pool.labelled_count()) + " regions");
    ++steps_this_invocation;
    // After the last step the final training follows; a crash there continues from the last save.
    if (pool.labelled_count() < budget && !job.checkpoint_dir.empty()) {
      const bool stop = job.stop_after_steps > 0 && steps_this_invocation >= job.stop_after_steps;
      if (stop || seconds_since(last_save) >= job.checkpoint_seconds) save_checkpoint();
      if (stop) {
        progress.finish(std::to_string(pool.labelled_count()) + " regions, stopped");
        spdlog::info("evaluate {}: stopped after step {}; the checkpoint is in {}", to_string(method), step,
                     job.checkpoint_dir.string());
        return {{"finished", false}, {"steps", step}};
      }
    }
  }
  progress.finish(std::to_string(pool.labelled_count()) + " regions");

  // All labelled regions until early stopping on D_R (val stays unseen until the end).
  auto clock = Clock::now();
  Scores held_out_scores;
  const auto held_out = [&] {
    held_out_scores = score_on(trainer.net(), *data.d_r, device, options.eval_batch_size(), weights);
    return held_out_scores.miou;
  };
  torch::manual_seed(options.seed() * 1000003ULL + 999983ULL);
  const double initial_held_out = held_out();
  double kept_train_loss = last_train_loss;
  double kept_held_out_loss = held_out_scores.loss;
  double best_held_out = initial_held_out;
  const auto stop = trainer.train_until_early_stopping(
      *data.d_v, pool, held_out, initial_held_out, rng, [&](int epoch, double train_loss, double score) {
        final_curve.push_back({{"epoch", epoch + 1},
                               {"train_loss", train_loss},
                               {"dr_loss", held_out_scores.loss},
                               {"dr_miou", score}});
        // The losses of the weights the trainer keeps (the best D_R epoch).
        if (score > best_held_out) {
          best_held_out = score;
          kept_train_loss = train_loss;
          kept_held_out_loss = held_out_scores.loss;
        }
        spdlog::info("evaluate {}: all-labelled epoch {}: train loss {:.4f}, D_R loss {:.4f}, D_R mIoU {:.2f}%",
                     to_string(method), epoch + 1, train_loss, held_out_scores.loss, 100.0 * score);
      });
  const double seconds_final_train = seconds_since(clock);

  clock = Clock::now();
  const auto val = score_on(trainer.net(), *data.val, device, options.eval_batch_size(), weights);
  const double train_miou =
      labelled_pixels_miou(trainer.net(), *data.d_v, pool, device, options.eval_batch_size());
  if (job.prediction_images > 0) {
    write_predictions(trainer.net(), *data.val, device, job.prediction_images, job.predictions_dir);
  }
  const double seconds_score = seconds_since(clock);

  // The rarest classes by the dataset's pixel frequencies.
  const auto rare = torch::argsort(job.class_frequencies).slice(0, 0, std::min(options.rare_classes(), num_classes));
  const auto rare_iou = val.iou.index_select(0, rare);
  const double rare_mean = metrics::mean_iou(rare_iou);

  nlohmann::json result;
  result["finished"] = true;
  result["method"] = job.label.empty() ? to_string(method) : job.label;
  result["budget"] = options.budget().to_string();
  result["budget_regions"] = budget;
  result["labelled_regions_count"] = pool.labelled_count();
  result["pool_regions"] = pool.total_regions();
  result["region"] = {options.region().height, options.region().width};
  result["groups"] = options.groups();
  result["per_group"] = options.per_group();
  result["per_group_drawn"] = per_group_at_start;  // at the first step; the last steps of a large budget draw fewer
  result["seed"] = options.seed();
  result["steps"] = step;
  if (job.policy) result["policy"] = job.policy->string();
  // The digests of the weights it started from: an experiment refuses to mix
  // units of two pretrained nets or two policies in one table.
  result["digests"] = {{"pretrained", identity.at("pretrained")}, {"policy", identity.at("policy")}};
  result["val_miou"] = val.miou;
  result["val_wiou"] = val.wiou;
  nlohmann::json per_class = nlohmann::json::object();
  for (int64_t c = 0; c < num_classes; ++c) {
    per_class[info.class_names[static_cast<size_t>(c)]] = number_or_null(val.iou[c].item<double>());
  }
  result["val_iou"] = per_class;
  result["classes"] = info.class_names;  // the dataset's order (val_iou, a JSON object, is sorted by name)
  nlohmann::json rare_names = nlohmann::json::array();
  for (int64_t i = 0; i < rare.numel(); ++i) {
    rare_names.push_back(info.class_names[static_cast<size_t>(rare[i].item<int64_t>())]);
  }
  result["rare_classes"] = rare_names;
  result["val_rare_miou"] = rare_mean;
  result["train_miou"] = train_miou;
  result["val_loss"] = val.loss;
  result["train_loss"] = kept_train_loss;
  result["dr_loss"] = kept_held_out_loss;
  result["curve"] = {{"steps", step_curve}, {"final", final_curve}};
  result["end_training"] = {{"epochs", stop.epochs}, {"best_epoch", stop.best_epoch + 1},
                            {"dr_miou", stop.best_score}};
  const auto regions = pool.labelled_regions();
  nlohmann::json listed = nlohmann::json::array();
  for (const auto& r : regions) {
    listed.push_back({data.d_v->dataset().files(static_cast<size_t>(r.image)).id, r.x, r.y});
  }
  result["labelled_regions"] = listed;
  result["acquired_class_distribution"] =
      distribution(pool_class_counts(*data.d_v, pool, true, num_classes), info.class_names);
  result["pool_class_distribution"] =
      distribution(pool_class_counts(*data.d_v, pool, false, num_classes), info.class_names);
  result["seconds"] = {{"acquisition", seconds_acquire},
                       {"step_training", seconds_train},
                       {"final_training", seconds_final_train},
                       {"scoring", seconds_score},
                       {"total", seconds_before + seconds_since(start)}};
  if (!job.data.is_null()) result["data"] = job.data;
  if (!job.environment.is_null()) result["environment"] = job.environment;
  write_file_atomically(job.out_file, result.dump(2) + "\n");
  if (!job.checkpoint_dir.empty()) std::filesystem::remove_all(job.checkpoint_dir);
  spdlog::info("evaluate {} ({} regions): val mIoU {:.2f}% wIoU {:.2f}%, rarest {} classes {:.2f}%, train mIoU "
               "{:.2f}% | {} -> {}",
               to_string(method), pool.labelled_count(), 100.0 * val.miou, 100.0 * val.wiou, rare.numel(),
               100.0 * rare_mean, 100.0 * train_miou, format_duration(seconds_since(start)), job.out_file.string());
  return result;
}

}  // namespace regal::loop
