// The units of a run as the report reads them: every units/*.json, by file
// name whatever the directory order, other files and the temp file of a
// write that was killed before its rename ignored, and a broken or incomplete file
// named in the error (the report must not draw from half a run silently).
#include "regal/report/run_units.h"

#include <gtest/gtest.h>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "regal/experiment/results_table.h"
#include "support/test_support.h"

namespace regal::report {
namespace {

namespace fs = std::filesystem;

// The fields of a unit result that every table and figure reads.
std::string unit_text(const std::string& method, int seed) {
  nlohmann::json unit = {{"method", method},          {"budget", "1%"},
                         {"budget_regions", 10},      {"seed", seed},
                         {"seconds", {{"total", 1.0}}}, {"val_iou", nlohmann::json::object()}};
  for (const auto& name : experiment::unit_metric_names()) {
    if (name != "seconds") unit[name] = 0.5;
  }
  return unit.dump();
}

TEST(RunUnits, EveryUnitJsonByFileName) {
  testing::ScratchDir scratch("run-units");
  const fs::path units = scratch.path() / "units";
  // Written out of name order; a predictions folder and a stray file beside them.
  write_file_atomically(units / "random-2pct-seed0.json", unit_text("random", 0));
  write_file_atomically(units / "bald-1pct-seed1.json", unit_text("bald", 1));
  write_file_atomically(units / "entropy-1pct-seed0.json", unit_text("entropy", 0));
  fs::create_directories(units / "bald-1pct-seed1.predictions");
  write_file_atomically(units / "notes.txt", "not a unit");
  // A complete copy of a unit left under its temp name: counted, it would be a
  // second run of that unit in the means and standard deviations.
  write_file_atomically(units / "bald-1pct-seed1.tmp4242.json", unit_text("bald", 1));

  const auto loaded = load_run_units(scratch.path());
  ASSERT_EQ(loaded.size(), 3u);
  EXPECT_EQ(loaded[0].file.filename(), "bald-1pct-seed1.json");
  EXPECT_EQ(loaded[1].file.filename(), "entropy-1pct-seed0.json");
  EXPECT_EQ(loaded[2].file.filename(), "random-2pct-seed0.json");
  EXPECT_EQ(loaded[0].result.at("method"), "bald");
  EXPECT_EQ(loaded[2].result.at("seed"), 0);
}

TEST(RunUnits, NoUnitsDirectoryIsEmpty) {
  testing::ScratchDir scratch("run-units-none");
  EXPECT_TRUE(load_run_units(scratch.path()).empty());
}

TEST(RunUnits, BrokenJsonIsNamed) {
  testing::ScratchDir scratch("run-units-broken");
  write_file_atomically(scratch.path() / "units" / "random-1pct-seed0.json", R"({"method": "random")");
  try {
    load_run_units(scratch.path());
    FAIL() << "a truncated unit file was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("random-1pct-seed0.json"), std::string::npos) << e.what();
  }
}

TEST(RunUnits, AUnitLackingAFieldIsNamed) {
  testing::ScratchDir scratch("run-units-incomplete");
  auto unit = nlohmann::json::parse(unit_text("random", 0));
  unit.erase("val_miou");
  write_file_atomically(scratch.path() / "units" / "random-1pct-seed0.json", unit.dump());
  try {
    load_run_units(scratch.path());
    FAIL() << "a unit without val_miou was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("random-1pct-seed0.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("val_miou"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace regal::report
