// A tiny policy-training run end to end (ALGORITHM.md sections 6-7): buffer
// contents, reward arithmetic, target-sync timing, resume equality; and a
// tiny evaluation run with each method.
#include "regal/loop/policy_training.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "regal/al/action_features.h"
#include "regal/core/atomic_file.h"
#include "regal/core/csv_table.h"
#include "regal/core/error.h"
#include "regal/loop/evaluation_run.h"
#include "regal/metrics/iou.h"
#include "regal/rl/replay_buffer.h"
#include "regal/train/checkpoint.h"
#include "support/test_support.h"

namespace regal::loop {
namespace {

namespace fs = std::filesystem;

constexpr int kClasses = 3;
constexpr int64_t kGroups = 2;
constexpr int64_t kStepsPerEpisode = 3;  // budget 6 regions, K = 2
constexpr int kEpisodes = 2;

nn::FpnOptions tiny_net_options() { return nn::FpnOptions(kClasses).fpn_channels(8).dropout(0.3); }

// Band images of 32 x 64 (16 x 16 regions: 8 per image): D_T 4, D_S 2, D_R 2,
// D_V 4, val 2; and a "pretrained" net checkpoint.
struct TinyWorld {
  testing::ScratchDir dir{"policy"};
  std::unique_ptr<data::SampleStore> d_t, d_s, d_r, d_v, val;
  fs::path pretrained;
  TinyWorld() {
    const auto root = dir.path() / "data";
    testing::write_band_dataset(root, "d_t", 4, 32, 64, kClasses, 1);
    testing::write_band_dataset(root, "d_s", 2, 32, 64, kClasses, 2);
    testing::write_band_dataset(root, "d_r", 2, 32, 64, kClasses, 3);
    testing::write_band_dataset(root, "d_v", 4, 32, 64, kClasses, 4);
    testing::write_band_dataset(root, "val", 2, 32, 64, kClasses, 5);
    auto open = [&](const std::string& split) {
      return std::make_unique<data::SampleStore>(data::open_dataset({"folder", root, split}), true);
    };
    d_t = open("d_t");
    d_s = open("d_s");
    d_r = open("d_r");
    d_v = open("d_v");
    val = open("val");
    torch::manual_seed(0);
    nn::Fpn net(tiny_net_options());
    pretrained = dir.path() / "pretrained.pt";
    train::save_checkpoint(pretrained, *net, nullptr, nlohmann::json::object());
  }
  nn::Fpn fresh_net() const {
    torch::manual_seed(123);
    return nn::Fpn(tiny_net_options());
  }
  at::Tensor weights() const { return metrics::class_weights(torch::full({kClasses}, 1.0 / kClasses, torch::kDouble)); }
};

PolicyTrainingOptions tiny_options() {
  return PolicyTrainingOptions()
      .region({16, 16})
      .groups(kGroups)
      .per_group(3)
      .budget(Budget::parse("6", "test"))
      .episodes(kEpisodes)
      .buffer_capacity(100)
      .reward(RewardMetric::kMiou)
      .dqn(rl::DqnOptions().batch_size(4).lr(1e-3).target_sync_every(2))
      .segmentation(
          RegionTrainOptions().lr(0.01).crop_height(32).crop_width(32).batch_size(4).max_epochs(2).patience(1))
      .eval_batch_size(4)
      .seed(7);
}

PolicyTrainingResult run(const TinyWorld& world, const fs::path& out, bool resume, int64_t stop_after = 0) {
  const PolicyTrainingData data{world.d_t.get(), world.d_s.get(), world.d_r.get()};
  const PolicyTrainingJob job{out, world.pretrained, world.weights(), resume};
  return train_policy(world.fresh_net(), data, torch::kCPU, tiny_options().stop_after_steps(stop_after), job);
}

// The CSV without its timing columns, which differ from run to run.
std::vector<std::vector<std::string>> numbers_of(const fs::path& csv) {
  const auto text = read_file(csv);
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> row;
    std::istringstream fields(line);
    std::string field;
    while (std::getline(fields, field, ',')) row.push_back(field);
    rows.push_back(row);
  }
  const auto& header = rows.front();
  std::vector<std::vector<std::string>> kept;
  for (const auto& row : rows) {
    std::vector<std::string> values;
    for (size_t i = 0; i < row.size(); ++i) {
      if (header[i].rfind("seconds", 0) != 0) values.push_back(row[i]);
    }
    kept.push_back(values);
  }
  return kept;
}

rl::ReplayBuffer last_buffer(const fs::path& out) {
  const auto progress = nlohmann::json::parse(read_file(out / "checkpoint" / "progress.json"));
  rl::ReplayBuffer buffer(rl::ReplayBufferOptions(100));
  buffer.load(out / "checkpoint" / fmt::format("{:07d}-buffer.pt", progress.at("tag").get<int64_t>()));
  return buffer;
}

void expect_same_parameters(torch::nn::Module& a, torch::nn::Module& b) {
  const auto pa = a.named_parameters();
  const auto pb = b.named_parameters();
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
  const auto ba = a.named_buffers();
  const auto bb = b.named_buffers();
  for (const auto& item : ba) EXPECT_TRUE(torch::equal(item.value(), bb[item.key()])) << item.key();
}

class PolicyTraining : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world_ = new TinyWorld();
    result_ = new PolicyTrainingResult(run(*world_, world_->dir.path() / "full", false));
  }
  static void TearDownTestSuite() {
    delete result_;
    delete world_;
  }
  static TinyWorld* world_;
  static PolicyTrainingResult* result_;
};
TinyWorld* PolicyTraining::world_ = nullptr;
PolicyTrainingResult* PolicyTraining::result_ = nullptr;

// One test for the shared run's records: ctest runs every TEST in a process
// of its own, which would redo the run for each.
TEST_F(PolicyTraining, TinyRunRecordsTransitionsRewardsAndTargetSyncs) {
  // Every episode runs and the best policy is kept.
  EXPECT_TRUE(result_->finished);
  EXPECT_EQ(result_->episodes_done, kEpisodes);
  EXPECT_EQ(result_->steps_done, kEpisodes * kStepsPerEpisode);
  EXPECT_GE(result_->best_episode, 0);
  EXPECT_TRUE(fs::exists(result_->best_policy));
  const auto episodes = CsvTable::load_or_empty(
      world_->dir.path() / "full" / "episodes.csv",
      {"episode", "steps", "labelled_regions", "start_metric", "end_epochs", "dr_score", "best"});
  ASSERT_EQ(episodes.rows().size(), static_cast<size_t>(kEpisodes));
  for (const auto& row : episodes.rows()) EXPECT_EQ(row[2], "6");

  // One transition per group and step; terminal exactly at episode ends.
  {
    const auto buffer = last_buffer(world_->dir.path() / "full");
    ASSERT_EQ(buffer.size(), kEpisodes * kStepsPerEpisode * kGroups);
    for (int64_t i = 0; i < buffer.size(); ++i) {
      const int64_t step = i / kGroups;  // over all episodes
      const bool last_of_episode = step % kStepsPerEpisode == kStepsPerEpisode - 1;
      const auto& transition = buffer.at(i);
      EXPECT_EQ(transition.terminal, last_of_episode) << "transition " << i;
      EXPECT_EQ(transition.next_state.defined(), !last_of_episode);
      EXPECT_EQ(transition.actions.sizes(), (std::vector<int64_t>{3, al::action_feature_count(kClasses)}));
      EXPECT_EQ(transition.state.sizes(), (std::vector<int64_t>{2 * 8, al::state_feature_count(kClasses)}));
      // The K transitions of a step share the reward and the state.
      const auto& first_of_step = buffer.at(step * kGroups);
      EXPECT_EQ(transition.reward, first_of_step.reward);
      EXPECT_TRUE(transition.state.is_same(first_of_step.state));
      // The next state of a step is the state of the next one.
      if (!last_of_episode) {
        EXPECT_TRUE(torch::equal(transition.next_state, buffer.at((step + 1) * kGroups).state));
      }
    }
  }
  // r = 100 (m_t - m_{t-1}) with m_0 measured at the episode start; the
  // target syncs when the per-episode step is a multiple of 2 (the option).
  {
    const auto out = world_->dir.path() / "full";
    const auto rows = numbers_of(out / "log.csv");
    const auto& header = rows.front();
    auto column = [&](const std::string& name) {
      return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
    };
    const auto episodes = numbers_of(out / "episodes.csv");
    const auto buffer = last_buffer(out);
    ASSERT_EQ(rows.size(), static_cast<size_t>(1 + kEpisodes * kStepsPerEpisode));
    for (size_t r = 1; r < rows.size(); ++r) {
      const auto& row = rows[r];
      const int episode = std::stoi(row[column("episode")]);
      const int64_t step = std::stoll(row[column("step")]);
      const double metric = std::stod(row[column("dr_miou")]);
      const double previous = step == 0 ? std::stod(episodes[static_cast<size_t>(episode) + 1][3])
                                        : std::stod(rows[r - 1][column("dr_miou")]);
      const double reward = std::stod(row[column("reward")]);
      EXPECT_NEAR(reward, 100.0 * (metric - previous), 1e-3) << "row " << r;
      EXPECT_NEAR(buffer.at(static_cast<int64_t>(r - 1) * kGroups).reward, reward, 1e-4 * (1 + std::abs(reward)));
      EXPECT_EQ(row[column("target_synced")], step % 2 == 0 ? "1" : "0") << "row " << r;
      EXPECT_EQ(std::stoll(row[column("t")]), static_cast<int64_t>(r - 1));
      EXPECT_NEAR(std::stod(row[column("epsilon")]), rl::epsilon(static_cast<int64_t>(r - 1)), 1e-5);
    }
  }
}

TEST_F(PolicyTraining, ResumedRunEqualsUninterruptedRun) {
  const auto out = world_->dir.path() / "resumed";
  const auto first = run(*world_, out, false, 4);  // stops inside episode 2
  EXPECT_FALSE(first.finished);
  EXPECT_EQ(first.steps_done, 4);
  EXPECT_THROW(run(*world_, out, false), Error);  // a run is there: resume must be asked for
  // Resumed with another K, the saved candidates would be read wrongly: refused, naming K, and nothing touched.
  const std::string progress = read_file(out / "checkpoint" / "progress.json");
  try {
    const PolicyTrainingData data{world_->d_t.get(), world_->d_s.get(), world_->d_r.get()};
    train_policy(world_->fresh_net(), data, torch::kCPU, tiny_options().groups(3),
                 PolicyTrainingJob{out, world_->pretrained, world_->weights(), true});
    FAIL() << "a checkpoint of K = 2 was continued with K = 3";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("groups"), std::string::npos) << e.what();
  }
  // Another exploration schedule would mix two trainings in one policy: refused as well.
  try {
    const PolicyTrainingData data{world_->d_t.get(), world_->d_s.get(), world_->d_r.get()};
    auto options = tiny_options();
    options.dqn(rl::DqnOptions(options.dqn()).epsilon_decay(200));
    train_policy(world_->fresh_net(), data, torch::kCPU, options,
                 PolicyTrainingJob{out, world_->pretrained, world_->weights(), true});
    FAIL() << "a checkpoint of epsilon_decay 10 was continued with 200";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("exploration"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_file(out / "checkpoint" / "progress.json"), progress);
  // A checkpoint from before the schedule was recorded was trained with the
  // default one, and continues with it.
  auto older = nlohmann::json::parse(progress);
  older.at("settings").erase("exploration");
  write_file_atomically(out / "checkpoint" / "progress.json", older.dump());
  const auto second = run(*world_, out, true);
  EXPECT_TRUE(second.finished);
  EXPECT_EQ(numbers_of(out / "log.csv"), numbers_of(world_->dir.path() / "full" / "log.csv"));
  EXPECT_EQ(numbers_of(out / "episodes.csv"), numbers_of(world_->dir.path() / "full" / "episodes.csv"));
  const auto options = query_net_options(kClasses, 16);
  rl::DqnTrainer a(options, rl::DqnOptions());
  rl::DqnTrainer b(options, rl::DqnOptions());
  a.load(world_->dir.path() / "full" / "best_policy.pt");
  b.load(out / "best_policy.pt");
  expect_same_parameters(*a.policy(), *b.policy());
  EXPECT_DOUBLE_EQ(a.learning_rate(), b.learning_rate());
  // The segmentation nets of the last checkpoints.
  auto tag_of = [](const fs::path& dir) {
    return nlohmann::json::parse(read_file(dir / "checkpoint" / "progress.json")).at("tag").get<int64_t>();
  };
  auto net_a = world_->fresh_net();
  auto net_b = world_->fresh_net();
  const auto full = world_->dir.path() / "full";
  train::load_checkpoint(full / "checkpoint" / fmt::format("{:07d}-seg.pt", tag_of(full)), *net_a, nullptr);
  train::load_checkpoint(out / "checkpoint" / fmt::format("{:07d}-seg.pt", tag_of(out)), *net_b, nullptr);
  expect_same_parameters(*net_a, *net_b);
}

// Killed after the checkpoint of a best episode but before best_policy.pt
// was replaced: the resumed run publishes the query network that checkpoint
// holds, and only then.
TEST_F(PolicyTraining, AKillBeforeTheBestPolicyIsPublishedIsMadeGoodOnResume) {
  const auto full = world_->dir.path() / "full";
  const auto out = world_->dir.path() / "killed";
  fs::copy(full, out, fs::copy_options::recursive);
  const fs::path progress_file = out / "checkpoint" / "progress.json";
  auto progress = nlohmann::json::parse(read_file(progress_file));
  const fs::path dqn = out / "checkpoint" / fmt::format("{:07d}-dqn.pt", progress.at("tag").get<int64_t>());

  progress["best_policy_pending"] = true;
  write_file_atomically(progress_file, progress.dump(2));
  write_file_atomically(out / "best_policy.pt", "the best policy of an earlier episode");
  EXPECT_TRUE(run(*world_, out, true).finished);  // every episode done: it only settles
  EXPECT_EQ(read_file(out / "best_policy.pt"), read_file(dqn));

  // Nothing pending: best_policy.pt is left as it is, whatever it holds.
  progress["best_policy_pending"] = false;
  write_file_atomically(progress_file, progress.dump(2));
  write_file_atomically(out / "best_policy.pt", "left alone");
  run(*world_, out, true);
  EXPECT_EQ(read_file(out / "best_policy.pt"), "left alone");
}

TEST(EvaluationRun, RunsEveryMethodAndWritesResults) {
  const TinyWorld world;
  const auto policy = world.dir.path() / "policy.pt";
  {
    torch::manual_seed(5);
    rl::DqnTrainer dqn(query_net_options(kClasses, 2 * 8), rl::DqnOptions());
    dqn.save(policy);
  }
  const EvaluationData data{world.d_v.get(), world.d_s.get(), world.d_r.get(), world.val.get()};
  for (const auto method : {Method::kRandom, Method::kEntropy, Method::kBald, Method::kPolicy}) {
    EvaluationJob job;
    job.pretrained = world.pretrained;
    if (method == Method::kPolicy) job.policy = policy;
    job.class_frequencies = torch::tensor({0.5, 0.3, 0.2}, torch::kDouble);
    job.out_file = world.dir.path() / "eval" / (to_string(method) + ".json");
    job.data = {{"d_v", {{"fingerprint", "0123456789abcdef"}}}};
    const auto options = EvaluationOptions()
                             .method(method)
                             .region({16, 16})
                             .groups(2)
                             // random asks for more than the 32 regions hold: 2 x 16 are drawn
                             .per_group(method == Method::kRandom ? 20 : 3)
                             .budget(Budget::parse("20%", "test"))  // 6 of 32 regions
                             .bald_passes(3)
                             .segmentation(tiny_options().segmentation())
                             .eval_batch_size(4)
                             .rare_classes(2)
                             .seed(3);
    const auto result = run_evaluation(world.fresh_net(), data, torch::kCPU, options, job);
    const auto written = nlohmann::json::parse(read_file(job.out_file));
    EXPECT_EQ(written, result);
    EXPECT_EQ(written.at("method"), to_string(method));
    EXPECT_EQ(written.at("data"), job.data);
    EXPECT_EQ(written.at("labelled_regions").size(), 6u);
    EXPECT_EQ(written.at("labelled_regions_count"), 6);
    EXPECT_EQ(written.at("per_group"), method == Method::kRandom ? 20 : 3);
    EXPECT_EQ(written.at("per_group_drawn"), method == Method::kRandom ? 16 : 3);
    EXPECT_EQ(written.at("rare_classes"), nlohmann::json({"class2", "class1"}));
    EXPECT_GE(written.at("val_miou").get<double>(), 0.0);
    EXPECT_LE(written.at("val_miou").get<double>(), 1.0);
    EXPECT_EQ(written.at("val_iou").size(), static_cast<size_t>(kClasses));
    double acquired = 0.0;
    for (const auto& item : written.at("acquired_class_distribution").items()) acquired += item.value().get<double>();
    EXPECT_NEAR(acquired, 1.0, 1e-9);
  }
  EvaluationJob missing;
  missing.pretrained = world.pretrained;
  missing.class_frequencies = torch::tensor({0.5, 0.3, 0.2}, torch::kDouble);
  missing.out_file = world.dir.path() / "eval" / "x.json";
  EXPECT_THROW(run_evaluation(world.fresh_net(), data, torch::kCPU, EvaluationOptions().method(Method::kPolicy),
                              missing),
               Error);
}

}  // namespace
}  // namespace regal::loop
