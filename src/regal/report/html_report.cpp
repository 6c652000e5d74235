#include "regal/report/html_report.h"

#include <chrono>
#include <cmath>
#include <ctime>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "regal/core/atomic_file.h"
#include "regal/core/base64.h"
#include "regal/core/error.h"
#include "regal/core/json_file.h"
#include "regal/core/progress.h"
#include "regal/report/gallery.h"

namespace regal::report {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

double number(const json& value) { return value.is_number() ? value.get<double>() : std::nan(""); }

// One table: rows are methods, columns budgets, cells "mean ± std" in
// percent; the best mean of each column in bold.
std::string metric_table(const json& results, const std::string& metric, const std::string& caption) {
  std::vector<std::string> methods;
  std::map<int64_t, std::string> budgets;  // regions -> as written
  std::map<std::pair<std::string, int64_t>, const json*> cells;
  for (const auto& row : results.at("summary")) {
    const auto method = row.at("method").get<std::string>();
    if (std::find(methods.begin(), methods.end(), method) == methods.end()) methods.push_back(method);
    const auto regions = row.at("budget_regions").get<int64_t>();
    budgets[regions] = row.at("budget").get<std::string>();
    cells[{method, regions}] = &row;
  }
  // A cell over fewer seeds than the others (a run still going, or a subset)
  // says so where it is read, not only in its tooltip.
  size_t most_seeds = 0;
  for (const auto& [key, row] : cells) most_seeds = std::max(most_seeds, row->at("seeds").size());
  std::map<int64_t, double> best;
  for (const auto& [key, row] : cells) {
    const double mean = number(row->at(metric).at("mean"));
    if (!std::isnan(mean) && (!best.count(key.second) || mean > best[key.second])) best[key.second] = mean;
  }
  std::string html = "<table>\n<caption>" + escape(caption) + "</caption>\n<tr><th>method</th>";
  for (const auto& [regions, text] : budgets) html += fmt::format("<th>{} <small>({} regions)</small></th>", escape(text), regions);
  html += "</tr>\n";
  for (const auto& method : methods) {
    html += "<tr><th>" + escape(method) + "</th>";
    for (const auto& [regions, text] : budgets) {
      const auto it = cells.find({method, regions});
      if (it == cells.end()) {
        html += "<td>&ndash;</td>";
        continue;
      }
      const double mean = number(it->second->at(metric).at("mean"));
      const double std = number(it->second->at(metric).at("std"));
      const auto seeds = it->second->at("seeds").size();
      std::string cell = std::isnan(mean) ? "n/a" : fmt::format("{:.2f}", 100.0 * mean);
      if (!std::isnan(std)) cell += fmt::format(" &plusmn; {:.2f}", 100.0 * std);
      if (seeds < most_seeds) cell += fmt::format(" <small>({} of {} seeds)</small>", seeds, most_seeds);
      const bool is_best = !std::isnan(mean) && best.count(regions) && mean == best[regions];
      html += fmt::format("<td{} title=\"{} seed(s)\">{}</td>", is_best ? " class=\"best\"" : "", seeds,
                          is_best ? "<b>" + cell + "</b>" : cell);
    }
    html += "</tr>\n";
  }
  return html + "</table>\n";
}

std::string figure_html(const Figure& figure) {
  return fmt::format(
      "<figure id=\"{0}\">\n<img alt=\"{1}\" src=\"data:image/png;base64,{2}\">\n"
      "<figcaption><b>{1}.</b> {3} <small>(files: figures/{0}.png, figures/{0}.svg)</small></figcaption>\n</figure>\n",
      escape(figure.name), escape(figure.title), base64_encode(read_file(figure.png)), escape(figure.caption));
}

std::string timings_html(const json& record) {
  std::string html = "<table>\n<tr><th>phase</th><th>time (summed over invocations)</th></tr>\n";
  double total = 0.0;
  if (record.contains("seconds")) {
    for (const auto& [phase, value] : record.at("seconds").items()) {
      html += "<tr><td>" + escape(phase) + "</td><td>" + escape(format_duration(value.get<double>())) + "</td></tr>\n";
      total += value.get<double>();
    }
  }
  html += "<tr><th>total</th><th>" + escape(format_duration(total)) + "</th></tr>\n</table>\n";
  return html;
}

constexpr const char* kStyle = R"(body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:1em 0}caption{text-align:left;font-weight:bold;padding:.3em 0}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th:first-child{text-align:left}
td.best{background:#e7f4e4}figure{margin:1.5em 0}figure img{max-width:100%;border:1px solid #ddd}
figcaption{font-size:.92em;color:#444}pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:.85em}
.note{color:#555;font-size:.92em}
.warn{color:#8a1c00;font-weight:bold})";

// Counts the inlined images that decoded, for people (a broken figure shows
// in the page) and for headless checks (the body's data attributes).
constexpr const char* kImageCheck = R"(<script>
window.addEventListener('load', function () {
  var loaded = 0, broken = 0;
  document.querySelectorAll('img').forEach(function (img) {
    if (img.complete && img.naturalWidth > 0) { loaded++; } else { broken++; }
  });
  document.body.setAttribute('data-images-loaded', loaded);
  document.body.setAttribute('data-images-broken', broken);
});
</script>)";

// The tables come from results.json, the figures from units/: they agree
// unless unit files were added or removed since the experiment last wrote
// results.json. Returns what differs, or "" when they agree.
std::string units_differ(const json& results, const std::vector<RunUnit>& units) {
  using Key = std::tuple<std::string, int64_t, uint64_t>;  // method, budget in regions, seed
  const auto key_of = [](const json& unit) {
    return Key{unit.at("method").get<std::string>(), unit.at("budget_regions").get<int64_t>(),
               unit.at("seed").get<uint64_t>()};
  };
  std::set<Key> listed, found;
  for (const auto& unit : results.at("units")) listed.insert(key_of(unit));
  for (const auto& unit : units) found.insert(key_of(unit.result));
  if (listed == found) return {};
  // A few of the units one side lacks, by name.
  const auto some_of = [](const std::set<Key>& from, const std::set<Key>& without) {
    std::vector<std::string> names;
    for (const auto& [method, budget_regions, seed] : from) {
      if (without.count({method, budget_regions, seed}) > 0) continue;
      if (names.size() == 3) {
        names.push_back("...");
        break;
      }
      names.push_back(fmt::format("{} at {} regions, seed {}", method, budget_regions, seed));
    }
    return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, "; "));
  };
  return fmt::format("results.json lists {} units, units/ holds {} (only in results.json: {}; only in units/: {}): "
                     "the tables count the first, the figures the second. Units were added or removed since the "
                     "experiment wrote results.json; running the same `regal experiment` command again rewrites it "
                     "from units/ (and runs the plan's units that are missing)",
                     listed.size(), found.size(), some_of(listed, found), some_of(found, listed));
}

}  // namespace

fs::path write_report(const fs::path& run_dir, const std::vector<Figure>& figures) {
  return write_report(run_dir, figures, load_run_units(run_dir));
}

fs::path write_report(const fs::path& run_dir, const std::vector<Figure>& figures, const std::vector<RunUnit>& units) {
  const fs::path results_file = run_dir / "results.json";
  REGAL_CHECK(fs::exists(results_file), "no ", results_file, ": run `regal experiment` into ", run_dir, " first");
  const json results = read_json_file(results_file);
  const json record =
      fs::exists(run_dir / "experiment.json") ? read_json_file(run_dir / "experiment.json") : json::object();
  const std::string config = fs::exists(run_dir / "config.yaml") ? read_file(run_dir / "config.yaml") : "(missing)";

  // The rarest classes are the same in every unit (they come from D_T and D_R).
  std::string rare;
  if (!units.empty()) {
    for (const auto& name : units.front().result.at("rare_classes")) {
      rare += (rare.empty() ? "" : ", ") + name.get<std::string>();
    }
  }
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M UTC", std::gmtime(&now));

  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<title>regal report: " + escape(run_dir.filename().string()) + "</title>\n<style>" + kStyle + "</style>\n</head>\n";
  html += fmt::format("<body data-figures=\"{}\">\n", figures.size());
  html += "<h1>regal: which regions should be labelled?</h1>\n";
  html += "<p>Run <code>" + escape(run_dir.string()) + "</code> on <b>" + escape(results.value("dataset", "?")) +
          "</b>, report written " + stamp + ".</p>\n";
  html += "<p><b>The question.</b> For a given labelling budget (a share of the regions of the unlabelled pool "
          "D_V), which acquisition strategy gives the best segmentation on the validation split, overall (mIoU) "
          "and on the rare classes? Every run starts from the same pretrained net, labels regions step by step "
          "with its method, fine-tunes on them, and is scored on val. RALis methods pick with a query network "
          "trained on D_T, rewarded with the mIoU (ralis-miou) or the class-frequency-weighted IoU (ralis-wiou) "
          "gain on D_R.</p>\n";
  const auto& supervised = results.value("supervised_val_miou", json(nullptr));
  html += fmt::format("<p class=\"note\">Pretrained (source-only) net: val mIoU {:.2f}%{}. Cells: mean &plusmn; "
                      "sample standard deviation over seeds, in percent; the best mean of each budget is marked. "
                      "{} finished units.</p>\n",
                      100.0 * results.value("pretrained_val_miou", 0.0),
                      supervised.is_number()
                          ? fmt::format("; trained on every D_V label (the upper bound): {:.2f}%", 100.0 * supervised.get<double>())
                          : std::string(),
                      results.at("units").size());
  html += "<h2>Results</h2>\n";
  if (const std::string differ = units_differ(results, units); !differ.empty()) {
    spdlog::warn("report: {}", differ);
    html += "<p class=\"warn\">" + escape(differ) + "</p>\n";
  }
  html += metric_table(results, "val_miou", "Val mIoU (%)");
  html += metric_table(results, "val_rare_miou", "Val mIoU of the rarest classes (%): " + rare);
  html += metric_table(results, "val_wiou", "Val class-frequency-weighted IoU (%)");
  html += "<p class=\"note\">Every number per unit and seed: results.csv and results.json; means and standard "
          "deviations: summary.csv.</p>\n";
  html += "<h2>Figures</h2>\n";
  for (const auto& figure : figures) html += figure_html(figure);
  html += "<h2>Timings and environment</h2>\n" + timings_html(record);
  if (record.contains("environment")) {
    const auto& env = record.at("environment");
    html += "<table>\n";
    for (const auto& [key, value] : env.items()) {
      html += "<tr><th>" + escape(key) + "</th><td>" + escape(value.is_string() ? value.get<std::string>() : value.dump()) +
              "</td></tr>\n";
    }
    html += "</table>\n";
  }
  html += "<h2>Config</h2>\n<pre>" + escape(config) + "</pre>\n";
  html += kImageCheck;
  html += "\n</body>\n</html>\n";
  const fs::path out = run_dir / "report.html";
  write_file_atomically(out, html);
  return out;
}

fs::path write_figures_and_report(const fs::path& run_dir) {
  const auto units = load_run_units(run_dir);
  std::vector<Figure> figures;
  fs::path report;
  try {
    figures = write_figures(run_dir, units);
    // The gallery is the one figure that reads the data, not the run's files:
    // with the data moved or unreadable the rest of the report still stands.
    try {
      if (auto gallery = write_gallery(run_dir, units)) figures.push_back(*gallery);
    } catch (const Error& e) {
      spdlog::warn("report: no gallery, the run's data cannot be read from here ({})", e.what());
    }
    report = write_report(run_dir, figures, units);
  } catch (const json::exception& e) {
    // Every file was checked for the fields the tables need; one edited or
    // written by an older regal may still lack one a figure reads.
    REGAL_FAIL(run_dir, ": results.json, experiment.json or a unit file lacks what the report reads (", e.what(),
               "); run the experiment into it again to rewrite them");
  }
  spdlog::info("report: {} figures in {}, report {}", figures.size(), (run_dir / "figures").string(), report.string());
  return report;
}

}  // namespace regal::report
