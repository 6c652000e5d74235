// Behaviour of ConfusionMatrix and the IoU helpers beyond the golden vectors:
// ignore handling, batching, merge/reset, and the errors for bad input.
#include "regal/metrics/confusion_matrix.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <string>

#include "regal/core/error.h"
#include "regal/metrics/iou.h"

namespace regal::metrics {
namespace {

// Matches a regal::Error whose message contains `part`.
#define EXPECT_ERROR_CONTAINS(statement, part)                                    \
  do {                                                                            \
    try {                                                                         \
      statement;                                                                  \
      ADD_FAILURE() << "expected regal::Error containing '" << (part) << "'";     \
    } catch (const regal::Error& e) {                                             \
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what(); \
    }                                                                             \
  } while (false)

TEST(ConfusionMatrix, CountsRowsGtColumnsPredAndSkipsIgnore) {
  ConfusionMatrix cm(3);
  const torch::Tensor target = torch::tensor({0, 0, 1, 2, 255, 2}, torch::kLong).reshape({2, 3});
  const torch::Tensor pred = torch::tensor({0, 1, 1, 2, 0, 0}, torch::kLong).reshape({2, 3});
  cm.update(pred, target);
  const torch::Tensor want =
      torch::tensor({1, 1, 0, 0, 1, 0, 1, 0, 1}, torch::kLong).reshape({3, 3});
  EXPECT_TRUE(torch::equal(cm.matrix(), want)) << cm.matrix();
  EXPECT_EQ(cm.matrix().scalar_type(), torch::kLong);
}

TEST(ConfusionMatrix, AccumulatesMergesAndResets) {
  const torch::Tensor target = torch::randint(0, 4, {2, 5, 7}, torch::kLong);  // [B, H, W]
  const torch::Tensor pred = torch::randint(0, 4, {2, 5, 7}, torch::kLong);
  ConfusionMatrix a(4);
  a.update(pred[0], target[0]);
  ConfusionMatrix b(4);
  b.update(pred[1], target[1]);
  a.merge(b);
  ConfusionMatrix whole(4);
  whole.update(pred, target);
  EXPECT_TRUE(torch::equal(a.matrix(), whole.matrix()));
  EXPECT_EQ(whole.matrix().sum().item<int64_t>(), 70);
  whole.update(pred, target);
  EXPECT_TRUE(torch::equal(whole.matrix(), 2 * a.matrix()));
  whole.reset();
  EXPECT_EQ(whole.matrix().sum().item<int64_t>(), 0);
  ConfusionMatrix other(5);
  EXPECT_THROW(a.merge(other), regal::Error);
}

TEST(ConfusionMatrix, RejectsBadInput) {
  ConfusionMatrix cm(3);
  const torch::Tensor ok = torch::zeros({4, 4}, torch::kLong);
  EXPECT_ERROR_CONTAINS(cm.update(ok, torch::zeros({4, 5}, torch::kLong)), "differs");
  EXPECT_ERROR_CONTAINS(cm.update(torch::zeros({4}, torch::kLong), torch::zeros({4}, torch::kLong)),
                        "[B, H, W] or [H, W]");
  EXPECT_ERROR_CONTAINS(cm.update(torch::zeros({4, 4}), ok), "integer label dtype");
  EXPECT_ERROR_CONTAINS(cm.update(ok, torch::full({4, 4}, 3, torch::kLong)), "found 3");
  EXPECT_ERROR_CONTAINS(cm.update(ok, torch::full({4, 4}, -1, torch::kLong)), "found -1");
  // 255 is "ignore" in the ground truth only: a prediction of 255 is a bug.
  EXPECT_ERROR_CONTAINS(
      cm.update(torch::full({4, 4}, 255, torch::kUInt8), torch::zeros({4, 4}, torch::kUInt8)),
      "found 255");
  EXPECT_EQ(cm.matrix().sum().item<int64_t>(), 0) << "a rejected update must not count";
  EXPECT_THROW(ConfusionMatrix(0), regal::Error);
  EXPECT_THROW(ConfusionMatrix(255), regal::Error);
}

TEST(Iou, AbsentClassIsNanAndLeftOutOfTheMeans) {
  // Class 0: TP 2, FN 1 (pred 1). Class 1: TP 0, FP 1. Class 2: absent.
  const torch::Tensor cm = torch::tensor({2, 1, 0, 0, 0, 0, 0, 0, 0}, torch::kLong).reshape({3, 3});
  const torch::Tensor iou = per_class_iou(cm);
  EXPECT_DOUBLE_EQ(iou[0].item<double>(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(iou[1].item<double>(), 0.0);
  EXPECT_TRUE(std::isnan(iou[2].item<double>()));
  EXPECT_DOUBLE_EQ(mean_iou(iou), 1.0 / 3.0);
  const torch::Tensor w = torch::tensor({1.0, 3.0, 1000.0}, torch::kDouble);
  EXPECT_DOUBLE_EQ(weighted_iou(iou, w), (2.0 / 3.0) / 4.0);
}

TEST(Iou, NoClassPresentScoresZero) {
  const torch::Tensor iou = per_class_iou(torch::zeros({4, 4}, torch::kLong));
  EXPECT_TRUE(torch::isnan(iou).all().item<bool>());
  EXPECT_EQ(mean_iou(iou), 0.0);
  EXPECT_EQ(weighted_iou(iou, torch::ones({4}, torch::kDouble)), 0.0);
}

TEST(Iou, WeightsAndFrequenciesValidateTheirInput) {
  EXPECT_NEAR(class_weights(torch::tensor({0.0}, torch::kDouble))[0].item<double>(),
              1.0 / std::log(1.02), 1e-12);
  EXPECT_THROW(class_weights(torch::tensor({1.5}, torch::kDouble)), regal::Error);
  EXPECT_THROW(class_weights(torch::tensor({std::numeric_limits<double>::quiet_NaN()})),
               regal::Error);
  EXPECT_THROW(class_frequencies(torch::zeros({3}, torch::kLong)), regal::Error);
  EXPECT_THROW(per_class_iou(torch::zeros({3, 4}, torch::kLong)), regal::Error);
  EXPECT_THROW(weighted_iou(torch::zeros({3}), torch::zeros({4})), regal::Error);
  EXPECT_THROW(class_pixel_counts(torch::full({2, 2}, 7, torch::kUInt8), 5), regal::Error);
  EXPECT_THROW(class_pixel_counts(std::vector<torch::Tensor>{}, 5), regal::Error);
}

TEST(Iou, PixelCountsSkipIgnoreAndSumOverMapsOfDifferentSizes) {
  const torch::Tensor a = torch::tensor({0, 1, 255, 1}, torch::kUInt8).reshape({2, 2});
  const torch::Tensor b = torch::tensor({2, 2, 2}, torch::kUInt8).reshape({1, 3});
  const torch::Tensor counts = class_pixel_counts({a, b}, 4);
  EXPECT_TRUE(torch::equal(counts, torch::tensor({1, 2, 3, 0}, torch::kLong))) << counts;
  const torch::Tensor f = class_frequencies(counts);
  EXPECT_DOUBLE_EQ(f[2].item<double>(), 0.5);
}

}  // namespace
}  // namespace regal::metrics
