// regal inspect-dataset: decode every sample of a dataset and report sizes,
// class frequencies and every broken file. The work is in
// regal/data/dataset_inspector; this file parses options and prints.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "commands.h"
#include "option_checks.h"
#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "regal/core/progress.h"
#include "regal/data/dataset_inspector.h"

namespace regal::app {
namespace {

struct InspectDatasetOptions {
  std::string type;
  std::filesystem::path root;
  std::string split;  // empty: every split
  std::filesystem::path json_file;
  unsigned threads = 0;
};

// Logs every tenth of a split (and its end) so a long run shows it is moving
// without flooding the terminal.
class ProgressLog {
 public:
  void operator()(const data::InspectionProgress& progress) {
    const auto now = std::chrono::steady_clock::now();
    if (progress.done == 1) {
      split_start_ = now;
    }
    const size_t step = std::max<size_t>(1, progress.total / 10);
    if (progress.done % step != 0 && progress.done != progress.total) {
      return;
    }
    const double seconds = std::chrono::duration<double>(now - split_start_).count();
    spdlog::info("inspect-dataset: split {}: {}/{} samples ({:.1f} s)", progress.split,
                 progress.done, progress.total, seconds);
  }

 private:
  std::chrono::steady_clock::time_point split_start_ = std::chrono::steady_clock::now();
};

void run_inspect_dataset(const InspectDatasetOptions& options) {
  spdlog::info("inspect-dataset: {} dataset at {}{}", options.type, options.root.string(),
               options.split.empty() ? std::string(", all splits") : ", split " + options.split);
  const auto start = std::chrono::steady_clock::now();
  const data::InspectionReport report = data::inspect_dataset(
      options.type, options.root,
      options.split.empty() ? std::nullopt : std::optional<std::string>(options.split),
      ProgressLog(), options.threads);
  spdlog::info("inspect-dataset: done in {:.1f} s",
               seconds_since(start));

  std::cout << data::format_inspection_text(report) << std::flush;
  if (!options.json_file.empty()) {
    write_file_atomically(options.json_file, data::inspection_to_json(report).dump(2) + "\n");
    spdlog::info("inspect-dataset: report written to {}", options.json_file.string());
  }
  REGAL_CHECK(report.ok(), "inspect-dataset: ", report.problems.size(), " problem(s) in ",
              options.root, "; first: ", report.ok() ? "" : report.problems.front());
}

}  // namespace

void add_inspect_dataset(CLI::App& app) {
  auto options = std::make_shared<InspectDatasetOptions>();
  CLI::App* command = app.add_subcommand(
      "inspect-dataset",
      "Decode every sample of a dataset; report sizes, class frequencies and broken files");
  command->add_option("--type", options->type, "Dataset layout")
      ->required()
      ->check(CLI::IsMember({"cityscapes", "gtav", "camvid", "folder"}));
  command->add_option("--root", options->root, "Dataset root directory")->required();
  command->add_option("--split", options->split, "Only this split (default: every split)");
  command->add_option("--json", options->json_file, "Also write the report as JSON to this file");
  command->add_option("--threads", options->threads, "Decoding threads (default: one per core)")
      ->check(at_least_one());
  command->callback([options] { run_inspect_dataset(*options); });
}

}  // namespace regal::app
