// The train-side score of a unit: the net's mIoU on the labelled pixels of
// the pool, forwarded in batches, equals the one-image-at-a-time reference.
#include "regal/loop/scoring.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "regal/core/error.h"
#include "regal/metrics/iou.h"
#include "support/test_support.h"

namespace regal::loop {
namespace {

constexpr int kClasses = 3;

// mIoU over the labelled pixels by hand: each image alone through the net,
// its prediction and ground truth kept where the pool's mask is true.
double reference_miou(nn::Fpn& net, const data::SampleStore& store, const RegionPool& pool) {
  torch::NoGradGuard no_grad;
  net->eval();
  auto confusion = torch::zeros({kClasses * kClasses}, torch::kInt64);  // [C * C], rows = ground truth
  for (int64_t image = 0; image < pool.num_images(); ++image) {
    const auto sample = store.get(static_cast<size_t>(image));
    const auto mask = pool.pixel_mask(image) & (sample.label != 255);                // [H, W]
    const auto prediction = net->forward(sample.image.unsqueeze(0)).argmax(1)[0];    // [H, W]
    const auto cells = sample.label.masked_select(mask) * kClasses + prediction.masked_select(mask);  // [P]
    confusion += torch::bincount(cells, {}, kClasses * kClasses);
  }
  return metrics::mean_iou(metrics::per_class_iou(confusion.view({kClasses, kClasses})));
}

class LabelledPixelsMiou : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::write_band_dataset(dir_.path(), "pool", 5, 32, 64, kClasses, 7);
    store_.emplace(data::open_dataset({"folder", dir_.path(), "pool"}), true);
    torch::manual_seed(3);
    net_ = nn::Fpn(nn::FpnOptions(kClasses).fpn_channels(8));
    // Images 1 and 4 stay unlabelled; image 2 has two regions.
    for (const al::Region& region : {al::Region{0, 0, 0}, al::Region{2, 16, 16}, al::Region{2, 48, 0},
                                     al::Region{3, 32, 16}}) {
      pool_.label(region);
    }
  }

  testing::ScratchDir dir_{"labelled-miou"};
  std::optional<data::SampleStore> store_;
  nn::Fpn net_{nullptr};
  RegionPool pool_{5, 32, 64, {16, 16}};
};

TEST_F(LabelledPixelsMiou, EqualsTheOneImageAtATimeReferenceForAnyBatchSize) {
  const double expected = reference_miou(net_, *store_, pool_);
  EXPECT_GT(expected, 0.0);
  for (const int batch_size : {1, 2, 8}) {
    EXPECT_NEAR(labelled_pixels_miou(net_, *store_, pool_, torch::kCPU, batch_size), expected, 1e-12)
        << "batch size " << batch_size;
  }
}

TEST_F(LabelledPixelsMiou, ScoresOnlyTheLabelledPixels) {
  const double before = labelled_pixels_miou(net_, *store_, pool_, torch::kCPU, 4);
  // Labelling more of the images changes which pixels count, and the score follows the reference.
  for (int64_t x = 0; x < 64; x += 16) pool_.label({1, x, 0});
  const double after = labelled_pixels_miou(net_, *store_, pool_, torch::kCPU, 4);
  EXPECT_NEAR(after, reference_miou(net_, *store_, pool_), 1e-12);
  EXPECT_NE(after, before);
}

TEST_F(LabelledPixelsMiou, KeepsTheTrainingModeAndRejectsAPoolOfAnotherSplit) {
  net_->train();
  labelled_pixels_miou(net_, *store_, pool_, torch::kCPU, 2);
  EXPECT_TRUE(net_->is_training());
  const RegionPool other(4, 32, 64, {16, 16});
  EXPECT_THROW(labelled_pixels_miou(net_, *store_, other, torch::kCPU, 2), Error);
}

TEST(ClassCounts, CountEveryLabelledPixelOfEveryStoreCachedOrNot) {
  testing::ScratchDir dir("class-counts");
  testing::write_band_dataset(dir.path(), "a", 3, 16, 32, kClasses, 7);
  testing::write_band_dataset(dir.path(), "b", 2, 16, 32, kClasses, 8);
  auto expected = torch::zeros({kClasses}, torch::kInt64);  // [C], by hand
  for (const char* split : {"a", "b"}) {
    const data::SampleStore store(data::open_dataset({"folder", dir.path(), split}), false);
    for (size_t i = 0; i < store.size(); ++i) {
      const auto label = store.get(i).label;  // [H, W]
      expected += torch::bincount(label.masked_select(label != 255), {}, kClasses);
    }
  }
  ASSERT_GT(expected.min().item<int64_t>(), 0);
  for (const bool cache : {false, true}) {
    const data::SampleStore a(data::open_dataset({"folder", dir.path(), "a"}), cache);
    const data::SampleStore b(data::open_dataset({"folder", dir.path(), "b"}), cache);
    EXPECT_TRUE(torch::equal(class_counts_of({&a, &b}, kClasses), expected)) << "cache " << cache;
  }
}

}  // namespace
}  // namespace regal::loop
