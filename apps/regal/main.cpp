// regal: reinforced, region-based active learning for semantic segmentation.
// The CLI parses and dispatches; every subcommand's work lives in the library.
#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <spdlog/spdlog.h>

#include <exception>

#include "commands.h"
#include "regal/core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"regal: reinforced, region-based active learning for semantic segmentation"};
  app.set_version_flag("--version", std::string("regal ") + REGAL_VERSION);
  app.require_subcommand(1);
  regal::app::add_inspect_dataset(app);
  regal::app::add_make_scenes(app);
  regal::app::add_pretrain(app);
  regal::app::add_train_supervised(app);
  regal::app::add_train_policy(app);
  regal::app::add_evaluate(app);
  regal::app::add_experiment(app);
  regal::app::add_report(app);
  regal::app::add_select(app);
  regal::app::add_finetune(app);
  regal::app::add_import_policy(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const regal::Error& e) {
    spdlog::error("{}", e.what());
    return 1;
  } catch (const c10::Error& e) {
    // what() carries LibTorch's C++ backtrace, which tells a user nothing.
    spdlog::error("LibTorch error: {}", e.what_without_backtrace());
    return 2;
  } catch (const std::exception& e) {
    spdlog::error("unexpected error: {}", e.what());
    return 2;
  }
  return 0;
}
