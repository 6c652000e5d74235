// A sample store hands out the same label through get() and label(), cached
// or not; without a cache, label() leaves the image undecoded.
#include "regal/data/sample_store.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "data/dataset_fixtures.h"
#include "regal/core/error.h"
#include "support/test_support.h"

namespace regal::data {
namespace {

TEST(SampleStore, LabelEqualsTheLabelOfGetCachedOrNot) {
  testing::ScratchDir dir("sample-store");
  testing::write_band_dataset(dir.path(), "pool", 3, 16, 32, 4, 5);
  for (const bool cache : {false, true}) {
    const SampleStore store(open_dataset({"folder", dir.path(), "pool"}), cache);
    for (size_t i = 0; i < store.size(); ++i) {
      const auto label = store.label(i);  // [H, W]
      ASSERT_EQ(label.sizes(), (std::vector<int64_t>{16, 32}));
      EXPECT_EQ(label.scalar_type(), torch::kInt64);
      EXPECT_TRUE(torch::equal(label, store.get(i).label)) << "cache " << cache << ", sample " << i;
    }
  }
}

TEST(SampleStore, WithoutACacheLabelReadsNoImage) {
  testing::ScratchDir dir("sample-store");
  testing::write_band_dataset(dir.path(), "pool", 2, 16, 32, 4, 5);
  const SampleStore store(open_dataset({"folder", dir.path(), "pool"}), false);
  const auto before = store.label(0);
  testing::write_garbage(store.dataset().files(0).image);
  EXPECT_TRUE(torch::equal(store.label(0), before));
  EXPECT_THROW(store.get(0), Error);
}

}  // namespace
}  // namespace regal::data
