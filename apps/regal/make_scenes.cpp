// regal make-scenes: generate (or reuse) the embedded Fashion-MNIST street
// scenes described by a config's `scenes:` section. The work is in
// regal/data/scene_generator; this file parses options and prints.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "commands.h"
#include "regal/core/error.h"
#include "regal/core/progress.h"
#include "regal/data/scene_generator.h"
#include "regal/experiment/config.h"

namespace regal::app {
namespace {

struct MakeScenesArgs {
  std::string config = "configs/scenes-quick.yaml";
  std::string out;  // empty: the config's scenes.out
  bool force = false;
};

// Names of the `k` rarest classes of `frequency`, rarest first.
std::string rarest_names(const std::vector<double>& frequency, int k) {
  std::vector<size_t> order(frequency.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return frequency[a] < frequency[b]; });
  std::string names;
  for (size_t i = 0; i < order.size() && i < static_cast<size_t>(k); ++i) {
    names += (names.empty() ? "" : ", ") + data::kSceneClassNames[order[i]];
  }
  return names;
}

void print_frequencies(const data::SceneReport& report) {
  const auto& target = report.domain("target");
  const auto& source = report.domain("source");
  const auto joined = [](const std::vector<std::string>& splits) {
    std::string text;
    for (const auto& split : splits) text += (text.empty() ? "" : "+") + split;
    return text;
  };
  spdlog::info("class frequencies (share of labelled pixels; target over {}, source over {}):",
               joined(target.frequency_splits), joined(source.frequency_splits));
  spdlog::info("  {:>2}  {:<12} {:>8} {:>8}", "id", "class", "target", "source");
  for (int c = 0; c < data::kSceneClasses; ++c) {
    const auto i = static_cast<size_t>(c);
    spdlog::info("  {:>2}  {:<12} {:>7.3f}% {:>7.3f}%", c, data::kSceneClassNames[i],
                 100.0 * target.class_frequency[i], 100.0 * source.class_frequency[i]);
  }
  const double most = *std::max_element(target.class_frequency.begin(), target.class_frequency.end());
  spdlog::info("target: most frequent class {:.1f}%, six rarest together {:.2f}% ({}); source six rarest {:.2f}%",
               100.0 * most, 100.0 * data::rarest_classes_share(target.class_frequency, 6),
               rarest_names(target.class_frequency, 6), 100.0 * data::rarest_classes_share(source.class_frequency, 6));
}

void run_make_scenes(const MakeScenesArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  const YAML::Node root = experiment::load_yaml(args.config);
  REGAL_CHECK(root.IsMap() && root["scenes"], args.config, ": no 'scenes:' section to generate from");
  const data::SceneOptions options = experiment::scene_options_from_yaml(root["scenes"], args.config);
  const std::filesystem::path out = args.out.empty() ? options.out() : std::filesystem::path(args.out);

  const std::string stale = data::scenes_stale_reason(options, out);
  const bool reuse = stale.empty() && !args.force;
  if (reuse) {
    spdlog::info("make-scenes: reusing {} (fingerprint {} matches {}; --force regenerates)", out.string(),
                 data::scenes_fingerprint(options), args.config);
  } else {
    spdlog::info("make-scenes: generating into {} ({})", out.string(), args.force ? "--force" : stale);
  }
  int last_tenth = -1;
  const auto progress = [&](const data::SceneProgress& p) {
    // Called one at a time from the workers; log every tenth.
    const int tenth = p.total > 0 ? 10 * p.done / p.total : 10;
    if (tenth == last_tenth) return;
    last_tenth = tenth;
    spdlog::info("make-scenes: {}/{} images ({} so far)", p.done, p.total,
                 format_duration(seconds_since(start)));
  };
  const data::SceneReport report =
      reuse ? data::read_scenes_report(out) : data::generate_scenes(options, out, progress);

  print_frequencies(report);
  for (const auto& domain : report.domains) {
    std::string counts;
    for (const auto& split : domain.splits) {
      counts += (counts.empty() ? "" : ", ") + split.name + " " + std::to_string(split.count);
    }
    spdlog::info("{}: {} ({})", domain.name, domain.root.string(), counts);
  }
  const double seconds = seconds_since(start);
  if (reuse) {
    spdlog::info("make-scenes: reused {} in {}", out.string(), format_duration(seconds));
  } else {
    spdlog::info("make-scenes: wrote {} images to {} in {} (Fashion-MNIST {}, render+write {})",
                 report.images_written, out.string(), format_duration(seconds), format_duration(report.seconds_load),
                 format_duration(report.seconds_render));
  }
}

}  // namespace

void add_make_scenes(CLI::App& app) {
  auto args = std::make_shared<MakeScenesArgs>();
  auto* command = app.add_subcommand(
      "make-scenes", "generate the embedded street scenes from Fashion-MNIST (source and target folder datasets)");
  command->add_option("--config", args->config, "YAML config with a scenes: section")
      ->check(CLI::ExistingFile)
      ->capture_default_str();
  command->add_option("--out", args->out, "output directory (default: the config's scenes.out)");
  command->add_flag("--force", args->force, "regenerate even when the scenes on disk match the config");
  command->callback([args] { run_make_scenes(*args); });
}

}  // namespace regal::app
