#pragma once
// The one place where YAML config files map onto Options structs. Every key
// has a default in its Options struct; an unknown key, a wrong type or an
// out-of-range value is an error naming the file, the key and the value.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "regal/data/dataset.h"
#include "regal/data/scene_generator.h"
#include "regal/loop/evaluation_run.h"
#include "regal/loop/policy_training.h"
#include "regal/train/segmentation_trainer.h"

namespace regal::experiment {

// Loads a YAML file; throws regal::Error naming the file on a parse error.
YAML::Node load_yaml(const std::filesystem::path& file);

// The `scenes:` section (config_scenes.cpp). `file` is used in messages.
data::SceneOptions scene_options_from_yaml(const YAML::Node& scenes, const std::string& file);

// `target.roles_from` and its keys: the roles D_T, D_S, D_R, D_V drawn from
// one directory split and kept in a split file (ALGORITHM.md §1; see
// experiment/role_split_file.h for when the file is drawn and read).
struct RoleSplitConfig {
  std::string roles_from;                  // the directory split, e.g. "train"
  std::map<std::string, int64_t> counts;   // role -> images; all four roles
  std::filesystem::path file;              // `split_file`
  // The config file's top-level seed, not a --seed override: evaluation runs
  // over several seeds must share one split file.
  uint64_t seed = 0;
};

// One domain's dataset: loader type, root, and split names by role
// (source: train, val; target: d_t, d_s, d_r, d_v, val).
struct DomainConfig {
  std::string type = "folder";
  std::filesystem::path root;
  // role -> directory split; the drawn roles map to role_splits->roles_from.
  std::map<std::string, std::string> splits;
  // Target only: set when the roles come from a split file.
  std::optional<RoleSplitConfig> role_splits;
  // role -> sample ids of the drawn roles, filled by ensure_role_splits.
  std::map<std::string, std::vector<std::string>> role_ids;
  // requires: role is one of the roles above, and for a drawn role that
  // ensure_role_splits has filled role_ids. ensures: a drawn role's spec
  // carries its ids. throws naming the role otherwise.
  data::DatasetSpec spec(const std::string& role) const;
};

// The four target roles drawn from the split file, in draw order.
inline const std::vector<std::string>& drawn_roles() {
  static const std::vector<std::string> roles = {"d_t", "d_s", "d_r", "d_v"};
  return roles;
}

// The segmentation net, before the class count is known.
struct ModelConfig {
  std::string backbone = "resnet18";
  int64_t fpn_channels = 128;
  double dropout = 0.0;
  std::filesystem::path backbone_weights;  // empty: random init
  nn::FpnOptions fpn_options(int num_classes) const;
};

// A supervised training job (`pretrain:` or `supervised:`).
struct TrainSection {
  std::filesystem::path out;
  train::TrainOptions options;
  // supervised only: "pretrained" starts from the pretrain run's best.pt.
  std::string init = "scratch";
};

// `policy:` (config_policy.cpp): training the query network on D_T.
struct PolicySection {
  std::filesystem::path out = "runs/policy";
  loop::PolicyTrainingOptions options;
};

// `evaluate:` (config_policy.cpp): acquisition runs on D_V. The region size
// and the segmentation training are the policy section's, so that a trained
// policy is evaluated on what it was trained for.
struct EvaluateSection {
  std::filesystem::path out = "runs/evaluate";
  int64_t groups = 256;
  // Candidates per group by method name (random, entropy, bald, ralis).
  std::map<std::string, int64_t> per_group = {{"random", 500}, {"entropy", 200}, {"bald", 200}, {"ralis", 100}};
  std::vector<std::string> budgets = {"1920"};
  int bald_passes = 20;
  int eval_batch_size = 8;
  // requires: a method known to loop::parse_method.
  // ensures: the options of one run (budget and seed still to set).
  loop::EvaluationOptions options_for(loop::Method method, const PolicySection& policy) const;
};

// `experiment:` (config_policy.cpp): the whole study of `regal experiment`,
// every method at every budget and seed (experiment/experiment_plan.h).
struct ExperimentSection {
  std::filesystem::path out = "runs/experiment";
  // Pretrained nets are kept under <pretrain_cache>/<key>, the key a hash of
  // the model and pretrain settings, the seed and the data's fingerprints, so
  // that experiments that would pretrain the same net share one.
  std::filesystem::path pretrain_cache = "runs/pretrained";
  // Finished query networks are kept under <policy_cache>/<key> (their files
  // without the resume checkpoint), the key a hash of what policy training
  // reads, so that experiments differing only in D_V, `evaluate:` or the
  // plan reuse them.
  std::filesystem::path policy_cache = "runs/policies";
  std::vector<std::string> methods = {"random", "entropy", "bald", "ralis-miou", "ralis-wiou"};
  std::vector<std::string> budgets = {"1%", "2%", "3%", "4%", "5%"};
  std::vector<uint64_t> seeds = {0, 1, 2};
  // Val images whose predictions every unit keeps for the gallery figure.
  int64_t gallery_images = 3;
  // Also train on every D_V label (the `supervised:` section, from the
  // pretrained net): the upper bound drawn in the figures and the report.
  bool upper_bound = false;
  // A unit saves the state of its labelling loop at most this often (minutes;
  // 0: after every step), so that an interrupted unit continues from there.
  double unit_checkpoint_minutes = 10.0;
};

// Reads `policy:` and `evaluate:` (either may be absent: defaults).
// throws regal::Error naming the file, the key and the value on bad input.
PolicySection policy_section_from_yaml(const YAML::Node& node, const std::string& file, uint64_t seed);
EvaluateSection evaluate_section_from_yaml(const YAML::Node& node, const std::string& file);
ExperimentSection experiment_section_from_yaml(const YAML::Node& node, const std::string& file);

// Everything a config file says, with defaults filled in.
struct RunConfig {
  std::filesystem::path file;
  uint64_t seed = 0;
  std::string device = "auto";
  int threads = 0;
  std::optional<data::SceneOptions> scenes;
  DomainConfig source;
  DomainConfig target;
  ModelConfig model;
  TrainSection pretrain;
  TrainSection supervised;
  PolicySection policy;
  EvaluateSection evaluate;
  ExperimentSection experiment;
};

// Reads and validates a whole config file.
// throws regal::Error naming the file, the key and the value on bad input.
RunConfig load_run_config(const std::filesystem::path& file);

// Refuses, before any data is read, a method the config's model cannot run:
// BALD's MC-dropout passes need model.dropout above 0.
// throws regal::Error naming the file and the key.
void check_method_runs_on_model(loop::Method method, const RunConfig& config);

}  // namespace regal::experiment
