#include "regal/train/batching.h"

#include <gtest/gtest.h>

#include "regal/core/error.h"

namespace regal::train {
namespace {

using Ranges = std::vector<std::pair<size_t, size_t>>;

TEST(BatchRanges, CutsCountIntoBatchesWithAShorterLastOne) {
  EXPECT_EQ(batch_ranges(10, 4, 128, 128, "test"), (Ranges{{0, 4}, {4, 8}, {8, 10}}));
  EXPECT_EQ(batch_ranges(8, 4, 128, 128, "test"), (Ranges{{0, 4}, {4, 8}}));
  EXPECT_EQ(batch_ranges(0, 4, 128, 128, "test"), Ranges{});
  // A crop above 32 on one side keeps BatchNorm's last stage at 2 values or more: a batch of one stays.
  EXPECT_EQ(batch_ranges(9, 4, 32, 33, "test"), (Ranges{{0, 4}, {4, 8}, {8, 9}}));
  EXPECT_EQ(batch_ranges(1, 4, 64, 16, "test"), (Ranges{{0, 1}}));
  EXPECT_EQ(batch_ranges(3, 1, 64, 64, "test"), (Ranges{{0, 1}, {1, 2}, {2, 3}}));
}

TEST(BatchRanges, ATrailingBatchOfOneSmallCropJoinsThePreviousBatch) {
  EXPECT_TRUE(single_crop_breaks_batchnorm(32, 32));
  EXPECT_TRUE(single_crop_breaks_batchnorm(16, 32));
  EXPECT_FALSE(single_crop_breaks_batchnorm(32, 48));
  EXPECT_EQ(batch_ranges(9, 4, 32, 32, "test"), (Ranges{{0, 4}, {4, 9}}));
  EXPECT_EQ(batch_ranges(3, 2, 32, 32, "test"), (Ranges{{0, 3}}));
  EXPECT_EQ(batch_ranges(10, 4, 32, 32, "test"), (Ranges{{0, 4}, {4, 8}, {8, 10}}));
}

TEST(BatchRanges, OneSampleOrBatchesOfOneAtASmallCropAreErrorsNamingTheJob) {
  for (const auto& [count, batch_size] : {std::pair<size_t, size_t>{1, 4}, {5, 1}}) {
    try {
      batch_ranges(count, batch_size, 32, 32, "region training");
      FAIL() << count << " samples in batches of " << batch_size << " at 32 x 32 were accepted";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("region training"), std::string::npos) << message;
      EXPECT_NE(message.find("32 x 32"), std::string::npos) << message;
    }
  }
}

}  // namespace
}  // namespace regal::train
