#include "regal/experiment/active_jobs.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "regal/core/atomic_file.h"
#include "regal/core/device.h"
#include "regal/core/error.h"
#include "regal/core/progress.h"
#include "regal/data/sample_store.h"
#include "regal/experiment/experiment_plan.h"
#include "regal/experiment/role_split_file.h"
#include "regal/experiment/run_data_record.h"
#include "regal/experiment/supervised_jobs.h"
#include "regal/metrics/iou.h"
#include "regal/nn/fpn.h"

namespace regal::experiment {

namespace fs = std::filesystem;

namespace {

// requires: ensure_role_splits(config) has run when the roles are drawn.
std::unique_ptr<data::SampleStore> open_store(const RunConfig& config, const std::string& role) {
  const data::DatasetSpec spec = config.target.spec(role);
  // The pretrain section says whether decoded images fit in memory.
  auto store = std::make_unique<data::SampleStore>(data::open_dataset(spec), config.pretrain.options.cache_images());
  if (spec.ids.empty()) {
    spdlog::info("{}: {} images ({} {})", role, store->size(), spec.root.string(), spec.split);
  } else {
    spdlog::info("{}: {} images ({} {}, ids from {})", role, store->size(), spec.root.string(), spec.split,
                 config.target.role_splits->file.string());
  }
  return store;
}

// `store` was opened by open_store(config, role).
RunSplit run_split(const RunConfig& config, const std::string& role, const data::SampleStore& store) {
  return {role, config.target.spec(role), &store.dataset()};
}

fs::path pretrained_checkpoint(const RunConfig& config) {
  const fs::path pretrained = config.pretrain.out / "best.pt";
  REGAL_CHECK(fs::exists(pretrained), "the pretrained segmentation net ", pretrained,
              " does not exist; run `regal pretrain --config ", config.file.string(), "` first");
  return pretrained;
}

nn::Fpn make_net(const RunConfig& config, int num_classes) {
  torch::manual_seed(config.seed);
  nn::Fpn net(config.model.fpn_options(num_classes));
  spdlog::info("net: {}", net->summary());
  return net;
}

nlohmann::json tensor_to_json(const at::Tensor& values) {
  const auto cpu = values.to(torch::kCPU, torch::kDouble).contiguous();
  return std::vector<double>(cpu.data_ptr<double>(), cpu.data_ptr<double>() + cpu.numel());
}

at::Tensor frequencies_of(const data::SampleStore& d_t, const data::SampleStore& d_r) {
  const int64_t num_classes = d_t.dataset().info().num_classes();
  return metrics::class_frequencies(loop::class_counts_of({&d_t, &d_r}, num_classes));  // [C]
}

}  // namespace

loop::PolicyTrainingResult run_train_policy(const RunConfig& config_in, const PolicyOverrides& overrides) {
  RunConfig config = config_in;
  auto& options = config.policy.options;
  if (overrides.device) config.device = *overrides.device;
  if (overrides.threads) config.threads = *overrides.threads;
  if (overrides.seed) {
    config.seed = *overrides.seed;
    options.seed(*overrides.seed);
  }
  if (overrides.out) config.policy.out = *overrides.out;
  if (overrides.episodes) {
    REGAL_CHECK(*overrides.episodes > 0, "--episodes must be positive, got ", *overrides.episodes);
    options.episodes(*overrides.episodes);
  }
  if (overrides.reward) options.reward(loop::parse_reward_metric(*overrides.reward, "--reward"));
  if (overrides.stop_after_steps) options.stop_after_steps(*overrides.stop_after_steps);

  set_thread_count(config.threads);
  const auto device = resolve_device(config.device);
  // Without the pretrained net nothing can run: say so before generating scenes.
  const auto pretrained = pretrained_checkpoint(config);
  ensure_scenes(config);
  ensure_role_splits(config);
  const auto d_t = open_store(config, "d_t");
  const auto d_s = open_store(config, "d_s");
  const auto d_r = open_store(config, "d_r");
  const auto& info = d_t->dataset().info();
  const auto frequencies = frequencies_of(*d_t, *d_r);
  const auto weights = metrics::class_weights(frequencies);  // [C]

  const fs::path out = config.policy.out;
  fs::create_directories(out);
  if (!overrides.resume) {
    REGAL_CHECK(!fs::exists(out / "checkpoint" / "progress.json"), out,
                " already holds a policy-training run; pass --resume to continue it, or remove the directory");
  }
  // Before config.yaml and meta.json: resuming on other data must fail with
  // the run as it was.
  record_run_data(out,
                  {run_split(config, "d_t", *d_t), run_split(config, "d_s", *d_s), run_split(config, "d_r", *d_r)},
                  overrides.resume);
  // Before meta.json is rewritten: a resumed run must keep the options it was started with.
  if (overrides.resume) loop::check_policy_checkpoint(out, options);
  if (!overrides.resume) write_file_atomically(out / "config.yaml", read_file(config.file));
  const nlohmann::json meta = {{"config", config.file.string()},
                               {"dataset", info.name},
                               {"classes", info.class_names},
                               {"class_frequencies", tensor_to_json(frequencies)},
                               {"class_weights", tensor_to_json(weights)},
                               {"frequencies_from", nlohmann::json::array({"d_t", "d_r"})},
                               {"reward", loop::to_string(options.reward())},
                               {"seed", options.seed()},
                               {"region", {options.region().height, options.region().width}},
                               {"groups", options.groups()},
                               {"per_group", options.per_group()},
                               {"budget", options.budget().to_string()},
                               {"episodes", options.episodes()},
                               {"pretrained", pretrained.string()},
                               {"device", describe_device(device)}};
  write_file_atomically(out / "meta.json", meta.dump(2) + "\n");

  auto net = make_net(config, info.num_classes());
  spdlog::info("device: {}", describe_device(device));
  const loop::PolicyTrainingData data{d_t.get(), d_s.get(), d_r.get()};
  const loop::PolicyTrainingJob job{out, pretrained, weights, overrides.resume};
  const auto result = loop::train_policy(net, data, device, options, job);
  spdlog::info("train-policy: {} episodes, {} steps; this invocation {} (state {} | seg training {} | reward {} | "
               "dqn {} | end-of-episode training {})",
               result.episodes_done, result.steps_done, format_duration(result.seconds),
               format_duration(result.seconds_state), format_duration(result.seconds_train),
               format_duration(result.seconds_reward), format_duration(result.seconds_dqn),
               format_duration(result.seconds_end_of_episode));
  if (result.best_episode >= 0) {
    spdlog::info("train-policy: best policy from episode {} (D_R {} {:.2f}%) in {}", result.best_episode + 1,
                 loop::to_string(options.reward()), 100.0 * result.best_score, result.best_policy.string());
  }
  return result;
}

TargetSplits open_target_splits(const RunConfig& config) {
  TargetSplits splits;
  splits.d_t = open_store(config, "d_t");
  splits.d_s = open_store(config, "d_s");
  splits.d_r = open_store(config, "d_r");
  splits.d_v = open_store(config, "d_v");
  splits.val = open_store(config, "val");
  splits.class_frequencies = frequencies_of(*splits.d_t, *splits.d_r);
  return splits;
}

std::vector<RunSplit> TargetSplits::run_splits(const RunConfig& config) const {
  // d_t and d_r give the class frequencies, d_s the state, d_r early
  // stopping, d_v the pool, val the scores.
  return {run_split(config, "d_t", *d_t), run_split(config, "d_s", *d_s), run_split(config, "d_r", *d_r),
          run_split(config, "d_v", *d_v), run_split(config, "val", *val)};
}

nlohmann::json run_evaluate(const RunConfig& config_in, const EvaluateRequest& request) {
  RunConfig config = config_in;
  if (request.device) config.device = *request.device;
  if (request.threads) config.threads = *request.threads;
  set_thread_count(config.threads);
  // Checked before the scenes are generated and every split is decoded: a
  // mistyped flag, a missing device or no pretrained net stops the run at once.
  loop::parse_method(request.method, "--method");
  if (!request.budget.empty()) loop::Budget::parse(request.budget, "--budget");
  resolve_device(config.device);
  pretrained_checkpoint(config);
  ensure_scenes(config);
  ensure_role_splits(config);
  const auto splits = open_target_splits(config);
  return run_evaluate(config, splits, request);
}

nlohmann::json run_evaluate(const RunConfig& config_in, const TargetSplits& splits, const EvaluateRequest& request) {
  RunConfig config = config_in;
  if (request.seed) config.seed = *request.seed;
  const auto method = loop::parse_method(request.method, "--method");
  const std::string budget_text = request.budget.empty() ? config.evaluate.budgets.front() : request.budget;
  auto options = config.evaluate.options_for(method, config.policy)
                     .budget(loop::Budget::parse(budget_text, "--budget"))
                     .seed(config.seed);
  const auto device = resolve_device(config.device);
  loop::EvaluationJob job;
  job.pretrained = pretrained_checkpoint(config);
  if (method == loop::Method::kPolicy) {
    job.policy = request.policy ? *request.policy : config.policy.out / "best_policy.pt";
    REGAL_CHECK(fs::exists(*job.policy), "policy ", *job.policy, " does not exist; run `regal train-policy --config ",
                config.file.string(), "` first or pass --policy FILE");
  }
  job.class_frequencies = splits.class_frequencies;
  job.label = request.label;
  job.prediction_images = request.prediction_images;
  job.predictions_dir = request.predictions_dir;
  job.checkpoint_seconds = request.checkpoint_seconds;
  job.stop_after_steps = request.stop_after_steps;
  job.out_file = request.out ? *request.out
                             : config.evaluate.out / fmt::format("{}-{}-seed{}.json", loop::to_string(method),
                                                                 budget_tag(budget_text), config.seed);
  job.checkpoint_dir = fs::path(job.out_file).replace_extension(".checkpoint");
  // No run directory to record in: the results carry the fingerprints of
  // every split read.
  job.data = split_fingerprints(splits.run_splits(config));
  auto net = make_net(config, splits.d_v->dataset().info().num_classes());
  spdlog::info("device: {}", describe_device(device));
  const loop::EvaluationData data{splits.d_v.get(), splits.d_s.get(), splits.d_r.get(), splits.val.get()};
  return loop::run_evaluation(net, data, device, options, job);
}

}  // namespace regal::experiment
