// `regal evaluate`: parse, then call the library.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "option_checks.h"
#include "regal/experiment/active_jobs.h"
#include "regal/experiment/config.h"

namespace regal::app {

namespace {

struct EvaluateArgs {
  std::string config = "configs/scenes-quick.yaml";
  std::string method;
  std::string policy;
  std::string budget;
  int64_t seed = -1;
  std::string out;
  std::string device;
  int threads = 0;
};

}  // namespace

void add_evaluate(CLI::App& app) {
  auto args = std::make_shared<EvaluateArgs>();
  auto* command = app.add_subcommand(
      "evaluate",
      fmt::format("acquire regions of D_V with one method, train on them, score on val (JSON results); run it again "
                  "with the same arguments to continue an interrupted run (a checkpoint every {:g} minutes, next to "
                  "the results)",
                  experiment::EvaluateRequest{}.checkpoint_seconds / 60.0));
  command->add_option("--config", args->config, "YAML config")->check(CLI::ExistingFile)->capture_default_str();
  command->add_option("--method", args->method, "random | entropy | bald | ralis")
      ->required()
      ->check(CLI::IsMember({"random", "entropy", "bald", "ralis"}));
  command->add_option("--policy", args->policy, "trained policy for ralis (default: <policy.out>/best_policy.pt)")
      ->check(CLI::ExistingFile);
  command->add_option("--budget", args->budget, "regions to label: a count or a percentage of D_V, e.g. 3% "
                                                "(default: the first of evaluate.budgets)");
  command->add_option("--seed", args->seed, "override the config's seed")->check(seed_range());
  command->add_option("--out", args->out, "results JSON (default: <evaluate.out>/<method>-<budget>-seed<S>.json)");
  add_device_options(*command, args->device, args->threads);
  command->callback([args] {
    const auto config = experiment::load_run_config(args->config);
    experiment::EvaluateRequest request;
    request.method = args->method;
    request.budget = args->budget;
    if (!args->policy.empty()) request.policy = args->policy;
    if (args->seed >= 0) request.seed = static_cast<uint64_t>(args->seed);
    if (!args->out.empty()) request.out = args->out;
    if (!args->device.empty()) request.device = args->device;
    if (args->threads > 0) request.threads = args->threads;
    experiment::run_evaluate(config, request);
  });
}

}  // namespace regal::app
