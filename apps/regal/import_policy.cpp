// `regal import-policy`: parse, then call the library.
#include <CLI/CLI.hpp>

#include "commands.h"
#include "regal/experiment/config.h"
#include "regal/experiment/policy_import.h"
#include "regal/rl/reference_policy.h"

namespace regal::app {

namespace {

struct ImportPolicyArgs {
  std::string config = "configs/scenes-quick.yaml";
  std::string from;
  std::string out;
};

}  // namespace

void add_import_policy(CLI::App& app) {
  auto args = std::make_shared<ImportPolicyArgs>();
  auto* command = app.add_subcommand(
      "import-policy",
      "turn a query network trained with the reference RALis code into a regal policy file for select and "
      "evaluate (re-save it as a plain dict first: " +
          rl::reference_policy_export_command() + ")");
  command->add_option("--config", args->config, "YAML config (classes, state set D_S, region size)")
      ->check(CLI::ExistingFile)
      ->capture_default_str();
  command->add_option("--from", args->from, "the reference state_dict, saved as a plain dict")->required();
  command->add_option("--out", args->out, "regal policy file to write (default: <policy.out>/imported_policy.pt)");
  command->callback([args] {
    const auto config = experiment::load_run_config(args->config);
    experiment::ImportPolicyRequest request;
    request.from = args->from;
    if (!args->out.empty()) request.out = args->out;
    experiment::run_import_policy(config, request);
  });
}

}  // namespace regal::app
