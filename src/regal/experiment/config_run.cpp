// Maps the sections of a run config other than `scenes:` onto Options structs.
#include <set>

#include <fmt/format.h>

#include "regal/core/device.h"
#include "regal/core/error.h"
#include "regal/experiment/config.h"
#include "regal/experiment/yaml_fields.h"

namespace regal::experiment {

namespace {

using yaml_fields::check_keys;
using yaml_fields::read;
using yaml_fields::read_non_negative;
using yaml_fields::read_positive;

bool has_key(const YAML::Node& node, const std::string& key) {
  return node && node.IsMap() && node[key];
}

// `roles_from`, `role_counts` and `split_file`: the drawn roles replace their
// directory-split keys, so naming both is an error rather than a silent pick.
RoleSplitConfig read_role_splits(const YAML::Node& node, const std::string& section,
                                 const std::vector<std::string>& drawable, const std::string& file, uint64_t seed) {
  RoleSplitConfig role_splits;
  role_splits.seed = seed;
  role_splits.roles_from = read<std::string>(node, "roles_from", "", file, section);
  REGAL_CHECK(!role_splits.roles_from.empty(), file, ": '", section, ".roles_from' must name a directory split");
  std::string listed;
  for (const auto& role : drawable) {
    listed += (listed.empty() ? "" : ", ") + role;
    REGAL_CHECK(!has_key(node, role), file, ": '", section, ".", role, "' names a directory split, but '", section,
                ".roles_from' draws ", role, " from '", role_splits.roles_from, "' into the split file; remove '",
                section, ".", role, "'");
  }

  const std::string counts_section = section + ".role_counts";
  REGAL_CHECK(has_key(node, "role_counts"), file, ": '", counts_section, "' is required with '", section,
              ".roles_from': the number of images of each of ", listed);
  const YAML::Node counts = node["role_counts"];
  REGAL_CHECK(counts.IsMap(), file, ": '", counts_section, "' must be a mapping {", listed, "} of image counts");
  check_keys(counts, std::set<std::string>(drawable.begin(), drawable.end()), file, counts_section);
  for (const auto& role : drawable) {
    REGAL_CHECK(counts[role], file, ": '", counts_section, ".", role,
                "' is missing: give the image count of every one of ", listed);
    role_splits.counts[role] = yaml_fields::read_positive<int64_t>(counts, role, 0, file, counts_section);
  }

  REGAL_CHECK(has_key(node, "split_file"), file, ": '", section, ".split_file' is required with '", section,
              ".roles_from': the JSON file that keeps the drawn ids (e.g. runs/<name>/splits.json)");
  role_splits.file = read<std::string>(node, "split_file", "", file, section);
  REGAL_CHECK(!role_splits.file.empty(), file, ": '", section, ".split_file' must not be empty");
  return role_splits;
}

// `drawable`: the roles that `roles_from` may draw (target only; empty for the
// source, which then rejects the split-file keys as unknown).
DomainConfig read_domain(const YAML::Node& node, const std::string& section, const std::vector<std::string>& roles,
                         const std::vector<std::string>& drawable, const std::string& file, uint64_t seed) {
  std::set<std::string> allowed = {"type", "root"};
  allowed.insert(roles.begin(), roles.end());
  if (!drawable.empty()) allowed.insert({"roles_from", "role_counts", "split_file"});
  check_keys(node, allowed, file, section);
  DomainConfig domain;
  domain.type = read<std::string>(node, "type", "folder", file, section);
  domain.root = read<std::string>(node, "root", "", file, section);
  for (const auto& role : roles) {
    domain.splits[role] = read<std::string>(node, role, role, file, section);
  }
  if (has_key(node, "roles_from")) {
    domain.role_splits = read_role_splits(node, section, drawable, file, seed);
    for (const auto& role : drawable) domain.splits[role] = domain.role_splits->roles_from;
    // Scoring on images the roles were drawn from would score on training data.
    const auto val = domain.splits.find("val");
    REGAL_CHECK(val == domain.splits.end() || val->second != domain.role_splits->roles_from, file, ": '", section,
                ".val' is '", val->second, "', the split the roles are drawn from ('", section,
                ".roles_from'); score on another split");
  } else {
    for (const char* key : {"role_counts", "split_file"}) {
      REGAL_CHECK(!has_key(node, key), file, ": '", section, ".", key, "' needs '", section,
                  ".roles_from' (the directory split the roles are drawn from)");
    }
  }
  return domain;
}

TrainSection read_train(const YAML::Node& node, const std::string& section, const std::string& file,
                        uint64_t seed, bool allow_init) {
  std::set<std::string> allowed = {"out",       "epochs", "batch_size", "lr", "optimizer",         "lr_decay",
                                   "momentum",  "weight_decay",  "grad_clip", "crop", "flip",
                                   "patience",  "eval_batch_size", "cache_images"};
  if (allow_init) allowed.insert("init");
  check_keys(node, allowed, file, section);
  TrainSection train;
  train.out = read<std::string>(node, "out", "runs/" + section, file, section);
  auto& o = train.options;
  o.epochs(read<int>(node, "epochs", o.epochs(), file, section));
  o.batch_size(read<int>(node, "batch_size", o.batch_size(), file, section));
  o.lr(read<double>(node, "lr", o.lr(), file, section));
  o.optimizer(read<std::string>(node, "optimizer", o.optimizer(), file, section));
  REGAL_CHECK(o.optimizer() == "sgd" || o.optimizer() == "adam", file, ": '", section, ".optimizer' is '",
              o.optimizer(), "', expected sgd or adam");
  o.lr_decay(read_positive<double>(node, "lr_decay", o.lr_decay(), file, section));
  o.momentum(read_non_negative<double>(node, "momentum", o.momentum(), file, section));
  o.weight_decay(read_non_negative<double>(node, "weight_decay", o.weight_decay(), file, section));
  o.grad_clip(read_non_negative<double>(node, "grad_clip", o.grad_clip(), file, section));
  const auto crop = yaml_fields::read_size(node, "crop", {o.crop_height(), o.crop_width()}, file, section);
  o.crop_height(crop.first).crop_width(crop.second);
  o.flip(read<bool>(node, "flip", o.flip(), file, section));
  o.patience(read_non_negative<int>(node, "patience", o.patience(), file, section));
  o.eval_batch_size(read_positive<int>(node, "eval_batch_size", o.eval_batch_size(), file, section));
  o.cache_images(read<bool>(node, "cache_images", o.cache_images(), file, section));
  o.seed(seed);
  REGAL_CHECK(o.epochs() > 0, file, ": '", section, ".epochs' must be positive, got ", o.epochs());
  REGAL_CHECK(o.batch_size() > 0, file, ": '", section, ".batch_size' must be positive, got ", o.batch_size());
  REGAL_CHECK(o.lr() > 0, file, ": '", section, ".lr' must be positive, got ", o.lr());
  if (allow_init) {
    train.init = read<std::string>(node, "init", "pretrained", file, section);
    REGAL_CHECK(train.init == "pretrained" || train.init == "scratch", file, ": '", section, ".init' is '",
                train.init, "', expected pretrained or scratch");
  }
  return train;
}

}  // namespace

data::DatasetSpec DomainConfig::spec(const std::string& role) const {
  const auto it = splits.find(role);
  REGAL_CHECK(it != splits.end(), "no split configured for role '", role, "' of dataset ", root);
  data::DatasetSpec spec{type, root, it->second};
  if (role_splits && role_splits->counts.count(role) > 0) {
    // Opening the whole of roles_from instead would train or evaluate on the
    // wrong images without a word, so a missing ensure_role_splits is an error.
    const auto ids = role_ids.find(role);
    REGAL_CHECK(ids != role_ids.end(), "role '", role, "' of dataset ", root, " comes from the split file ",
                role_splits->file, ", which has not been read (call ensure_role_splits first)");
    spec.ids = ids->second;
  }
  return spec;
}

void check_method_runs_on_model(loop::Method method, const RunConfig& config) {
  REGAL_CHECK(method != loop::Method::kBald || config.model.dropout > 0.0, config.file.string(),
              ": 'model.dropout' is 0, and bald samples its passes from the dropout masks; set it above 0 (the paper "
              "configs use 0.5) or leave bald out");
}

nn::FpnOptions ModelConfig::fpn_options(int num_classes) const {
  return nn::FpnOptions(num_classes)
      .backbone(nn::parse_backbone(backbone))
      .fpn_channels(fpn_channels)
      .dropout(dropout);
}

RunConfig load_run_config(const std::filesystem::path& file_path) {
  const std::string file = file_path.string();
  const YAML::Node root = load_yaml(file_path);
  check_keys(root, {"seed", "device", "threads", "scenes", "source", "target", "model", "pretrain", "supervised",
                    "policy", "evaluate", "experiment"},
             file, "(top level)");
  RunConfig config;
  config.file = file_path;
  config.seed = read<uint64_t>(root, "seed", 0, file, "(top level)");
  config.device = read<std::string>(root, "device", "auto", file, "(top level)");
  try {
    check_device_name(config.device);
  } catch (const Error& e) {
    REGAL_FAIL(file, ": 'device': ", e.what());
  }
  config.threads = read_non_negative<int>(root, "threads", 0, file, "(top level)");  // 0: every CPU (set_thread_count)
  if (root["scenes"]) {
    config.scenes = scene_options_from_yaml(root["scenes"], file);
  }
  REGAL_CHECK(root["source"] && root["target"], file, ": needs 'source' and 'target' dataset sections");
  config.source = read_domain(root["source"], "source", {"train", "val"}, {}, file, config.seed);
  config.target = read_domain(root["target"], "target", {"d_t", "d_s", "d_r", "d_v", "val"}, drawn_roles(), file,
                              config.seed);

  const YAML::Node model = root["model"];
  check_keys(model, {"backbone", "fpn_channels", "dropout", "backbone_weights"}, file, "model");
  config.model.backbone = read<std::string>(model, "backbone", config.model.backbone, file, "model");
  config.model.fpn_channels = read_positive<int64_t>(model, "fpn_channels", config.model.fpn_channels, file, "model");
  config.model.dropout = read<double>(model, "dropout", config.model.dropout, file, "model");
  config.model.backbone_weights = read<std::string>(model, "backbone_weights", "", file, "model");
  REGAL_CHECK(config.model.dropout >= 0.0 && config.model.dropout < 1.0, file, ": 'model.dropout' is ",
              config.model.dropout, ", expected a value in [0, 1)");
  try {
    nn::parse_backbone(config.model.backbone);
  } catch (const Error& e) {
    REGAL_FAIL(file, ": 'model.backbone': ", e.what());
  }

  config.pretrain = read_train(root["pretrain"], "pretrain", file, config.seed, false);
  config.supervised = read_train(root["supervised"], "supervised", file, config.seed, true);
  config.policy = policy_section_from_yaml(root["policy"], file, config.seed);
  config.evaluate = evaluate_section_from_yaml(root["evaluate"], file);
  config.experiment = experiment_section_from_yaml(root["experiment"], file);
  return config;
}

}  // namespace regal::experiment
