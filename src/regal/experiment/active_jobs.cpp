#include "regal/experiment/active_jobs.h"

#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "regal/al/region_grid.h"
#include "regal/core/atomic_file.h"
#include "regal/core/device.h"
#include "regal/core/error.h"
#include "regal/core/fnv_hash.h"
#include "regal/core/json_file.h"
#include "regal/core/progress.h"
#include "regal/data/image_folder.h"
#include "regal/data/label_colours.h"
#include "regal/data/sample_store.h"
#include "regal/experiment/experiment_plan.h"
#include "regal/experiment/role_split_file.h"
#include "regal/experiment/run_data_record.h"
#include "regal/experiment/supervised_jobs.h"
#include "regal/loop/region_selection.h"
#include "regal/loop/region_training.h"
#include "regal/loop/scoring.h"
#include "regal/metrics/iou.h"
#include "regal/nn/fpn.h"
#include "regal/train/checkpoint.h"

namespace regal::experiment {

namespace fs = std::filesystem;

namespace {

// requires: ensure_role_splits(config) has run when the roles are drawn.
std::unique_ptr<data::SampleStore> open_store(const RunConfig& config, const std::string& role) {
  const data::DatasetSpec spec = config.target.spec(role);
  // The pretrain section says whether decoded images fit in memory.
  auto store = std::make_unique<data::SampleStore>(data::open_dataset(spec), config.pretrain.options.cache_images());
  if (spec.ids.empty()) {
    spdlog::info("{}: {} images ({} {})", role, store->size(), spec.root.string(), spec.split);
  } else {
    spdlog::info("{}: {} images ({} {}, ids from {})", role, store->size(), spec.root.string(), spec.split,
                 config.target.role_splits->file.string());
  }
  return store;
}

// `store` was opened by open_store(config, role).
RunSplit run_split(const RunConfig& config, const std::string& role, const data::SampleStore& store) {
  return {role, config.target.spec(role), &store.dataset()};
}

// `net_flag`: the command takes --net, and the message says so.
fs::path pretrained_checkpoint(const RunConfig& config, bool net_flag = false) {
  const fs::path pretrained = config.pretrain.out / "best.pt";
  REGAL_CHECK(fs::exists(pretrained), "the pretrained segmentation net ", pretrained,
              " does not exist; run `regal pretrain --config ", config.file.string(), "` first",
              net_flag ? ", or pass --net FILE (`regal experiment` names its net's directory under `pretrained` in "
                         "its experiment.json)"
                       : "");
  return pretrained;
}

// A file passed to a method that never reads it is refused rather than
// ignored: the user meant another method, and a silently unused --policy
// would leave results labelled with a policy that never chose a region.
void refuse_unused_files(loop::Method method, const std::optional<fs::path>& policy,
                         const std::optional<fs::path>& net) {
  REGAL_CHECK(!policy || method == loop::Method::kPolicy, "--policy ", *policy, " is read only by --method ralis, not ",
              loop::to_string(method), "; drop --policy or use --method ralis");
  REGAL_CHECK(!net || method != loop::Method::kRandom, "--net ", *net,
              " is not read by --method random (it picks regions without the net); drop --net or choose another "
              "method");
}

nn::Fpn make_net(const RunConfig& config, int num_classes) {
  torch::manual_seed(config.seed);
  nn::Fpn net(config.model.fpn_options(num_classes));
  spdlog::info("net: {}", net->summary());
  return net;
}

nlohmann::json tensor_to_json(const at::Tensor& values) {
  const auto cpu = values.to(torch::kCPU, torch::kDouble).contiguous();
  return std::vector<double>(cpu.data_ptr<double>(), cpu.data_ptr<double>() + cpu.numel());
}

at::Tensor frequencies_of(const data::SampleStore& d_t, const data::SampleStore& d_r) {
  const int64_t num_classes = d_t.dataset().info().num_classes();
  return metrics::class_frequencies(loop::class_counts_of({&d_t, &d_r}, num_classes));  // [C]
}

}  // namespace

loop::PolicyTrainingResult run_train_policy(const RunConfig& config_in, const PolicyOverrides& overrides) {
  RunConfig config = config_in;
  auto& options = config.policy.options;
  if (overrides.device) config.device = *overrides.device;
  if (overrides.threads) config.threads = *overrides.threads;
  if (overrides.seed) {
    config.seed = *overrides.seed;
    options.seed(*overrides.seed);
  }
  if (overrides.out) config.policy.out = *overrides.out;
  if (overrides.episodes) {
    REGAL_CHECK(*overrides.episodes > 0, "--episodes must be positive, got ", *overrides.episodes);
    options.episodes(*overrides.episodes);
  }
  if (overrides.reward) options.reward(loop::parse_reward_metric(*overrides.reward, "--reward"));
  if (overrides.stop_after_steps) options.stop_after_steps(*overrides.stop_after_steps);

  set_thread_count(config.threads);
  const auto device = resolve_device(config.device);
  // Without the pretrained net nothing can run: say so before generating scenes.
  const auto pretrained = pretrained_checkpoint(config);
  ensure_scenes(config);
  ensure_role_splits(config);
  const auto d_t = open_store(config, "d_t");
  const auto d_s = open_store(config, "d_s");
  const auto d_r = open_store(config, "d_r");
  const auto& info = d_t->dataset().info();
  const auto frequencies = frequencies_of(*d_t, *d_r);
  const auto weights = metrics::class_weights(frequencies);  // [C]

  const fs::path out = config.policy.out;
  fs::create_directories(out);
  if (!overrides.resume) {
    REGAL_CHECK(!fs::exists(out / "checkpoint" / "progress.json"), out,
                " already holds a policy-training run; pass --resume to continue it, or remove the directory");
  }
  // Before config.yaml and meta.json: resuming on other data must fail with
  // the run as it was.
  record_run_data(out,
                  {run_split(config, "d_t", *d_t), run_split(config, "d_s", *d_s), run_split(config, "d_r", *d_r)},
                  overrides.resume);
  // Before meta.json is rewritten: a resumed run must keep the options it was started with.
  if (overrides.resume) loop::check_policy_checkpoint(out, options, pretrained);
  if (!overrides.resume) write_file_atomically(out / "config.yaml", read_file(config.file));
  const nlohmann::json meta = {{"config", config.file.string()},
                               {"dataset", info.name},
                               {"classes", info.class_names},
                               {"class_frequencies", tensor_to_json(frequencies)},
                               {"class_weights", tensor_to_json(weights)},
                               {"frequencies_from", nlohmann::json::array({"d_t", "d_r"})},
                               {"reward", loop::to_string(options.reward())},
                               {"seed", options.seed()},
                               {"region", {options.region().height, options.region().width}},
                               {"groups", options.groups()},
                               {"per_group", options.per_group()},
                               {"budget", options.budget().to_string()},
                               {"episodes", options.episodes()},
                               {"pretrained", pretrained.string()},
                               {"device", describe_device(device)}};
  write_file_atomically(out / "meta.json", meta.dump(2) + "\n");

  auto net = make_net(config, info.num_classes());
  spdlog::info("device: {}", describe_device(device));
  const loop::PolicyTrainingData data{d_t.get(), d_s.get(), d_r.get()};
  const loop::PolicyTrainingJob job{out, pretrained, weights, overrides.resume};
  const auto result = loop::train_policy(net, data, device, options, job);
  spdlog::info("train-policy: {} episodes, {} steps; this invocation {} (state {} | seg training {} | reward {} | "
               "dqn {} | end-of-episode training {})",
               result.episodes_done, result.steps_done, format_duration(result.seconds),
               format_duration(result.seconds_state), format_duration(result.seconds_train),
               format_duration(result.seconds_reward), format_duration(result.seconds_dqn),
               format_duration(result.seconds_end_of_episode));
  if (result.best_episode >= 0) {
    spdlog::info("train-policy: best policy from episode {} (D_R {} {:.2f}%) in {}", result.best_episode + 1,
                 loop::to_string(options.reward()), 100.0 * result.best_score, result.best_policy.string());
  }
  return result;
}

nlohmann::json run_environment(const c10::Device& device) {
  return {{"regal", REGAL_VERSION},
          {"libtorch", TORCH_VERSION},
          {"device", describe_device(device)},
          {"threads", at::get_num_threads()}};
}

TargetSplits open_target_splits(const RunConfig& config) {
  TargetSplits splits;
  splits.d_t = open_store(config, "d_t");
  splits.d_s = open_store(config, "d_s");
  splits.d_r = open_store(config, "d_r");
  splits.d_v = open_store(config, "d_v");
  splits.val = open_store(config, "val");
  splits.class_frequencies = frequencies_of(*splits.d_t, *splits.d_r);
  return splits;
}

std::vector<RunSplit> TargetSplits::run_splits(const RunConfig& config) const {
  // d_t and d_r give the class frequencies, d_s the state, d_r early
  // stopping, d_v the pool, val the scores.
  return {run_split(config, "d_t", *d_t), run_split(config, "d_s", *d_s), run_split(config, "d_r", *d_r),
          run_split(config, "d_v", *d_v), run_split(config, "val", *val)};
}

nlohmann::json run_evaluate(const RunConfig& config_in, const EvaluateRequest& request) {
  RunConfig config = config_in;
  if (request.device) config.device = *request.device;
  if (request.threads) config.threads = *request.threads;
  set_thread_count(config.threads);
  // Checked before the scenes are generated and every split is decoded: a
  // mistyped flag, a missing device or no pretrained net stops the run at once.
  const auto method = loop::parse_method(request.method, "--method");
  check_method_runs_on_model(method, config);
  refuse_unused_files(method, request.policy, std::nullopt);
  if (!request.budget.empty()) loop::Budget::parse(request.budget, "--budget");
  resolve_device(config.device);
  pretrained_checkpoint(config);
  ensure_scenes(config);
  ensure_role_splits(config);
  const auto splits = open_target_splits(config);
  return run_evaluate(config, splits, request);
}

nlohmann::json run_evaluate(const RunConfig& config_in, const TargetSplits& splits, const EvaluateRequest& request) {
  RunConfig config = config_in;
  if (request.seed) config.seed = *request.seed;
  const auto method = loop::parse_method(request.method, "--method");
  const std::string budget_text = request.budget.empty() ? config.evaluate.budgets.front() : request.budget;
  auto options = config.evaluate.options_for(method, config.policy)
                     .budget(loop::Budget::parse(budget_text, "--budget"))
                     .seed(config.seed);
  const auto device = resolve_device(config.device);
  loop::EvaluationJob job;
  job.pretrained = pretrained_checkpoint(config);
  if (method == loop::Method::kPolicy) {
    job.policy = request.policy ? *request.policy : config.policy.out / "best_policy.pt";
    REGAL_CHECK(fs::exists(*job.policy), "policy ", *job.policy, " does not exist; run `regal train-policy --config ",
                config.file.string(), "` first or pass --policy FILE");
  }
  job.class_frequencies = splits.class_frequencies;
  job.label = request.label;
  job.prediction_images = request.prediction_images;
  job.predictions_dir = request.predictions_dir;
  job.checkpoint_seconds = request.checkpoint_seconds;
  job.stop_after_steps = request.stop_after_steps;
  job.out_file = request.out ? *request.out
                             : config.evaluate.out / fmt::format("{}-{}-seed{}.json", loop::to_string(method),
                                                                 budget_tag(budget_text), config.seed);
  job.checkpoint_dir = fs::path(job.out_file).replace_extension(".checkpoint");
  // No run directory to record in: the results carry the fingerprints of
  // every split read.
  job.data = split_fingerprints(splits.run_splits(config));
  job.environment = run_environment(device);
  auto net = make_net(config, splits.d_v->dataset().info().num_classes());
  spdlog::info("device: {}", describe_device(device));
  const loop::EvaluationData data{splits.d_v.get(), splits.d_s.get(), splits.d_r.get(), splits.val.get()};
  return loop::run_evaluation(net, data, device, options, job);
}

namespace {

// A CSV field, quoted when it holds a comma, quote or line break (RFC 4180):
// the image column holds the user's file names.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

nlohmann::json region_json(const std::string& image, const al::Region& region, al::RegionSize size) {
  return {{"image", image}, {"x", region.x}, {"y", region.y}, {"height", size.height}, {"width", size.width}};
}

// The regions an earlier selection.json names: those it chose and those it
// had ruled out itself, so that excluding the last round excludes every round
// before it; a duplicate counts once.
struct EarlierRegions {
  std::vector<al::Region> here;  // on the images of the folder, on their grid
  // Of images no longer in the folder, as region_json entries: they cannot be
  // offered or trained on, but the next round's record keeps them.
  nlohmann::json elsewhere = nlohmann::json::array();
};

// `shared_size` (H, W): the size every image has (select checked it); none:
// each image named is decoded for its own (finetune's folder may mix sizes).
EarlierRegions earlier_regions(const fs::path& file, const data::SampleStore& images, al::RegionSize region,
                               std::optional<std::pair<int64_t, int64_t>> shared_size) {
  const auto earlier = read_json_file(file);
  std::map<std::string, int64_t> index_of;
  for (size_t i = 0; i < images.size(); ++i) index_of[images.dataset().files(i).id] = static_cast<int64_t>(i);
  std::map<int64_t, std::pair<int64_t, int64_t>> sizes;
  const auto size_of = [&](int64_t image) {
    if (shared_size) return *shared_size;
    auto known = sizes.find(image);
    if (known == sizes.end()) {
      const auto decoded = images.get(static_cast<size_t>(image)).image;  // [3, H, W]
      known = sizes.emplace(image, std::pair{decoded.size(1), decoded.size(2)}).first;
    }
    return known->second;
  };
  std::set<std::tuple<int64_t, int64_t, int64_t>> seen;
  std::set<std::tuple<std::string, int64_t, int64_t>> seen_elsewhere;
  EarlierRegions regions;
  try {
    const auto& size = earlier.at("region");
    REGAL_CHECK(size.at(0).get<int64_t>() == region.height && size.at(1).get<int64_t>() == region.width, file,
                ": its regions are ", size.dump(), " (h, w), this selection's [", region.height, ", ", region.width,
                "]");
    for (const char* key : {"regions", "excluded_regions"}) {
      if (!earlier.contains(key)) continue;
      for (const auto& entry : earlier.at(key)) {
        const auto name = entry.at("image").get<std::string>();
        const int64_t x = entry.at("x").get<int64_t>(), y = entry.at("y").get<int64_t>();
        const auto image = index_of.find(name);
        if (image == index_of.end()) {
          if (seen_elsewhere.insert({name, x, y}).second) {
            regions.elsewhere.push_back(region_json(name, {-1, x, y}, region));
          }
          continue;
        }
        const auto [height, width] = size_of(image->second);
        REGAL_CHECK(x >= 0 && y >= 0 && x % region.width == 0 && y % region.height == 0 && x + region.width <= width &&
                        y + region.height <= height,
                    file, ": region (", x, ", ", y, ") of image '", name, "' is not on the ", region.height, " x ",
                    region.width, " grid of its ", height, " x ", width, " pixels");
        if (seen.insert({image->second, x, y}).second) regions.here.push_back({image->second, x, y});
      }
    }
  } catch (const nlohmann::json::exception& e) {
    REGAL_FAIL(file, ": not a selection.json of `regal select` (", e.what(), ")");
  }
  return regions;
}

// The overlay of one image: its file name with ".png" appended, so that
// "a.png" and "a.jpg" get two overlays.
fs::path overlay_file(const fs::path& dir, const std::string& image_name) { return dir / (image_name + ".png"); }

// Every image with a chosen region, with those regions outlined.
void write_overlays(const data::SampleStore& images, const std::vector<loop::SelectedRegion>& selected,
                    al::RegionSize region, const fs::path& dir) {
  std::map<int64_t, std::vector<al::Region>> by_image;
  for (const auto& chosen : selected) by_image[chosen.region.image].push_back(chosen.region);
  for (const auto& [image, regions] : by_image) {
    const auto& files = images.dataset().files(static_cast<size_t>(image));
    cv::Mat picture = cv::imread(files.image.string(), cv::IMREAD_COLOR);  // BGR, as imwrite expects
    REGAL_CHECK(!picture.empty(), "cannot read ", files.image);
    const int thickness = std::max(1, static_cast<int>(std::min(region.height, region.width) / 32));
    for (const auto& r : regions) {
      const cv::Rect box(static_cast<int>(r.x), static_cast<int>(r.y), static_cast<int>(region.width),
                         static_cast<int>(region.height));
      cv::rectangle(picture, box, cv::Scalar(0, 0, 0), thickness + 2);  // a dark rim keeps it visible on light images
      cv::rectangle(picture, box, cv::Scalar(0, 255, 255), thickness);
    }
    const auto file = overlay_file(dir, files.id);
    write_atomically_with(file, [&](const fs::path& temp) {
      REGAL_CHECK(cv::imwrite(temp.string(), picture), "cannot write ", file);
    });
  }
}

// The config with the device, threads and seed a request of select or
// finetune overrides, its thread count applied.
template <typename Request>
RunConfig with_overrides(const RunConfig& config_in, const Request& request) {
  RunConfig config = config_in;
  if (request.device) config.device = *request.device;
  if (request.threads) config.threads = *request.threads;
  if (request.seed) config.seed = *request.seed;
  set_thread_count(config.threads);
  return config;
}

// A weights file's digest for a record (null without a file): which net or
// policy a selection or fine-tuning used, even once the file is replaced.
nlohmann::json digest_or_null(const std::optional<fs::path>& file) {
  return file ? nlohmann::json(file_digest(*file)) : nlohmann::json();
}

}  // namespace

nlohmann::json run_select(const RunConfig& config_in, const SelectRequest& request) {
  RunConfig config = with_overrides(config_in, request);
  // Everything that can be checked without the data, first.
  const auto method = loop::parse_method(request.method, "--method");
  check_method_runs_on_model(method, config);
  refuse_unused_files(method, request.policy, request.net);
  const auto device = resolve_device(config.device);
  // An earlier round's record is never overwritten (the next round excludes it).
  REGAL_CHECK(!fs::exists(request.out / "selection.json"), request.out,
              " already holds a selection; choose another --out, or remove it");
  // Overlays without a selection: a try that failed before its record, or a
  // folder of the user's own; neither is written into.
  REGAL_CHECK(!fs::exists(request.out / "overlays"), request.out / "overlays",
              " exists but ", request.out, " holds no selection.json (an earlier try that failed?); remove it, or "
              "choose another --out");
  std::optional<fs::path> net_file;  // random picks need no net
  if (method != loop::Method::kRandom) {
    net_file = request.net ? *request.net : pretrained_checkpoint(config, true);
    REGAL_CHECK(fs::exists(*net_file), "segmentation net ", *net_file, " does not exist");
  }
  std::optional<fs::path> policy_file;
  if (method == loop::Method::kPolicy) {
    policy_file = request.policy ? *request.policy : config.policy.out / "best_policy.pt";
    REGAL_CHECK(fs::exists(*policy_file), "policy ", *policy_file, " does not exist; run `regal train-policy --config ",
                config.file.string(), "` first or pass --policy FILE");
  }
  const int64_t wanted = request.regions ? *request.regions : config.evaluate.groups;
  REGAL_CHECK(wanted >= 1, "--regions must be >= 1, got ", wanted);
  data::image_files_in(request.images);  // a wrong directory is said before any scene is generated

  // The classes and the state set come from the config's target data.
  ensure_scenes(config);
  ensure_role_splits(config);
  const auto d_s = open_store(config, "d_s");
  const auto& info = d_s->dataset().info();
  const auto region = config.policy.options.region();
  // The net and the policy first: one that does not fit the config is said
  // before every image is decoded.
  nn::Fpn net{nullptr};
  if (net_file) {
    net = make_net(config, info.num_classes());
    train::load_checkpoint(*net_file, *net, nullptr);
    net->to(device);
    net->eval();
  }
  std::unique_ptr<rl::DqnTrainer> dqn;
  if (policy_file) {
    dqn = loop::load_policy(*policy_file, info.num_classes(), *d_s, region, device);
  }
  const data::SampleStore images(data::open_image_folder(request.images, info), false);
  spdlog::info("select: {} images in {}", images.size(), request.images.string());
  // One grid covers every image, so they must share a size: checked on all of
  // them now (a user's folder often mixes sizes) rather than deep inside a step.
  const std::vector<int64_t> first_size = images.get(0).image.sizes().vec();  // [3, H, W]
  for (size_t i = 1; i < images.size(); ++i) {
    const std::vector<int64_t> size = images.get(i).image.sizes().vec();
    REGAL_CHECK(size == first_size, "select: ", images.dataset().files(i).image, " is ", size[2], " x ", size[1],
                " pixels but ", images.dataset().files(0).image, " is ", first_size[2], " x ", first_size[1],
                "; every image must have one size (resize or crop them first)");
  }
  REGAL_CHECK(first_size[1] >= region.height && first_size[2] >= region.width, "select: the images in ",
              request.images, " are ", first_size[2], " x ", first_size[1], " pixels, smaller than one region of ",
              region.width, " x ", region.height, " (", config.file.string(), ": policy.region, [h, w])");
  const int64_t right_margin = first_size[2] % region.width, bottom_margin = first_size[1] % region.height;
  if (right_margin > 0 || bottom_margin > 0) {
    spdlog::info("select: the regions of {} x {} pixels tile each image but its last {} columns and {} rows of "
                 "pixels, which are never offered",
                 region.width, region.height, right_margin, bottom_margin);
  }
  const auto options = config.evaluate.options_for(method, config.policy);
  const EarlierRegions earlier =
      request.exclude ? earlier_regions(*request.exclude, images, region, std::pair{first_size[1], first_size[2]})
                      : EarlierRegions{};
  const std::vector<al::Region>& excluded = earlier.here;
  if (!earlier.elsewhere.empty()) {
    spdlog::warn("select: {} regions of {} are in images that are not in {}; kept in this round's "
                 "excluded_regions, so that it still names every earlier round",
                 earlier.elsewhere.size(), request.exclude->string(), request.images.string());
  }

  loop::AcquisitionContext context;
  context.net = net;
  context.pool_images = &images;
  context.state_set = d_s.get();
  context.policy = dqn.get();
  context.device = device;
  context.region = region;
  context.bald_passes = options.bald_passes();
  context.eval_batch_size = options.eval_batch_size();
  const auto selected = loop::select_regions(context,
                                             loop::SelectionOptions()
                                                 .method(method)
                                                 .regions(wanted)
                                                 .groups(options.groups())
                                                 .per_group(options.per_group())
                                                 .seed(config.seed),
                                             excluded);

  const auto name_of = [&](int64_t image) { return images.dataset().files(static_cast<size_t>(image)).id; };
  nlohmann::json rows = nlohmann::json::array();
  std::string csv = "image,x,y,height,width,step,score\n";
  for (const auto& chosen : selected) {
    auto row = region_json(name_of(chosen.region.image), chosen.region, region);
    row["step"] = chosen.step;
    const bool scored = !std::isnan(chosen.score);
    row["score"] = scored ? nlohmann::json(chosen.score) : nlohmann::json();
    rows.push_back(row);
    csv += fmt::format("{},{},{},{},{},{},{}\n", csv_field(name_of(chosen.region.image)), chosen.region.x,
                       chosen.region.y, region.height, region.width, chosen.step,
                       scored ? fmt::format("{:.9g}", chosen.score) : std::string());
  }
  nlohmann::json ruled_out = nlohmann::json::array();
  for (const auto& r : excluded) ruled_out.push_back(region_json(name_of(r.image), r, region));
  for (const auto& entry : earlier.elsewhere) ruled_out.push_back(entry);
  const nlohmann::json selection = {
      {"method", loop::to_string(method)},
      {"images", request.images.string()},
      {"net", net_file ? nlohmann::json(net_file->string()) : nlohmann::json()},
      {"policy", policy_file ? nlohmann::json(policy_file->string()) : nlohmann::json()},
      {"digests", {{"net", digest_or_null(net_file)}, {"policy", digest_or_null(policy_file)}}},
      {"excluded", request.exclude ? nlohmann::json(request.exclude->string()) : nlohmann::json()},
      {"config", config.file.string()},
      {"region", {region.height, region.width}},
      {"groups", options.groups()},
      {"per_group", options.per_group()},
      {"seed", config.seed},
      {"device", describe_device(device)},
      {"score", loop::score_name(method).empty() ? nlohmann::json() : nlohmann::json(loop::score_name(method))},
      {"classes", info.class_names},  // train id -> name: what the annotator writes
      {"palette", info.palette},      // train id -> RGB, for labels drawn in colour
      {"regions", rows},
      {"excluded_regions", ruled_out}};
  // Every text first (a file name that is not UTF-8 is replaced, not thrown
  // on halfway), then the files, the record last.
  const std::string selection_text =
      selection.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  write_overlays(images, selected, region, request.out / "overlays");
  write_file_atomically(request.out / "selection.csv", csv);
  write_file_atomically(request.out / "selection.json", selection_text);
  std::set<int64_t> images_used;
  for (const auto& chosen : selected) images_used.insert(chosen.region.image);
  spdlog::info("select: {} regions of {} x {} in {} of {} images -> {} (selection.json, selection.csv, overlays/)",
               selected.size(), region.height, region.width, images_used.size(), images.size(),
               request.out.string());
  return selection;
}

nlohmann::json run_finetune(const RunConfig& config_in, const FinetuneRequest& request) {
  RunConfig config = with_overrides(config_in, request);
  const auto device = resolve_device(config.device);
  // finetune.json is written before best.pt: one without the net is what a
  // failed save left, and is written again.
  REGAL_CHECK(!fs::exists(request.out / "best.pt"), request.out,
              " already holds a fine-tuned net; choose another --out, or remove it");
  // Said before any scene is generated: a wrong directory or selection file.
  data::image_files_in(request.images);
  const auto selection = read_json_file(request.selection);
  // By default the net the selection was made with: after the first round,
  // the net the previous round fine-tuned.
  const bool selection_names_net = selection.contains("net") && selection.at("net").is_string();
  const fs::path net_file = request.net            ? *request.net
                            : selection_names_net ? fs::path(selection.at("net").get<std::string>())
                                                  : pretrained_checkpoint(config, true);
  REGAL_CHECK(fs::exists(net_file), "segmentation net ", net_file, " does not exist",
              !request.net && selection_names_net ? detail::concat(" (", request.selection, " was made with it)")
                                                  : std::string(),
              "; pass --net FILE");
  const std::string net_digest = file_digest(net_file);
  if (!request.net && selection_names_net) {
    // The file may have been written over since (a round run again).
    const auto recorded = selection.value(nlohmann::json::json_pointer("/digests/net"), nlohmann::json());
    REGAL_CHECK(!recorded.is_string() || recorded.get<std::string>() == net_digest, net_file,
                " holds other weights than when ", request.selection, " was made with it (digest ",
                recorded.get<std::string>(), " then, ", net_digest, " now); pass --net FILE to start from it anyway");
  }
  spdlog::info("finetune: starting from {} ({})", net_file.string(),
               request.net            ? "--net"
               : selection_names_net ? "the net the selection was made with"
                                     : "the pretrained net: a random selection names none");
  REGAL_CHECK(fs::is_directory(request.labels), "labels: ", request.labels, " is not a directory");

  ensure_scenes(config);
  ensure_role_splits(config);
  const auto d_t = open_store(config, "d_t");
  const auto d_r = open_store(config, "d_r");
  const auto& info = d_r->dataset().info();
  const auto region = config.policy.options.region();
  // The net first: one that does not fit the config is said before any image is decoded.
  torch::manual_seed(config.seed);
  std::mt19937_64 rng(config.seed);
  loop::RegionTrainer trainer(make_net(config, info.num_classes()), config.policy.options.segmentation(), device);
  trainer.reset_to(net_file);
  // Every round's regions, on the images they were chosen in.
  const data::SampleStore unlabelled(data::open_image_folder(request.images, info), false);
  const auto earlier = earlier_regions(request.selection, unlabelled, region, std::nullopt);
  if (!earlier.elsewhere.empty()) {
    spdlog::warn("finetune: {} regions of {} are in images that are not in {}; left out", earlier.elsewhere.size(),
                 request.selection.string(), request.images.string());
  }
  REGAL_CHECK(!earlier.here.empty(), request.selection, " names no region of the images in ", request.images);
  // The images holding an annotated region, paired with their label files;
  // an image without one was not annotated (its regions are left out).
  std::map<int64_t, int64_t> store_index;  // image in the folder -> image in the annotated store
  std::map<fs::path, fs::path> image_of_label;  // a.png and a.jpg would share labels/a.png
  std::vector<data::SampleFiles> files;
  std::vector<fs::path> missing_labels;
  for (const auto& r : earlier.here) {
    if (store_index.count(r.image)) continue;
    const auto& image = unlabelled.dataset().files(static_cast<size_t>(r.image));
    const fs::path label = request.labels / (fs::path(image.id).stem().string() + ".png");
    if (!fs::exists(label)) {
      missing_labels.push_back(label);
      store_index[r.image] = -1;
      continue;
    }
    const auto [other, unique] = image_of_label.emplace(label, image.image);
    REGAL_CHECK(unique, image.image, " and ", other->second, " both hold annotated regions and would share the label ",
                label, "; rename one of them");
    store_index[r.image] = static_cast<int64_t>(files.size());
    files.push_back({image.id, image.image, label});
  }
  REGAL_CHECK(!files.empty(), "no label file in ", request.labels, " for any of the ", missing_labels.size(),
              " images holding selected regions (e.g. ", missing_labels.front(),
              "): write <image stem>.png, train ids 0..", info.num_classes() - 1,
              " (255 = unknown) or the palette colours of selection.json (black = unknown unless a class is black)");
  if (!missing_labels.empty()) {
    spdlog::warn("finetune: no label file for {} of the {} images holding selected regions (e.g. {}; all in "
                 "finetune.json, missing_label_files); their regions are left out",
                 missing_labels.size(), store_index.size(), missing_labels.front().string());
  }
  std::vector<al::Region> annotated;  // on the annotated store's images
  for (const auto& r : earlier.here) {
    if (store_index.at(r.image) >= 0) annotated.push_back({store_index.at(r.image), r.x, r.y});
  }
  // Grey labels hold train ids; colour ones (an annotation tool's export)
  // are read back through the target's palette, black for unknown.
  auto label_colours = data::palette_label_colours(info.palette, static_cast<uint8_t>(info.ignore_index));
  if (!label_colours) {
    spdlog::info("finetune: the target's palette cannot be read back (a colour repeats, or a class id is the "
                 "unknown id), so label files must be grey train ids");
  }
  const data::SampleStore store(data::Dataset(info, "annotated", std::move(files),
                                              data::LabelMap::identity(info.num_classes()),
                                              data::LabelSizeMismatch::kError, std::move(label_colours)),
                                config.pretrain.options.cache_images());
  // Every label decoded before training: one of another size than its image,
  // or with a value that is no train id nor 255, is named here. A region
  // whose label is 255 throughout was selected but not annotated (the
  // annotator's time ran out): it trains nothing, and is counted.
  const auto [height, width] = loop::image_size_of(store);
  const al::RegionGrid grid(height, width, region);
  std::vector<at::Tensor> region_annotated;  // per image: [regions_per_image] bool, in state order
  for (size_t i = 0; i < store.size(); ++i) {
    const auto label = store.get(i).label;  // [H, W]
    REGAL_CHECK(label.size(0) == height && label.size(1) == width, "finetune: ", store.dataset().files(i).image,
                " is ", label.size(1), " x ", label.size(0), " pixels but ", store.dataset().files(0).image, " is ",
                width, " x ", height, "; the annotated images of every round must have one size");
    region_annotated.push_back((grid.split(label.unsqueeze(0)) != info.ignore_index).flatten(1).any(1));
  }
  const auto rows = grid.state_rows(al::regions_to_tensor(annotated), static_cast<int64_t>(store.size()));  // [A]
  const auto annotated_flags = torch::cat(region_annotated).index_select(0, rows);  // [A] bool
  const auto is_annotated = annotated_flags.accessor<bool, 1>();
  // Only the annotated regions are trained on (the others would only change
  // the batches' makeup); the rest are named in the record, to annotate still.
  loop::RegionPool pool(static_cast<int64_t>(store.size()), height, width, region);
  nlohmann::json left_255 = nlohmann::json::array();
  for (size_t i = 0; i < annotated.size(); ++i) {
    if (is_annotated[static_cast<int64_t>(i)]) {
      pool.label(annotated[i]);
    } else {
      left_255.push_back(region_json(store.dataset().files(static_cast<size_t>(annotated[i].image)).id,
                                     annotated[i], region));
    }
  }
  const auto unannotated = static_cast<int64_t>(left_255.size());
  REGAL_CHECK(unannotated < static_cast<int64_t>(annotated.size()), "finetune: every one of the ", annotated.size(),
              " selected regions is 255 (unknown) throughout in ", request.labels, ": nothing to train on");
  if (unannotated > 0) {
    spdlog::warn("finetune: {} of the {} selected regions are 255 (unknown) throughout: not annotated, they train "
                 "nothing (finetune.json lists them under regions_left_255)",
                 unannotated, annotated.size());
  }
  spdlog::info("finetune: {} annotated regions in {} images, early stopping on D_R ({} images)",
               static_cast<int64_t>(annotated.size()) - unannotated, store.size(), d_r->size());

  const auto weights = metrics::class_weights(frequencies_of(*d_t, *d_r));  // [C]
  const int eval_batch_size = config.evaluate.eval_batch_size;
  loop::Scores held_out_scores;
  const auto held_out = [&] {
    held_out_scores = loop::score_on(trainer.net(), *d_r, device, eval_batch_size, weights);
    return held_out_scores.miou;
  };
  const double before = held_out();
  nlohmann::json curve = nlohmann::json::array();
  const auto stop = trainer.train_until_early_stopping(
      store, pool, held_out, before, rng, [&](int epoch, double train_loss, double score) {
        curve.push_back({{"epoch", epoch + 1}, {"train_loss", train_loss}, {"dr_loss", held_out_scores.loss},
                         {"dr_miou", score}});
        spdlog::info("finetune: epoch {}: train loss {:.4f}, D_R mIoU {:.2f}%", epoch + 1, train_loss, 100.0 * score);
      });
  const double after = std::max(before, stop.best_score);
  // Early stopping keeps the starting weights when no epoch beat them on D_R.
  const bool improved = stop.best_epoch >= 0;
  if (!improved) {
    spdlog::warn("finetune: no epoch beat the starting net's D_R mIoU ({:.2f}%), so best.pt holds the starting "
                 "weights; D_R is the config's reward set, a poor judge when your images are far from it",
                 100.0 * before);
  }
  nlohmann::json missing_label_files = nlohmann::json::array();
  for (const auto& label : missing_labels) missing_label_files.push_back(label.string());
  const nlohmann::json record = {{"net", net_file.string()},
                                 {"net_digest", net_digest},
                                 {"selection", request.selection.string()},
                                 {"images", request.images.string()},
                                 {"labels", request.labels.string()},
                                 {"annotated_regions", static_cast<int64_t>(annotated.size()) - unannotated},
                                 {"unannotated_regions", unannotated},
                                 {"annotated_images", static_cast<int64_t>(store.size())},
                                 {"images_without_labels", static_cast<int64_t>(missing_labels.size())},
                                 {"regions_left_255", left_255},
                                 {"missing_label_files", missing_label_files},
                                 {"epochs", stop.epochs},
                                 {"best_epoch", stop.best_epoch + 1},
                                 {"improved", improved},
                                 {"dr_miou_before", before},
                                 {"dr_miou_after", after},
                                 {"curve", curve},
                                 {"seed", config.seed},
                                 {"device", describe_device(device)}};
  // The record first, the net last: a net in --out always has its record.
  write_file_atomically(request.out / "finetune.json", record.dump(2) + "\n");
  train::save_checkpoint(request.out / "best.pt", *trainer.net(), nullptr, nlohmann::json{{"finetune", true}});
  spdlog::info("finetune: D_R mIoU {:.2f}% -> {:.2f}% after {} epochs; net {}", 100.0 * before, 100.0 * after,
               stop.epochs, (request.out / "best.pt").string());
  return record;
}

}  // namespace regal::experiment
