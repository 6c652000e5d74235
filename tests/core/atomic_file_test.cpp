#include "regal/core/atomic_file.h"

#include <gtest/gtest.h>

#include "regal/core/error.h"
#include "support/test_support.h"

namespace regal {
namespace {

TEST(AtomicFile, WritesAndReadsBackCreatingDirectories) {
  testing::ScratchDir dir("atomic");
  const auto path = dir.path() / "a" / "b" / "out.txt";
  write_file_atomically(path, "hello\n");
  EXPECT_EQ(read_file(path), "hello\n");
  write_file_atomically(path, "second");
  EXPECT_EQ(read_file(path), "second");
  // Nothing but the target is left in the directory.
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(path.parent_path())) {
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(AtomicFile, FailedWriterLeavesTheOldFileIntact) {
  testing::ScratchDir dir("atomic");
  const auto path = dir.path() / "keep.txt";
  write_file_atomically(path, "old");
  EXPECT_THROW(write_atomically_with(path,
                                     [](const std::filesystem::path& temp) {
                                       write_file_atomically(temp, "partial");
                                       REGAL_FAIL("writer crashed");
                                     }),
               Error);
  EXPECT_EQ(read_file(path), "old");
}

TEST(AtomicFile, TheTempFileOfAWriteIsRecognisedAndNoOtherName) {
  testing::ScratchDir dir("atomic-temp");
  const auto path = dir.path() / "random-3pct-seed0.json";
  std::filesystem::path seen_temp;
  write_atomically_with(path, [&](const std::filesystem::path& temp) {
    seen_temp = temp;
    write_file_atomically(temp, "{}");
  });
  // What a write killed before its rename would leave behind.
  EXPECT_TRUE(is_atomic_write_temp(seen_temp)) << seen_temp;
  EXPECT_EQ(seen_temp.extension(), ".json");
  EXPECT_FALSE(is_atomic_write_temp(path));
  EXPECT_FALSE(is_atomic_write_temp("units/random-3pct-seed0.tmp.json"));
  EXPECT_FALSE(is_atomic_write_temp("units/a.tmpx12.json"));
  EXPECT_FALSE(is_atomic_write_temp("units/tmp12.json"));
}

TEST(AtomicFile, CopiesTheFilesOfADirectoryAllAtOnceAndKeepsAnExistingCopy) {
  testing::ScratchDir dir("atomic-copy");
  const auto from = dir.path() / "run";
  write_file_atomically(from / "best.pt", "weights");
  write_file_atomically(from / "log.csv", "t,reward\n");
  write_file_atomically(from / "checkpoint" / "state.pt", "large");
  const auto to = dir.path() / "cache" / "entry";
  copy_files_atomically(from, to);
  EXPECT_EQ(read_file(to / "best.pt"), "weights");
  EXPECT_EQ(read_file(to / "log.csv"), "t,reward\n");
  EXPECT_FALSE(std::filesystem::exists(to / "checkpoint"));  // subdirectories stay behind
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(to.parent_path())) ++entries;
  EXPECT_EQ(entries, 1);  // no temporary directory left

  write_file_atomically(from / "best.pt", "other weights");
  copy_files_atomically(from, to);
  EXPECT_EQ(read_file(to / "best.pt"), "weights");  // the first copy stands
  EXPECT_THROW(copy_files_atomically(dir.path() / "missing", dir.path() / "x"), Error);
}

TEST(AtomicFile, MissingFileErrorNamesThePath) {
  try {
    read_file("/nonexistent/regal/file.bin");
    FAIL() << "expected regal::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/regal/file.bin"), std::string::npos);
  }
}

}  // namespace
}  // namespace regal
