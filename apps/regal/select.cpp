// `regal select`: parse, then call the library.
#include <CLI/CLI.hpp>

#include "commands.h"
#include "option_checks.h"
#include "regal/experiment/active_jobs.h"
#include "regal/experiment/config.h"

namespace regal::app {

namespace {

struct SelectArgs {
  std::string config = "configs/scenes-quick.yaml";
  std::string images;
  std::string method = "ralis";
  std::string policy;
  std::string net;
  int64_t regions = 0;
  std::string exclude;
  std::string out = "runs/select";
  int64_t seed = -1;
  std::string device;
  int threads = 0;
};

}  // namespace

void add_select(CLI::App& app) {
  auto args = std::make_shared<SelectArgs>();
  auto* command = app.add_subcommand(
      "select",
      "choose the regions of your own unlabelled images to annotate, with a trained policy or a baseline: writes "
      "selection.json, selection.csv and the images with the chosen regions outlined");
  command->add_option("--config", args->config, "YAML config (classes, state set D_S, region size, K, N)")
      ->check(CLI::ExistingFile)
      ->capture_default_str();
  command->add_option("--images", args->images, "directory of unlabelled images (all of one size)")
      ->required()
      ->check(CLI::ExistingDirectory);
  command->add_option("--method", args->method, "ralis | entropy | bald | random")
      ->check(CLI::IsMember({"random", "entropy", "bald", "ralis"}))
      ->capture_default_str();
  command->add_option("--policy", args->policy, "trained policy for ralis (default: <policy.out>/best_policy.pt)")
      ->check(CLI::ExistingFile);
  command->add_option("--net", args->net, "segmentation checkpoint (default: <pretrain.out>/best.pt)")
      ->check(CLI::ExistingFile);
  command->add_option("--regions", args->regions, "how many regions to choose (default: evaluate.groups)")
      ->check(at_least_one());
  command->add_option("--exclude", args->exclude, "selection.json of an earlier round: its regions are not chosen again")
      ->check(CLI::ExistingFile);
  command->add_option("--out", args->out, "output directory")->capture_default_str();
  command->add_option("--seed", args->seed, "override the config's seed")->check(seed_range());
  add_device_options(*command, args->device, args->threads);
  command->callback([args] {
    const auto config = experiment::load_run_config(args->config);
    experiment::SelectRequest request;
    request.images = args->images;
    request.method = args->method;
    if (!args->policy.empty()) request.policy = args->policy;
    if (!args->net.empty()) request.net = args->net;
    if (args->regions > 0) request.regions = args->regions;
    if (!args->exclude.empty()) request.exclude = args->exclude;
    request.out = args->out;
    if (args->seed >= 0) request.seed = static_cast<uint64_t>(args->seed);
    if (!args->device.empty()) request.device = args->device;
    if (args->threads > 0) request.threads = args->threads;
    experiment::run_select(config, request);
  });
}

}  // namespace regal::app
