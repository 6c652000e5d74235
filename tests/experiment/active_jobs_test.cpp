// `regal evaluate` made again with the same arguments continues an
// interrupted run from the checkpoint next to its results, and ends with the
// results of an uninterrupted run; made with other settings it refuses the
// checkpoint and keeps it. A budget of the whole pool is reached even when
// K does not divide the pool. `regal select` chooses regions of unlabelled
// images, reproducibly, with a baseline or a query network, and a later
// round skips them. A --policy or --net the method never reads is refused.
#include "regal/experiment/active_jobs.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <tuple>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "regal/core/fnv_hash.h"
#include "regal/experiment/config.h"
#include "regal/experiment/supervised_jobs.h"
#include "data/dataset_fixtures.h"
#include "regal/loop/scoring.h"
#include "regal/nn/fpn.h"
#include "regal/rl/dqn.h"
#include "regal/train/checkpoint.h"
#include "support/test_support.h"
#include "support/tiny_experiment.h"

namespace regal::experiment {
namespace {

namespace fs = std::filesystem;

TEST(Evaluate, MadeAgainItContinuesAnInterruptedRunFromTheCheckpointBesideItsResults) {
  testing::ScratchDir dir("evaluate");
  const RunConfig config = load_run_config(testing::write_tiny_experiment(dir.path()));
  run_pretrain(config, JobOverrides{});

  EvaluateRequest request;
  request.method = "entropy";
  request.budget = "8";  // 4 steps of K = 2
  request.checkpoint_seconds = 0;
  request.out = dir.path() / "whole.json";
  const auto whole = run_evaluate(config, request);
  ASSERT_TRUE(whole["finished"].get<bool>());
  EXPECT_FALSE(fs::exists(dir.path() / "whole.checkpoint"));  // removed with the results

  request.out = dir.path() / "part.json";
  request.stop_after_steps = 1;
  const auto first = run_evaluate(config, request);
  EXPECT_FALSE(first["finished"].get<bool>());
  EXPECT_FALSE(fs::exists(dir.path() / "part.json"));
  auto progress = nlohmann::json::parse(read_file(dir.path() / "part.checkpoint" / "progress.json"));
  EXPECT_EQ(progress["step"], 1);
  // A step whose regions were all void has a NaN loss, written as null: it
  // continues all the same (the next step's loss replaces it).
  progress["last_train_loss"] = std::numeric_limits<double>::quiet_NaN();
  write_file_atomically(dir.path() / "part.checkpoint" / "progress.json", progress.dump());
  ASSERT_NE(read_file(dir.path() / "part.checkpoint" / "progress.json").find("\"last_train_loss\":null"),
            std::string::npos);

  request.stop_after_steps = 0;
  const auto rest = run_evaluate(config, request);
  ASSERT_TRUE(rest["finished"].get<bool>());
  EXPECT_FALSE(fs::exists(dir.path() / "part.checkpoint"));
  EXPECT_EQ(rest["labelled_regions"], whole["labelled_regions"]);
  EXPECT_EQ(rest["val_miou"], whole["val_miou"]);
  EXPECT_EQ(rest["val_iou"], whole["val_iou"]);
  EXPECT_EQ(nlohmann::json::parse(read_file(dir.path() / "part.json"))["val_miou"], whole["val_miou"]);
}

TEST(Evaluate, RefusesToContinueACheckpointMadeWithOtherSettingsAndKeepsIt) {
  testing::ScratchDir dir("evaluate-other");
  RunConfig config = load_run_config(testing::write_tiny_experiment(dir.path()));
  run_pretrain(config, JobOverrides{});

  EvaluateRequest request;
  request.method = "entropy";
  request.budget = "8";
  request.checkpoint_seconds = 0;
  request.out = dir.path() / "run.json";
  request.stop_after_steps = 1;
  ASSERT_FALSE(run_evaluate(config, request)["finished"].get<bool>());
  const auto progress_file = dir.path() / "run.checkpoint" / "progress.json";
  const std::string progress = read_file(progress_file);

  // Continuing with other candidates per group would mix two runs in one result.
  RunConfig other = config;
  other.evaluate.per_group["entropy"] = 2;
  request.stop_after_steps = 0;
  try {
    run_evaluate(other, request);
    FAIL() << "a checkpoint made with N = 3 was continued with N = 2";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("per_group"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("run.checkpoint"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_file(progress_file), progress);  // nothing of the interrupted run is lost
  EXPECT_FALSE(fs::exists(dir.path() / "run.json"));

  ASSERT_TRUE(run_evaluate(config, request)["finished"].get<bool>());
}

TEST(Evaluate, ABudgetOfTheWholePoolLabelsEveryRegionWhenKDoesNotDivideIt) {
  testing::ScratchDir dir("evaluate-whole-pool");
  RunConfig config = load_run_config(testing::write_tiny_experiment(dir.path()));
  run_pretrain(config, JobOverrides{});
  config.evaluate.groups = 3;  // D_V holds 32 regions: the last step finds 2 left, fewer than K
  // Batches of 3 regions: a batch of one 32 x 32 crop has a 1 x 1 deepest map, which BatchNorm cannot train on.
  config.policy.options.segmentation(config.policy.options.segmentation().batch_size(3));

  EvaluateRequest request;
  request.method = "random";
  request.budget = "100%";
  request.out = dir.path() / "all.json";
  const auto result = run_evaluate(config, request);
  ASSERT_TRUE(result["finished"].get<bool>());
  EXPECT_EQ(result["budget_regions"], 32);
  EXPECT_EQ(result["labelled_regions"].size(), 32u);
}

// A policy passed to a baseline, or a net passed to random picks, would be
// silently unused and the results read as if it had chosen: refused before
// any data is generated or written.
TEST(ActiveJobs, RefuseAFileTheMethodNeverReadsBeforeAnythingIsWritten) {
  testing::ScratchDir dir("unused-files");
  const RunConfig config = load_run_config(testing::write_tiny_experiment(dir.path()));
  const auto entries_before = std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator());

  EvaluateRequest evaluate;
  evaluate.method = "entropy";
  evaluate.policy = dir.path() / "best_policy.pt";
  evaluate.out = dir.path() / "entropy.json";
  std::string message = testing::error_message([&] { run_evaluate(config, evaluate); });
  EXPECT_CONTAINS(message, "--policy");
  EXPECT_CONTAINS(message, "--method ralis");

  SelectRequest select;
  select.images = dir.path();
  select.out = dir.path() / "selected";
  select.method = "bald";
  select.policy = dir.path() / "best_policy.pt";
  message = testing::error_message([&] { run_select(config, select); });
  EXPECT_CONTAINS(message, "--policy");
  select.method = "random";
  select.policy.reset();
  select.net = dir.path() / "best.pt";
  message = testing::error_message([&] { run_select(config, select); });
  EXPECT_CONTAINS(message, "--net");
  EXPECT_CONTAINS(message, "random");

  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), entries_before);
}

// A pretrained tiny net and the user's own images: three band images without
// labels (24 regions of 16 x 16), with a request for them; their annotations
// are in <dir>/annotations.
struct SelectWorld {
  testing::ScratchDir dir;
  RunConfig config;
  SelectRequest request;
  explicit SelectWorld(const std::string& name)
      : dir(name), config(load_run_config(testing::write_tiny_experiment(dir.path()))) {
    run_pretrain(config, JobOverrides{});
    testing::write_band_dataset(dir.path() / "mine", "mine", 3, 32, 64, 3, 9);
    // The annotations a person would make, away from the images.
    fs::rename(dir.path() / "mine" / "labels", dir.path() / "annotations");
    request.images = dir.path() / "mine" / "images";
    request.out = dir.path() / "selected";
  }
};

TEST(Select, ChoosesDistinctRegionsOfUnlabelledImagesAndAnotherRoundSkipsThem) {
  SelectWorld world("select");
  const auto& dir = world.dir;
  const auto& config = world.config;
  auto& request = world.request;
  request.method = "entropy";
  request.regions = 5;  // K = 2: steps of 2, 2 and 1
  request.out = dir.path() / "round1";
  // Overlays without a selection.json (a try that failed, or a folder of the
  // user's own) are never written into.
  write_file_atomically(request.out / "overlays" / "stale.png.png", "an overlay of an earlier try");
  EXPECT_CONTAINS(testing::error_message([&] { run_select(config, request); }), "holds no selection.json");
  EXPECT_EQ(read_file(request.out / "overlays" / "stale.png.png"), "an overlay of an earlier try");
  fs::remove_all(request.out);
  const auto first = run_select(config, request);
  ASSERT_EQ(first["regions"].size(), 5u);
  // The annotator's key: train id -> class name.
  EXPECT_EQ(first["classes"], data::open_dataset(config.target.spec("d_s")).info().class_names);
  std::set<std::tuple<std::string, int64_t, int64_t>> chosen;
  for (const auto& region : first["regions"]) {
    const int64_t x = region["x"], y = region["y"];
    EXPECT_TRUE(x % 16 == 0 && y % 16 == 0 && x + 16 <= 64 && y + 16 <= 32) << region.dump();
    chosen.insert({region["image"].get<std::string>(), x, y});
  }
  EXPECT_EQ(chosen.size(), 5u);  // distinct
  EXPECT_EQ(first["regions"].back()["step"], 2);
  // Which net chose them, even once its file is replaced (entropy needs no policy).
  EXPECT_EQ(first["digests"]["net"], file_digest(config.pretrain.out / "best.pt"));
  EXPECT_TRUE(first["digests"]["policy"].is_null());
  EXPECT_EQ(nlohmann::json::parse(read_file(request.out / "selection.json")), first);
  const std::string csv = read_file(request.out / "selection.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 6);  // header and five regions
  EXPECT_EQ(csv.rfind("image,x,y,height,width,step,score\n", 0), 0u);
  // Each region with the score that won its group: a mean pixel entropy, positive for a net that is unsure.
  EXPECT_EQ(first["score"], "mean_entropy");
  for (const auto& region : first["regions"]) EXPECT_GT(region["score"].get<double>(), 0.0) << region.dump();
  // One overlay per image holding a chosen region: the image with the regions outlined.
  std::set<std::string> images_used;
  for (const auto& [image, x, y] : chosen) images_used.insert(image + ".png");
  std::set<std::string> overlays;
  for (const auto& entry : fs::directory_iterator(request.out / "overlays")) {
    overlays.insert(entry.path().filename().string());
    const cv::Mat overlay = cv::imread(entry.path().string(), cv::IMREAD_COLOR);
    EXPECT_EQ(overlay.size(), cv::Size(64, 32)) << entry.path();
  }
  EXPECT_EQ(overlays, images_used);

  // The same seed chooses the same regions.
  request.out = dir.path() / "again";
  EXPECT_EQ(run_select(config, request)["regions"], first["regions"]);

  // The next round never offers what the first chose.
  request.exclude = dir.path() / "round1" / "selection.json";
  request.regions = 10;
  request.out = dir.path() / "round2";
  const auto second = run_select(config, request);
  ASSERT_EQ(second["regions"].size(), 10u);
  for (const auto& region : second["regions"]) {
    EXPECT_EQ(chosen.count({region["image"].get<std::string>(), region["x"].get<int64_t>(),
                            region["y"].get<int64_t>()}),
              0u)
        << region.dump();
  }
  for (const auto& region : second["regions"]) {
    chosen.insert({region["image"].get<std::string>(), region["x"].get<int64_t>(), region["y"].get<int64_t>()});
  }
  // Excluding round 2 excludes round 1 too: of 24 regions 15 are ruled out, so
  // 10 cannot be chosen, and nothing is written.
  request.exclude = dir.path() / "round2" / "selection.json";
  request.out = dir.path() / "round3";
  EXPECT_CONTAINS(testing::error_message([&] { run_select(config, request); }), "only 9 regions");
  EXPECT_FALSE(fs::exists(dir.path() / "round3"));
  request.regions = 9;
  const auto third = run_select(config, request);
  for (const auto& region : third["regions"]) {
    chosen.insert({region["image"].get<std::string>(), region["x"].get<int64_t>(), region["y"].get<int64_t>()});
  }
  EXPECT_EQ(chosen.size(), 24u);  // three rounds, every region once
  // A round's record is never overwritten.
  EXPECT_CONTAINS(testing::error_message([&] { run_select(config, request); }), "already holds a selection");
}

// Round 2 runs on a folder the first image has left (annotated and moved
// away, say): its record still names round 1's regions of that image, so
// that round 3, back on every image, never offers them again.
TEST(Select, ARoundOnFewerImagesKeepsTheEarlierRoundsInItsRecord) {
  SelectWorld world("select-moved");
  auto& request = world.request;
  request.method = "random";
  request.regions = 6;
  request.out = world.dir.path() / "round1";
  const auto first = run_select(world.config, request);
  const std::string moved = first["regions"][0]["image"];
  const fs::path all_images = request.images;
  const fs::path fewer = world.dir.path() / "fewer";
  fs::create_directories(fewer);
  for (const auto& entry : fs::directory_iterator(all_images)) {
    if (entry.path().filename() != moved) fs::copy_file(entry.path(), fewer / entry.path().filename());
  }
  request.images = fewer;
  request.exclude = world.dir.path() / "round1" / "selection.json";
  request.regions = 2;
  request.out = world.dir.path() / "round2";
  const auto second = run_select(world.config, request);
  std::set<std::tuple<std::string, int64_t, int64_t>> ruled_out;
  for (const auto& r : second["excluded_regions"]) {
    ruled_out.insert({r["image"].get<std::string>(), r["x"].get<int64_t>(), r["y"].get<int64_t>()});
  }
  for (const auto& r : first["regions"]) {
    EXPECT_EQ(ruled_out.count({r["image"].get<std::string>(), r["x"].get<int64_t>(), r["y"].get<int64_t>()}), 1u)
        << r.dump();
  }
  // 24 regions, 8 chosen in two rounds: 16 are left, not 16 and the moved image's.
  request.images = all_images;
  request.exclude = world.dir.path() / "round2" / "selection.json";
  request.regions = 17;
  request.out = world.dir.path() / "round3";
  EXPECT_CONTAINS(testing::error_message([&] { run_select(world.config, request); }), "only 16 regions");
}

TEST(Select, AppliesATrainedQueryNetwork) {
  SelectWorld world("select-policy");
  const auto& dir = world.dir;
  const auto& config = world.config;
  auto& request = world.request;
  // A query network for the tiny state set (D_S: 2 images of 8 regions), as train-policy saves one.
  torch::manual_seed(3);
  const rl::DqnTrainer policy(loop::query_net_options(3, 16), rl::DqnOptions());
  policy.save(dir.path() / "policy.pt");

  request.policy = dir.path() / "policy.pt";
  request.regions = 4;
  const auto selection = run_select(config, request);
  EXPECT_EQ(selection["method"], "ralis");
  EXPECT_EQ(selection["score"], "q");
  for (const auto& region : selection["regions"]) EXPECT_TRUE(region["score"].is_number()) << region.dump();
  EXPECT_EQ(selection["regions"].size(), 4u);
  EXPECT_EQ(selection["policy"], (dir.path() / "policy.pt").string());
  EXPECT_EQ(selection["digests"]["policy"], file_digest(dir.path() / "policy.pt"));
  // The scores are the saved network's Q values: other weights score otherwise.
  torch::manual_seed(4);
  const rl::DqnTrainer retrained(loop::query_net_options(3, 16), rl::DqnOptions());
  retrained.save(dir.path() / "retrained.pt");
  request.policy = dir.path() / "retrained.pt";
  request.out = dir.path() / "retrained-selection";
  const auto scores_of = [](const nlohmann::json& chosen) {
    std::vector<double> scores;
    for (const auto& region : chosen["regions"]) scores.push_back(region["score"].get<double>());
    return scores;
  };
  EXPECT_NE(scores_of(run_select(config, request)), scores_of(selection));

  request.policy = dir.path() / "missing.pt";
  request.out = dir.path() / "next";
  EXPECT_CONTAINS(testing::error_message([&] { run_select(config, request); }), "missing.pt");
  // A policy of another state set (another config): what this config gives is said.
  const rl::DqnTrainer other(loop::query_net_options(3, 24), rl::DqnOptions());
  other.save(dir.path() / "other.pt");
  request.policy = dir.path() / "other.pt";
  const std::string message = testing::error_message([&] { run_select(config, request); });
  EXPECT_CONTAINS(message, "other.pt");
  EXPECT_CONTAINS(message, "2 D_S images x 8 regions of 16 x 16 = 16 state rows");
  EXPECT_FALSE(fs::exists(request.out));
}

// The D_R mIoU of the net in `checkpoint` (the tiny config: three classes).
double dr_miou_of(const RunConfig& config, const fs::path& checkpoint) {
  const data::SampleStore d_r(data::open_dataset(config.target.spec("d_r")), true);
  nn::Fpn net(config.model.fpn_options(3));
  train::load_checkpoint(checkpoint, *net, nullptr);
  return loop::score_on(net, d_r, torch::kCPU, 2, torch::ones({3}, torch::kDouble)).miou;
}

TEST(Finetune, TrainsOnTheAnnotatedRegionsOfEveryRoundAndIsNeverWorseOnDR) {
  SelectWorld world("finetune");
  auto& request = world.request;
  request.method = "entropy";
  request.regions = 4;
  request.out = world.dir.path() / "round1";
  run_select(world.config, request);
  request.exclude = world.dir.path() / "round1" / "selection.json";
  request.out = world.dir.path() / "round2";
  run_select(world.config, request);

  FinetuneRequest finetune;
  finetune.images = request.images;
  finetune.labels = world.dir.path() / "annotations";
  finetune.selection = world.dir.path() / "round2" / "selection.json";
  finetune.out = world.dir.path() / "tuned";
  const auto record = run_finetune(world.config, finetune);
  EXPECT_EQ(record["annotated_regions"], 8);  // both rounds
  EXPECT_EQ(record["net_digest"], file_digest(world.config.pretrain.out / "best.pt"));
  EXPECT_GE(record["dr_miou_after"].get<double>(), record["dr_miou_before"].get<double>());
  EXPECT_EQ(record["improved"].get<bool>(), record["dr_miou_after"] > record["dr_miou_before"]);
  EXPECT_EQ(nlohmann::json::parse(read_file(finetune.out / "finetune.json")), record);
  // best.pt is the net the record scores: its D_R mIoU is dr_miou_after.
  EXPECT_NEAR(dr_miou_of(world.config, finetune.out / "best.pt"), record["dr_miou_after"].get<double>(), 1e-9);

  // Only the pixels of the selected regions are trained on: labels left 255
  // everywhere else give the same training, loss for loss.
  const auto selection = nlohmann::json::parse(read_file(finetune.selection));
  const fs::path masked = world.dir.path() / "masked";
  fs::create_directories(masked);
  for (const auto& entry : fs::directory_iterator(finetune.labels)) {
    const cv::Mat full = cv::imread(entry.path().string(), cv::IMREAD_UNCHANGED);
    cv::Mat kept(full.size(), CV_8UC1, cv::Scalar(255));
    for (const char* key : {"regions", "excluded_regions"}) {
      for (const auto& r : selection[key]) {
        if (fs::path(r["image"].get<std::string>()).stem() != entry.path().stem()) continue;
        const cv::Rect box(r["x"].get<int>(), r["y"].get<int>(), r["width"].get<int>(), r["height"].get<int>());
        full(box).copyTo(kept(box));
      }
    }
    ASSERT_TRUE(cv::imwrite((masked / entry.path().filename()).string(), kept));
  }
  finetune.labels = masked;
  finetune.out = world.dir.path() / "tuned-masked";
  const auto masked_record = run_finetune(world.config, finetune);
  EXPECT_EQ(masked_record["curve"], record["curve"]);
  EXPECT_EQ(masked_record["dr_miou_after"], record["dr_miou_after"]);
  // The same labels drawn in the palette the selection records (unknown
  // black), as an annotation tool exports them: the same training.
  const fs::path coloured = world.dir.path() / "coloured";
  fs::create_directories(coloured);
  cv::Mat palette_lut(1, 256, CV_8UC3, cv::Scalar(0, 0, 0));  // BGR
  for (size_t id = 0; id < selection["palette"].size(); ++id) {
    const auto& rgb = selection["palette"][id];
    palette_lut.at<cv::Vec3b>(0, static_cast<int>(id)) = cv::Vec3b(rgb[2], rgb[1], rgb[0]);
  }
  for (const auto& entry : fs::directory_iterator(masked)) {
    cv::Mat grey3, colour;
    cv::cvtColor(cv::imread(entry.path().string(), cv::IMREAD_UNCHANGED), grey3, cv::COLOR_GRAY2BGR);
    cv::LUT(grey3, palette_lut, colour);
    ASSERT_TRUE(cv::imwrite((coloured / entry.path().filename()).string(), colour));
  }
  finetune.labels = coloured;
  finetune.out = world.dir.path() / "tuned-coloured";
  EXPECT_EQ(run_finetune(world.config, finetune)["curve"], record["curve"]);
  finetune.labels = masked;
  finetune.out = world.dir.path() / "tuned-masked";
  // An output directory holding a fine-tuned net is never written over.
  EXPECT_CONTAINS(testing::error_message([&] { run_finetune(world.config, finetune); }), "already holds");

  // The next round starts from the fine-tuned net, and so does its
  // fine-tuning unless told otherwise: the net its selection was made with.
  request.net = finetune.out / "best.pt";
  request.exclude = world.dir.path() / "round2" / "selection.json";
  request.out = world.dir.path() / "round3";
  EXPECT_EQ(run_select(world.config, request)["net"], (finetune.out / "best.pt").string());
  FinetuneRequest next = finetune;
  next.labels = world.dir.path() / "annotations";
  next.selection = request.out / "selection.json";
  next.out = world.dir.path() / "tuned-round3";
  const auto next_record = run_finetune(world.config, next);
  EXPECT_EQ(next_record["net"], (finetune.out / "best.pt").string());
  EXPECT_EQ(next_record["annotated_regions"], 12);  // three rounds
  // The net the selection was made with, written over since: refused unless named.
  fs::copy_file(world.config.pretrain.out / "best.pt", finetune.out / "best.pt",
                fs::copy_options::overwrite_existing);
  next.out = world.dir.path() / "tuned-round3-again";
  const std::string replaced = testing::error_message([&] { run_finetune(world.config, next); });
  EXPECT_CONTAINS(replaced, "holds other weights than when");
  EXPECT_CONTAINS(replaced, "--net");
  EXPECT_FALSE(fs::exists(next.out));

  // A missing annotation is named, and nothing is written.
  finetune.labels = world.dir.path() / "no-annotations";
  fs::create_directories(finetune.labels);
  finetune.out = world.dir.path() / "tuned-again";
  const std::string message = testing::error_message([&] { run_finetune(world.config, finetune); });
  EXPECT_CONTAINS(message, "no label file");
  EXPECT_FALSE(fs::exists(finetune.out));
}

// The annotator's time ran out: one image annotated, one label left 255
// throughout, one never opened (no label file). Fine-tuning trains on what
// was annotated and says what was not.
TEST(Finetune, RegionsLeftUnannotatedAreCountedAndTrainNothing) {
  SelectWorld world("finetune-partial");
  auto& request = world.request;
  request.method = "random";
  request.regions = 24;  // every region of the three images
  run_select(world.config, request);
  FinetuneRequest finetune;
  finetune.images = request.images;
  finetune.labels = world.dir.path() / "partial";
  finetune.selection = request.out / "selection.json";
  finetune.out = world.dir.path() / "tuned";
  fs::create_directories(finetune.labels);
  fs::copy_file(world.dir.path() / "annotations" / "mine_0.png", finetune.labels / "mine_0.png");
  ASSERT_TRUE(cv::imwrite((finetune.labels / "mine_1.png").string(), cv::Mat(32, 64, CV_8UC1, cv::Scalar(255))));
  const auto record = run_finetune(world.config, finetune);
  EXPECT_EQ(record["annotated_regions"], 8);
  EXPECT_EQ(record["unannotated_regions"], 8);
  EXPECT_EQ(record["annotated_images"], 2);
  EXPECT_EQ(record["images_without_labels"], 1);
  // What is left to annotate, named: mine_1's eight regions and mine_2's label file.
  ASSERT_EQ(record["regions_left_255"].size(), 8u);
  for (const auto& region : record["regions_left_255"]) EXPECT_EQ(region["image"], "mine_1.png") << region.dump();
  EXPECT_EQ(record["missing_label_files"], nlohmann::json::array({(finetune.labels / "mine_2.png").string()}));
  EXPECT_NEAR(dr_miou_of(world.config, finetune.out / "best.pt"), record["dr_miou_after"].get<double>(), 1e-9);
  for (const auto& epoch : record["curve"]) {
    EXPECT_TRUE(std::isfinite(epoch["train_loss"].get<double>())) << epoch.dump();
  }
  // A record whose net was never saved (the save failed) is written again.
  fs::remove(finetune.out / "best.pt");
  EXPECT_EQ(run_finetune(world.config, finetune)["curve"], record["curve"]);
  EXPECT_TRUE(fs::exists(finetune.out / "best.pt"));
  // Nothing annotated at all: said, and nothing is written.
  fs::remove(finetune.labels / "mine_0.png");
  finetune.out = world.dir.path() / "tuned-nothing";
  EXPECT_CONTAINS(testing::error_message([&] { run_finetune(world.config, finetune); }),
                  "255 (unknown) throughout");
  EXPECT_FALSE(fs::exists(finetune.out));
  // A starting net no epoch can beat on D_R: D_R labelled with its own
  // predictions (mIoU 1). best.pt holds the starting weights, and the record says so.
  {
    torch::NoGradGuard no_grad;
    const data::SampleStore d_r(data::open_dataset(world.config.target.spec("d_r")), false);
    nn::Fpn net(world.config.model.fpn_options(3));
    train::load_checkpoint(world.config.pretrain.out / "best.pt", *net, nullptr);
    net->eval();
    for (size_t i = 0; i < d_r.size(); ++i) {
      const auto prediction = net->forward(d_r.get(i).image.unsqueeze(0)).argmax(1)[0].to(torch::kUInt8).contiguous();
      const cv::Mat label(static_cast<int>(prediction.size(0)), static_cast<int>(prediction.size(1)), CV_8UC1,
                          prediction.data_ptr<uint8_t>());  // [H, W]
      ASSERT_TRUE(cv::imwrite(d_r.dataset().files(i).label.string(), label));
    }
  }
  FinetuneRequest unchanged = finetune;
  unchanged.labels = world.dir.path() / "annotations";
  unchanged.out = world.dir.path() / "tuned-unbeaten";
  const auto unchanged_record = run_finetune(world.config, unchanged);
  EXPECT_EQ(unchanged_record["dr_miou_before"], 1.0);
  EXPECT_FALSE(unchanged_record["improved"].get<bool>());
  EXPECT_EQ(unchanged_record["best_epoch"], 0);
  EXPECT_EQ(unchanged_record["dr_miou_after"], unchanged_record["dr_miou_before"]);
  EXPECT_NEAR(dr_miou_of(world.config, unchanged.out / "best.pt"), unchanged_record["dr_miou_before"].get<double>(),
              1e-9);
}

TEST(Select, ImagesOfAnotherSizeOrSmallerThanARegionAreNamedBeforeAnythingIsChosen) {
  SelectWorld world("select-sizes");
  auto& request = world.request;
  request.method = "random";
  ASSERT_TRUE(cv::imwrite((request.images / "wide.png").string(), cv::Mat(32, 96, CV_8UC3, cv::Scalar(1, 2, 3))));
  const std::string message = testing::error_message([&] { run_select(world.config, request); });
  EXPECT_CONTAINS(message, "wide.png");
  EXPECT_CONTAINS(message, "96 x 32");
  EXPECT_FALSE(fs::exists(request.out));
  // Images smaller than one region (16 x 16 here): the config key is named.
  request.images = world.dir.path() / "small";
  fs::create_directories(request.images);
  ASSERT_TRUE(cv::imwrite((request.images / "small.png").string(), cv::Mat(12, 40, CV_8UC3, cv::Scalar(1, 2, 3))));
  EXPECT_CONTAINS(testing::error_message([&] { run_select(world.config, request); }),
                  "are 40 x 12 pixels, smaller than one region of 16 x 16");
  EXPECT_FALSE(fs::exists(request.out));
}

}  // namespace
}  // namespace regal::experiment
