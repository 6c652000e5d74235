#include "regal/core/csv_table.h"

#include <gtest/gtest.h>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "regal/core/progress.h"
#include "support/test_support.h"

namespace regal {
namespace {

TEST(CsvTable, SavesAndLoadsBackRows) {
  testing::ScratchDir dir("csv");
  CsvTable table({"epoch", "loss"});
  table.add_row({"0", format_number(1.5)});
  table.add_row({"1", format_number(0.25)});
  table.save(dir.path() / "log.csv");
  EXPECT_EQ(read_file(dir.path() / "log.csv"), "epoch,loss\n0,1.5\n1,0.25\n");

  auto loaded = CsvTable::load_or_empty(dir.path() / "log.csv", {"epoch", "loss"});
  ASSERT_EQ(loaded.rows().size(), 2u);
  EXPECT_EQ(loaded.rows()[1][1], "0.25");
  EXPECT_EQ(loaded.column("loss"), 1);
}

TEST(CsvTable, KeepRowsIfDropsRowsPastTheResumePoint) {
  CsvTable table({"epoch"});
  for (int epoch = 0; epoch < 5; ++epoch) table.add_row({std::to_string(epoch)});
  table.keep_rows_if([](const std::vector<std::string>& row) { return std::stoi(row[0]) < 3; });
  EXPECT_EQ(table.rows().size(), 3u);
}

TEST(CsvTable, MissingFileGivesEmptyTableAndWrongHeaderIsAnError) {
  testing::ScratchDir dir("csv");
  EXPECT_TRUE(CsvTable::load_or_empty(dir.path() / "none.csv", {"a"}).rows().empty());
  write_file_atomically(dir.path() / "other.csv", "x,y\n1,2\n");
  try {
    CsvTable::load_or_empty(dir.path() / "other.csv", {"a", "b"});
    FAIL() << "expected regal::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("other.csv"), std::string::npos);
  }
}

TEST(CsvTable, RowWithWrongWidthIsRejected) {
  CsvTable table({"a", "b"});
  EXPECT_THROW(table.add_row({"1"}), Error);
}

TEST(FormatNumber, NanAndPrecision) {
  EXPECT_EQ(format_number(std::nan("")), "nan");
  EXPECT_EQ(format_number(0.123456789), "0.123457");
}

TEST(FormatDuration, SecondsMinutesHours) {
  EXPECT_EQ(format_duration(12.34), "12.3s");
  EXPECT_EQ(format_duration(185), "3m05s");
  EXPECT_EQ(format_duration(3720), "1h02m");
}

}  // namespace
}  // namespace regal
