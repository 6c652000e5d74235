#include "regal/train/segmentation_trainer.h"

#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "regal/train/augment.h"
#include "regal/train/checkpoint.h"
#include "support/test_support.h"

namespace regal::train {
namespace {

namespace fs = std::filesystem;

constexpr int kClasses = 3;

nn::Fpn tiny_net() {
  torch::manual_seed(0);
  return nn::Fpn(nn::FpnOptions(kClasses).backbone(nn::Backbone::ResNet18).fpn_channels(16));
}

TrainOptions tiny_options() {
  return TrainOptions().epochs(2).batch_size(4).lr(0.01).crop_height(32).crop_width(32).patience(0).eval_batch_size(
      4);
}

struct BandData {
  testing::ScratchDir dir{"trainer"};
  std::unique_ptr<data::SampleStore> train_set;
  std::unique_ptr<data::SampleStore> val_set;
  BandData() {
    testing::write_band_dataset(dir.path() / "data", "train", 8, 32, 48, kClasses, 1);
    testing::write_band_dataset(dir.path() / "data", "val", 4, 32, 48, kClasses, 2);
    train_set = std::make_unique<data::SampleStore>(data::open_dataset({"folder", dir.path() / "data", "train"}), true);
    val_set = std::make_unique<data::SampleStore>(data::open_dataset({"folder", dir.path() / "data", "val"}), true);
  }
};

TEST(RandomCropFlip, CropsToSizeAndKeepsImageAndLabelAligned) {
  // Channel 0 holds the column index and the label the column index too, so
  // any misalignment between image and label crops shows up.
  auto columns = torch::arange(40, torch::kFloat32).view({1, 1, 40}).expand({3, 20, 40}).contiguous();  // [3, 20, 40]
  data::TensorSample sample{columns, columns[0].to(torch::kInt64)};
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 20; ++trial) {
    auto crop = random_crop_flip(sample, 16, 24, true, rng);
    ASSERT_EQ(crop.image.sizes(), (std::vector<int64_t>{3, 16, 24}));
    ASSERT_EQ(crop.label.sizes(), (std::vector<int64_t>{16, 24}));
    EXPECT_TRUE(torch::equal(crop.image[0].to(torch::kInt64), crop.label));
  }
}

TEST(RandomCropFlip, PadsSmallImagesWithIgnoredLabels) {
  data::TensorSample sample{torch::ones({3, 10, 12}), torch::zeros({10, 12}, torch::kInt64)};
  std::mt19937_64 rng(0);
  auto crop = random_crop_flip(sample, 16, 16, false, rng);
  EXPECT_EQ(crop.label.sizes(), (std::vector<int64_t>{16, 16}));
  EXPECT_EQ((crop.label == 255).sum().item<int64_t>(), 16 * 16 - 10 * 12);
  EXPECT_EQ(crop.image.sum().item<float>(), 3.0f * 10 * 12);
}

TEST(Checkpoint, RoundTripRestoresWeightsOptimizerAndMeta) {
  testing::ScratchDir dir("ckpt");
  auto net = tiny_net();
  torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  save_checkpoint(dir.path() / "a.pt", *net, &optimizer, {{"epoch", 3}});

  torch::manual_seed(42);
  auto other = nn::Fpn(nn::FpnOptions(kClasses).backbone(nn::Backbone::ResNet18).fpn_channels(16));
  torch::optim::SGD other_optimizer(other->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  const auto meta = load_checkpoint(dir.path() / "a.pt", *other, &other_optimizer);
  EXPECT_EQ(meta.at("epoch").get<int>(), 3);
  const auto a = net->named_parameters();
  const auto b = other->named_parameters();
  for (const auto& item : a) {
    EXPECT_TRUE(torch::equal(item.value(), b[item.key()])) << item.key();
  }
}

// A digest of best.pt keys the policy cache and the resume checks: the same
// weights must give the same file, whatever it is called and whichever
// process wrote it.
TEST(Checkpoint, TheSameWeightsGiveTheSameBytesUnderAnyName) {
  testing::ScratchDir dir("ckpt");
  auto net = tiny_net();
  torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  save_checkpoint(dir.path() / "best.pt", *net, &optimizer, {{"epoch", 3}});
  save_checkpoint(dir.path() / "other" / "last.pt", *net, &optimizer, {{"epoch", 3}});
  EXPECT_EQ(read_file(dir.path() / "best.pt"), read_file(dir.path() / "other" / "last.pt"));
}

TEST(Checkpoint, MismatchedNetAndCorruptFileAreErrorsNamingTheFile) {
  testing::ScratchDir dir("ckpt");
  auto net = tiny_net();
  save_checkpoint(dir.path() / "three.pt", *net, nullptr, {});
  auto five_classes = nn::Fpn(nn::FpnOptions(5).backbone(nn::Backbone::ResNet18).fpn_channels(16));
  try {
    load_checkpoint(dir.path() / "three.pt", *five_classes, nullptr);
    FAIL() << "expected regal::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("three.pt"), std::string::npos) << e.what();
  }
  write_file_atomically(dir.path() / "junk.pt", "not a checkpoint");
  try {
    load_checkpoint(dir.path() / "junk.pt", *net, nullptr);
    FAIL() << "expected regal::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("junk.pt"), std::string::npos) << e.what();
  }
}

TEST(TrainSegmentation, LearnsBandsWritesLogAndCheckpoints) {
  BandData data;
  auto net = tiny_net();
  TrainJob job{"test", data.dir.path() / "run", tiny_options().epochs(4), false};
  const auto result = train_segmentation(net, *data.train_set, *data.val_set, torch::kCPU, job);
  ASSERT_EQ(result.epochs.size(), 4u);
  EXPECT_LT(result.epochs.back().train_loss, result.epochs.front().train_loss);
  EXPECT_TRUE(fs::exists(job.out_dir / "best.pt"));
  EXPECT_TRUE(fs::exists(job.out_dir / "last.pt"));
  const auto log = read_file(job.out_dir / "log.csv");
  EXPECT_EQ(log.rfind("epoch,lr,train_loss,train_miou,val_loss,val_miou,seconds,iou_class0", 0), 0u) << log;
  // The returned net holds the best epoch's weights: its val mIoU is the best.
  const auto eval = evaluate_segmentation(net, *data.val_set, torch::kCPU, 4, kClasses);
  EXPECT_NEAR(eval.miou, result.best_val_miou, 1e-6);
}

// 9 images in batches of 4 leave one 32 x 32 crop, whose last backbone stage
// is 1 x 1: alone, BatchNorm could not train on it.
TEST(TrainSegmentation, ATrailingSingleSmallCropIsTrainedWithTheBatchBefore) {
  BandData data;
  testing::write_band_dataset(data.dir.path() / "data", "nine", 9, 32, 48, kClasses, 3);
  const data::SampleStore nine(data::open_dataset({"folder", data.dir.path() / "data", "nine"}), true);
  auto net = tiny_net();
  TrainJob job{"test", data.dir.path() / "nine-run", tiny_options().epochs(1), false};
  const auto result = train_segmentation(net, nine, *data.val_set, torch::kCPU, job);
  ASSERT_EQ(result.epochs.size(), 1u);
  EXPECT_TRUE(std::isfinite(result.epochs[0].train_loss));
}

TEST(TrainSegmentation, ResumedRunEqualsUninterruptedRun) {
  BandData data;
  auto straight = tiny_net();
  TrainJob straight_job{"straight", data.dir.path() / "straight", tiny_options().epochs(3), false};
  const auto expected = train_segmentation(straight, *data.train_set, *data.val_set, torch::kCPU, straight_job);

  auto first = tiny_net();
  TrainJob interrupted{"interrupted", data.dir.path() / "resumed", tiny_options().epochs(1), false};
  train_segmentation(first, *data.train_set, *data.val_set, torch::kCPU, interrupted);
  auto second = tiny_net();
  TrainJob resumed{"resumed", data.dir.path() / "resumed", tiny_options().epochs(3), true};
  const auto got = train_segmentation(second, *data.train_set, *data.val_set, torch::kCPU, resumed);

  ASSERT_EQ(got.epochs.size(), expected.epochs.size());
  for (size_t i = 0; i < got.epochs.size(); ++i) {
    EXPECT_NEAR(got.epochs[i].train_loss, expected.epochs[i].train_loss, 1e-5) << "epoch " << i;
    EXPECT_NEAR(got.epochs[i].val_miou, expected.epochs[i].val_miou, 1e-5) << "epoch " << i;
  }
  EXPECT_EQ(got.best_epoch, expected.best_epoch);
  // The same weights, in memory and in best.pt: not only the same log.
  using Named = torch::OrderedDict<std::string, torch::Tensor>;
  const auto same_tensors = [](const Named& left, const Named& right) {
    if (left.size() != right.size()) return false;
    for (const auto& item : left) {
      if (!right.contains(item.key()) || !torch::equal(item.value(), right[item.key()])) return false;
    }
    return true;
  };
  const auto same_weights = [&](const nn::Fpn& a, const nn::Fpn& b) {
    return same_tensors(a->named_parameters(), b->named_parameters()) &&
           same_tensors(a->named_buffers(), b->named_buffers());
  };
  EXPECT_TRUE(same_weights(second, straight));
  auto straight_best = tiny_net();
  auto resumed_best = tiny_net();
  load_checkpoint(data.dir.path() / "straight" / "best.pt", *straight_best, nullptr);
  load_checkpoint(data.dir.path() / "resumed" / "best.pt", *resumed_best, nullptr);
  EXPECT_TRUE(same_weights(resumed_best, straight_best));
}

// Killed between writing an epoch's best weights and last.pt, or between
// last.pt and moving those weights into place: the resumed run's best.pt is
// the one its record names, whatever the kill left.
TEST(TrainSegmentation, AKilledEpochLeavesTheBestWeightsItsRecordNames) {
  BandData data;
  auto net = tiny_net();
  TrainJob first{"first", data.dir.path() / "run", tiny_options().epochs(1), false};
  train_segmentation(net, *data.train_set, *data.val_set, torch::kCPU, first);
  const fs::path best = first.out_dir / "best.pt";
  EXPECT_FALSE(fs::exists(first.out_dir / "best.epoch0.pt"));  // moved into place
  const std::string epoch0 = read_file(best);
  // last.pt records epoch 0 as the best, but the kill came before the move.
  fs::rename(best, first.out_dir / "best.epoch0.pt");
  write_file_atomically(best, "an older best");
  // And an epoch 1 that last.pt never recorded (it is trained again) had written its own.
  write_file_atomically(first.out_dir / "best.epoch1.pt", "a lost epoch");
  auto resumed_net = tiny_net();
  TrainJob resumed{"resumed", first.out_dir, tiny_options().epochs(1), true};  // every epoch done: it only settles
  const auto result = train_segmentation(resumed_net, *data.train_set, *data.val_set, torch::kCPU, resumed);
  EXPECT_EQ(result.best_epoch, 0);
  EXPECT_EQ(read_file(best), epoch0);
  EXPECT_FALSE(fs::exists(first.out_dir / "best.epoch0.pt"));
  EXPECT_FALSE(fs::exists(first.out_dir / "best.epoch1.pt"));
}

TEST(TrainSegmentation, RefusesToOverwriteAnExistingRunWithoutResume) {
  BandData data;
  auto net = tiny_net();
  TrainJob job{"once", data.dir.path() / "run", tiny_options().epochs(1), false};
  train_segmentation(net, *data.train_set, *data.val_set, torch::kCPU, job);
  const auto before = read_file(job.out_dir / "log.csv");
  EXPECT_THROW(train_segmentation(net, *data.train_set, *data.val_set, torch::kCPU, job), Error);
  EXPECT_EQ(read_file(job.out_dir / "log.csv"), before);
  TrainJob missing{"missing", data.dir.path() / "nothing", tiny_options(), true};
  EXPECT_THROW(train_segmentation(net, *data.train_set, *data.val_set, torch::kCPU, missing), Error);
}

}  // namespace
}  // namespace regal::train
