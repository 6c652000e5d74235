#include "regal/report/figures.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "regal/core/atomic_file.h"
#include "regal/core/csv_table.h"
#include "regal/core/error.h"
#include "regal/core/json_file.h"
#include "regal/experiment/experiment_plan.h"

namespace regal::report {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A number for gnuplot: NaN (gnuplot's "undefined": no point) when missing.
std::string gp_number(double value) { return std::isnan(value) ? "NaN" : format_number(value); }
double json_number(const json& value) { return value.is_number() ? value.get<double>() : std::nan(""); }

// A gnuplot single-quoted string (a quote is doubled).
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// Everything the figures are drawn from.
struct RunData {
  fs::path dir;
  json results;
  std::vector<const json*> units;    // units/*.json, owned by the caller's RunUnits
  std::vector<std::string> methods;  // present, in experiment order
  std::vector<std::string> classes;
  int64_t pool_regions = 1;
  int64_t smallest_budget = 0;
  int64_t largest_budget = 0;

  fs::path data_dir() const { return dir / "figures" / "data"; }
  double budget_percent(int64_t regions) const {
    return 100.0 * static_cast<double>(regions) / static_cast<double>(pool_regions);
  }
  // Units of one method at one budget, lowest seed first.
  std::vector<const json*> units_of(const std::string& method, int64_t budget_regions) const {
    std::vector<const json*> found;
    for (const json* unit : units) {
      if (unit->at("method") == method && unit->at("budget_regions") == budget_regions) found.push_back(unit);
    }
    std::sort(found.begin(), found.end(),
              [](const json* a, const json* b) { return a->at("seed").get<uint64_t>() < b->at("seed").get<uint64_t>(); });
    return found;
  }
};

// requires: `units` outlives the RunData (it points into them).
RunData load_run(const fs::path& run_dir, const std::vector<RunUnit>& units) {
  RunData run;
  run.dir = run_dir;
  const fs::path results = run_dir / "results.json";
  REGAL_CHECK(fs::exists(results), "no ", results, ": run `regal experiment` into ", run_dir, " first");
  run.results = read_json_file(results);
  for (const auto& unit : units) run.units.push_back(&unit.result);
  REGAL_CHECK(!run.units.empty(), run_dir / "units", " holds no finished unit: nothing to draw");
  std::set<std::string> present;
  std::set<int64_t> budgets;
  for (const json* unit : run.units) {
    present.insert(unit->at("method").get<std::string>());
    budgets.insert(unit->at("budget_regions").get<int64_t>());
    run.pool_regions = unit->at("pool_regions").get<int64_t>();
  }
  for (const auto& method : experiment::experiment_methods()) {
    if (present.count(method)) run.methods.push_back(method);
  }
  for (const auto& method : present) {
    if (std::find(run.methods.begin(), run.methods.end(), method) == run.methods.end()) run.methods.push_back(method);
  }
  // Classes from the most to the least frequent in the pool, so that the
  // class figures show the long tail left to right.
  run.classes = run.results.at("classes").get<std::vector<std::string>>();
  const auto& pool = run.units.front()->at("pool_class_distribution");
  std::stable_sort(run.classes.begin(), run.classes.end(), [&](const std::string& a, const std::string& b) {
    return json_number(pool.at(a)) > json_number(pool.at(b));
  });
  run.smallest_budget = *budgets.begin();
  run.largest_budget = *budgets.rbegin();
  return run;
}

// The statistic of `metric` of one summary row, in percent.
std::pair<double, double> summary_percent(const json& row, const std::string& metric) {
  const auto& s = row.at(metric);
  const double mean = json_number(s.at("mean"));
  const double std = json_number(s.at("std"));
  return {100.0 * mean, std::isnan(std) ? 0.0 : 100.0 * std};  // one seed: no band
}

std::string terminal(const std::string& kind, int width, int height) {
  return fmt::format("set terminal {} size {},{} noenhanced font 'DejaVu Sans,{}' background rgb 'white'\n",
                     kind == "png" ? "pngcairo" : "svg", width, height, kind == "png" ? 11 : 12);
}

// Writes <figures>/<name>.gp, which draws `body` into <name>.png and
// <name>.svg, and runs it; both images are written atomically (the script
// keeps the final names, so that it can be rerun by hand).
Figure render(const RunData& run, const std::string& name, const std::string& title, const std::string& caption,
              const std::string& body, int width = 900, int height = 540) {
  const fs::path figures = run.dir / "figures";
  Figure figure{name, title, caption, figures / (name + ".png"), figures / (name + ".svg")};
  const auto script_for = [&](const fs::path& png, const fs::path& svg) {
    std::string script = "# Drawn by regal from the CSV files beside this script.\n";
    script += "cd " + quoted(run.data_dir().string()) + "\n";
    script += "set datafile separator ','\n";
    script += terminal("png", width, height) + "set output " + quoted(png.string()) + "\n" + body;
    script += "unset multiplot\nset output\n";
    script += terminal("svg", width, height) + "set output " + quoted(svg.string()) + "\n" + body;
    script += "unset multiplot\nset output\n";
    return script;
  };
  const fs::path script_file = run.data_dir() / (name + ".gp");
  write_file_atomically(script_file, script_for(figure.png, figure.svg));
  write_atomically_with(figure.png, [&](const fs::path& png_temp) {
    write_atomically_with(figure.svg, [&](const fs::path& svg_temp) {
      const fs::path run_file = run.data_dir() / (name + ".run.gp");
      write_file_atomically(run_file, script_for(png_temp, svg_temp));
      try {
        run_gnuplot(run_file);
      } catch (...) {
        fs::remove(run_file);
        throw;
      }
      fs::remove(run_file);
    });
  });
  return figure;
}

void save_csv(const fs::path& file, const std::vector<std::string>& header,
              const std::vector<std::vector<std::string>>& rows) {
  CsvTable table(header);
  for (const auto& row : rows) table.add_row(row);
  table.save(file);
}

// One line per method, with a band of one std: `metric` of the summary
// against budget (% of the pool).
std::string budget_lines(const RunData& run, const std::string& metric, const std::string& prefix) {
  std::string plots;
  for (const auto& method : run.methods) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& row : run.results.at("summary")) {
      if (row.at("method") != method) continue;
      const auto [mean, std] = summary_percent(row, metric);
      rows.push_back({gp_number(run.budget_percent(row.at("budget_regions").get<int64_t>())), gp_number(mean),
                      gp_number(std)});
    }
    const std::string file = prefix + "-" + method + ".csv";
    save_csv(run.data_dir() / file, {"budget_percent", "mean", "std"}, rows);
    const std::string colour = quoted(method_colour(method));
    plots += fmt::format(
        "{} skip 1 using 1:($2-$3):($2+$3) with filledcurves fs transparent solid 0.15 noborder lc rgb {} notitle, \\\n"
        "  {} skip 1 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb {} title {}, \\\n",
        quoted(file), colour, quoted(file), colour, quoted(method));
  }
  return plots;
}

std::string budget_axis() {
  return "set xlabel 'labelled regions (% of the pool D_V)'\nset grid\nset key outside right top\n";
}

Figure miou_figure(const RunData& run) {
  const double pretrained = 100.0 * run.results.value("pretrained_val_miou", 0.0);
  std::string body = budget_axis() + "set ylabel 'val mIoU (%)'\nset title 'Segmentation quality against labelling budget'\n";
  body += "plot " + budget_lines(run, "val_miou", "miou");
  body += fmt::format("  {} with lines dt 2 lw 1.5 lc rgb 'black' title 'pretrained (source only)'",
                      gp_number(pretrained));
  const auto& supervised = run.results.value("supervised_val_miou", json(nullptr));
  if (supervised.is_number()) {
    body += fmt::format(", \\\n  {} with lines dt 4 lw 1.5 lc rgb 'black' title 'every D_V label (upper bound)'",
                        gp_number(100.0 * supervised.get<double>()));
  }
  body += "\n";
  return render(run, "miou_vs_budget", "Val mIoU against budget",
                "Mean val mIoU over seeds per method and budget; the band is one sample standard deviation. "
                "The dashed line is the pretrained (source-only) net every run starts from; with experiment.upper_bound, "
                "the dash-dotted one is the net trained on every label of D_V.",
                body);
}

Figure rare_figure(const RunData& run) {
  std::string rare;
  for (const auto& name : run.units.front()->at("rare_classes")) rare += (rare.empty() ? "" : ", ") + name.get<std::string>();
  std::string body = budget_axis() + "set ylabel 'val mIoU of the rarest classes (%)'\n";
  body += "set title " + quoted("Rarest classes: " + rare) + "\n";
  body += "plot " + budget_lines(run, "val_rare_miou", "rare");
  body.resize(body.size() - 4);  // drop the last ", \\\n"
  body += "\n";
  return render(run, "rare_miou_vs_budget", "Rare classes against budget",
                "Mean val IoU over the " + std::to_string(run.units.front()->at("rare_classes").size()) +
                    " classes with the fewest pixels in D_T and D_R (" + rare +
                    "), per method and budget; band: one standard deviation over seeds.",
                body);
}

std::optional<Figure> ralis_figure(const RunData& run) {
  std::string plots;
  for (const auto& method : run.methods) {
    if (method.rfind("ralis", 0) != 0) continue;
    std::vector<std::vector<std::string>> rows;
    for (const auto& row : run.results.at("summary")) {
      if (row.at("method") != method) continue;
      const auto [train_mean, train_std] = summary_percent(row, "train_miou");
      const auto [val_mean, val_std] = summary_percent(row, "val_miou");
      rows.push_back({gp_number(run.budget_percent(row.at("budget_regions").get<int64_t>())), gp_number(train_mean),
                      gp_number(train_std), gp_number(val_mean), gp_number(val_std)});
    }
    const std::string file = "train-val-" + method + ".csv";
    save_csv(run.data_dir() / file, {"budget_percent", "train_mean", "train_std", "val_mean", "val_std"}, rows);
    const std::string colour = quoted(method_colour(method));
    plots += fmt::format(
        "{0} skip 1 using 1:2:3 with yerrorlines lw 2 dt 2 pt 6 lc rgb {1} title {2}, \\\n"
        "  {0} skip 1 using 1:4:5 with yerrorlines lw 2 pt 7 lc rgb {1} title {3}, \\\n",
        quoted(file), colour, quoted(method + " train"), quoted(method + " val"));
  }
  if (plots.empty()) return std::nullopt;
  plots.resize(plots.size() - 4);
  // Margins left and right, so that the error bars of the smallest and the largest budget are not cut by the frame.
  std::string body = budget_axis() + "set offsets graph 0.05, graph 0.05, 0, 0\nset ylabel 'mIoU (%)'\n" +
                     "set title 'RALis: train against val mIoU'\nplot " + plots + "\n";
  return render(run, "ralis_train_vs_val", "RALis: train against val",
                "Train mIoU (the net on the labelled pixels of D_V, dashed) and val mIoU (solid) per budget for both "
                "RALis variants; error bars: one standard deviation over seeds. A wide gap means the net overfits "
                "the few labelled regions.",
                body);
}

Figure loss_figure(const RunData& run, int64_t budget_regions, const std::string& name, const std::string& which) {
  std::string plots;
  int64_t steps = 0;
  for (const auto& method : run.methods) {
    const auto units = run.units_of(method, budget_regions);
    if (units.empty()) continue;
    const json& unit = *units.front();
    const auto& curve = unit.at("curve");
    std::vector<std::vector<std::string>> rows;
    for (const auto& step : curve.at("steps")) {
      rows.push_back({std::to_string(step.at("step").get<int64_t>()), gp_number(json_number(step.at("train_loss"))), "NaN"});
    }
    steps = static_cast<int64_t>(curve.at("steps").size());
    for (const auto& epoch : curve.at("final")) {
      rows.push_back({std::to_string(steps + epoch.at("epoch").get<int64_t>()),
                      gp_number(json_number(epoch.at("train_loss"))), gp_number(json_number(epoch.at("dr_loss")))});
    }
    const std::string file = name + "-" + method + ".csv";
    save_csv(run.data_dir() / file, {"x", "train_loss", "dr_loss"}, rows);
    const std::string colour = quoted(method_colour(method));
    plots += fmt::format(
        "{0} skip 1 using 1:2 with lines lw 2 lc rgb {1} title {2}, \\\n"
        "  {0} skip 1 using 1:3 with linespoints dt 2 lw 2 pt 7 lc rgb {1} title {3}, \\\n",
        quoted(file), colour, quoted(method + " train"), quoted(method + " D_R"));
  }
  plots.resize(plots.size() - 4);
  const std::string budget_text = fmt::format("{} regions ({:.2g}% of the pool)", budget_regions, run.budget_percent(budget_regions));
  std::string body = fmt::format("set xlabel 'labelling step, then epoch over all labelled regions'\nset ylabel 'cross-entropy'\n"
                                 "set grid\nset key outside right top\nset title {}\n"
                                 "set arrow from {}.5, graph 0 to {}.5, graph 1 nohead dt 3 lc rgb 'gray40'\n",
                                 quoted("Losses at the " + which + " budget: " + budget_text), steps, steps);
  body += "plot " + plots + "\nunset arrow\n";
  return render(run, name, "Loss curves at the " + which + " budget",
                "Training loss of each labelling step (one pass over the regions labelled in that step), then of "
                "each epoch over all labelled regions until early stopping (right of the dotted line), with the "
                "held-out D_R loss of those epochs; " + budget_text + ", lowest seed.",
                body);
}

std::optional<Figure> policy_figure(const RunData& run) {
  std::vector<std::pair<std::string, fs::path>> logs;
  for (const std::string reward : {"miou", "wiou"}) {
    const fs::path log = run.dir / ("policy-" + reward) / "log.csv";
    if (fs::exists(log)) logs.emplace_back(reward, log);
  }
  if (logs.empty()) return std::nullopt;
  std::string steps_plot, episodes_plot, loss_plot, epsilon_plot;
  for (const auto& [reward, log] : logs) {
    const auto table = CsvTable::load(log);
    // episodes.csv gains a row when an episode ends: a report drawn while the
    // policy trains leaves out the episode in progress, whose partial sum
    // would read as a poor episode.
    std::set<int64_t> finished_episodes;
    const fs::path episodes_log = log.parent_path() / "episodes.csv";
    const bool knows_finished = fs::exists(episodes_log);  // every policy run writes it; a copied log may lack it
    if (knows_finished) {
      const auto episodes = CsvTable::load(episodes_log);
      const int index = episodes.column("episode");
      for (const auto& row : episodes.rows()) finished_episodes.insert(std::stoll(row[index]));
    }
    const int episode = table.column("episode"), t = table.column("t"), r = table.column("reward"),
              loss = table.column("dqn_loss"), epsilon = table.column("epsilon");
    std::vector<std::vector<std::string>> step_rows;
    std::map<int64_t, double> episode_reward;
    for (const auto& row : table.rows()) {
      step_rows.push_back({row[t], row[r], row[loss].empty() ? "NaN" : row[loss], row[epsilon]});
      episode_reward[std::stoll(row[episode])] += row[r].empty() ? 0.0 : std::stod(row[r]);
    }
    std::vector<std::vector<std::string>> episode_rows;
    for (const auto& [index, total] : episode_reward) {
      if (knows_finished && finished_episodes.count(index) == 0) continue;
      episode_rows.push_back({std::to_string(index + 1), gp_number(total)});
    }
    const std::string method = "ralis-" + reward;
    const std::string steps_file = "policy-" + reward + "-steps.csv";
    const std::string episodes_file = "policy-" + reward + "-episodes.csv";
    save_csv(run.data_dir() / steps_file, {"t", "reward", "dqn_loss", "epsilon"}, step_rows);
    save_csv(run.data_dir() / episodes_file, {"episode", "reward"}, episode_rows);
    const std::string colour = quoted(method_colour(method));
    steps_plot += fmt::format("{} skip 1 using 1:2 with lines lw 1.5 lc rgb {} title {}, ", quoted(steps_file), colour, quoted(method));
    episodes_plot += fmt::format("{} skip 1 using 1:2 with linespoints lw 2 pt 7 lc rgb {} title {}, ", quoted(episodes_file), colour, quoted(method));
    loss_plot += fmt::format("{} skip 1 using 1:3 with lines lw 1.5 lc rgb {} title {}, ", quoted(steps_file), colour, quoted(method));
    epsilon_plot += fmt::format("{} skip 1 using 1:4 with lines lw 2 lc rgb {} title {}, ", quoted(steps_file), colour, quoted(method));
  }
  const auto trim = [](std::string text) { return text.substr(0, text.size() - 2); };
  std::string body = "set multiplot layout 2,2 title 'Query network training (D_T episodes, D_R reward)'\nset grid\nset key top right\n";
  body += "set xlabel 'step t'\nset ylabel 'reward'\nset title 'reward per step'\nplot " + trim(steps_plot) + "\n";
  body += "set xlabel 'episode'\nset ylabel 'reward'\nset title 'reward per episode (sum)'\nset xtics 1\nplot " +
          trim(episodes_plot) + "\nset xtics autofreq\n";
  body += "set xlabel 'step t'\nset ylabel 'loss'\nset title 'DQN loss'\nplot " + trim(loss_plot) + "\n";
  body += "set xlabel 'step t'\nset ylabel 'epsilon'\nset title 'exploration epsilon'\nplot " + trim(epsilon_plot) + "\n";
  return render(run, "policy_training", "Query network training",
                "Per labelling step of policy training on D_T: the reward (gain of the D_R metric), its sum per "
                "finished episode, the double-DQN loss (empty until the replay buffer holds a batch) and the "
                "exploration rate.",
                body, 1000, 720);
}

// A clustered bar chart of `columns` (name -> value per class) over the classes.
std::string class_bars(const std::string& file, size_t columns, bool log_scale, const std::string& ylabel,
                       const std::string& title) {
  std::string body = "set style data histograms\nset style histogram clustered gap 1\n"
                     "set style fill solid 0.85 border -1\nset boxwidth 0.9\nset grid ytics\nset key outside right top\n"
                     "set xtics rotate by -40 scale 0\n";
  body += "set ylabel " + quoted(ylabel) + "\nset title " + quoted(title) + "\n";
  if (log_scale) body += "set logscale y\nset yrange [0.01:100]\n";
  body += fmt::format("plot for [i=2:{}] {} using i:xtic(1) title columnheader(i)\n", columns + 1, quoted(file));
  if (log_scale) body += "unset logscale y\n";
  return body;
}

std::string colour_cycle(const std::vector<std::string>& series) {
  std::string body;
  for (size_t i = 0; i < series.size(); ++i) {
    body += fmt::format("set linetype {} lc rgb {}\n", i + 1, quoted(method_colour(series[i])));
  }
  return body;
}

Figure per_class_figure(const RunData& run) {
  std::vector<std::vector<std::string>> rows;
  for (size_t c = 0; c < run.classes.size(); ++c) rows.push_back({run.classes[c]});
  for (const auto& method : run.methods) {
    const json* summary = nullptr;
    for (const auto& row : run.results.at("summary")) {
      if (row.at("method") == method && row.at("budget_regions") == run.largest_budget) summary = &row;
    }
    for (size_t c = 0; c < run.classes.size(); ++c) {
      const double mean = summary ? json_number(summary->at("val_iou").at(run.classes[c]).at("mean")) : std::nan("");
      rows[c].push_back(gp_number(100.0 * mean));
    }
  }
  std::vector<std::string> header = {"class"};
  header.insert(header.end(), run.methods.begin(), run.methods.end());
  save_csv(run.data_dir() / "per_class_iou.csv", header, rows);
  const std::string budget_text = fmt::format("{} regions ({:.2g}%)", run.largest_budget, run.budget_percent(run.largest_budget));
  const std::string body = colour_cycle(run.methods) +
                           class_bars("per_class_iou.csv", run.methods.size(), false, "val IoU (%)",
                                      "Per-class val IoU at the largest budget, " + budget_text);
  return render(run, "per_class_iou", "Per-class IoU at the largest budget",
                "Val IoU of every class (mean over seeds) at " + budget_text +
                    ", methods side by side; classes from the most to the least frequent in the pool.", body, 1100, 540);
}

Figure acquired_figure(const RunData& run) {
  std::vector<std::string> series = {"pool"};
  series.insert(series.end(), run.methods.begin(), run.methods.end());
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> names = run.classes;
  names.push_back("(ignore)");
  for (const auto& name : names) rows.push_back({name});
  // The pool is the same in every unit: any unit at the largest budget gives its distribution.
  const auto any_unit = std::find_if(run.units.begin(), run.units.end(),
                                     [&](const json* unit) { return unit->at("budget_regions") == run.largest_budget; });
  const json& any = **any_unit;
  for (size_t c = 0; c < names.size(); ++c) {
    rows[c].push_back(gp_number(100.0 * json_number(any.at("pool_class_distribution").at(names[c]))));
  }
  for (const auto& method : run.methods) {
    const auto units = run.units_of(method, run.largest_budget);
    for (size_t c = 0; c < names.size(); ++c) {
      double sum = 0.0;
      for (const auto* unit : units) sum += json_number(unit->at("acquired_class_distribution").at(names[c]));
      rows[c].push_back(gp_number(units.empty() ? std::nan("") : 100.0 * sum / static_cast<double>(units.size())));
    }
  }
  std::vector<std::string> header = {"class"};
  header.insert(header.end(), series.begin(), series.end());
  save_csv(run.data_dir() / "acquired_classes.csv", header, rows);
  const std::string budget_text = fmt::format("{} regions ({:.2g}%)", run.largest_budget, run.budget_percent(run.largest_budget));
  const std::string body = colour_cycle(series) +
                           class_bars("acquired_classes.csv", series.size(), true, "share of pixels (%, log scale)",
                                      "Classes of the acquired pixels at " + budget_text);
  return render(run, "acquired_classes", "Class distribution of the acquired pixels",
                "Share of each class among the ground-truth pixels of the regions each method labelled at " +
                    budget_text + " (mean over seeds), against the whole pool D_V (black). Methods that favour "
                    "rare classes stand above the pool's bar on the right of the tail.",
                body, 1100, 540);
}

}  // namespace

std::string method_colour(const std::string& method) {
  static const std::map<std::string, std::string> colours = {
      {"pool", "#222222"},    {"random", "#7f7f7f"},     {"entropy", "#1f77b4"},
      {"bald", "#2ca02c"},    {"ralis-miou", "#ff7f0e"}, {"ralis-wiou", "#d62728"},
      {"ralis", "#ff7f0e"}};
  const auto it = colours.find(method);
  return it == colours.end() ? "#9467bd" : it->second;
}

void run_gnuplot(const fs::path& script) {
  const fs::path log = script.string() + ".log";
  const std::string command = "gnuplot " + quoted(script.string()) + " > " + quoted(log.string()) + " 2>&1";
  // quoted() is gnuplot's quoting; for the shell a single quote must not appear in the path.
  REGAL_CHECK(script.string().find('\'') == std::string::npos, "figure script path ", script,
              " contains a single quote, which the shell command cannot carry");
  const int status = std::system(command.c_str());
  if (status != 0) {
    std::string output = fs::exists(log) ? read_file(log) : std::string("(no output)");
    REGAL_FAIL("gnuplot failed on ", script, " (status ", status, "): ", output,
               status == 127 * 256 ? " -- is gnuplot installed? (scripts/install-deps.sh installs gnuplot-nox; the run's "
                                     "results are kept, and `regal report RUN_DIR` draws the figures once it is)"
                                   : "");
  }
  fs::remove(log);
}

std::vector<Figure> write_figures(const fs::path& run_dir) { return write_figures(run_dir, load_run_units(run_dir)); }

std::vector<Figure> write_figures(const fs::path& run_dir, const std::vector<RunUnit>& units) {
  // Absolute: the scripts change into figures/data before they draw.
  const RunData run = load_run(fs::absolute(run_dir), units);
  fs::create_directories(run.data_dir());
  std::vector<Figure> figures;
  figures.push_back(miou_figure(run));
  figures.push_back(rare_figure(run));
  if (auto figure = ralis_figure(run)) figures.push_back(*figure);
  figures.push_back(loss_figure(run, run.smallest_budget, "loss_smallest_budget", "smallest"));
  if (run.largest_budget != run.smallest_budget) {
    figures.push_back(loss_figure(run, run.largest_budget, "loss_largest_budget", "largest"));
  }
  if (auto figure = policy_figure(run)) figures.push_back(*figure);
  figures.push_back(per_class_figure(run));
  figures.push_back(acquired_figure(run));
  return figures;
}

}  // namespace regal::report
