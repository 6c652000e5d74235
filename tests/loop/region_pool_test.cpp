// Region pool, budget, oracle, candidate draw (ALGORITHM.md sections 2-3),
// region crops and region training's batches (section 10).
#include "regal/loop/region_pool.h"

#include <cmath>
#include <set>
#include <tuple>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include "regal/core/error.h"
#include "regal/loop/candidates.h"
#include "regal/loop/region_training.h"
#include "regal/nn/fpn.h"
#include "regal/data/dataset.h"
#include "regal/data/sample_store.h"
#include "support/test_support.h"

namespace regal::loop {
namespace {

std::tuple<int64_t, int64_t, int64_t> key(const al::Region& r) { return {r.image, r.x, r.y}; }

TEST(Budget, CountsAndPercentages) {
  EXPECT_EQ(Budget::parse("480", "b").regions(10000), 480);
  EXPECT_EQ(Budget::parse("3%", "b").regions(1000), 30);
  EXPECT_EQ(Budget::parse("3%", "b").regions(1010), 30);  // floored
  EXPECT_EQ(Budget::parse("0.01%", "b").regions(100), 1);  // at least one region
  EXPECT_EQ(Budget::parse("3%", "b").to_string(), "3%");
  for (const char* bad : {"", "abc", "0", "-5", "2.5", "101%", "3%%", "%", "1e19"}) {
    EXPECT_THROW(Budget::parse(bad, "b"), Error) << bad;
  }
  EXPECT_THROW(Budget::parse("200", "b").regions(100), Error);
}

TEST(RegionPool, LabelsMasksAndOracle) {
  // 2 images of 32 x 64, 16 x 16 regions: 2 rows x 4 columns each.
  RegionPool pool(2, 32, 64, {16, 16});
  EXPECT_EQ(pool.total_regions(), 16);
  pool.label({1, 48, 16});
  pool.label({1, 0, 0});
  EXPECT_EQ(pool.labelled_count(), 2);
  EXPECT_EQ(pool.unlabelled_count(1), 6);
  EXPECT_TRUE(pool.labelled()[1][1][3].item<bool>());
  EXPECT_TRUE(pool.is_labelled({1, 0, 0}));
  EXPECT_FALSE(pool.is_labelled({0, 0, 0}));
  EXPECT_THROW(pool.label({1, 0, 0}), Error);  // twice
  EXPECT_THROW(pool.label({0, 8, 0}), Error);  // off the grid
  // State order: x-major, so (x 0, y 0) comes before (x 48, y 16).
  const auto labelled = pool.labelled_regions();
  ASSERT_EQ(labelled.size(), 2u);
  EXPECT_EQ(key(labelled[0]), std::make_tuple(1, 0, 0));
  EXPECT_EQ(key(labelled[1]), std::make_tuple(1, 48, 16));

  const auto mask = pool.pixel_mask(1);  // [32, 64]
  EXPECT_EQ(mask.sum().item<int64_t>(), 2 * 16 * 16);
  EXPECT_TRUE(mask.slice(0, 16, 32).slice(1, 48, 64).all().item<bool>());
  EXPECT_TRUE(mask.slice(0, 0, 16).slice(1, 0, 16).all().item<bool>());
  EXPECT_FALSE(pool.pixel_mask(0).any().item<bool>());

  const auto gt = torch::arange(32 * 64, torch::kInt64).remainder(7).view({32, 64});  // [32, 64]
  const auto label = oracle_label(gt, mask);
  EXPECT_TRUE(torch::equal(label.masked_select(mask), gt.masked_select(mask)));
  EXPECT_TRUE((label.masked_select(~mask) == 255).all().item<bool>());

  pool.reset();
  EXPECT_EQ(pool.labelled_count(), 0);
}

TEST(RegionPool, MaskLeavesPixelsOutsideTheGridUnlabelled) {
  RegionPool pool(1, 40, 70, {16, 16});  // 2 x 4 regions, 8 rows and 6 columns left over
  for (const auto& r : pool.grid().regions(1)) pool.label(r);
  const auto mask = pool.pixel_mask(0);
  EXPECT_EQ(mask.sizes(), (std::vector<int64_t>{40, 70}));
  EXPECT_EQ(mask.sum().item<int64_t>(), 32 * 64);
}

TEST(RegionPool, SaveLoadRoundTrip) {
  testing::ScratchDir dir("pool");
  RegionPool pool(3, 32, 64, {16, 16});
  pool.label({2, 16, 16});
  pool.label({0, 32, 0});
  pool.save(dir.path() / "pool.pt");
  RegionPool other(3, 32, 64, {16, 16});
  other.load(dir.path() / "pool.pt");
  EXPECT_EQ(other.labelled_count(), 2);
  EXPECT_TRUE(torch::equal(other.labelled(), pool.labelled()));
  RegionPool wrong(2, 32, 64, {16, 16});
  EXPECT_THROW(wrong.load(dir.path() / "pool.pt"), Error);
  EXPECT_THROW(other.load(dir.path() / "missing.pt"), Error);
}

TEST(CandidateSampling, DistinctUnlabelledAndExactlyKTimesN) {
  RegionPool pool(10, 32, 64, {16, 16});  // 80 regions
  std::mt19937_64 rng(5);
  for (int i = 0; i < 30; ++i) {
    const auto candidates = sample_candidate_regions(pool, 12, rng);
    ASSERT_EQ(candidates.size(), 12u);
    std::set<std::tuple<int64_t, int64_t, int64_t>> seen;
    for (const auto& r : candidates) {
      EXPECT_FALSE(pool.is_labelled(r));
      EXPECT_TRUE(seen.insert(key(r)).second) << "duplicate candidate";
    }
    pool.label(candidates.front());  // shrink the pool as steps do
  }
  // 12 candidates need more than 12 unlabelled regions: exactly 2 fresh
  // images of 8 are drawn, and 12 of their 16 regions span both.
  RegionPool fresh(10, 32, 64, {16, 16});
  std::mt19937_64 rng2(1);
  const auto drawn = sample_candidate_regions(fresh, 12, rng2);
  std::set<int64_t> images;
  for (const auto& r : drawn) images.insert(r.image);
  EXPECT_EQ(images.size(), 2u);
}

TEST(CandidateSampling, UsesTheWholePoolWhenItHoldsExactlyEnough) {
  RegionPool pool(2, 32, 64, {16, 16});
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10; ++i) pool.label(sample_candidate_regions(pool, 1, rng).front());
  ASSERT_EQ(pool.unlabelled_count(), 6);
  const auto all = sample_candidate_regions(pool, 6, rng);
  EXPECT_EQ(all.size(), 6u);
  EXPECT_THROW(sample_candidate_regions(pool, 7, rng), Error);
}

TEST(CandidateSampling, GroupsArePermutedDrawsAndDeterministicPerSeed) {
  RegionPool pool(10, 32, 64, {16, 16});
  std::mt19937_64 a(9);
  std::mt19937_64 b(9);
  const auto first = draw_candidates(pool, 3, 4, a);
  const auto second = draw_candidates(pool, 3, 4, b);
  ASSERT_EQ(first.regions.size(), 12u);
  EXPECT_EQ(first.groups, 3);
  EXPECT_EQ(first.per_group, 4);
  for (size_t i = 0; i < 12; ++i) EXPECT_EQ(key(first.regions[i]), key(second.regions[i]));
  EXPECT_EQ(key(first.at(2, 1)), key(first.regions[9]));
  // The same draws as sample_candidate_regions, in a shuffled order.
  std::mt19937_64 c(9);
  const auto plain = sample_candidate_regions(pool, 12, c);
  std::set<std::tuple<int64_t, int64_t, int64_t>> drawn, grouped;
  for (const auto& r : plain) drawn.insert(key(r));
  for (const auto& r : first.regions) grouped.insert(key(r));
  EXPECT_EQ(drawn, grouped);
}

TEST(RegionCrop, ContainsTheRegionCentreAndIgnoresUnlabelledPixels) {
  const int64_t height = 64;
  const int64_t width = 96;
  const auto columns = torch::arange(width, torch::kFloat32).view({1, 1, width}).expand({3, height, width});
  data::TensorSample sample{columns.contiguous(), torch::zeros({height, width}, torch::kInt64)};
  RegionPool pool(1, height, width, {16, 16});
  const al::Region region{0, 48, 32};
  pool.label(region);
  std::mt19937_64 rng(4);
  std::set<int64_t> origins;
  for (int trial = 0; trial < 200; ++trial) {
    const auto crop = region_crop(sample, pool.pixel_mask(0), region, {16, 16}, 32, 40, rng);
    ASSERT_EQ(crop.sample.image.sizes(), (std::vector<int64_t>{3, 32, 40}));
    // The centre pixel (y 40, x 56) lies inside the window.
    EXPECT_LE(crop.origin_y, 40);
    EXPECT_GT(crop.origin_y + 32, 40);
    EXPECT_LE(crop.origin_x, 56);
    EXPECT_GT(crop.origin_x + 40, 56);
    EXPECT_GE(crop.origin_y, 0);
    EXPECT_LE(crop.origin_y + 32, height);
    EXPECT_LE(crop.origin_x + 40, width);
    EXPECT_EQ(crop.sample.image[0][0][0].item<float>(), static_cast<float>(crop.origin_x));
    // Labelled pixels are the region's part of the crop, the rest IGNORE.
    const auto labelled = (crop.sample.label != 255).sum().item<int64_t>();
    const int64_t rows = std::min(crop.origin_y + 32, int64_t{48}) - std::max(crop.origin_y, int64_t{32});
    const int64_t cols = std::min(crop.origin_x + 40, int64_t{64}) - std::max(crop.origin_x, int64_t{48});
    EXPECT_EQ(labelled, rows * cols);
    origins.insert(crop.origin_x);
  }
  EXPECT_GT(origins.size(), 10u);  // the origin is drawn, not fixed
  // A crop larger than the image is cut to the image.
  const auto whole = region_crop(sample, pool.pixel_mask(0), region, {16, 16}, 128, 128, rng);
  EXPECT_EQ(whole.sample.label.sizes(), (std::vector<int64_t>{height, width}));
}

// Crops are cut to the image, and the batch rule sees that size: a step that
// labels three regions of 32 x 32 images with batch size 2 folds the third
// crop into the batch before it instead of failing in BatchNorm at 1 x 1,
// however large the configured crop.
TEST(RegionTrainer, ATrailingCropOfASmallImageJoinsTheBatchBefore) {
  testing::ScratchDir dir("region-trainer");
  testing::write_band_dataset(dir.path(), "d", 2, 32, 32, 3, 1);
  const data::SampleStore store(data::open_dataset({"folder", dir.path(), "d"}), true);
  RegionPool pool(2, 32, 32, {16, 16});
  const std::vector<al::Region> regions = {{0, 0, 0}, {0, 16, 16}, {1, 0, 16}};
  for (const auto& region : regions) pool.label(region);
  torch::manual_seed(1);
  RegionTrainer trainer(nn::Fpn(nn::FpnOptions(3).backbone(nn::Backbone::ResNet18).fpn_channels(8)),
                        RegionTrainOptions().crop_height(128).crop_width(128).batch_size(2), torch::kCPU);
  std::mt19937_64 rng(2);
  double loss = 0.0;
  EXPECT_NO_THROW(loss = trainer.train_epoch(store, pool, regions, rng));
  EXPECT_GT(loss, 0.0);
}

// A batch whose crops hold no labelled pixel (regions void throughout, or
// selected but never annotated) has no loss: it is skipped, no step is taken,
// and the epoch's loss is that of the other batches.
TEST(RegionTrainer, ABatchWithoutALabelledPixelIsSkipped) {
  testing::ScratchDir dir("region-trainer-void");
  testing::write_band_dataset(dir.path(), "d", 2, 32, 32, 3, 1);
  cv::imwrite((dir.path() / "labels" / "d_1.png").string(), cv::Mat(32, 32, CV_8UC1, cv::Scalar(255)));
  const data::SampleStore store(data::open_dataset({"folder", dir.path(), "d"}), true);
  RegionPool pool(2, 32, 32, {16, 16});
  const std::vector<al::Region> void_regions = {{1, 0, 0}, {1, 16, 16}};
  const std::vector<al::Region> labelled_regions = {{0, 0, 0}, {0, 16, 16}};
  for (const auto& region : void_regions) pool.label(region);
  for (const auto& region : labelled_regions) pool.label(region);
  torch::manual_seed(1);
  RegionTrainer trainer(nn::Fpn(nn::FpnOptions(3).backbone(nn::Backbone::ResNet18).fpn_channels(8)),
                        RegionTrainOptions().crop_height(16).crop_width(16).batch_size(2), torch::kCPU);
  std::vector<at::Tensor> before;
  for (const auto& parameter : trainer.net()->parameters()) before.push_back(parameter.detach().clone());
  std::mt19937_64 rng(2);
  EXPECT_TRUE(std::isnan(trainer.train_epoch(store, pool, void_regions, rng)));
  const auto after = trainer.net()->parameters();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i], after[i])) << "parameter " << i;
  // Crops of 16 x 16 on the region grid: each batch of two holds void crops
  // only, labelled only, or one of each; the loss is finite either way.
  const double loss = trainer.train_epoch(store, pool, pool.labelled_regions(), rng);
  EXPECT_TRUE(std::isfinite(loss));
  EXPECT_GT(loss, 0.0);
}

}  // namespace
}  // namespace regal::loop
