#include "regal/core/archive_file.h"

#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "support/test_support.h"

namespace regal {
namespace {

TEST(ArchiveFile, TheSameTensorsGiveTheSameBytesUnderAnyName) {
  testing::ScratchDir dir("archive");
  const std::vector<at::Tensor> tensors = {torch::arange(12).reshape({3, 4}), torch::tensor({0.5, 1.5})};
  save_tensors_atomically(dir.path() / "pending.pt", tensors);
  save_tensors_atomically(dir.path() / "sub" / "another-name.pt", tensors);
  EXPECT_EQ(read_file(dir.path() / "pending.pt"), read_file(dir.path() / "sub" / "another-name.pt"));

  torch::serialize::OutputArchive archive;
  archive.write("weights", torch::ones({2, 2}));
  save_archive_atomically(dir.path() / "a.pt", archive);
  save_archive_atomically(dir.path() / "b.pt", archive);
  EXPECT_EQ(read_file(dir.path() / "a.pt"), read_file(dir.path() / "b.pt"));
}

TEST(ArchiveFile, WhatIsSavedLoadsBackAndNoTemporaryIsLeft) {
  testing::ScratchDir dir("archive");
  const at::Tensor mask = torch::rand({5, 7}) > 0.5;
  save_tensor_atomically(dir.path() / "pool.pt", mask);
  at::Tensor loaded;
  torch::load(loaded, (dir.path() / "pool.pt").string());
  EXPECT_TRUE(torch::equal(loaded, mask));

  std::vector<at::Tensor> several;
  save_tensors_atomically(dir.path() / "several.pt", {torch::zeros({3}), torch::ones({2, 2})});
  torch::load(several, (dir.path() / "several.pt").string());
  ASSERT_EQ(several.size(), 2U);
  EXPECT_TRUE(torch::equal(several[1], torch::ones({2, 2})));

  int entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_FALSE(is_atomic_write_temp(entry.path())) << entry.path();
    ++entries;
  }
  EXPECT_EQ(entries, 2);
}

TEST(ArchiveFile, AnUnwritablePathIsNamedAndTheOldFileKept) {
  testing::ScratchDir dir("archive");
  write_file_atomically(dir.path() / "blocker", "a file where a directory should be");
  const auto path = dir.path() / "blocker" / "out.pt";
  try {
    save_tensor_atomically(path, torch::ones({2}));
    FAIL() << "expected regal::Error";
  } catch (const Error& e) {
    // The directory that cannot be made is named.
    EXPECT_NE(std::string(e.what()).find("blocker"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_file(dir.path() / "blocker"), "a file where a directory should be");
}

}  // namespace
}  // namespace regal
