// `regal evaluate` made again with the same arguments continues an
// interrupted run from the checkpoint next to its results, and ends with the
// results of an uninterrupted run.
#include "regal/experiment/active_jobs.h"

#include <gtest/gtest.h>

#include "regal/core/atomic_file.h"
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

}  // namespace
}  // namespace regal::experiment
