// `regal experiment` and `regal report`: parse, then call the library.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "option_checks.h"
#include "regal/experiment/config.h"
#include "regal/experiment/experiment_plan.h"
#include "regal/experiment/experiment_run.h"
#include "regal/report/html_report.h"

namespace regal::app {

namespace {

struct ExperimentArgs {
  std::string config = "configs/scenes-quick.yaml";
  std::string out;
  std::string methods;
  std::string budgets;
  std::string seeds;
  std::string device;
  int threads = 0;
  int64_t stop_after_units = 0;
  bool no_report = false;
};

}  // namespace

void add_experiment(CLI::App& app) {
  auto args = std::make_shared<ExperimentArgs>();
  auto* command = app.add_subcommand(
      "experiment",
      "the whole study: pretraining, both RALis policies, every method x budget x seed, results, figures, report; "
      "run it again to continue an interrupted run");
  command->add_option("--config", args->config, "YAML config")->check(CLI::ExistingFile)->capture_default_str();
  command->add_option("--out", args->out, "run directory (default: experiment.out)");
  command->add_option("--methods", args->methods,
                      "comma-separated subset of random,entropy,bald,ralis-miou,ralis-wiou (default: experiment.methods)");
  command->add_option("--budgets", args->budgets, "comma-separated budgets, e.g. 1%,3% or 64,128 (default: experiment.budgets)");
  command->add_option("--seeds", args->seeds, "comma-separated seeds, e.g. 0,1,2 (default: experiment.seeds)");
  add_device_options(*command, args->device, args->threads);
  command->add_option("--stop-after-units", args->stop_after_units,
                      "stop after this many units of this invocation (continue by running the command again)")
      ->check(at_least_one());
  command->add_flag("--no-report", args->no_report, "skip the figures and report.html");
  command->callback([args] {
    const auto config = experiment::load_run_config(args->config);
    experiment::ExperimentRequest request;
    if (!args->out.empty()) request.out = args->out;
    if (!args->methods.empty()) request.methods = experiment::split_list(args->methods, "--methods");
    if (!args->budgets.empty()) request.budgets = experiment::split_list(args->budgets, "--budgets");
    if (!args->seeds.empty()) request.seeds = experiment::parse_seed_list(args->seeds, "--seeds");
    if (!args->device.empty()) request.device = args->device;
    if (args->threads > 0) request.threads = args->threads;
    request.stop_after_units = args->stop_after_units;
    const auto outcome = experiment::run_experiment(config, request);
    if (!args->no_report && outcome.units_done > 0) {
      const auto report = report::write_figures_and_report(outcome.out);
      spdlog::info("report: {}", report.string());
    }
  });
}

void add_report(CLI::App& app) {
  auto run_dir = std::make_shared<std::string>();
  auto* command = app.add_subcommand("report", "draw the figures of an experiment run and write its report.html");
  command->add_option("run_dir", *run_dir, "experiment run directory")->required()->check(CLI::ExistingDirectory);
  command->callback([run_dir] {
    const auto report = report::write_figures_and_report(*run_dir);
    spdlog::info("report: {}", report.string());
  });
}

}  // namespace regal::app
