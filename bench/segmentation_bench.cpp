// Segmentation-net throughput: inference and training images/s for each
// backbone, and the cost of the data pipeline, measured as the ratio of a full
// training step (decode PNGs, crop, flip, stack, forward, backward, SGD step)
// to a bare forward+backward+step on tensors already in memory.
// Also the train-side score of an active-learning unit (the net on the
// labelled pixels of the pool) forwarded one image at a time against in
// batches of 10 (the scenes configs' eval_batch_size). And BALD's MC-dropout
// passes, a whole forward each against the features shared by all passes,
// and the class counts of a split on disk, whole samples against labels alone.
// Run with `make bench`; prints Google Benchmark's table, then a markdown
// summary for the README.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include "regal/al/acquisition_scores.h"
#include "regal/core/atomic_file.h"
#include "regal/data/dataset.h"
#include "regal/data/sample_store.h"
#include "regal/loop/region_pool.h"
#include "regal/loop/scoring.h"
#include "regal/metrics/iou.h"
#include "regal/nn/fpn.h"
#include "regal/train/augment.h"

namespace {

namespace fs = std::filesystem;
using regal::nn::Backbone;

constexpr int kClasses = 15;
constexpr int kHeight = 128;
constexpr int kWidth = 256;
constexpr int kCrop = 128;
constexpr int kTrainBatch = 8;
constexpr int kInferBatch = 4;
constexpr int kImagesOnDisk = 32;

Backbone backbone_of(int64_t index) { return static_cast<Backbone>(index); }

// A small folder dataset of random images on disk, so the full step decodes
// real PNGs through the same loader training uses.
const fs::path& bench_dataset_root() {
  static const fs::path root = [] {
    const fs::path dir = fs::temp_directory_path() / "regal-bench-dataset";
    std::mt19937 rng(7);
    nlohmann::json info = {{"name", "bench"}, {"ignore_index", 255}};
    std::vector<std::string> ids;
    fs::create_directories(dir / "images");
    fs::create_directories(dir / "labels");
    for (int c = 0; c < kClasses; ++c) {
      info["classes"].push_back("class" + std::to_string(c));
      info["palette"].push_back({c * 10, 255 - c * 10, c * 5});
    }
    for (int i = 0; i < kImagesOnDisk; ++i) {
      cv::Mat image(kHeight, kWidth, CV_8UC3);
      cv::Mat label(kHeight, kWidth, CV_8UC1);
      cv::randu(image, 0, 255);
      cv::randu(label, 0, kClasses);
      const std::string id = fmt::format("img{:03d}", i);
      cv::imwrite((dir / "images" / (id + ".png")).string(), image);
      cv::imwrite((dir / "labels" / (id + ".png")).string(), label);
      ids.push_back(id);
    }
    info["splits"]["train"] = ids;
    regal::write_file_atomically(dir / "dataset.json", info.dump());
    return dir;
  }();
  return root;
}

regal::nn::Fpn make_net(Backbone backbone) {
  torch::manual_seed(0);
  return regal::nn::Fpn(regal::nn::FpnOptions(kClasses).backbone(backbone).fpn_channels(128));
}

void train_step(regal::nn::Fpn& net, torch::optim::SGD& optimizer, const torch::Tensor& images,
                const torch::Tensor& labels) {
  auto logits = net->forward(images);  // [B, C, h, w]
  auto loss = torch::nn::functional::cross_entropy(
      logits, labels, torch::nn::functional::CrossEntropyFuncOptions().ignore_index(255));
  optimizer.zero_grad();
  loss.backward();
  optimizer.step();
}

void BM_Inference(benchmark::State& state) {
  auto net = make_net(backbone_of(state.range(0)));
  net->eval();
  torch::NoGradGuard no_grad;
  auto images = torch::randn({kInferBatch, 3, kHeight, kWidth});  // [B, 3, H, W]
  for (auto _ : state) {
    benchmark::DoNotOptimize(net->forward(images).argmax(1));
  }
  state.SetItemsProcessed(state.iterations() * kInferBatch);
  state.SetLabel(regal::nn::backbone_name(backbone_of(state.range(0))));
}

void BM_TrainStepBare(benchmark::State& state) {
  auto net = make_net(backbone_of(state.range(0)));
  net->train();
  torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  auto images = torch::randn({kTrainBatch, 3, kCrop, kCrop});               // [B, 3, h, w]
  auto labels = torch::randint(0, kClasses, {kTrainBatch, kCrop, kCrop});  // [B, h, w]
  for (auto _ : state) {
    train_step(net, optimizer, images, labels);
  }
  state.SetItemsProcessed(state.iterations() * kTrainBatch);
  state.SetLabel(regal::nn::backbone_name(backbone_of(state.range(0))));
}

void BM_TrainStepFull(benchmark::State& state) {
  auto net = make_net(backbone_of(state.range(0)));
  net->train();
  torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  // No cache: every step decodes its PNGs, as training on a large dataset does.
  regal::data::SampleStore store(regal::data::open_dataset({"folder", bench_dataset_root(), "train"}), false);
  std::mt19937_64 rng(0);
  size_t next = 0;
  for (auto _ : state) {
    std::vector<torch::Tensor> images;
    std::vector<torch::Tensor> labels;
    for (int i = 0; i < kTrainBatch; ++i) {
      auto crop = regal::train::random_crop_flip(store.get(next++ % store.size()), kCrop, kCrop, true, rng);
      images.push_back(crop.image);
      labels.push_back(crop.label);
    }
    train_step(net, optimizer, torch::stack(images), torch::stack(labels));
  }
  state.SetItemsProcessed(state.iterations() * kTrainBatch);
  state.SetLabel(regal::nn::backbone_name(backbone_of(state.range(0))));
}

// Every image of the pool holds one labelled region, as at the larger budgets
// where most D_V images do; scenes' net (resnet18, 64 channels).
void BM_LabelledPixelsMiou(benchmark::State& state) {
  torch::manual_seed(0);
  regal::nn::Fpn net(regal::nn::FpnOptions(kClasses).fpn_channels(64));
  regal::data::SampleStore store(regal::data::open_dataset({"folder", bench_dataset_root(), "train"}), true);
  store.preload();
  regal::loop::RegionPool pool(kImagesOnDisk, kHeight, kWidth, {32, 32});
  for (int64_t image = 0; image < kImagesOnDisk; ++image) pool.label({image, 32 * (image % 8), 0});
  const int batch_size = static_cast<int>(state.range(0));
  for (auto _ : state) {
    benchmark::DoNotOptimize(regal::loop::labelled_pixels_miou(net, store, pool, torch::kCPU, batch_size));
  }
  state.SetItemsProcessed(state.iterations() * kImagesOnDisk);
}

// One batch of a BALD labelling step: 8 MC-dropout passes over 10 images
// (scenes-paper's bald_passes and eval_batch_size; resnet18, 64 channels,
// dropout 0.2) into the BALD maps. Arg 0: a whole forward per pass (before);
// 1: the backbone and pyramid once, the dropout head per pass (loop::bald_scores).
void BM_BaldPasses(benchmark::State& state) {
  constexpr int kPasses = 8;
  constexpr int kBatch = 10;
  torch::manual_seed(0);
  regal::nn::Fpn net(regal::nn::FpnOptions(kClasses).fpn_channels(64).dropout(0.2));
  net->eval();
  net->set_mc_dropout(true);
  torch::NoGradGuard no_grad;
  const auto images = torch::randn({kBatch, 3, kHeight, kWidth});  // [B, 3, H, W]
  const bool shared_features = state.range(0) == 1;
  for (auto _ : state) {
    regal::al::BaldAccumulator accumulator;
    if (shared_features) {
      const auto features = net->features(images);  // [B, F, H/4, W/4]
      for (int t = 0; t < kPasses; ++t) accumulator.add(net->head(features, kHeight, kWidth));
    } else {
      for (int t = 0; t < kPasses; ++t) accumulator.add(net->forward(images));
    }
    benchmark::DoNotOptimize(accumulator.maps().bald);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetLabel(shared_features ? "features once" : "forward per pass");
}

// The class counts behind the class weights, over a split kept on disk (as
// Cityscapes is, cache_images: false). Arg 0: every sample decoded whole
// (image and label, as before); 1: labels alone (SampleStore::label).
void BM_ClassCounts(benchmark::State& state) {
  const regal::data::SampleStore store(regal::data::open_dataset({"folder", bench_dataset_root(), "train"}), false);
  const bool labels_alone = state.range(0) == 1;
  for (auto _ : state) {
    auto counts = torch::zeros({kClasses}, torch::kInt64);  // [C]
    for (size_t i = 0; i < store.size(); ++i) {
      const auto label = labels_alone ? store.label(i) : store.get(i).label;  // [H, W]
      counts += regal::metrics::class_pixel_counts(label, kClasses);
    }
    benchmark::DoNotOptimize(counts);
  }
  state.SetItemsProcessed(state.iterations() * kImagesOnDisk);
  state.SetLabel(labels_alone ? "labels alone" : "whole samples");
}

BENCHMARK(BM_Inference)->DenseRange(0, 2)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_TrainStepBare)->DenseRange(0, 2)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_TrainStepFull)->DenseRange(0, 2)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_LabelledPixelsMiou)->Arg(1)->Arg(10)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_BaldPasses)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_ClassCounts)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->MinTime(2.0);

// Console output as usual, and the per-iteration times kept for the summary.
class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      seconds_[run.benchmark_name()] = run.GetAdjustedRealTime() / 1e3;  // reported in ms
    }
    ConsoleReporter::ReportRuns(runs);
  }
  double seconds(const std::string& name) const {
    const auto it = seconds_.find(name);
    return it == seconds_.end() ? std::nan("") : it->second;
  }

 private:
  std::map<std::string, double> seconds_;
};

}  // namespace

int main(int argc, char** argv) {
  torch::set_num_threads(std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
  benchmark::Initialize(&argc, argv);
  RecordingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  fmt::print("\n| backbone | inference img/s (128x256, batch {}) | training img/s (128x128 crops, batch {}) | "
             "full step / bare step |\n|---|---|---|---|\n",
             kInferBatch, kTrainBatch);
  for (int index = 0; index < 3; ++index) {
    const auto name = regal::nn::backbone_name(backbone_of(index));
    const double infer = reporter.seconds(fmt::format("BM_Inference/{}/min_time:2.000", index));
    const double bare = reporter.seconds(fmt::format("BM_TrainStepBare/{}/min_time:2.000", index));
    const double full = reporter.seconds(fmt::format("BM_TrainStepFull/{}/min_time:2.000", index));
    fmt::print("| {} | {:.1f} | {:.1f} | {:.3f} |\n", name, kInferBatch / infer, kTrainBatch / full, full / bare);
  }
  const double one_by_one = reporter.seconds("BM_LabelledPixelsMiou/1/min_time:2.000");
  const double batched = reporter.seconds("BM_LabelledPixelsMiou/10/min_time:2.000");
  fmt::print("\nlabelled-pixels mIoU of {} images (resnet18, 64 channels): {:.2f} s one at a time, {:.2f} s in "
             "batches of 10 ({:.2f}x)\n",
             kImagesOnDisk, one_by_one, batched, one_by_one / batched);
  const double per_pass = reporter.seconds("BM_BaldPasses/0/min_time:2.000");
  const double shared = reporter.seconds("BM_BaldPasses/1/min_time:2.000");
  fmt::print("\nBALD, 8 MC passes over 10 images (resnet18, 64 channels): {:.2f} s with a forward per pass, "
             "{:.2f} s with the features once ({:.2f}x)\n",
             per_pass, shared, per_pass / shared);
  const double whole = reporter.seconds("BM_ClassCounts/0/min_time:2.000");
  const double labels = reporter.seconds("BM_ClassCounts/1/min_time:2.000");
  fmt::print("\nclass counts of {} images of {}x{} on disk: {:.3f} s decoding whole samples, {:.3f} s the labels "
             "alone ({:.2f}x)\n",
             kImagesOnDisk, kWidth, kHeight, whole, labels, whole / labels);
  fmt::print("\n({} LibTorch threads)\n", torch::get_num_threads());
  benchmark::Shutdown();
  return 0;
}
