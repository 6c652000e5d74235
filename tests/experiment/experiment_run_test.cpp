// `regal experiment` end to end on tiny data: an experiment interrupted
// inside policy training, between units and inside a unit (from its
// checkpoint), then continued, ends with the results of an uninterrupted
// run; pretraining and finished policies are shared through their caches;
// units made from another pretrained net or policy, work cut off inside a
// unit or policy of another net, or an out directory of another config, are
// refused; budgets and policies that do not fit the data are refused before
// anything is trained.
#include "regal/experiment/experiment_run.h"

#include <gtest/gtest.h>
#include <torch/version.h>

#include "regal/core/atomic_file.h"
#include "regal/core/csv_table.h"
#include "regal/core/fnv_hash.h"
#include "data/dataset_fixtures.h"
#include "experiment/demo_script.h"
#include "support/test_support.h"
#include "support/tiny_experiment.h"

namespace regal::experiment {
namespace {

namespace fs = std::filesystem;

// A CSV without the columns whose name starts with "seconds" (wall time differs between runs).
std::vector<std::vector<std::string>> without_timings(const fs::path& file) {
  const auto table = CsvTable::load(file);
  std::vector<std::vector<std::string>> rows;
  for (const auto& row : table.rows()) {
    std::vector<std::string> kept;
    for (size_t i = 0; i < row.size(); ++i) {
      if (table.header()[i].rfind("seconds", 0) != 0) kept.push_back(row[i]);
    }
    rows.push_back(kept);
  }
  return rows;
}

TEST(Experiment, ResumedInsideAndBetweenUnitsEndsWithTheUninterruptedResults) {
  testing::ScratchDir dir("experiment");
  const RunConfig config = load_run_config(testing::write_tiny_experiment(dir.path()));

  ExperimentRequest whole;
  whole.out = dir.path() / "whole";
  const auto uninterrupted = run_experiment(config, whole);
  ASSERT_TRUE(uninterrupted.finished);
  EXPECT_EQ(uninterrupted.units_total, 5 * 2 * 2);
  EXPECT_EQ(uninterrupted.units_run, 20);

  ExperimentRequest part;
  part.out = dir.path() / "parts";
  // Policies of its own: the whole run's are in the cache, and would be reused.
  RunConfig part_config = config;
  part_config.experiment.policy_cache = dir.path() / "part-policies";
  // Inside the first policy's training.
  part.stop_after_policy_steps = 1;
  const auto first = run_experiment(part_config, part);
  EXPECT_FALSE(first.finished);
  EXPECT_EQ(first.units_done, 0);
  EXPECT_TRUE(fs::exists(*part.out / "policy-miou" / "checkpoint" / "progress.json"));
  EXPECT_FALSE(fs::exists(*part.out / "policy-miou" / "done.json"));
  // Between units.
  part.stop_after_policy_steps = 0;
  part.stop_after_units = 3;
  const auto second = run_experiment(part_config, part);
  EXPECT_FALSE(second.finished);
  EXPECT_EQ(second.units_done, 3);
  EXPECT_EQ(CsvTable::load(*part.out / "results.csv").rows().size(), 3u);
  // Inside a unit: it stops after one of its labelling steps with a
  // checkpoint (and a crash there would leave a temporary file behind).
  const auto next = ExperimentPlan{{"random", "entropy", "bald", "ralis-miou", "ralis-wiou"}, {"4", "8"}, {0, 1}}.units()[3];
  part.stop_after_units = 0;
  part.stop_after_unit_steps = 1;
  const auto third = run_experiment(part_config, part);
  EXPECT_FALSE(third.finished);
  EXPECT_EQ(third.units_done, 3);
  const fs::path checkpoint = *part.out / "units" / (next.id() + ".checkpoint");
  EXPECT_TRUE(fs::exists(checkpoint / "progress.json"));
  EXPECT_EQ(nlohmann::json::parse(read_file(checkpoint / "progress.json"))["step"], 1);
  EXPECT_FALSE(fs::exists(*part.out / "units" / (next.id() + ".json")));
  write_file_atomically(*part.out / "units" / (next.id() + ".json.tmp.4242"), "{\"method\": ");
  part.stop_after_unit_steps = 0;
  const auto last = run_experiment(part_config, part);
  ASSERT_TRUE(last.finished);
  EXPECT_EQ(last.units_run, 17);
  EXPECT_FALSE(fs::exists(checkpoint));  // removed with the unit's results
  EXPECT_EQ(last.pretrained, uninterrupted.pretrained);  // pretrained once, in the cache

  EXPECT_EQ(without_timings(*part.out / "results.csv"), without_timings(*whole.out / "results.csv"));
  EXPECT_EQ(without_timings(*part.out / "summary.csv"), without_timings(*whole.out / "summary.csv"));
  const auto results = nlohmann::json::parse(read_file(*part.out / "results.json"));
  EXPECT_TRUE(results["supervised_val_miou"].is_number());  // experiment.upper_bound
  EXPECT_TRUE(fs::exists(*part.out / "supervised" / "best.pt"));
  const auto record = nlohmann::json::parse(read_file(*part.out / "experiment.json"));
  EXPECT_EQ(record["units_done"], 20);
  EXPECT_TRUE(record["finished"].get<bool>());
  EXPECT_EQ(record["environment"]["libtorch"], TORCH_VERSION);
  // Running the finished experiment again changes nothing.
  const auto again = run_experiment(part_config, part);
  EXPECT_TRUE(again.finished);
  EXPECT_EQ(again.units_run, 0);
}

TEST(Experiment, PoliciesAreSharedThroughTheCacheAcrossEvaluationSettings) {
  testing::ScratchDir dir("experiment-policy-cache");
  const fs::path file = testing::write_tiny_experiment(dir.path());
  ExperimentRequest request;
  request.methods = std::vector<std::string>{"ralis-miou"};
  request.budgets = std::vector<std::string>{"4"};
  request.seeds = std::vector<uint64_t>{0};
  request.out = dir.path() / "first";
  const auto first = run_experiment(load_run_config(file), request);
  ASSERT_TRUE(first.finished);
  const fs::path cached = policy_cache_dir(load_run_config(file), loop::RewardMetric::kMiou,
                                           first.pretrained.parent_path());
  EXPECT_EQ(read_file(cached / "best_policy.pt"), read_file(*request.out / "policy-miou" / "best_policy.pt"));
  EXPECT_TRUE(fs::exists(cached / "done.json"));
  EXPECT_FALSE(fs::exists(cached / "checkpoint"));  // only what a finished policy needs

  // Other evaluation settings (a new run directory) keep the policy's key and reuse it untrained.
  std::string text = read_file(file);
  text.replace(text.find("ralis: 3}"), 9, "ralis: 2}");
  write_file_atomically(file, text);
  EXPECT_EQ(policy_cache_dir(load_run_config(file), loop::RewardMetric::kMiou, first.pretrained.parent_path()),
            cached);
  request.out = dir.path() / "second";
  const auto second = run_experiment(load_run_config(file), request);
  ASSERT_TRUE(second.finished);
  EXPECT_EQ(read_file(*request.out / "policy-miou" / "best_policy.pt"), read_file(cached / "best_policy.pt"));
  const auto record = nlohmann::json::parse(read_file(*request.out / "experiment.json"));
  EXPECT_FALSE(record["seconds"].contains("policy_miou"));  // no policy training ran

  // Another reward, or other policy settings, are other entries.
  EXPECT_NE(policy_cache_dir(load_run_config(file), loop::RewardMetric::kWiou, first.pretrained.parent_path()),
            cached);
  text.replace(text.find("episodes: 2"), 11, "episodes: 3");
  write_file_atomically(file, text);
  EXPECT_NE(policy_cache_dir(load_run_config(file), loop::RewardMetric::kMiou, first.pretrained.parent_path()),
            cached);
}

TEST(Experiment, ASubsetRunsOnlyItsUnitsAndTheResultsGrow) {
  testing::ScratchDir dir("experiment-subset");
  const RunConfig config = load_run_config(testing::write_tiny_experiment(dir.path()));
  ExperimentRequest request;
  request.methods = std::vector<std::string>{"random"};
  request.budgets = std::vector<std::string>{"4"};
  request.seeds = std::vector<uint64_t>{0, 1};
  const auto outcome = run_experiment(config, request);
  EXPECT_TRUE(outcome.finished);
  EXPECT_EQ(outcome.units_total, 2);
  EXPECT_FALSE(fs::exists(outcome.out / "policy-miou"));  // no RALis method: no policy
  // Each unit says what ran it (the config asks for one thread).
  const auto unit = nlohmann::json::parse(read_file(outcome.out / "units" / "random-4-seed0.json"));
  EXPECT_EQ(unit.at("environment").at("threads"), 1);
  EXPECT_EQ(unit.at("environment").at("libtorch"), TORCH_VERSION);
  request.methods = std::vector<std::string>{"entropy"};
  run_experiment(config, request);
  EXPECT_EQ(CsvTable::load(outcome.out / "results.csv").rows().size(), 4u);
  EXPECT_EQ(CsvTable::load(outcome.out / "summary.csv").rows().size(), 2u);
  // experiment.json: "plan" is this invocation's, "plans" every one asked of the directory.
  const auto plan_of = [](const char* method) {
    return nlohmann::json{{"methods", {method}}, {"budgets", {"4"}}, {"seeds", {0, 1}}};
  };
  auto record = nlohmann::json::parse(read_file(outcome.out / "experiment.json"));
  EXPECT_EQ(record.at("plan"), plan_of("entropy"));
  EXPECT_EQ(record.at("plans"), nlohmann::json::array({plan_of("random"), plan_of("entropy")}));
  request.methods = std::vector<std::string>{"random"};
  EXPECT_EQ(run_experiment(config, request).units_run, 0);
  record = nlohmann::json::parse(read_file(outcome.out / "experiment.json"));
  EXPECT_EQ(record.at("plan"), plan_of("random"));
  EXPECT_EQ(record.at("plans").size(), 2u);  // asked before: not listed twice
  request.methods = std::vector<std::string>{"entropy"};
  // The same 4 of D_V's 32 regions written as a share would run every unit
  // again under another name: refused, the results untouched.
  const std::string results = read_file(outcome.out / "results.csv");
  request.budgets = std::vector<std::string>{"12.5%"};
  const std::string message = testing::error_message([&] { run_experiment(config, request); });
  EXPECT_CONTAINS(message, "'4' and '12.5%'");
  EXPECT_EQ(read_file(outcome.out / "results.csv"), results);
  // "4.0" is "4": the finished units are found, nothing runs again.
  request.budgets = std::vector<std::string>{"4.0"};
  EXPECT_EQ(run_experiment(config, request).units_run, 0);
}

TEST(Experiment, UnitsOfAnotherPretrainedNetOrPolicyAreRefusedUntouched) {
  testing::ScratchDir dir("experiment-inputs");
  const RunConfig config = load_run_config(testing::write_tiny_experiment(dir.path()));
  ExperimentRequest request;
  request.methods = std::vector<std::string>{"ralis-miou"};
  request.budgets = std::vector<std::string>{"4"};
  request.seeds = std::vector<uint64_t>{0};
  const auto outcome = run_experiment(config, request);
  ASSERT_TRUE(outcome.finished);
  const fs::path policy = outcome.out / "policy-miou" / "best_policy.pt";
  // What each part started from is recorded.
  const auto unit = nlohmann::json::parse(read_file(outcome.out / "units" / "ralis-miou-4-seed0.json"));
  EXPECT_EQ(unit.at("digests").at("pretrained"), file_digest(outcome.pretrained));
  EXPECT_EQ(unit.at("digests").at("policy"), file_digest(policy));
  const auto done = nlohmann::json::parse(read_file(outcome.out / "policy-miou" / "done.json"));
  EXPECT_EQ(done.at("pretrained"), file_digest(outcome.pretrained));
  EXPECT_EQ(done.at("policy"), file_digest(policy));
  const std::string results = read_file(outcome.out / "results.csv");

  // Pretraining made again with other weights (on a GPU, say): the run
  // directory, its units and its policy, all from the first net, are refused.
  const std::string weights = read_file(outcome.pretrained);
  write_file_atomically(outcome.pretrained, weights + "other");
  const fs::path record_file = outcome.out / "experiment.json";
  const std::string record = read_file(record_file);
  std::string message = testing::error_message([&] { run_experiment(config, request); });
  EXPECT_CONTAINS(message, "was run from another pretrained net");
  EXPECT_TRUE(testing::demo_starts_over_on(message)) << message;
  EXPECT_EQ(read_file(record_file), record);
  // A run directory of an older regal, whose experiment.json lacks the
  // digest: its units, then its policy, are checked one by one.
  auto older_record = nlohmann::json::parse(record);
  older_record.erase("pretrained_digest");
  write_file_atomically(record_file, older_record.dump(2));
  message = testing::error_message([&] { run_experiment(config, request); });
  EXPECT_CONTAINS(message, "1 unit(s) (ralis-miou-4-seed0) made from another pretrained net");
  EXPECT_TRUE(testing::demo_starts_over_on(message)) << message;
  EXPECT_EQ(read_file(outcome.out / "results.csv"), results);
  const fs::path units = outcome.out / "units";
  fs::rename(units, outcome.out / "units-aside");
  message = testing::error_message([&] { run_experiment(config, request); });
  EXPECT_CONTAINS(message, (outcome.out / "policy-miou").string());
  EXPECT_CONTAINS(message, "another pretrained net");
  EXPECT_TRUE(testing::demo_starts_over_on(message)) << message;
  // The done.json of an older regal has no digest: the policy's resume checkpoint records it.
  nlohmann::json older_done = done;
  older_done.erase("pretrained");
  write_file_atomically(outcome.out / "policy-miou" / "done.json", older_done.dump(2));
  EXPECT_CONTAINS(testing::error_message([&] { run_experiment(config, request); }), "another pretrained net");
  fs::rename(outcome.out / "units-aside", units);

  // A replaced policy: refused before it is reused (or copied to the policy
  // cache), and for the units made with the first one.
  write_file_atomically(outcome.pretrained, weights);
  const std::string policy_bytes = read_file(policy);
  write_file_atomically(policy, policy_bytes + "other");
  EXPECT_CONTAINS(testing::error_message([&] { run_experiment(config, request); }),
                  "other than the one its training finished with");
  request.methods = std::vector<std::string>{"random"};
  message = testing::error_message([&] { run_experiment(config, request); });
  EXPECT_CONTAINS(message, "made from another policy");
  EXPECT_CONTAINS(message, policy.string());
  EXPECT_TRUE(testing::demo_starts_over_on(message)) << message;
  EXPECT_EQ(read_file(outcome.out / "results.csv"), results);
  EXPECT_FALSE(fs::exists(units / "random-4-seed0.json"));

  // The originals back: the run goes on.
  write_file_atomically(policy, policy_bytes);
  EXPECT_EQ(run_experiment(config, request).units_run, 1);
}

// A run directory of an older regal (no digest in experiment.json) cut off
// inside a unit or a policy, then run with pretraining made again: refused
// before anything resumes, in the words make demo starts over on.
TEST(Experiment, AnOlderRunCutOffInsideAUnitOrPolicyRefusesAnotherPretrainedNet) {
  testing::ScratchDir dir("experiment-older-cut-off");
  RunConfig config = load_run_config(testing::write_tiny_experiment(dir.path()));
  config.experiment.policy_cache = dir.path() / "policies";
  ExperimentRequest in_unit;
  in_unit.out = dir.path() / "in-unit";
  in_unit.methods = std::vector<std::string>{"random"};
  in_unit.budgets = std::vector<std::string>{"4"};
  in_unit.seeds = std::vector<uint64_t>{0};
  in_unit.stop_after_unit_steps = 1;
  const auto unit_outcome = run_experiment(config, in_unit);
  ASSERT_FALSE(unit_outcome.finished);
  const fs::path unit_checkpoint = *in_unit.out / "units" / "random-4-seed0.checkpoint";
  ASSERT_TRUE(fs::exists(unit_checkpoint / "progress.json"));
  ExperimentRequest in_policy = in_unit;
  in_policy.out = dir.path() / "in-policy";
  in_policy.methods = std::vector<std::string>{"ralis-miou"};
  in_policy.stop_after_unit_steps = 0;
  in_policy.stop_after_policy_steps = 1;
  ASSERT_FALSE(run_experiment(config, in_policy).finished);
  const fs::path policy_checkpoint = *in_policy.out / "policy-miou" / "checkpoint";
  ASSERT_TRUE(fs::exists(policy_checkpoint / "progress.json"));

  for (const auto& out : {*in_unit.out, *in_policy.out}) {
    auto older = nlohmann::json::parse(read_file(out / "experiment.json"));
    older.erase("pretrained_digest");
    write_file_atomically(out / "experiment.json", older.dump(2));
  }
  const std::string weights = read_file(unit_outcome.pretrained);
  write_file_atomically(unit_outcome.pretrained, weights + "other");
  for (const auto& [request, checkpoint] :
       {std::pair{in_unit, unit_checkpoint}, std::pair{in_policy, policy_checkpoint}}) {
    const std::string progress = read_file(checkpoint / "progress.json");
    const std::string message = testing::error_message([&] { run_experiment(config, request); });
    EXPECT_CONTAINS(message, checkpoint.string());
    EXPECT_CONTAINS(message, "started from another pretrained net");
    EXPECT_TRUE(testing::demo_starts_over_on(message)) << message;
    EXPECT_EQ(read_file(checkpoint / "progress.json"), progress);
    EXPECT_FALSE(nlohmann::json::parse(read_file(*request.out / "experiment.json")).contains("pretrained_digest"));
  }

  // The earlier net back: the unit goes on from its checkpoint.
  write_file_atomically(unit_outcome.pretrained, weights);
  in_unit.stop_after_unit_steps = 0;
  const auto resumed = run_experiment(config, in_unit);
  EXPECT_TRUE(resumed.finished);
  EXPECT_EQ(resumed.units_run, 1);
  EXPECT_FALSE(fs::exists(unit_checkpoint));
}

TEST(Experiment, AnOutDirectoryOfAnotherConfigIsRefusedUntouched) {
  testing::ScratchDir dir("experiment-config");
  const fs::path file = testing::write_tiny_experiment(dir.path());
  ExperimentRequest request;
  request.methods = std::vector<std::string>{"random"};
  request.budgets = std::vector<std::string>{"4"};
  request.seeds = std::vector<uint64_t>{0};
  const auto outcome = run_experiment(load_run_config(file), request);
  const std::string results = read_file(outcome.out / "results.csv");
  std::string text = read_file(file);
  text.replace(text.find("fpn_channels: 8"), 15, "fpn_channels: 4");
  write_file_atomically(file, text);
  const std::string message = testing::error_message([&] { run_experiment(load_run_config(file), request); });
  EXPECT_CONTAINS(message, outcome.out.string());
  EXPECT_CONTAINS(message, "another config");
  EXPECT_TRUE(testing::demo_starts_over_on(message)) << message;
  EXPECT_FALSE(testing::demo_starts_over_on("cannot read data/x.png"));  // any other failure stops the demo
  EXPECT_EQ(read_file(outcome.out / "results.csv"), results);
  // Another model is pretrained into another entry of the cache.
  EXPECT_NE(pretrain_cache_dir(load_run_config(file)), outcome.pretrained.parent_path());
}

TEST(Experiment, ABudgetOrPolicyThatDoesNotFitTheDataIsRefusedBeforePretraining) {
  testing::ScratchDir dir("experiment-fit");
  RunConfig config = load_run_config(testing::write_tiny_experiment(dir.path()));
  ExperimentRequest request;
  request.methods = std::vector<std::string>{"random"};
  request.budgets = std::vector<std::string>{"33"};  // D_V holds 32 regions
  std::string message = testing::error_message([&] { run_experiment(config, request); });
  EXPECT_CONTAINS(message, "experiment.budgets");
  EXPECT_CONTAINS(message, "33");
  EXPECT_FALSE(fs::exists(pretrain_cache_dir(config)));  // nothing was trained
  request.budgets = std::vector<std::string>{"4", "12.5%"};  // one count twice
  message = testing::error_message([&] { run_experiment(config, request); });
  EXPECT_CONTAINS(message, "are both 4 regions");
  EXPECT_FALSE(fs::exists(pretrain_cache_dir(config)));

  // D_T holds 32 regions: 6 steps of K = 5 leave 7 for the last, fewer than K * N = 10.
  config.policy.options.groups(5).per_group(2).budget(loop::Budget::parse("30", "test"));
  request.methods = std::vector<std::string>{"ralis-miou"};
  request.budgets = std::vector<std::string>{"4"};
  message = testing::error_message([&] { run_experiment(config, request); });
  EXPECT_CONTAINS(message, "policy.budget");
  EXPECT_FALSE(fs::exists(pretrain_cache_dir(config)));
}

}  // namespace
}  // namespace regal::experiment
