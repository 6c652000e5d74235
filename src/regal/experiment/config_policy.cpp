// Maps the `policy:` and `evaluate:` sections of a run config onto
// loop::PolicyTrainingOptions and loop::EvaluationOptions.
#include <set>

#include "regal/core/error.h"
#include "regal/experiment/config.h"
#include "regal/experiment/experiment_plan.h"
#include "regal/experiment/yaml_fields.h"

namespace regal::experiment {

namespace {

using yaml_fields::check_keys;
using yaml_fields::read;
using yaml_fields::read_non_negative;
using yaml_fields::read_positive;

rl::DqnOptions read_dqn(const YAML::Node& node, const std::string& file) {
  const std::string section = "policy.dqn";
  check_keys(node,
             {"batch_size", "lr", "gamma", "momentum", "weight_decay", "lr_decay", "target_sync_every",
              "epsilon_start", "epsilon_end", "epsilon_decay"},
             file, section);
  rl::DqnOptions o;
  o.batch_size(read<int64_t>(node, "batch_size", o.batch_size(), file, section));
  REGAL_CHECK(o.batch_size() >= 2, file, ": '", section, ".batch_size' must be >= 2 (BatchNorm), got ",
              o.batch_size());
  o.lr(read_positive<double>(node, "lr", o.lr(), file, section));
  o.gamma(read<double>(node, "gamma", o.gamma(), file, section));
  REGAL_CHECK(o.gamma() >= 0 && o.gamma() <= 1, file, ": '", section, ".gamma' must be in [0, 1], got ", o.gamma());
  o.momentum(read_non_negative<double>(node, "momentum", o.momentum(), file, section));
  o.weight_decay(read_non_negative<double>(node, "weight_decay", o.weight_decay(), file, section));
  o.lr_decay(read_positive<double>(node, "lr_decay", o.lr_decay(), file, section));
  o.target_sync_every(read_positive<int64_t>(node, "target_sync_every", o.target_sync_every(), file, section));
  // Exploration: epsilon(t) = end + (start - end) * exp(-t / decay), t = steps over all episodes.
  o.epsilon_start(read_non_negative<double>(node, "epsilon_start", o.epsilon_start(), file, section));
  REGAL_CHECK(o.epsilon_start() <= 1, file, ": '", section, ".epsilon_start' must be in [0, 1], got ",
              o.epsilon_start());
  o.epsilon_end(read_non_negative<double>(node, "epsilon_end", o.epsilon_end(), file, section));
  REGAL_CHECK(o.epsilon_end() <= 1, file, ": '", section, ".epsilon_end' must be in [0, 1], got ", o.epsilon_end());
  o.epsilon_decay(read_positive<double>(node, "epsilon_decay", o.epsilon_decay(), file, section));
  return o;
}

loop::RegionTrainOptions read_segmentation(const YAML::Node& node, const std::string& file) {
  const std::string section = "policy.segmentation";
  check_keys(node,
             {"lr", "momentum", "weight_decay", "grad_clip", "crop", "batch_size", "max_epochs", "patience"},
             file, section);
  loop::RegionTrainOptions o;
  o.lr(read_positive<double>(node, "lr", o.lr(), file, section));
  o.momentum(read_non_negative<double>(node, "momentum", o.momentum(), file, section));
  o.weight_decay(read_non_negative<double>(node, "weight_decay", o.weight_decay(), file, section));
  o.grad_clip(read_non_negative<double>(node, "grad_clip", o.grad_clip(), file, section));
  const auto crop = yaml_fields::read_size(node, "crop", {o.crop_height(), o.crop_width()}, file, section);
  o.crop_height(crop.first).crop_width(crop.second);
  o.batch_size(read_positive<int64_t>(node, "batch_size", o.batch_size(), file, section));
  o.max_epochs(read_positive<int>(node, "max_epochs", o.max_epochs(), file, section));
  o.patience(read_non_negative<int>(node, "patience", o.patience(), file, section));
  return o;
}

}  // namespace

PolicySection policy_section_from_yaml(const YAML::Node& node, const std::string& file, uint64_t seed) {
  const std::string section = "policy";
  check_keys(node,
             {"out", "region", "groups", "per_group", "budget", "episodes", "buffer_capacity", "reward",
              "eval_batch_size", "dqn", "segmentation"},
             file, section);
  PolicySection policy;
  auto& o = policy.options;
  policy.out = read<std::string>(node, "out", policy.out.string(), file, section);
  const auto region = yaml_fields::read_size(node, "region", {o.region().height, o.region().width}, file, section);
  try {
    al::check_region_size({region.first, region.second});
  } catch (const Error& e) {
    REGAL_FAIL(file, ": 'policy.region': ", e.what());
  }
  o.region({region.first, region.second});
  o.groups(read_positive<int64_t>(node, "groups", o.groups(), file, section));
  o.per_group(read_positive<int64_t>(node, "per_group", o.per_group(), file, section));
  o.budget(loop::Budget::parse(read<std::string>(node, "budget", o.budget().to_string(), file, section),
                               file + ": 'policy.budget'"));
  o.episodes(read_positive<int>(node, "episodes", o.episodes(), file, section));
  o.buffer_capacity(read_positive<int64_t>(node, "buffer_capacity", o.buffer_capacity(), file, section));
  o.reward(loop::parse_reward_metric(read<std::string>(node, "reward", "miou", file, section),
                                     file + ": 'policy.reward'"));
  o.eval_batch_size(read_positive<int>(node, "eval_batch_size", o.eval_batch_size(), file, section));
  const bool present = node && !node.IsNull();
  o.dqn(read_dqn(present ? node["dqn"] : YAML::Node(), file));
  o.segmentation(read_segmentation(present ? node["segmentation"] : YAML::Node(), file));
  // A buffer smaller than a DQN batch never allows an update: the run would
  // end with the untrained policy as best_policy.pt.
  REGAL_CHECK(o.buffer_capacity() >= o.dqn().batch_size(), file, ": 'policy.buffer_capacity' (",
              o.buffer_capacity(), ") is smaller than 'policy.dqn.batch_size' (", o.dqn().batch_size(),
              "): the query network would never be updated");
  o.seed(seed);
  return policy;
}

EvaluateSection evaluate_section_from_yaml(const YAML::Node& node, const std::string& file) {
  const std::string section = "evaluate";
  check_keys(node, {"out", "groups", "per_group", "budgets", "bald_passes", "eval_batch_size"}, file, section);
  EvaluateSection evaluate;
  evaluate.out = read<std::string>(node, "out", evaluate.out.string(), file, section);
  evaluate.groups = read_positive<int64_t>(node, "groups", evaluate.groups, file, section);
  if (node && !node.IsNull() && node["per_group"]) {
    check_keys(node["per_group"], {"random", "entropy", "bald", "ralis"}, file, "evaluate.per_group");
    for (auto& [method, count] : evaluate.per_group) {
      count = read_positive<int64_t>(node["per_group"], method, count, file, "evaluate.per_group");
    }
  }
  evaluate.budgets = read<std::vector<std::string>>(node, "budgets", evaluate.budgets, file, section);
  REGAL_CHECK(!evaluate.budgets.empty(), file, ": 'evaluate.budgets' must list at least one budget");
  for (const auto& budget : evaluate.budgets) loop::Budget::parse(budget, file + ": 'evaluate.budgets'");
  evaluate.bald_passes = read_positive<int>(node, "bald_passes", evaluate.bald_passes, file, section);
  evaluate.eval_batch_size = read_positive<int>(node, "eval_batch_size", evaluate.eval_batch_size, file, section);
  return evaluate;
}

ExperimentSection experiment_section_from_yaml(const YAML::Node& node, const std::string& file) {
  const std::string section = "experiment";
  check_keys(node, {"out", "pretrain_cache", "policy_cache", "methods", "budgets", "seeds", "gallery_images", "upper_bound",
                    "unit_checkpoint_minutes"}, file,
             section);
  ExperimentSection experiment;
  experiment.out = read<std::string>(node, "out", experiment.out.string(), file, section);
  experiment.pretrain_cache = read<std::string>(node, "pretrain_cache", experiment.pretrain_cache.string(), file,
                                                section);
  experiment.policy_cache = read<std::string>(node, "policy_cache", experiment.policy_cache.string(), file, section);
  experiment.methods = read<std::vector<std::string>>(node, "methods", experiment.methods, file, section);
  experiment.budgets = read<std::vector<std::string>>(node, "budgets", experiment.budgets, file, section);
  experiment.seeds = read<std::vector<uint64_t>>(node, "seeds", experiment.seeds, file, section);
  experiment.gallery_images = read<int64_t>(node, "gallery_images", experiment.gallery_images, file, section);
  experiment.upper_bound = read<bool>(node, "upper_bound", experiment.upper_bound, file, section);
  experiment.unit_checkpoint_minutes =
      read<double>(node, "unit_checkpoint_minutes", experiment.unit_checkpoint_minutes, file, section);
  REGAL_CHECK(experiment.unit_checkpoint_minutes >= 0.0, file,
              ": 'experiment.unit_checkpoint_minutes' must be >= 0, got ", experiment.unit_checkpoint_minutes);
  REGAL_CHECK(experiment.gallery_images >= 0, file, ": 'experiment.gallery_images' must be >= 0, got ",
              experiment.gallery_images);
  ExperimentPlan{experiment.methods, experiment.budgets, experiment.seeds}.validate(file + ": 'experiment'");
  return experiment;
}

loop::EvaluationOptions EvaluateSection::options_for(loop::Method method, const PolicySection& policy) const {
  return loop::EvaluationOptions()
      .method(method)
      .region(policy.options.region())
      .groups(groups)
      .per_group(per_group.at(loop::to_string(method)))
      .bald_passes(bald_passes)
      .segmentation(policy.options.segmentation())
      .eval_batch_size(eval_batch_size);
}

}  // namespace regal::experiment
