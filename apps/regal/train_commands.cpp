// `regal pretrain` and `regal train-supervised`: parse, then call the library.
#include <CLI/CLI.hpp>

#include "commands.h"
#include "option_checks.h"
#include "regal/experiment/config.h"
#include "regal/experiment/supervised_jobs.h"

namespace regal::app {

namespace {

struct TrainCommandArgs {
  std::string config = "configs/scenes-quick.yaml";
  std::string device;
  int threads = 0;
  int epochs = 0;
  int64_t seed = -1;
  std::string out;
  bool resume = false;
};

void add_common_options(CLI::App& command, TrainCommandArgs& args) {
  command.add_option("--config", args.config, "YAML config")->check(CLI::ExistingFile)->capture_default_str();
  add_device_options(command, args.device, args.threads);
  command.add_option("--epochs", args.epochs, "override the section's epochs")->check(at_least_one());
  command.add_option("--seed", args.seed, "override the config's seed")->check(seed_range());
  command.add_option("--out", args.out, "run directory (default: the section's 'out')");
  command.add_flag("--resume", args.resume, "continue the run in the output directory from last.pt");
}

experiment::JobOverrides to_overrides(const TrainCommandArgs& args) {
  experiment::JobOverrides overrides;
  if (!args.device.empty()) overrides.device = args.device;
  if (args.threads > 0) overrides.threads = args.threads;
  if (args.epochs > 0) overrides.epochs = args.epochs;
  if (args.seed >= 0) overrides.seed = static_cast<uint64_t>(args.seed);
  if (!args.out.empty()) overrides.out = args.out;
  overrides.resume = args.resume;
  return overrides;
}

}  // namespace

void add_pretrain(CLI::App& app) {
  auto args = std::make_shared<TrainCommandArgs>();
  auto* command = app.add_subcommand(
      "pretrain", "train the segmentation net on the source domain, evaluated on target val every epoch");
  add_common_options(*command, *args);
  command->callback([args] {
    const auto config = experiment::load_run_config(args->config);
    experiment::run_pretrain(config, to_overrides(*args));
  });
}

void add_train_supervised(CLI::App& app) {
  auto args = std::make_shared<TrainCommandArgs>();
  auto* command = app.add_subcommand(
      "train-supervised", "train on all target D_V labels: the fully supervised upper bound");
  add_common_options(*command, *args);
  command->callback([args] {
    const auto config = experiment::load_run_config(args->config);
    experiment::run_train_supervised(config, to_overrides(*args));
  });
}

}  // namespace regal::app
