// `regal train-policy`: parse, then call the library.
#include <CLI/CLI.hpp>

#include "commands.h"
#include "option_checks.h"
#include "regal/experiment/active_jobs.h"
#include "regal/experiment/config.h"

namespace regal::app {

namespace {

struct TrainPolicyArgs {
  std::string config = "configs/scenes-quick.yaml";
  std::string reward;
  std::string out;
  bool resume = false;
  int episodes = 0;
  int64_t seed = -1;
  std::string device;
  int threads = 0;
  int64_t steps = 0;
};

}  // namespace

void add_train_policy(CLI::App& app) {
  auto args = std::make_shared<TrainPolicyArgs>();
  auto* command = app.add_subcommand(
      "train-policy", "train the query network (RALis) with episodes of region labelling on D_T");
  command->add_option("--config", args->config, "YAML config")->check(CLI::ExistingFile)->capture_default_str();
  command->add_option("--reward", args->reward, "reward metric: miou | wiou (default: policy.reward)")
      ->check(CLI::IsMember({"miou", "wiou"}));
  command->add_option("--out", args->out, "run directory (default: policy.out)");
  command->add_flag("--resume", args->resume, "continue the run in the output directory");
  command->add_option("--episodes", args->episodes, "override policy.episodes")->check(at_least_one());
  command->add_option("--seed", args->seed, "override the config's seed")->check(seed_range());
  add_device_options(*command, args->device, args->threads);
  command->add_option("--steps", args->steps, "stop after this many labelling steps (resumable with --resume)")
      ->check(at_least_one());
  command->callback([args] {
    const auto config = experiment::load_run_config(args->config);
    experiment::PolicyOverrides overrides;
    if (!args->device.empty()) overrides.device = args->device;
    if (args->threads > 0) overrides.threads = args->threads;
    if (args->seed >= 0) overrides.seed = static_cast<uint64_t>(args->seed);
    if (!args->out.empty()) overrides.out = args->out;
    if (args->episodes > 0) overrides.episodes = args->episodes;
    if (!args->reward.empty()) overrides.reward = args->reward;
    if (args->steps > 0) overrides.stop_after_steps = args->steps;
    overrides.resume = args->resume;
    experiment::run_train_policy(config, overrides);
  });
}

}  // namespace regal::app
