#include "regal/experiment/experiment_run.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <torch/version.h>
#include <yaml-cpp/yaml.h>

#include "regal/al/region_grid.h"
#include "regal/core/atomic_file.h"
#include "regal/core/device.h"
#include "regal/core/error.h"
#include "regal/core/fnv_hash.h"
#include "regal/core/progress.h"
#include "regal/data/dataset_fingerprint.h"
#include "regal/experiment/active_jobs.h"
#include "regal/experiment/results_table.h"
#include "regal/experiment/role_split_file.h"
#include "regal/experiment/run_data_record.h"
#include "regal/experiment/supervised_jobs.h"
#include "regal/loop/policy_training.h"
#include "regal/loop/region_pool.h"
#include "regal/loop/scoring.h"

namespace regal::experiment {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// The config as YAML text without its `experiment:` section: what must not
// change under a run directory (the plan may grow: --budgets, --seeds).
std::string config_identity(const fs::path& file) {
  YAML::Node root = YAML::Clone(load_yaml(file));
  if (root.IsMap()) root.remove("experiment");
  return YAML::Dump(root);
}

void check_or_keep_config(const fs::path& out, const RunConfig& config) {
  const fs::path kept = out / "config.yaml";
  if (fs::exists(kept)) {
    REGAL_CHECK(config_identity(kept) == config_identity(config.file), out,
                " holds an experiment run with another config (", kept.string(), " and ", config.file.string(),
                " differ outside 'experiment:'); pass another --out, or remove the directory to start over");
    return;
  }
  write_file_atomically(kept, read_file(config.file));
}

nlohmann::json read_json(const fs::path& file) {
  try {
    return nlohmann::json::parse(read_file(file));
  } catch (const nlohmann::json::exception& e) {
    REGAL_FAIL(file, " is not valid JSON (", e.what(), "); remove it to run that part again");
  }
}

// Seconds per budget region, by method, of the units this invocation ran:
// units of one method cost about their budget.
class UnitClock {
 public:
  void record(const ExperimentUnit& unit, int64_t regions, double seconds) {
    auto& entry = by_method_[unit.method];
    entry.first += seconds;
    entry.second += static_cast<double>(std::max<int64_t>(1, regions));
  }
  // Estimated seconds for `units` (regions each), or a negative value before any unit finished.
  double estimate(const std::vector<std::pair<ExperimentUnit, int64_t>>& units) const {
    if (by_method_.empty()) return -1.0;
    double all_seconds = 0.0, all_regions = 0.0;
    for (const auto& [method, entry] : by_method_) {
      all_seconds += entry.first;
      all_regions += entry.second;
    }
    double total = 0.0;
    for (const auto& [unit, regions] : units) {
      const auto it = by_method_.find(unit.method);
      const double rate = it != by_method_.end() ? it->second.first / it->second.second : all_seconds / all_regions;
      total += rate * static_cast<double>(std::max<int64_t>(1, regions));
    }
    return total;
  }

 private:
  std::map<std::string, std::pair<double, double>> by_method_;  // method -> (seconds, regions)
};

// The regions of `store` on the grid of `region` (every image has one size).
// throws: regal::Error naming the config key when the region does not fit.
int64_t regions_of(const data::SampleStore& store, al::RegionSize region, const std::string& config_file) {
  const auto [height, width] = loop::image_size_of(store);
  try {
    const al::RegionGrid grid(height, width, region);
    return static_cast<int64_t>(store.size()) * grid.regions_per_image();
  } catch (const Error& e) {
    REGAL_FAIL(config_file, ": 'policy.region': ", e.what());
  }
}

// Every unit result under units/ (finished units of this and earlier plans).
std::vector<UnitResult> finished_units(const fs::path& units_dir) {
  std::vector<UnitResult> units;
  if (!fs::exists(units_dir)) return units;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(units_dir)) {
    // A killed write's temp file (units/<id>.tmp<pid>.json) is no result.
    if (entry.is_regular_file() && entry.path().extension() == ".json" && !is_atomic_write_temp(entry.path())) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) units.push_back(unit_result_from_json(read_json(file), file.string()));
  return units;
}

// Pretraining and the upper bound write summary.json last: with it the job is
// finished and reused; without it the job runs, resuming from its last.pt when
// an earlier invocation was cut off. Returns the seconds it ran (none if reused).
std::optional<double> train_unless_finished(const fs::path& dir, const std::string& what,
                                            const std::function<void(const JobOverrides&)>& train) {
  if (fs::exists(dir / "summary.json")) {
    spdlog::info("experiment: reusing {} finished in {}", what, dir.string());
    return std::nullopt;
  }
  spdlog::info("experiment: {} into {}", what, dir.string());
  const auto clock = Clock::now();
  JobOverrides overrides;
  overrides.resume = fs::exists(dir / "last.pt");
  train(overrides);
  return seconds_since(clock);
}

// Where a run directory keeps the query network of one reward.
fs::path policy_dir(const fs::path& out, loop::RewardMetric reward) {
  return out / ("policy-" + loop::to_string(reward));
}

// Why a net or policy other than the run's is there, and what to do: said by
// every refusal of weights that changed under a run directory.
constexpr const char* kPretrainedMadeAgain =
    "pretraining was made again since (its cache directory was removed, or the run moved to a machine without "
    "it). The run's results are left as they are; put the earlier one back, or pass another --out";

// The digest of the pretrained net that the finished policy in `dir` (its
// done.json read as `done`) was trained from: done.json's, or (done.json of
// an older regal) its resume checkpoint's; empty when neither records it.
std::string policy_pretrained_digest(const fs::path& dir, const nlohmann::json& done) {
  if (done.contains("pretrained")) return done.at("pretrained").get<std::string>();
  const fs::path progress = dir / "checkpoint" / "progress.json";
  if (!fs::exists(progress)) return {};
  const auto saved = read_json(progress);
  const auto settings = saved.find("settings");
  if (settings == saved.end() || !settings->contains("pretrained")) return {};
  return settings->at("pretrained").get<std::string>();
}

// Refuses a run directory whose finished units started from another
// pretrained net or another policy than the ones this invocation uses: their
// rows and the new ones would not measure the same thing. `policies` holds
// the digest of each policy in the run directory (absent: nothing to compare).
void check_units_share_inputs(const std::vector<UnitResult>& units, const std::string& pretrained_digest,
                              const std::map<loop::RewardMetric, std::string>& policies, const fs::path& out,
                              const fs::path& pretrained) {
  const auto refuse_if_any = [&](const std::vector<std::string>& ids, const std::string& what,
                                 const std::string& why) {
    if (ids.empty()) return;
    REGAL_FAIL(out / "units", " holds ", ids.size(), " unit(s) (", ids.front(), (ids.size() > 1 ? ", ..." : ""),
               ") made from another ", what, " than this run's: ", why);
  };
  std::vector<std::string> other_net, other_policy;
  std::set<std::string> replaced;  // the policy files those units' policies were replaced by
  for (const auto& unit : units) {
    const ExperimentUnit id{unit.method, unit.budget, unit.seed};
    if (!unit.pretrained_digest.empty() && unit.pretrained_digest != pretrained_digest) {
      other_net.push_back(id.id());
    }
    const auto reward = method_spec(unit.method, out.string()).policy_reward;
    if (reward && !unit.policy_digest.empty() && policies.count(*reward) > 0 &&
        unit.policy_digest != policies.at(*reward)) {
      other_policy.push_back(id.id());
      replaced.insert((policy_dir(out, *reward) / "best_policy.pt").string());
    }
  }
  refuse_if_any(other_net, "pretrained net", fmt::format("{}: {}", pretrained.string(), kPretrainedMadeAgain));
  refuse_if_any(other_policy, "policy",
                fmt::format("{} was replaced since. The run's results are left as they are; put the earlier one "
                            "back, or pass another --out",
                            fmt::join(replaced, " and ")));
}

// Refuses the work an earlier invocation was cut off inside (a policy's or
// a unit's resume checkpoint) when it started from another pretrained net
// than `pretrained_digest`. A run directory of this regal is covered by the
// digest in its experiment.json; one of an older regal only by what each
// checkpoint records, and its policy's and unit's own resume checks would
// refuse it only later, in other words.
void check_cut_off_work_shares_net(const fs::path& out, const std::string& pretrained_digest,
                                   const fs::path& pretrained) {
  std::set<std::pair<fs::path, std::string>> started_from;  // checkpoint directory, digest of its net
  for (const auto reward : {loop::RewardMetric::kMiou, loop::RewardMetric::kWiou}) {
    const fs::path dir = policy_dir(out, reward);
    if (fs::exists(dir) && !fs::exists(dir / "done.json")) {
      started_from.emplace(dir / "checkpoint", policy_pretrained_digest(dir, nlohmann::json::object()));
    }
  }
  if (fs::exists(out / "units")) {
    for (const auto& entry : fs::directory_iterator(out / "units")) {
      const fs::path progress = entry.path() / "progress.json";
      if (entry.path().extension() != ".checkpoint" || !fs::exists(progress)) continue;
      const auto identity = read_json(progress).value("identity", nlohmann::json::object());
      if (identity.contains("pretrained")) started_from.emplace(entry.path(), identity.at("pretrained"));
    }
  }
  for (const auto& [checkpoint, digest] : started_from) {
    REGAL_CHECK(digest.empty() || digest == pretrained_digest, checkpoint,
                " holds work cut off inside it that started from another pretrained net (digest ", digest, ", ",
                pretrained.string(), " now ", pretrained_digest, "): ", kPretrainedMadeAgain);
  }
}

}  // namespace

ExperimentPlan plan_of(const RunConfig& config, const ExperimentRequest& request) {
  ExperimentPlan plan{config.experiment.methods, config.experiment.budgets, config.experiment.seeds};
  if (request.methods) plan.methods = *request.methods;
  if (request.budgets) plan.budgets = *request.budgets;
  if (request.seeds) plan.seeds = *request.seeds;
  plan.validate("experiment plan");
  // One spelling per budget ("5.0%" -> "5%", as a unit's result records it),
  // so that unit files and results agree however the budget was written.
  for (auto& budget : plan.budgets) budget = loop::Budget::parse(budget, "experiment plan").to_string();
  plan.validate("experiment plan");
  return plan;
}

fs::path pretrain_cache_dir(const RunConfig& config) {
  const YAML::Node root = load_yaml(config.file);
  YAML::Node pretrain = root["pretrain"] ? YAML::Clone(root["pretrain"]) : YAML::Node();
  if (pretrain.IsMap()) pretrain.remove("out");
  const auto source = data::open_dataset(config.source.spec("train"));
  const auto val = data::open_dataset(config.target.spec("val"));
  Fnv1a64 hash;
  hash.add_string("regal-pretrain-key-v1");
  hash.add_string(root["model"] ? YAML::Dump(root["model"]) : std::string());
  hash.add_string(YAML::Dump(pretrain));
  hash.add_number(config.seed);
  hash.add_string(data::dataset_fingerprint(source));
  hash.add_string(data::dataset_fingerprint(val));
  return config.experiment.pretrain_cache / (source.info().name + "-" + hash.hex());
}

fs::path policy_cache_dir(const RunConfig& config, loop::RewardMetric reward, const fs::path& pretrain_dir) {
  const YAML::Node root = load_yaml(config.file);
  YAML::Node policy = root["policy"] ? YAML::Clone(root["policy"]) : YAML::Node();
  if (policy.IsMap()) {
    policy.remove("out");
    policy.remove("reward");  // the experiment sets it
  }
  // The raw YAML, not the parsed options: bump the tag when policy training
  // itself (or a default it reads) changes, so that older policies are not reused.
  Fnv1a64 hash;
  hash.add_string("regal-policy-key-v1");
  hash.add_string(loop::to_string(reward));
  // The weights themselves: an entry pretrained again (other code, other device) gives other policies.
  const fs::path pretrained = pretrain_dir / "best.pt";
  REGAL_CHECK(fs::exists(pretrained), "the policy cache key needs the pretrained net ", pretrained);
  hash.add_string(read_file(pretrained));
  hash.add_string(root["model"] ? YAML::Dump(root["model"]) : std::string());
  hash.add_string(YAML::Dump(policy));
  hash.add_number(config.seed);
  std::string dataset;
  for (const char* role : {"d_t", "d_s", "d_r"}) {
    const auto split = data::open_dataset(config.target.spec(role));
    hash.add_string(data::dataset_fingerprint(split));
    dataset = split.info().name;
  }
  return config.experiment.policy_cache / (dataset + "-" + loop::to_string(reward) + "-" + hash.hex());
}

ExperimentOutcome run_experiment(const RunConfig& config_in, const ExperimentRequest& request) {
  const auto start = Clock::now();
  RunConfig config = config_in;
  if (request.device) config.device = *request.device;
  if (request.threads) config.threads = *request.threads;
  const ExperimentPlan plan = plan_of(config, request);
  for (const auto& method : plan.methods) check_method_runs_on_model(method_spec(method, "--methods").method, config);
  ExperimentOutcome outcome;
  outcome.out = request.out ? *request.out : config.experiment.out;
  const fs::path& out = outcome.out;
  const fs::path units_dir = out / "units";

  set_thread_count(config.threads);
  const auto device = resolve_device(config.device);
  fs::create_directories(out);
  check_or_keep_config(out, config);
  ensure_scenes(config);
  ensure_role_splits(config);
  const auto splits = open_target_splits(config);
  // Before anything else is written: continuing on other data is refused.
  record_run_data(out, splits.run_splits(config), fs::exists(out / "data.json"));
  // Checked now, not after hours of pretraining and policy training: the
  // region fits the images, every budget D_V's pool, an episode D_T's.
  const std::string file = config.file.string();
  const int64_t pool_regions = regions_of(*splits.d_v, config.policy.options.region(), file);
  // One budget under two spellings ("3%" and "153" of 5120 regions) would run
  // every unit twice and give the results two rows for one region count.
  // Every finished unit, of this plan and of earlier ones (a subset grows the
  // results): read once here, then each new unit is added as it finishes.
  std::vector<UnitResult> finished = finished_units(units_dir);
  std::map<int64_t, std::string> spelling_of;  // region count -> budget as written
  for (const auto& unit : finished) spelling_of.emplace(unit.budget_regions, unit.budget);
  for (const auto& budget : plan.budgets) {
    int64_t regions = 0;
    try {
      regions = loop::Budget::parse(budget, "budget").regions(pool_regions);
    } catch (const Error& e) {
      REGAL_FAIL(file, ": 'experiment.budgets' (or --budgets): ", e.what(), " (D_V)");
    }
    const auto [known, added] = spelling_of.emplace(regions, budget);
    REGAL_CHECK(added || known->second == budget, file, ": budgets '", known->second, "' and '", budget,
                "' are both ", regions, " regions of D_V (", out.string(),
                " may hold units of the first already); write it one way");
  }
  if (!plan.policy_rewards().empty()) {
    try {
      loop::check_policy_fits_pool(regions_of(*splits.d_t, config.policy.options.region(), file),
                                   config.policy.options);
    } catch (const Error& e) {
      REGAL_FAIL(file, ": ", e.what());
    }
  }

  const auto units = plan.units();
  nlohmann::json record = fs::exists(out / "experiment.json") ? read_json(out / "experiment.json") : nlohmann::json::object();
  record["config"] = config.file.string();
  // "plan", "units_done", "units_total" and "finished" describe this
  // invocation; a subset run (--methods, --budgets, --seeds) would otherwise
  // hide what the directory was asked for before, so every distinct plan is
  // kept, in the order first asked.
  const nlohmann::json plan_record = {{"methods", plan.methods}, {"budgets", plan.budgets}, {"seeds", plan.seeds}};
  record["plan"] = plan_record;
  auto& plans = record["plans"];
  if (!plans.is_array()) plans = nlohmann::json::array();
  if (std::find(plans.begin(), plans.end(), plan_record) == plans.end()) plans.push_back(plan_record);
  // Continuing on another device or thread count is allowed (a run moved to
  // a GPU machine) but said: the numbers of its units can differ slightly.
  // Every unit records its own environment.
  const nlohmann::json environment = run_environment(device);
  if (record.contains("environment") && record.at("environment") != environment) {
    spdlog::warn("experiment: earlier invocations ran with {}, this one with {}; units of the two may differ "
                 "slightly (each unit's JSON records its own under \"environment\")",
                 record.at("environment").dump(), environment.dump());
  }
  record["environment"] = environment;
  auto& seconds = record["seconds"];
  if (!seconds.is_object()) seconds = nlohmann::json::object();
  const auto add_seconds = [&](const std::string& phase, double value) {
    seconds[phase] = seconds.value(phase, 0.0) + value;
  };
  const auto save_record = [&] { write_file_atomically(out / "experiment.json", record.dump(2) + "\n"); };

  // Pretraining: reused from the cache when finished there (summary.json is its last file).
  const fs::path pretrain_dir = pretrain_cache_dir(config);
  config.pretrain.out = pretrain_dir;
  outcome.pretrained = pretrain_dir / "best.pt";
  record["pretrained"] = pretrain_dir.string();
  if (const auto ran = train_unless_finished(pretrain_dir, "pretraining",
                                             [&](const JobOverrides& overrides) { run_pretrain(config, overrides); })) {
    add_seconds("pretrain", *ran);
  }
  record["pretrain_summary"] = read_json(pretrain_dir / "summary.json");
  // Everything in the run directory (policies, upper bound, units) started
  // from the net its first invocation pretrained; units and policies also
  // record it themselves, for directories of an older regal.
  const std::string pretrained_digest = file_digest(outcome.pretrained);
  if (record.contains("pretrained_digest") && record.at("pretrained_digest") != pretrained_digest) {
    REGAL_FAIL(out, " was run from another pretrained net (digest ", record.at("pretrained_digest").dump(),
               " in experiment.json) than ", outcome.pretrained, " (now ", pretrained_digest, "): ",
               kPretrainedMadeAgain);
  }
  // A new run directory records it at once, so that a first invocation cut
  // off inside a policy, the upper bound or a unit is covered; one of an
  // older regal, with work in it, only once that work is checked below.
  const bool nothing_trained_here = !fs::exists(units_dir) && !fs::exists(out / "supervised") &&
                                    !fs::exists(policy_dir(out, loop::RewardMetric::kMiou)) &&
                                    !fs::exists(policy_dir(out, loop::RewardMetric::kWiou));
  if (nothing_trained_here) record["pretrained_digest"] = pretrained_digest;
  save_record();
  // Before a policy trains for hours: the net of the finished units (their
  // policies are checked after the loop) and of the work cut off inside one.
  check_units_share_inputs(finished, pretrained_digest, {}, out, outcome.pretrained);
  check_cut_off_work_shares_net(out, pretrained_digest, outcome.pretrained);

  // The query networks, one per reward metric the plan's RALis methods use:
  // a finished one in the policy cache is copied in rather than trained
  // again, and one trained here is copied to the cache.
  std::map<loop::RewardMetric, fs::path> policies;
  for (const auto reward : plan.policy_rewards()) {
    const fs::path dir = policy_dir(out, reward);
    const fs::path cached = policy_cache_dir(config, reward, pretrain_dir);
    policies[reward] = dir / "best_policy.pt";
    if (!fs::exists(dir) && fs::exists(cached / "done.json")) {
      spdlog::info("experiment: the {} policy is reused from {}", loop::to_string(reward), cached.string());
      copy_files_atomically(cached, dir);
      // The cache key holds the pretrained weights: an entry of an older regal,
      // without the digest in done.json, was trained from these all the same.
      auto done = read_json(dir / "done.json");
      if (!done.contains("pretrained")) {
        done["pretrained"] = pretrained_digest;
        write_file_atomically(dir / "done.json", done.dump(2) + "\n");
      }
    }
    if (fs::exists(dir / "done.json")) {
      const auto done = read_json(dir / "done.json");
      const std::string trained_from = policy_pretrained_digest(dir, done);
      REGAL_CHECK(trained_from.empty() || trained_from == pretrained_digest, dir,
                  " holds a policy trained from another pretrained net (digest ", trained_from, ", ",
                  outcome.pretrained.string(), " now ", pretrained_digest, "): ", kPretrainedMadeAgain);
      REGAL_CHECK(!done.contains("policy") || done.at("policy") == file_digest(dir / "best_policy.pt"), dir,
                  " holds a best_policy.pt other than the one its training finished with (done.json records ",
                  done.at("policy").dump(), "); put that one back, or remove ", dir, " to train it again");
      if (trained_from.empty()) {
        spdlog::warn("experiment: {} does not record the pretrained net it was trained from (an older regal); "
                     "reused here, but not copied to the policy cache",
                     dir.string());
      } else {
        copy_files_atomically(dir, cached);  // runs from before the cache fill it
      }
      continue;
    }
    spdlog::info("experiment: training the {} policy in {}", loop::to_string(reward), dir.string());
    const auto clock = Clock::now();
    PolicyOverrides overrides;
    overrides.out = dir;
    overrides.reward = loop::to_string(reward);
    overrides.resume = fs::exists(dir / "checkpoint" / "progress.json");
    if (request.stop_after_policy_steps > 0) overrides.stop_after_steps = request.stop_after_policy_steps;
    const auto result = run_train_policy(config, overrides);
    add_seconds("policy_" + loop::to_string(reward), seconds_since(clock));
    if (!result.finished) {
      save_record();
      outcome.units_total = static_cast<int64_t>(units.size());
      outcome.seconds = seconds_since(start);
      spdlog::info("experiment: stopped inside policy training; run the same command again to continue");
      return outcome;
    }
    write_file_atomically(dir / "done.json", nlohmann::json{{"episodes", result.episodes_done},
                                                            {"steps", result.steps_done},
                                                            {"best_episode", result.best_episode + 1},
                                                            {"best_score", result.best_score},
                                                            {"pretrained", pretrained_digest},
                                                            {"policy", file_digest(dir / "best_policy.pt")}}
                                                     .dump(2) + "\n");
    copy_files_atomically(dir, cached);
  }

  // Before more is trained: the finished units must come from these weights.
  std::map<loop::RewardMetric, std::string> policy_digests;
  for (const auto reward : {loop::RewardMetric::kMiou, loop::RewardMetric::kWiou}) {
    const fs::path policy = policy_dir(out, reward) / "best_policy.pt";
    if (fs::exists(policy)) policy_digests[reward] = file_digest(policy);
  }
  check_units_share_inputs(finished, pretrained_digest, policy_digests, out, outcome.pretrained);
  record["pretrained_digest"] = pretrained_digest;  // saved with the next record

  // The upper bound: every D_V label, from the pretrained net.
  if (config.experiment.upper_bound) {
    const fs::path dir = out / "supervised";
    RunConfig supervised = config;
    supervised.supervised.out = dir;
    if (const auto ran = train_unless_finished(dir, "training on every D_V label (the upper bound)",
                                               [&](const JobOverrides& overrides) {
                                                 run_train_supervised(supervised, overrides);
                                               })) {
      add_seconds("supervised", *ran);
    }
    record["supervised_summary"] = read_json(dir / "summary.json");
    save_record();
  }

  // The units.
  const auto unit_file = [&](const ExperimentUnit& unit) { return units_dir / (unit.id() + ".json"); };
  std::vector<std::pair<ExperimentUnit, int64_t>> remaining;
  for (const auto& unit : units) {
    if (!fs::exists(unit_file(unit))) {
      remaining.emplace_back(unit, loop::Budget::parse(unit.budget, "budget").regions(pool_regions));
    }
  }
  outcome.units_total = static_cast<int64_t>(units.size());
  outcome.units_done = outcome.units_total - static_cast<int64_t>(remaining.size());
  spdlog::info("experiment: {} units ({} methods x {} budgets x {} seeds), {} done, {} to run -> {}",
               units.size(), plan.methods.size(), plan.budgets.size(), plan.seeds.size(), outcome.units_done,
               remaining.size(), out.string());
  const nlohmann::json extra = {{"experiment", out.string()},
                                {"config", config.file.string()},
                                {"dataset", splits.d_v->dataset().info().name},
                                {"pretrained_val_miou", record["pretrain_summary"].value("best_val_miou", 0.0)},
                                {"supervised_val_miou", record.contains("supervised_summary")
                                                            ? record["supervised_summary"].at("best_val_miou")
                                                            : nlohmann::json(nullptr)}};
  UnitClock unit_clock;
  const auto units_start = Clock::now();
  while (!remaining.empty()) {
    if (request.stop_after_units > 0 && outcome.units_run >= request.stop_after_units) break;
    const auto [unit, regions] = remaining.front();
    remaining.erase(remaining.begin());
    const auto spec = method_spec(unit.method, "experiment");
    spdlog::info("experiment: unit {}/{}: {} at {} ({} regions), seed {}", outcome.units_done + 1,
                 outcome.units_total, unit.method, unit.budget, regions, unit.seed);
    EvaluateRequest evaluate;
    evaluate.method = loop::to_string(spec.method);
    evaluate.label = unit.method;
    evaluate.budget = unit.budget;
    evaluate.seed = unit.seed;
    evaluate.out = unit_file(unit);
    if (spec.policy_reward) evaluate.policy = policies.at(*spec.policy_reward);
    evaluate.prediction_images = config.experiment.gallery_images;
    evaluate.predictions_dir = units_dir / (unit.id() + ".predictions");
    evaluate.checkpoint_seconds = 60.0 * config.experiment.unit_checkpoint_minutes;
    evaluate.stop_after_steps = request.stop_after_unit_steps;
    const auto clock = Clock::now();
    const auto result = run_evaluate(config, splits, evaluate);
    const double unit_seconds = seconds_since(clock);
    add_seconds("units", unit_seconds);
    if (!result.at("finished").get<bool>()) {
      remaining.insert(remaining.begin(), {unit, regions});
      spdlog::info("experiment: stopped inside unit {} after step {}", unit.id(), result.at("steps").get<int64_t>());
      break;
    }
    unit_clock.record(unit, regions, unit_seconds);
    ++outcome.units_run;
    ++outcome.units_done;
    finished.push_back(unit_result_from_json(result, unit_file(unit).string()));
    write_results(out, finished, experiment_methods(), extra);
    record["units_done"] = outcome.units_done;
    record["units_total"] = outcome.units_total;
    save_record();
    const double eta = unit_clock.estimate(remaining);
    spdlog::info("experiment: {}/{} units done ({} val mIoU {:.2f}% in {}); {} elapsed, about {} to go",
                 outcome.units_done, outcome.units_total, unit.id(), 100.0 * result.at("val_miou").get<double>(),
                 format_duration(unit_seconds), format_duration(seconds_since(units_start)),
                 eta < 0.0 ? std::string("?") : format_duration(eta));
  }
  // Also when nothing ran (an earlier invocation finished the units): the
  // results always reflect every finished unit.
  write_results(out, finished, experiment_methods(), extra);
  outcome.finished = remaining.empty();
  record["units_done"] = outcome.units_done;
  record["units_total"] = outcome.units_total;
  record["finished"] = outcome.finished;
  save_record();
  outcome.seconds = seconds_since(start);
  if (outcome.finished) {
    spdlog::info("experiment: all {} units done in {} -> {}/results.csv", outcome.units_total,
                 format_duration(outcome.seconds), out.string());
  } else {
    spdlog::info("experiment: stopped after {} units ({} of {} done); run the same command again to continue",
                 outcome.units_run, outcome.units_done, outcome.units_total);
  }
  return outcome;
}

}  // namespace regal::experiment
