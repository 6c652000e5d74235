// Maps the sections of a run config other than `scenes:` onto Options structs.
#include <set>

#include <fmt/format.h>

#include "regal/core/error.h"
#include "regal/experiment/config.h"
#include "regal/experiment/yaml_fields.h"

namespace regal::experiment {

namespace {

using yaml_fields::check_keys;
using yaml_fields::read;

DomainConfig read_domain(const YAML::Node& node, const std::string& section, const std::vector<std::string>& roles,
                         const std::string& file) {
  std::set<std::string> allowed = {"type", "root"};
  allowed.insert(roles.begin(), roles.end());
  check_keys(node, allowed, file, section);
  DomainConfig domain;
  domain.type = read<std::string>(node, "type", "folder", file, section);
  domain.root = read<std::string>(node, "root", "", file, section);
  for (const auto& role : roles) {
    domain.splits[role] = read<std::string>(node, role, role, file, section);
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
  o.lr_decay(read<double>(node, "lr_decay", o.lr_decay(), file, section));
  o.momentum(read<double>(node, "momentum", o.momentum(), file, section));
  o.weight_decay(read<double>(node, "weight_decay", o.weight_decay(), file, section));
  o.grad_clip(read<double>(node, "grad_clip", o.grad_clip(), file, section));
  const auto crop = yaml_fields::read_size(node, "crop", {o.crop_height(), o.crop_width()}, file, section);
  o.crop_height(crop.first).crop_width(crop.second);
  o.flip(read<bool>(node, "flip", o.flip(), file, section));
  o.patience(read<int>(node, "patience", o.patience(), file, section));
  o.eval_batch_size(read<int>(node, "eval_batch_size", o.eval_batch_size(), file, section));
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
  return data::DatasetSpec{type, root, it->second};
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
  config.threads = read<int>(root, "threads", 0, file, "(top level)");
  if (root["scenes"]) {
    config.scenes = scene_options_from_yaml(root["scenes"], file);
  }
  REGAL_CHECK(root["source"] && root["target"], file, ": needs 'source' and 'target' dataset sections");
  config.source = read_domain(root["source"], "source", {"train", "val"}, file);
  config.target = read_domain(root["target"], "target", {"d_t", "d_s", "d_r", "d_v", "val"}, file);

  const YAML::Node model = root["model"];
  check_keys(model, {"backbone", "fpn_channels", "dropout", "backbone_weights"}, file, "model");
  config.model.backbone = read<std::string>(model, "backbone", config.model.backbone, file, "model");
  config.model.fpn_channels = read<int64_t>(model, "fpn_channels", config.model.fpn_channels, file, "model");
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
  return config;
}

}  // namespace regal::experiment
