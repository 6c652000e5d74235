// `regal evaluate` made again with the same arguments continues an
// interrupted run from the checkpoint next to its results, and ends with the
// results of an uninterrupted run; made with other settings it refuses the
// checkpoint and keeps it. A budget of the whole pool is reached even when
// K does not divide the pool.
#include "regal/experiment/active_jobs.h"

#include <gtest/gtest.h>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "regal/experiment/config.h"
#include "regal/experiment/supervised_jobs.h"
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
  const auto progress = nlohmann::json::parse(read_file(dir.path() / "part.checkpoint" / "progress.json"));
  EXPECT_EQ(progress["step"], 1);

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

}  // namespace
}  // namespace regal::experiment
