// Aggregation of unit results: mean and sample standard deviation over
// seeds, per (method, budget), in a stable order; and the files written.
#include "regal/experiment/results_table.h"

#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "regal/core/atomic_file.h"
#include "regal/core/csv_table.h"
#include "data/dataset_fixtures.h"
#include "support/test_support.h"

namespace regal::experiment {
namespace {

UnitResult unit(const std::string& method, const std::string& budget, int64_t regions, uint64_t seed, double miou,
                std::vector<double> class_iou = {0.5, std::nan("")}) {
  UnitResult result;
  result.method = method;
  result.budget = budget;
  result.budget_regions = regions;
  result.seed = seed;
  for (const auto& name : unit_metric_names()) result.metrics[name] = 0.25;
  result.metrics["val_miou"] = miou;
  result.classes = {"road", "bag"};
  result.class_iou = std::move(class_iou);
  return result;
}

TEST(ResultsTable, MeanAndSampleStdOverSeeds) {
  const std::vector<UnitResult> units = {unit("random", "2%", 20, 0, 0.40), unit("random", "2%", 20, 1, 0.44),
                                         unit("random", "2%", 20, 2, 0.48)};
  const auto rows = summarize(units, {"random"});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_NEAR(rows[0].metrics.at("val_miou").mean, 0.44, 1e-12);
  // sqrt(((-0.04)^2 + 0 + 0.04^2) / (3 - 1)) = 0.04
  EXPECT_NEAR(rows[0].metrics.at("val_miou").std, 0.04, 1e-12);
  EXPECT_EQ(rows[0].seeds, (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_NEAR(rows[0].metrics.at("seconds").std, 0.0, 1e-12);
}

TEST(ResultsTable, OneSeedHasNoStdAndAbsentClassesAreLeftOutOfTheMean) {
  const auto one = summarize({unit("bald", "1%", 10, 0, 0.3)}, {"bald"});
  EXPECT_TRUE(std::isnan(one[0].metrics.at("val_miou").std));
  const auto rows = summarize({unit("bald", "1%", 10, 0, 0.3, {0.2, std::nan("")}),
                               unit("bald", "1%", 10, 1, 0.3, {0.4, 0.6})},
                              {"bald"});
  EXPECT_NEAR(rows[0].class_iou[0].mean, 0.3, 1e-12);
  EXPECT_NEAR(rows[0].class_iou[1].mean, 0.6, 1e-12);  // the seed without the class does not count as 0
  EXPECT_TRUE(std::isnan(rows[0].class_iou[1].std));
}

TEST(ResultsTable, RowsFollowTheMethodOrderThenTheBudgetInRegions) {
  const std::vector<UnitResult> units = {unit("random", "10%", 100, 0, 0.5), unit("zeta", "1%", 10, 0, 0.5),
                                         unit("ralis-miou", "2%", 20, 0, 0.5), unit("random", "2%", 20, 0, 0.5)};
  const auto rows = summarize(units, {"random", "ralis-miou"});
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].method + rows[0].budget, "random2%");  // 20 regions before 100, whatever the text
  EXPECT_EQ(rows[1].method + rows[1].budget, "random10%");
  EXPECT_EQ(rows[2].method, "ralis-miou");
  EXPECT_EQ(rows[3].method, "zeta");  // not in the order: after
}

TEST(ResultsTable, UnitsOfOtherClassesAreAnError) {
  auto other = unit("random", "1%", 10, 1, 0.5);
  other.classes = {"road", "sky"};
  EXPECT_CONTAINS(testing::error_message([&] { summarize({unit("random", "1%", 10, 0, 0.5), other}, {}); }),
                  "other classes");
}

TEST(ResultsTable, WritesUnitRowsSummaryRowsAndJson) {
  testing::ScratchDir dir("results");
  write_results(dir.path(),
                {unit("random", "2%", 20, 1, 0.44), unit("random", "2%", 20, 0, 0.40), unit("bald", "2%", 20, 0, 0.5)},
                {"random", "bald"}, {{"dataset", "tiny"}});
  const auto units = CsvTable::load(dir.path() / "results.csv");
  ASSERT_EQ(units.rows().size(), 3u);
  EXPECT_EQ(units.rows()[0][units.column("seed")], "0");  // sorted by method order, then seed
  EXPECT_EQ(units.rows()[2][units.column("method")], "bald");
  EXPECT_EQ(units.rows()[0][units.column("iou_bag")], "");  // NaN: empty cell
  const auto summary = CsvTable::load(dir.path() / "summary.csv");
  ASSERT_EQ(summary.rows().size(), 2u);
  EXPECT_NEAR(std::stod(summary.rows()[0][summary.column("val_miou_mean")]), 0.42, 1e-9);
  EXPECT_EQ(summary.rows()[1][summary.column("val_miou_std")], "");  // one seed
  const auto json = nlohmann::json::parse(read_file(dir.path() / "results.json"));
  EXPECT_EQ(json["dataset"], "tiny");
  EXPECT_EQ(json["units"].size(), 3u);
  EXPECT_NEAR(json["summary"][0]["val_miou"]["std"].get<double>(), std::sqrt(0.0008), 1e-9);
  EXPECT_TRUE(json["summary"][1]["val_miou"]["std"].is_null());
  EXPECT_TRUE(json["units"][0]["val_iou"]["bag"].is_null());
}

// A unit result as run_evaluation writes it, with the metrics all 0.25.
nlohmann::json unit_json(const nlohmann::json& val_iou) {
  nlohmann::json json = {{"method", "random"}, {"budget", "1%"}, {"budget_regions", 10}, {"seed", 0},
                         {"seconds", {{"total", 1.0}}}, {"val_iou", val_iou}};
  for (const auto& name : unit_metric_names()) {
    if (name != "seconds") json[name] = 0.25;
  }
  return json;
}

TEST(ResultsTable, ClassesKeepTheDatasetOrderAndOlderUnitsAreMatchedByName) {
  auto json = unit_json({{"road", 0.9}, {"bag", 0.2}, {"sky", nullptr}});
  json["classes"] = {"sky", "road", "bag"};
  auto current = unit_result_from_json(json, "new.json");
  EXPECT_EQ(current.classes, (std::vector<std::string>{"sky", "road", "bag"}));
  EXPECT_TRUE(std::isnan(current.class_iou[0]));
  EXPECT_DOUBLE_EQ(current.class_iou[1], 0.9);

  // A unit from before "classes" existed: the names come sorted.
  auto older = unit_result_from_json(unit_json({{"road", 0.5}, {"bag", 0.4}, {"sky", 0.7}}), "old.json");
  EXPECT_EQ(older.classes, (std::vector<std::string>{"bag", "road", "sky"}));
  older.seed = 1;
  const auto rows = summarize({current, older}, {"random"});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_NEAR(rows[0].class_iou[1].mean, 0.7, 1e-12);  // road: (0.9 + 0.5) / 2
  EXPECT_NEAR(rows[0].class_iou[2].mean, 0.3, 1e-12);  // bag: (0.2 + 0.4) / 2
  EXPECT_NEAR(rows[0].class_iou[0].mean, 0.7, 1e-12);  // sky: only the older unit has it

  // The dataset's order wins whichever unit comes first (here the older one: seed 0).
  older.seed = 0;
  current.seed = 1;
  const auto swapped = summarize({older, current}, {"random"});
  EXPECT_NEAR(swapped[0].class_iou[1].mean, 0.7, 1e-12);  // road, second as in the dataset

  testing::ScratchDir dir("results-classes");
  write_results(dir.path(), {current, older}, {"random"}, nullptr);
  const auto table = CsvTable::load(dir.path() / "results.csv");
  const auto& header = table.header();
  const auto first_class = std::find(header.begin(), header.end(), "iou_sky");
  ASSERT_NE(first_class, header.end());
  EXPECT_EQ(*(first_class + 1), "iou_road");  // the dataset's order, not the alphabet
  EXPECT_EQ(table.rows()[0][table.column("iou_bag")], "0.4");  // the older unit, seed 0, comes first
}

TEST(ResultsTable, AnIncompleteUnitFileIsNamed) {
  const std::string message = testing::error_message(
      [] { unit_result_from_json(nlohmann::json{{"method", "random"}}, "units/random-1pct-seed0.json"); });
  EXPECT_CONTAINS(message, "units/random-1pct-seed0.json");
}

}  // namespace
}  // namespace regal::experiment
