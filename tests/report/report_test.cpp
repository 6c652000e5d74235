// Figures and report.html of a tiny experiment: every figure is a PNG that
// decodes and an SVG that is well-formed XML, the tables mark the best mean,
// and headless Chromium renders the report with every inlined figure decoded.
#include "regal/report/html_report.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "regal/core/atomic_file.h"
#include "regal/core/csv_table.h"
#include "regal/experiment/experiment_run.h"
#include "regal/report/gallery.h"
#include "data/dataset_fixtures.h"
#include "support/test_support.h"
#include "support/tiny_experiment.h"

namespace regal::report {
namespace {

namespace fs = std::filesystem;

// One tiny experiment (all five methods, two budgets, two seeds) for the suite.
class Report : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new testing::ScratchDir("report");
    const auto config = experiment::load_run_config(testing::write_tiny_experiment(scratch_->path()));
    run_dir_ = experiment::run_experiment(config, {}).out;
  }
  static void TearDownTestSuite() {
    delete scratch_;
    scratch_ = nullptr;
  }
  static testing::ScratchDir* scratch_;
  static fs::path run_dir_;
};
testing::ScratchDir* Report::scratch_ = nullptr;
fs::path Report::run_dir_;

// Well-formed XML: every start tag closed in order (declarations, comments,
// CDATA and self-closing tags allowed); with `html`, HTML's void elements
// (meta, img, br) need no closing. Returns "" or what is wrong.
std::string xml_problem(const std::string& text, bool html = false) {
  std::vector<std::string> open;
  size_t i = 0;
  while ((i = text.find('<', i)) != std::string::npos) {
    if (text.compare(i, 4, "<!--") == 0) {
      i = text.find("-->", i);
      if (i == std::string::npos) return "unterminated comment";
      continue;
    }
    if (text.compare(i, 9, "<![CDATA[") == 0) {
      i = text.find("]]>", i);
      if (i == std::string::npos) return "unterminated CDATA";
      continue;
    }
    const size_t end = text.find('>', i);
    if (end == std::string::npos) return "unterminated tag";
    const std::string tag = text.substr(i + 1, end - i - 1);
    i = end;
    if (tag.empty() || tag[0] == '?' || tag[0] == '!') continue;
    if (tag[0] == '/') {
      const std::string name = tag.substr(1, tag.find_first_of(" \t\n") - 1);
      if (open.empty() || open.back() != name) return "</" + name + "> closes " + (open.empty() ? "nothing" : open.back());
      open.pop_back();
      continue;
    }
    if (tag.back() == '/') continue;
    const std::string name = tag.substr(0, tag.find_first_of(" \t\n"));
    if (html && (name == "meta" || name == "img" || name == "br")) continue;
    open.push_back(name);
  }
  return open.empty() ? "" : "<" + open.back() + "> never closed";
}

std::string run_command(const std::string& command) {
  std::string output;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return output;
  std::array<char, 4096> buffer{};
  size_t read = 0;
  while ((read = fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) output.append(buffer.data(), read);
  return output;
}

TEST_F(Report, EveryFigureIsADecodablePngAndAWellFormedSvg) {
  // A run directory given relative to the working directory, as users do.
  const fs::path cwd = fs::current_path();
  fs::current_path(run_dir_.parent_path());
  auto figures = write_figures(run_dir_.filename());
  fs::current_path(cwd);
  const auto gallery = write_gallery(run_dir_);
  ASSERT_TRUE(gallery.has_value());
  figures.push_back(*gallery);
  std::vector<std::string> names;
  for (const auto& figure : figures) {
    names.push_back(figure.name);
    const std::string png = read_file(figure.png);
    ASSERT_GT(png.size(), 8u) << figure.png;
    EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << figure.png;
    const cv::Mat image = cv::imread(figure.png.string(), cv::IMREAD_COLOR);
    ASSERT_FALSE(image.empty()) << figure.png;
    cv::Scalar mean, stddev;
    cv::meanStdDev(image, mean, stddev);
    EXPECT_GT(stddev[0] + stddev[1] + stddev[2], 1.0) << figure.png << " is one flat colour";
    const std::string svg = read_file(figure.svg);
    EXPECT_NE(svg.find("<svg"), std::string::npos) << figure.svg;
    EXPECT_EQ(xml_problem(svg), "") << figure.svg;
  }
  // Nothing half-written is left, and a figure's script draws into the
  // figure's own files, so that rerunning it by hand redraws them.
  for (const auto& entry : fs::recursive_directory_iterator(run_dir_ / "figures")) {
    EXPECT_FALSE(is_atomic_write_temp(entry.path())) << entry.path();
    EXPECT_EQ(entry.path().string().find(".run.gp"), std::string::npos) << entry.path();
  }
  const std::string script = read_file(run_dir_ / "figures" / "data" / "miou_vs_budget.gp");
  EXPECT_NE(script.find((fs::absolute(run_dir_) / "figures" / "miou_vs_budget.png").string()), std::string::npos);
  EXPECT_EQ(script.find(".tmp"), std::string::npos);
  // The gallery: a row per kept val prediction (2) and as many pool rows.
  const cv::Mat gallery_image = cv::imread(gallery->png.string(), cv::IMREAD_COLOR);
  EXPECT_EQ(gallery_image.rows, 4 * (32 + 22));
  EXPECT_EQ(gallery_image.cols, 7 * 64);  // image, ground truth, five methods
  // All eight kinds (the loss curves twice: smallest and largest budget).
  EXPECT_EQ(names, (std::vector<std::string>{"miou_vs_budget", "rare_miou_vs_budget", "ralis_train_vs_val",
                                             "loss_smallest_budget", "loss_largest_budget", "policy_training",
                                             "per_class_iou", "acquired_classes", "gallery"}));
  // The data behind a figure is there to be re-plotted.
  EXPECT_TRUE(fs::exists(run_dir_ / "figures" / "data" / "miou-random.csv"));
  EXPECT_NE(read_file(run_dir_ / "figures" / "data" / "miou_vs_budget.gp").find("upper bound"), std::string::npos);
}

TEST_F(Report, TheReportHoldsTablesWithTheBestMarkedAndEveryFigureInline) {
  const fs::path report = write_figures_and_report(run_dir_);
  const std::string html = read_file(report);
  EXPECT_EQ(xml_problem(html, true), "");
  // In each table, every budget's column marks the method with the best mean
  // of results.json's summary, and no other cell.
  const auto results = nlohmann::json::parse(read_file(run_dir_ / "results.json"));
  std::vector<int64_t> columns;  // budgets in regions, as the table orders them
  for (const auto& row : results["summary"]) columns.push_back(row["budget_regions"].get<int64_t>());
  std::sort(columns.begin(), columns.end());
  columns.erase(std::unique(columns.begin(), columns.end()), columns.end());
  size_t table_start = 0;
  for (const std::string metric : {"val_miou", "val_rare_miou", "val_wiou"}) {
    std::set<std::pair<std::string, size_t>> expected;  // (method, column)
    for (size_t column = 0; column < columns.size(); ++column) {
      const auto mean_of = [&](const nlohmann::json& row) {
        const bool here = row["budget_regions"] == columns[column] && row[metric]["mean"].is_number();
        return here ? row[metric]["mean"].get<double>() : -1.0;
      };
      double best = -1.0;
      for (const auto& row : results["summary"]) best = std::max(best, mean_of(row));
      for (const auto& row : results["summary"]) {
        if (best >= 0.0 && mean_of(row) == best) expected.insert({row["method"].get<std::string>(), column});
      }
    }
    ASSERT_GE(expected.size(), columns.size()) << metric;
    table_start = html.find("<table>", table_start);
    ASSERT_NE(table_start, std::string::npos) << metric;
    const std::string table = html.substr(table_start, html.find("</table>", table_start) - table_start);
    table_start += table.size();
    std::set<std::pair<std::string, size_t>> marked;
    const std::string best_cell = "<td class=\"best\"";
    for (size_t row = table.find("<tr><th>", 1); row != std::string::npos; row = table.find("<tr><th>", row + 1)) {
      const size_t name_start = row + 8;
      const std::string method = table.substr(name_start, table.find("</th>", name_start) - name_start);
      const std::string cells = table.substr(row, table.find("</tr>", row) - row);
      size_t column = 0;
      for (size_t cell = cells.find("<td"); cell != std::string::npos; cell = cells.find("<td", cell + 1), ++column) {
        if (cells.compare(cell, best_cell.size(), best_cell) == 0) marked.insert({method, column});
      }
    }
    EXPECT_EQ(marked, expected) << metric;
  }
  // The caption of the rare-class table names them (three classes: all are "rare").
  EXPECT_NE(html.find("rarest classes (%): class"), std::string::npos);
  EXPECT_NE(html.find("ralis-wiou"), std::string::npos);
  const auto count = [&](const std::string& part) {
    size_t n = 0;
    for (size_t i = html.find(part); i != std::string::npos; i = html.find(part, i + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("<figure "), 9u);
  EXPECT_EQ(count("src=\"data:image/png;base64,"), 9u);
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);  // self-contained
  EXPECT_NE(html.find("libtorch"), std::string::npos);
  EXPECT_NE(html.find("the upper bound"), std::string::npos);
  EXPECT_NE(html.find("pretrain_cache"), std::string::npos);  // the config
}

TEST_F(Report, HeadlessChromiumRendersItWithEveryFigureDecoded) {
  const fs::path report = write_figures_and_report(run_dir_);
  const fs::path profile = scratch_->path() / "chromium-profile";
  const std::string flags = "--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars "
                            "--user-data-dir=" + profile.string() + " --window-size=1200,4000";
  const std::string dom =
      run_command("timeout 180 chromium " + flags + " --dump-dom 'file://" + report.string() + "' 2>/dev/null");
  ASSERT_NE(dom.find("data-images-loaded"), std::string::npos)
      << "chromium did not run the page's load handler; output:\n" << dom.substr(0, 2000);
  EXPECT_NE(dom.find("data-images-loaded=\"9\""), std::string::npos);
  EXPECT_NE(dom.find("data-images-broken=\"0\""), std::string::npos);
  const fs::path screenshot = scratch_->path() / "report.png";
  run_command("timeout 180 chromium " + flags + " --screenshot=" + screenshot.string() + " 'file://" +
              report.string() + "' > /dev/null 2>&1");
  const cv::Mat page = cv::imread(screenshot.string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(page.empty()) << "chromium wrote no screenshot " << screenshot;
  EXPECT_EQ(page.cols, 1200);
  cv::Scalar mean, stddev;
  cv::meanStdDev(page, mean, stddev);
  EXPECT_GT(stddev[0], 5.0) << "the rendered page is blank";
}

// The gallery reads the data; the rest of the report only the run's files,
// so a report of a run whose data has moved lacks the gallery, nothing else.
TEST_F(Report, WithTheDataGoneTheReportIsWrittenWithoutTheGallery) {
  const fs::path data = scratch_->path() / "data";
  ASSERT_TRUE(fs::is_directory(data / "images"));
  fs::rename(data / "images", data / "images-moved");
  std::vector<std::string> figure_files;
  fs::path report;
  const auto restore = [&] { fs::rename(data / "images-moved", data / "images"); };
  try {
    fs::remove(run_dir_ / "figures" / "gallery.png");
    report = write_figures_and_report(run_dir_);
  } catch (...) {
    restore();
    throw;
  }
  restore();
  EXPECT_FALSE(fs::exists(run_dir_ / "figures" / "gallery.png"));
  EXPECT_TRUE(fs::exists(run_dir_ / "figures" / "miou_vs_budget.png"));
  const std::string html = read_file(report);
  EXPECT_EQ(html.find("<figure id=\"gallery\""), std::string::npos);
  EXPECT_NE(html.find("<figure id=\"miou_vs_budget\""), std::string::npos);
}

// A report drawn while a policy trains sums only the episodes that ended:
// the one in progress would read as a poor episode.
TEST_F(Report, ThePolicyFigureLeavesOutTheEpisodeInProgress) {
  const fs::path log = run_dir_ / "policy-miou" / "log.csv";
  const std::string finished_log = read_file(log);
  CsvTable steps = CsvTable::load(log);
  const auto episodes = CsvTable::load(run_dir_ / "policy-miou" / "episodes.csv");
  const auto episodes_done = static_cast<int64_t>(episodes.rows().size());
  ASSERT_GT(episodes_done, 0);
  // The first step of the next episode, as the log holds it mid-episode.
  std::vector<std::string> next = steps.rows().back();
  next[steps.column("episode")] = std::to_string(episodes_done);
  next[steps.column("t")] = std::to_string(std::stoll(next[steps.column("t")]) + 1);
  steps.add_row(next);
  steps.save(log);
  try {
    write_figures(run_dir_);
  } catch (...) {
    write_file_atomically(log, finished_log);
    throw;
  }
  write_file_atomically(log, finished_log);
  const auto plotted = CsvTable::load(run_dir_ / "figures" / "data" / "policy-miou-episodes.csv");
  ASSERT_EQ(static_cast<int64_t>(plotted.rows().size()), episodes_done);
  EXPECT_EQ(plotted.rows().back()[0], std::to_string(episodes_done));  // 1-based: the last finished one
}

// A cell over fewer seeds than the rest (a run still going, or a subset)
// says so in the table, where "best mean" would otherwise compare unlike cells.
TEST_F(Report, ACellOverFewerSeedsSaysSo) {
  ASSERT_TRUE(fs::remove(run_dir_ / "units" / "random-4-seed1.json"));
  // Before the experiment rewrites results.json, the tables and the figures
  // would count different units: the report says so.
  const std::string stale = read_file(write_figures_and_report(run_dir_));
  EXPECT_NE(stale.find("results.json lists 20 units, units/ holds 19 (only in results.json: random at 4 regions, "
                       "seed 1; only in units/: none)"),
            std::string::npos);
  experiment::ExperimentRequest request;
  request.methods = std::vector<std::string>{"random"};
  request.budgets = std::vector<std::string>{"4"};
  request.seeds = std::vector<uint64_t>{0};  // finished: nothing runs, the results are rewritten
  const auto outcome =
      experiment::run_experiment(experiment::load_run_config(scratch_->path() / "tiny.yaml"), request);
  EXPECT_EQ(outcome.units_run, 0);
  const std::string html = read_file(write_figures_and_report(run_dir_));
  EXPECT_NE(html.find("(1 of 2 seeds)"), std::string::npos);
  EXPECT_EQ(html.find("results.json lists"), std::string::npos);
}

TEST(ReportErrors, ARunWithoutResultsIsNamed) {
  testing::ScratchDir dir("report-empty");
  EXPECT_CONTAINS(testing::error_message([&] { write_figures_and_report(dir.path()); }),
                  (dir.path() / "results.json").string());
}

}  // namespace
}  // namespace regal::report
