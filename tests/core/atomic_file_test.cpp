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
