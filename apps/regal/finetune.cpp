// `regal finetune`: parse, then call the library.
#include <CLI/CLI.hpp>

#include "commands.h"
#include "option_checks.h"
#include "regal/experiment/active_jobs.h"
#include "regal/experiment/config.h"

namespace regal::app {

namespace {

struct FinetuneArgs {
  std::string config = "configs/scenes-quick.yaml";
  std::string images;
  std::string labels;
  std::string selection;
  std::string net;
  std::string out = "runs/finetune";
  int64_t seed = -1;
  std::string device;
  int threads = 0;
};

}  // namespace

void add_finetune(CLI::App& app) {
  auto args = std::make_shared<FinetuneArgs>();
  auto* command = app.add_subcommand(
      "finetune",
      "train the net on the regions you annotated after `regal select` (every round its selection.json records), "
      "stopping early on D_R; writes best.pt for the next round's `select --net`");
  command->add_option("--config", args->config, "YAML config (classes, D_R, region size, training options)")
      ->check(CLI::ExistingFile)
      ->capture_default_str();
  command->add_option("--images", args->images, "the directory the regions were selected in")
      ->required()
      ->check(CLI::ExistingDirectory);
  command->add_option("--labels", args->labels,
                      "directory of label PNGs named like the images (<stem>.png; grey train ids, 255 = unknown, or "
                      "the palette's colours, black = unknown); only the pixels of the selected regions are used")
      ->required()
      ->check(CLI::ExistingDirectory);
  command->add_option("--selection", args->selection, "selection.json of the last `regal select` round")
      ->required()
      ->check(CLI::ExistingFile);
  command
      ->add_option("--net", args->net,
                   "segmentation checkpoint to start from (default: the one the selection was made with, else "
                   "<pretrain.out>/best.pt)")
      ->check(CLI::ExistingFile);
  command->add_option("--out", args->out, "output directory")->capture_default_str();
  command->add_option("--seed", args->seed, "override the config's seed")->check(seed_range());
  add_device_options(*command, args->device, args->threads);
  command->callback([args] {
    const auto config = experiment::load_run_config(args->config);
    experiment::FinetuneRequest request;
    request.images = args->images;
    request.labels = args->labels;
    request.selection = args->selection;
    if (!args->net.empty()) request.net = args->net;
    request.out = args->out;
    if (args->seed >= 0) request.seed = static_cast<uint64_t>(args->seed);
    if (!args->device.empty()) request.device = args->device;
    if (args->threads > 0) request.threads = args->threads;
    experiment::run_finetune(config, request);
  });
}

}  // namespace regal::app
