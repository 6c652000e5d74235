#include "regal/loop/policy_training.h"

#include <chrono>
#include <cmath>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "regal/al/action_features.h"
#include "regal/core/archive_file.h"
#include "regal/core/atomic_file.h"
#include "regal/core/csv_table.h"
#include "regal/core/error.h"
#include "regal/core/fnv_hash.h"
#include "regal/core/json_file.h"
#include "regal/core/progress.h"
#include "regal/loop/acquisition.h"
#include "regal/loop/candidates.h"
#include "regal/loop/rng_text.h"
#include "regal/rl/replay_buffer.h"
#include "regal/train/checkpoint.h"

namespace regal::loop {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;


// Torch's generator (dropout while training) is reseeded from counters that
// the checkpoint holds, so a resumed run draws what an uninterrupted one does.
void seed_torch(uint64_t seed, uint64_t phase, uint64_t counter) {
  torch::manual_seed(seed * 1000003ULL + phase * 7919ULL + counter);
}
constexpr uint64_t kPhaseEpisodeStart = 1;
constexpr uint64_t kPhaseStep = 2;
constexpr uint64_t kPhaseEndOfEpisode = 3;

const std::vector<std::string>& step_header() {
  static const std::vector<std::string> header = {
      "episode",       "step",          "t",           "labelled_regions", "dr_miou",
      "dr_wiou",       "reward",        "epsilon",     "dqn_loss",         "mean_q",
      "dqn_lr",        "target_synced", "seconds_state", "seconds_train",  "seconds_reward",
      "seconds_dqn"};
  return header;
}

const std::vector<std::string>& episode_header() {
  static const std::vector<std::string> header = {"episode",    "steps",    "labelled_regions",
                                                  "start_metric", "end_epochs", "dr_score", "best"};
  return header;
}

// The candidates and state of the step about to be taken.
struct Pending {
  at::Tensor state;    // [M, Fs] float32
  at::Tensor actions;  // [K, N, F] float32
  CandidateSet candidates;
};

// The epsilon schedule, a key of its own in the settings: checkpoints written
// before it was configurable have none and were trained with the defaults.
nlohmann::json exploration_settings(const rl::DqnOptions& dqn) {
  return {{"epsilon_start", dqn.epsilon_start()},
          {"epsilon_end", dqn.epsilon_end()},
          {"epsilon_decay", dqn.epsilon_decay()}};
}

// The options a checkpoint can only be continued with: another K, N, region
// or budget would read the saved candidates and pool wrongly, another reward,
// seed or training option would mix two trainings in one policy. The episode
// count may grow, and the device and threads may change.
nlohmann::json checkpoint_settings(const PolicyTrainingOptions& options, const std::string& pretrained_digest) {
  const auto& dqn = options.dqn();
  return {{"pretrained", pretrained_digest},
          {"region", {options.region().height, options.region().width}},
          {"groups", options.groups()},
          {"per_group", options.per_group()},
          {"budget", options.budget().to_string()},
          {"buffer_capacity", options.buffer_capacity()},
          {"reward", to_string(options.reward())},
          {"seed", options.seed()},
          {"dqn",
           {{"batch_size", dqn.batch_size()},
            {"lr", dqn.lr()},
            {"gamma", dqn.gamma()},
            {"momentum", dqn.momentum()},
            {"weight_decay", dqn.weight_decay()},
            {"lr_decay", dqn.lr_decay()},
            {"target_sync_every", dqn.target_sync_every()}}},
          {"exploration", exploration_settings(dqn)},
          {"segmentation", options_json(options.segmentation())}};
}

// What the checkpoint's progress.json holds besides the tensors.
struct Counters {
  int episode = 0;
  int64_t episode_step = 0;
  int64_t t = 0;  // steps over all episodes
  double previous_metric = 0.0;
  double start_metric = 0.0;  // m_0 of the current episode
  double best_score = 0.0;
  int best_episode = -1;
  bool episode_started = false;
  bool has_pending = false;
};

class PolicyRun {
 public:
  PolicyRun(nn::Fpn net, const PolicyTrainingData& data, c10::Device device, const PolicyTrainingOptions& options,
            const PolicyTrainingJob& job)
      : data_(data),
        device_(device),
        options_(options),
        job_(job),
        num_classes_(data.d_t->dataset().info().num_classes()),
        pool_(make_pool(data, options)),
        trainer_(std::move(net), options.segmentation(), device),
        buffer_(rl::ReplayBufferOptions(options.buffer_capacity())),
        dqn_(make_dqn(data, options, device)),
        steps_log_(step_header()),
        episodes_log_(episode_header()),
        rng_(options.seed()) {
    REGAL_CHECK(options_.episodes() >= 1, "policy training: episodes must be >= 1, got ", options_.episodes());
    REGAL_CHECK(options_.buffer_capacity() >= options_.dqn().batch_size(), "policy training: a replay buffer of ",
                options_.buffer_capacity(), " transitions never fills a DQN batch of ", options_.dqn().batch_size(),
                ", so the query network would never be updated");
    budget_ = check_policy_fits_pool(pool_.total_regions(), options_);
    pretrained_digest_ = file_digest(job_.pretrained);
    REGAL_CHECK(job_.class_weights.defined() && job_.class_weights.numel() == num_classes_,
                "policy training: expected ", num_classes_, " class weights");
  }

  PolicyTrainingResult run() {
    open_or_resume();
    const auto start = Clock::now();
    int64_t steps_this_run = 0;
    const int64_t steps_per_episode = (budget_ + options_.groups() - 1) / options_.groups();
    spdlog::info("train-policy: {} episodes x {} steps (K = {}, N = {}, budget {} of {} regions), reward {}",
                 options_.episodes(), steps_per_episode, options_.groups(), options_.per_group(), budget_,
                 pool_.total_regions(), to_string(options_.reward()));
    while (counters_.episode < options_.episodes()) {
      if (!counters_.episode_started) start_episode();
      while (pool_.labelled_count() < budget_) {
        if (options_.stop_after_steps() > 0 && steps_this_run >= options_.stop_after_steps()) {
          spdlog::info("train-policy: stopping after {} steps as asked; --resume continues", steps_this_run);
          return finish(start, false);
        }
        step();
        ++steps_this_run;
        const double elapsed = seconds_since(start);
        const int64_t total = steps_per_episode * options_.episodes();
        spdlog::info("  {}/{} steps, {} elapsed, about {} left", counters_.t, total, format_duration(elapsed),
                     format_duration(elapsed / static_cast<double>(steps_this_run) *
                                     static_cast<double>(std::max<int64_t>(0, total - counters_.t))));
      }
      end_episode();
    }
    return finish(start, true);
  }

 private:
  static RegionPool make_pool(const PolicyTrainingData& data, const PolicyTrainingOptions& options) {
    REGAL_CHECK(data.d_t && data.d_s && data.d_r, "policy training needs D_T, D_S and D_R");
    al::check_region_size(options.region());
    const auto [height, width] = image_size_of(*data.d_t);
    return RegionPool(static_cast<int64_t>(data.d_t->size()), height, width, options.region());
  }

  static std::unique_ptr<rl::DqnTrainer> make_dqn(const PolicyTrainingData& data,
                                                  const PolicyTrainingOptions& options, c10::Device device) {
    const auto [height, width] = image_size_of(*data.d_s);
    const al::RegionGrid grid(height, width, options.region());
    // The policy's initial weights come from torch's generator: seed it.
    torch::manual_seed(options.seed());
    return std::make_unique<rl::DqnTrainer>(
        query_net_options(data.d_t->dataset().info().num_classes(),
                          static_cast<int64_t>(data.d_s->size()) * grid.regions_per_image()),
        options.dqn(), device);
  }

  fs::path checkpoint_dir() const { return job_.out_dir / "checkpoint"; }
  fs::path checkpoint_file(int64_t tag, const std::string& what) const {
    return checkpoint_dir() / fmt::format("{:07d}-{}.pt", tag, what);
  }

  void open_or_resume() {
    const fs::path progress = checkpoint_dir() / "progress.json";
    if (!job_.resume) {
      REGAL_CHECK(!fs::exists(progress), job_.out_dir,
                  " already holds a policy-training run; pass --resume to continue it, or remove the directory");
      fs::create_directories(checkpoint_dir());
      return;
    }
    check_policy_checkpoint(job_.out_dir, options_, job_.pretrained);
    const auto meta = read_json_file(progress);
    const int64_t tag = meta.at("tag").get<int64_t>();
    counters_.episode = meta.at("episode").get<int>();
    counters_.episode_step = meta.at("episode_step").get<int64_t>();
    counters_.t = meta.at("t").get<int64_t>();
    counters_.previous_metric = meta.at("previous_metric").get<double>();
    counters_.start_metric = meta.at("start_metric").get<double>();
    counters_.best_score = meta.at("best_score").get<double>();
    counters_.best_episode = meta.at("best_episode").get<int>();
    counters_.episode_started = meta.at("episode_started").get<bool>();
    counters_.has_pending = meta.at("has_pending").get<bool>();
    rng_from_string(rng_, meta.at("rng").get<std::string>(), progress);
    train::load_checkpoint(checkpoint_file(tag, "seg"), *trainer_.net(), &trainer_.optimizer());
    trainer_.net()->to(device_);
    dqn_->load(checkpoint_file(tag, "dqn"));
    // Killed after the checkpoint of a best episode, before best_policy.pt was replaced.
    if (meta.value("best_policy_pending", false)) publish_best_policy(tag);
    buffer_.load(checkpoint_file(tag, "buffer"));
    pool_.load(checkpoint_file(tag, "pool"));
    if (counters_.has_pending) {
      std::vector<at::Tensor> tensors;
      torch::load(tensors, checkpoint_file(tag, "pending").string());
      REGAL_CHECK(tensors.size() == 3, checkpoint_file(tag, "pending"), " is corrupt");
      pending_.state = tensors[0];
      pending_.actions = tensors[1];
      pending_.candidates.groups = options_.groups();
      pending_.candidates.per_group = options_.per_group();
      pending_.candidates.region_size = options_.region();
      pending_.candidates.regions = al::regions_from_tensor(tensors[2]);
      pending_.candidates.actions = pending_.actions;
    }
    fractions_ = region_fractions(*data_.d_t, pool_.labelled_regions(), options_.region(), num_classes_);
    steps_log_ = CsvTable::load_or_empty(job_.out_dir / "log.csv", step_header());
    steps_log_.keep_rows_if([&](const std::vector<std::string>& row) { return std::stoll(row[2]) < counters_.t; });
    episodes_log_ = CsvTable::load_or_empty(job_.out_dir / "episodes.csv", episode_header());
    episodes_log_.keep_rows_if(
        [&](const std::vector<std::string>& row) { return std::stoi(row[0]) < counters_.episode; });
    saved_tag_ = tag;
    spdlog::info("train-policy: resuming at episode {}, step {} ({} steps done, {} regions labelled)",
                 counters_.episode + 1, counters_.episode_step + 1, counters_.t, pool_.labelled_count());
  }

  Scores score_reward_set() {
    return score_on(trainer_.net(), *data_.d_r, device_, options_.eval_batch_size(), job_.class_weights);
  }

  Pending build_pending() {
    Pending pending;
    pending.candidates = draw_candidates(pool_, options_.groups(), options_.per_group(), rng_);
    compute_region_features(pending.candidates, trainer_.net(), *data_.d_t, device_, options_.eval_batch_size());
    compute_action_features(pending.candidates, fractions_);
    pending.actions = pending.candidates.actions;
    pending.state =
        compute_state(trainer_.net(), *data_.d_s, options_.region(), device_, options_.eval_batch_size());
    // Features are no longer needed once the action vectors exist.
    pending.candidates.features = al::RegionFeatures();
    return pending;
  }

  void start_episode() {
    seed_torch(options_.seed(), kPhaseEpisodeStart, static_cast<uint64_t>(counters_.episode));
    trainer_.reset_to(job_.pretrained);
    pool_.reset();
    fractions_ = region_fractions(*data_.d_t, {}, options_.region(), num_classes_);
    const auto scores = score_reward_set();
    counters_.previous_metric = scores.metric(options_.reward());
    counters_.start_metric = counters_.previous_metric;
    counters_.episode_step = 0;
    spdlog::info("episode {}/{}: start, D_R mIoU {:.2f}% wIoU {:.2f}%", counters_.episode + 1, options_.episodes(),
                 100.0 * scores.miou, 100.0 * scores.wiou);
    pending_ = build_pending();
    counters_.episode_started = true;
    counters_.has_pending = true;
  }

  void step() {
    REGAL_CHECK(counters_.has_pending, "policy training: no candidates for the next step (corrupt checkpoint?)");
    const Pending current = std::move(pending_);
    counters_.has_pending = false;
    const double eps = rl::epsilon(counters_.t, dqn_->options());
    const auto picks = dqn_->select_actions(current.state.to(device_), current.actions.to(device_), counters_.t, rng_);
    const auto q = dqn_->policy_q(current.state.to(device_), current.actions.to(device_)).to(torch::kCPU);  // [K, N]
    double q_sum = 0.0;
    for (int64_t k = 0; k < current.candidates.groups; ++k) {
      q_sum += q[k][picks[static_cast<size_t>(k)]].item<double>();
    }

    // The oracle: label the picks in group order until the budget is reached.
    std::vector<al::Region> labelled_now;
    for (int64_t k = 0; k < current.candidates.groups && pool_.labelled_count() < budget_; ++k) {
      const auto& region = current.candidates.at(k, picks[static_cast<size_t>(k)]);
      pool_.label(region);
      labelled_now.push_back(region);
    }
    fractions_ = torch::cat({fractions_, region_fractions(*data_.d_t, labelled_now, options_.region(), num_classes_)},
                            0);  // [L, C+1]

    seed_torch(options_.seed(), kPhaseStep, static_cast<uint64_t>(counters_.t));
    auto clock = Clock::now();
    trainer_.train_epoch(*data_.d_t, pool_, labelled_now, rng_);
    const double seconds_train = seconds_since(clock);

    clock = Clock::now();
    const auto scores = score_reward_set();
    const double metric = scores.metric(options_.reward());
    const double reward = 100.0 * (metric - counters_.previous_metric);
    const double seconds_reward = seconds_since(clock);

    const bool terminal = pool_.labelled_count() >= budget_;
    clock = Clock::now();
    if (!terminal) {
      pending_ = build_pending();
      counters_.has_pending = true;
    }
    const double seconds_state = seconds_since(clock);

    clock = Clock::now();
    for (int64_t k = 0; k < current.candidates.groups; ++k) {
      rl::Transition transition;
      transition.state = current.state;  // shared by the K transitions: stored once
      transition.actions = current.actions[k];  // [N, F]
      transition.action = picks[static_cast<size_t>(k)];
      transition.reward = reward;
      transition.terminal = terminal;
      if (!terminal) {
        transition.next_state = pending_.state;
        transition.next_actions = pending_.actions[k];  // [N, F]
      }
      buffer_.push(std::move(transition));
    }
    const auto loss = dqn_->update_from(buffer_, rng_);
    const bool sync = rl::target_sync_due(counters_.episode_step, dqn_->options());
    if (sync) dqn_->sync_target();
    dqn_->decay_learning_rate();
    const double seconds_dqn = seconds_since(clock);

    seconds_state_ += seconds_state;
    seconds_train_ += seconds_train;
    seconds_reward_ += seconds_reward;
    seconds_dqn_ += seconds_dqn;
    steps_log_.add_row({std::to_string(counters_.episode), std::to_string(counters_.episode_step),
                        std::to_string(counters_.t), std::to_string(pool_.labelled_count()),
                        format_number(scores.miou), format_number(scores.wiou), format_number(reward),
                        format_number(eps), loss ? format_number(*loss) : std::string("nan"),
                        format_number(q_sum / static_cast<double>(current.candidates.groups)),
                        format_number(dqn_->learning_rate()), sync ? "1" : "0", format_number(seconds_state),
                        format_number(seconds_train), format_number(seconds_reward), format_number(seconds_dqn)});
    spdlog::info("episode {} step {}: {} regions, D_R mIoU {:.2f}% wIoU {:.2f}%, reward {:+.3f}, eps {:.3f}, "
                 "loss {}, state {:.2f}s train {:.2f}s reward {:.2f}s dqn {:.2f}s",
                 counters_.episode + 1, counters_.episode_step + 1, pool_.labelled_count(), 100.0 * scores.miou,
                 100.0 * scores.wiou, reward, eps, loss ? fmt::format("{:.4f}", *loss) : std::string("-"),
                 seconds_state, seconds_train, seconds_reward, seconds_dqn);
    counters_.previous_metric = metric;
    ++counters_.episode_step;
    ++counters_.t;
    save_checkpoint();
  }

  void end_episode() {
    const auto clock = Clock::now();
    seed_torch(options_.seed(), kPhaseEndOfEpisode, static_cast<uint64_t>(counters_.episode));
    const auto result = trainer_.train_until_early_stopping(
        *data_.d_t, pool_, [&] { return score_reward_set().metric(options_.reward()); },
        counters_.previous_metric, rng_, [&](int epoch, double /*train_loss*/, double score) {
          dqn_->decay_learning_rate();
          spdlog::info("episode {}: all-labelled epoch {}: D_R {} {:.2f}%", counters_.episode + 1, epoch + 1,
                       to_string(options_.reward()), 100.0 * score);
        });
    const double score = result.best_score;
    const bool best = counters_.best_episode < 0 || score > counters_.best_score;
    if (best) {
      counters_.best_score = score;
      counters_.best_episode = counters_.episode;
      best_policy_pending_ = true;  // best_policy.pt follows the checkpoint below
    }
    episodes_log_.add_row({std::to_string(counters_.episode), std::to_string(counters_.episode_step),
                           std::to_string(pool_.labelled_count()), format_number(counters_.start_metric),
                           std::to_string(result.epochs),
                           format_number(score), best ? "1" : "0"});
    seconds_end_ += seconds_since(clock);
    spdlog::info("episode {}/{} done: D_R {} {:.2f}% after {} epochs on all {} labelled regions{}",
                 counters_.episode + 1, options_.episodes(), to_string(options_.reward()), 100.0 * score,
                 result.epochs, pool_.labelled_count(), best ? " (best policy so far)" : "");
    ++counters_.episode;
    counters_.episode_started = false;
    counters_.has_pending = false;
    save_checkpoint();
  }

  // best_policy.pt is the query network of the checkpoint that recorded its
  // episode as the best, copied once that checkpoint is complete: written
  // before it, a kill in between would leave a best_policy.pt of an episode
  // the resumed run trains again (and on a GPU may score otherwise).
  void publish_best_policy(int64_t tag) const {
    const fs::path best = job_.out_dir / "best_policy.pt";
    write_atomically_with(best, [&](const fs::path& temp) {
      fs::copy_file(checkpoint_file(tag, "dqn"), temp, fs::copy_options::overwrite_existing);
    });
  }

  // Every file of a checkpoint carries the step counter in its name;
  // progress.json, written last, says which set is complete, and only then
  // is the previous set removed. A crash at any point leaves one whole set.
  void save_checkpoint() {
    // Unique per save: after a step 2t, after an episode's end 2t + 1.
    const int64_t tag = 2 * counters_.t + (counters_.episode_started ? 0 : 1);
    train::save_checkpoint(checkpoint_file(tag, "seg"), *trainer_.net(), &trainer_.optimizer(), nlohmann::json{});
    dqn_->save(checkpoint_file(tag, "dqn"));
    buffer_.save(checkpoint_file(tag, "buffer"));
    pool_.save(checkpoint_file(tag, "pool"));
    if (counters_.has_pending) {
      save_tensors_atomically(checkpoint_file(tag, "pending"),
                              {pending_.state, pending_.actions, pending_.candidates.regions_tensor()});
    }
    steps_log_.save(job_.out_dir / "log.csv");
    episodes_log_.save(job_.out_dir / "episodes.csv");
    const nlohmann::json progress = {{"settings", checkpoint_settings(options_, pretrained_digest_)},
                                     {"tag", tag},
                                     {"episode", counters_.episode},
                                     {"episode_step", counters_.episode_step},
                                     {"t", counters_.t},
                                     {"labelled_regions", pool_.labelled_count()},
                                     {"previous_metric", counters_.previous_metric},
                                     {"start_metric", counters_.start_metric},
                                     {"best_score", counters_.best_score},
                                     {"best_episode", counters_.best_episode},
                                     {"episode_started", counters_.episode_started},
                                     {"has_pending", counters_.has_pending},
                                     {"best_policy_pending", best_policy_pending_},
                                     {"rng", rng_to_string(rng_)}};
    write_file_atomically(checkpoint_dir() / "progress.json", progress.dump(2) + "\n");
    if (best_policy_pending_) {
      publish_best_policy(tag);
      best_policy_pending_ = false;
    }
    if (saved_tag_ >= 0 && saved_tag_ != tag) {
      for (const char* what : {"seg", "dqn", "buffer", "pool", "pending"}) {
        std::error_code ignored;
        fs::remove(checkpoint_file(saved_tag_, what), ignored);
      }
    }
    saved_tag_ = tag;
  }

  PolicyTrainingResult finish(Clock::time_point start, bool finished) {
    PolicyTrainingResult result;
    result.finished = finished;
    result.episodes_done = counters_.episode;
    result.steps_done = counters_.t;
    result.best_episode = counters_.best_episode;
    result.best_score = counters_.best_score;
    result.best_policy = job_.out_dir / "best_policy.pt";
    result.seconds_state = seconds_state_;
    result.seconds_train = seconds_train_;
    result.seconds_reward = seconds_reward_;
    result.seconds_dqn = seconds_dqn_;
    result.seconds_end_of_episode = seconds_end_;
    result.seconds = seconds_since(start);
    return result;
  }

  PolicyTrainingData data_;
  c10::Device device_;
  PolicyTrainingOptions options_;
  PolicyTrainingJob job_;
  int64_t num_classes_;
  RegionPool pool_;
  RegionTrainer trainer_;
  rl::ReplayBuffer buffer_;
  std::unique_ptr<rl::DqnTrainer> dqn_;
  CsvTable steps_log_;
  CsvTable episodes_log_;
  std::mt19937_64 rng_;
  int64_t budget_ = 0;
  std::string pretrained_digest_;  // of job_.pretrained, recorded with every checkpoint
  Counters counters_;
  Pending pending_;
  at::Tensor fractions_;  // [L, C+1] ground-truth fractions of the regions labelled this episode
  int64_t saved_tag_ = -1;
  bool best_policy_pending_ = false;  // the episode just ended is the best: publish with its checkpoint
  double seconds_state_ = 0.0;
  double seconds_train_ = 0.0;
  double seconds_reward_ = 0.0;
  double seconds_dqn_ = 0.0;
  double seconds_end_ = 0.0;
};

}  // namespace

rl::QueryNetOptions query_net_options(int64_t num_classes, int64_t state_rows) {
  return rl::QueryNetOptions(al::state_feature_count(num_classes), al::state_feature_count(num_classes),
                             state_rows);
}

std::unique_ptr<rl::DqnTrainer> load_policy(const fs::path& policy_file, int64_t num_classes,
                                            const data::SampleStore& d_s, al::RegionSize region, c10::Device device) {
  const auto [height, width] = image_size_of(d_s);
  const al::RegionGrid grid(height, width, region);
  const int64_t state_rows = static_cast<int64_t>(d_s.size()) * grid.regions_per_image();
  auto dqn = std::make_unique<rl::DqnTrainer>(query_net_options(num_classes, state_rows), rl::DqnOptions(), device);
  try {
    dqn->load(policy_file);
  } catch (const Error& e) {
    REGAL_FAIL("policy ", policy_file, " does not load here: ", e.what(), ". A policy loads with the classes, ",
               "state set D_S and region size it was trained with; here ", num_classes, " classes and ", d_s.size(),
               " D_S images x ", grid.regions_per_image(), " regions of ", region.height, " x ", region.width, " = ",
               state_rows, " state rows: use the config it was trained with (train-policy keeps a copy in its "
               "out directory, config.yaml)");
  }
  return dqn;
}

PolicyTrainingResult train_policy(nn::Fpn net, const PolicyTrainingData& data, c10::Device device,
                                  const PolicyTrainingOptions& options, const PolicyTrainingJob& job) {
  PolicyRun run(std::move(net), data, device, options, job);
  return run.run();
}

int64_t check_policy_fits_pool(int64_t pool_regions, const PolicyTrainingOptions& options) {
  const int64_t budget = options.budget().regions(pool_regions);
  // Every step draws K * N candidates among the unlabelled regions, the last
  // one after (steps - 1) * K regions are labelled.
  const int64_t steps = (budget + options.groups() - 1) / options.groups();
  const int64_t left_for_last_step = pool_regions - (steps - 1) * options.groups();
  const int64_t candidates = options.groups() * options.per_group();
  REGAL_CHECK(left_for_last_step >= candidates, "policy training: D_T holds ", pool_regions, " regions; a budget of ",
              budget, " in steps of K = ", options.groups(), " leaves ", left_for_last_step,
              " unlabelled for the last step, fewer than its K * N = ", candidates,
              " candidates: lower policy.budget, policy.groups or policy.per_group, or add images to D_T");
  return budget;
}

void check_policy_checkpoint(const fs::path& out_dir, const PolicyTrainingOptions& options,
                             const fs::path& pretrained) {
  const fs::path progress = out_dir / "checkpoint" / "progress.json";
  REGAL_CHECK(fs::exists(progress), "--resume: no checkpoint ", progress, " to continue from");
  const auto saved = read_json_file(progress);
  if (!saved.contains("settings")) return;  // written by an older regal, which did not record them
  const auto now = checkpoint_settings(options, file_digest(pretrained));
  for (const auto& [key, value] : now.items()) {
    const auto& settings = saved.at("settings");
    const nlohmann::json before = settings.contains(key)    ? settings.at(key)
                                  : key == "exploration" ? exploration_settings(rl::DqnOptions())
                                                         : nlohmann::json();
    REGAL_CHECK(before == value, out_dir, " holds a policy training with ", key, " ", before.dump(), ", not ",
                value.dump(), ": --resume continues that training; change the option back, or start a new one in "
                "another directory");
  }
}

}  // namespace regal::loop
