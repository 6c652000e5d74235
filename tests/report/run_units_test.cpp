// The units of a run as the report reads them: every units/*.json, by file
// name whatever the directory order, other files ignored, and a broken file
// named in the error (the report must not draw from half a run silently).
#include "regal/report/run_units.h"

#include <gtest/gtest.h>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "support/test_support.h"

namespace regal::report {
namespace {

namespace fs = std::filesystem;

TEST(RunUnits, EveryUnitJsonByFileName) {
  testing::ScratchDir scratch("run-units");
  const fs::path units = scratch.path() / "units";
  // Written out of name order; a predictions folder and a stray file beside them.
  write_file_atomically(units / "random-2pct-seed0.json", R"({"method": "random", "seed": 0})");
  write_file_atomically(units / "bald-1pct-seed1.json", R"({"method": "bald", "seed": 1})");
  write_file_atomically(units / "entropy-1pct-seed0.json", R"({"method": "entropy", "seed": 0})");
  fs::create_directories(units / "bald-1pct-seed1.predictions");
  write_file_atomically(units / "notes.txt", "not a unit");

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

}  // namespace
}  // namespace regal::report
