// The embedded "scenes" dataset: layout readable by the folder loader,
// determinism, the long-tailed class frequencies, disjoint Fashion-MNIST
// instances between domains, and reuse / regeneration by fingerprint.
// Counts and canvases are small so the whole file runs in a few seconds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "regal/data/folder.h"
#include "regal/data/scene_generator.h"
#include "support/test_support.h"

namespace regal::data {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A quick generation: a few images per split on a small canvas.
SceneOptions tiny_options() {
  return SceneOptions()
      .height(64)
      .width(128)
      .source_train(3)
      .source_val(2)
      .target_d_t(3)
      .target_d_s(2)
      .target_d_r(3)
      .target_d_v(3)
      .target_val(3)
      .threads(2);
}

// Every regular file under `root`, by relative path, with its bytes.
std::map<std::string, std::string> files_under(const fs::path& root) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) files[fs::relative(entry.path(), root).string()] = read_file(entry.path());
  }
  return files;
}

json scenes_json_without_timings(const std::string& text) {
  json recorded = json::parse(text);
  recorded.erase("timings");  // wall-clock seconds differ run to run
  return recorded;
}

TEST(SceneGenerator, SameSeedGivesSameBytesAndAnotherSeedOtherImages) {
  testing::ScratchDir first("scenes-a"), second("scenes-b"), third("scenes-c");
  generate_scenes(tiny_options().seed(5), first.path());
  // A different thread count must not change a byte.
  generate_scenes(tiny_options().seed(5).threads(1), second.path());
  generate_scenes(tiny_options().seed(6), third.path());

  const auto a = files_under(first.path());
  const auto b = files_under(second.path());
  const auto c = files_under(third.path());
  ASSERT_EQ(a.size(), 2u * 19u + 3u);  // image + label per scene, 2 manifests, scenes.json
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, bytes] : a) {
    ASSERT_EQ(b.count(name), 1u) << name;
    if (name == "scenes.json") {
      EXPECT_EQ(scenes_json_without_timings(bytes), scenes_json_without_timings(b.at(name)));
    } else {
      EXPECT_TRUE(bytes == b.at(name)) << name << " differs between two runs with the same seed";
    }
  }
  int images_differing = 0, labels_differing = 0;
  for (const auto& [name, bytes] : a) {
    if (name.find("/images/") != std::string::npos) images_differing += bytes != c.at(name);
    if (name.find("/labels/") != std::string::npos) labels_differing += bytes != c.at(name);
  }
  EXPECT_EQ(images_differing, 19);
  EXPECT_EQ(labels_differing, 19);
}

TEST(SceneGenerator, WritesTwoFolderDatasetsTheLoaderOpens) {
  testing::ScratchDir dir("scenes-layout");
  const SceneOptions options = tiny_options();
  const SceneReport report = generate_scenes(options, dir.path());
  EXPECT_FALSE(report.reused);
  EXPECT_EQ(report.images_written, 19);

  const std::map<std::string, std::map<std::string, int>> expected = {
      {"source", {{"train", 3}, {"val", 2}}},
      {"target", {{"d_t", 3}, {"d_s", 2}, {"d_r", 3}, {"d_v", 3}, {"val", 3}}}};
  for (const auto& [domain, splits] : expected) {
    const fs::path root = dir.path() / domain;
    const json manifest = json::parse(read_file(root / "dataset.json"));
    EXPECT_EQ(manifest.at("classes").get<std::vector<std::string>>().size(), size_t{kSceneClasses});
    EXPECT_EQ(manifest.at("classes")[0], "road");
    EXPECT_EQ(manifest.at("classes")[kSceneFirstThing + 9], "Ankle boot");
    EXPECT_EQ(manifest.at("palette").size(), size_t{kSceneClasses});
    EXPECT_EQ(manifest.at("ignore_index"), 255);
    EXPECT_EQ(manifest.at("fingerprint"), report.fingerprint);
    EXPECT_EQ(manifest.at("class_frequency").get<std::vector<double>>(),
              report.domain(domain).class_frequency);
    ASSERT_EQ(manifest.at("splits").size(), splits.size());
    EXPECT_EQ(folder_splits(root).size(), splits.size());
    for (const auto& [split, count] : splits) {
      ASSERT_EQ(manifest.at("splits").at(split).size(), size_t(count)) << domain << "/" << split;
      const Dataset dataset = open_folder(root, split);
      ASSERT_EQ(dataset.size(), size_t(count));
      for (size_t i = 0; i < dataset.size(); ++i) {
        const Sample sample = dataset.load(i);
        ASSERT_EQ(sample.image.type(), CV_8UC3);
        ASSERT_EQ(sample.image.size(), cv::Size(options.width(), options.height()));
        ASSERT_EQ(sample.label.type(), CV_8UC1);
        double high = 0;
        cv::minMaxLoc(sample.label, nullptr, &high);
        EXPECT_LT(high, kSceneClasses);
      }
    }
  }
  // The label file is single-channel on disk, the image three-channel.
  EXPECT_EQ(cv::imread((dir.path() / "target/labels/d_t_00000.png").string(), cv::IMREAD_UNCHANGED).channels(), 1);
  EXPECT_EQ(cv::imread((dir.path() / "target/images/d_t_00000.png").string(), cv::IMREAD_UNCHANGED).channels(), 3);
  // No temporary file left behind.
  for (const auto& entry : fs::recursive_directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
  }
  // scenes.json records what was made.
  const json scenes = json::parse(read_file(dir.path() / "scenes.json"));
  EXPECT_EQ(scenes.at("fingerprint"), scenes_fingerprint(options));
  EXPECT_EQ(scenes.at("generator_version"), kSceneGeneratorVersion);
  EXPECT_EQ(scenes.at("domains").at("target").at("splits").at("d_v").at("count"), 3);
  EXPECT_TRUE(scenes.at("timings").contains("total_s"));
}

TEST(SceneGenerator, SourceIsCleanAndTargetIsNoisy) {
  // The domain shift the styles promise: the target's stuff is textured and
  // noisy where the source's is nearly flat. Measured as the spread of grey
  // levels over road pixels, averaged over the three images of a split.
  testing::ScratchDir dir("scenes-style");
  generate_scenes(tiny_options(), dir.path());
  const auto road_spread = [&](const std::string& domain, const std::string& split) {
    double total = 0;
    for (int i = 0; i < 3; ++i) {
      const std::string id = split + "_0000" + std::to_string(i) + ".png";
      const cv::Mat image = cv::imread((dir.path() / domain / "images" / id).string());
      const cv::Mat label = cv::imread((dir.path() / domain / "labels" / id).string(), cv::IMREAD_GRAYSCALE);
      cv::Mat grey;
      cv::cvtColor(image, grey, cv::COLOR_BGR2GRAY);
      cv::Scalar mean, stddev;
      cv::meanStdDev(grey, mean, stddev, label == kRoad);
      total += stddev[0];
    }
    return total / 3;
  };
  const double source = road_spread("source", "train");
  const double target = road_spread("target", "d_t");
  EXPECT_LT(source, 4.0);
  EXPECT_GT(target, 2.0 * source);
}

// Median hue (degrees) of the pixels labelled `train_id` in the source images
// of `split` (the source style rotates no hue); -1 when there are none.
double median_thing_hue(const fs::path& root, const std::string& split, int count, int train_id) {
  std::vector<float> hues;
  for (int i = 0; i < count; ++i) {
    const std::string id = split + "_0000" + std::to_string(i) + ".png";
    const cv::Mat image = cv::imread((root / "source" / "images" / id).string());
    const cv::Mat label = cv::imread((root / "source" / "labels" / id).string(), cv::IMREAD_GRAYSCALE);
    cv::Mat unit, hsv;  // float HSV: hue in degrees [0, 360)
    image.convertTo(unit, CV_32FC3, 1.0 / 255.0);
    cv::cvtColor(unit, hsv, cv::COLOR_BGR2HSV);
    std::vector<cv::Point> at;
    cv::findNonZero(label == train_id, at);
    for (const cv::Point& p : at) hues.push_back(hsv.at<cv::Vec3f>(p)[0]);
  }
  if (hues.empty()) return -1.0;
  std::nth_element(hues.begin(), hues.begin() + static_cast<long>(hues.size() / 2), hues.end());
  return hues[hues.size() / 2];
}

// Smallest angle between two hues, in degrees.
double hue_distance(double a, double b) {
  const double d = std::fmod(std::abs(a - b), 360.0);
  return std::min(d, 360.0 - d);
}

TEST(SceneGenerator, ThingsAreTintedWithTheirClassHue) {
  // Ten source images with the covering item cycle through all ten classes.
  testing::ScratchDir dir("scenes-hue");
  generate_scenes(tiny_options().source_train(10).thing_hue_jitter(0.0), dir.path());
  for (int label = 0; label < kFashionMnistClasses; ++label) {
    const double hue = median_thing_hue(dir.path(), "train", 10, kSceneFirstThing + label);
    ASSERT_GE(hue, 0.0) << kSceneClassNames[static_cast<size_t>(kSceneFirstThing + label)] << " missing";
    // 8-bit colours move the hue of dark, weakly saturated pixels a little.
    EXPECT_LT(hue_distance(hue, kSceneThingHue[static_cast<size_t>(label)]), 4.0)
        << kSceneClassNames[static_cast<size_t>(kSceneFirstThing + label)];
  }
  // Uninformative hues: the classes' medians scatter away from their base hues.
  testing::ScratchDir any_dir("scenes-any-hue");
  generate_scenes(tiny_options().source_train(10).thing_hue_jitter(180.0), any_dir.path());
  int far = 0;
  for (int label = 0; label < kFashionMnistClasses; ++label) {
    const double hue = median_thing_hue(any_dir.path(), "train", 10, kSceneFirstThing + label);
    if (hue_distance(hue, kSceneThingHue[static_cast<size_t>(label)]) > 20.0) ++far;
  }
  EXPECT_GE(far, 5);
}

TEST(SceneGenerator, ClassFrequenciesHaveALongTail) {
  // Default canvas; D_T and D_R of the quick config's size.
  testing::ScratchDir dir("scenes-tail");
  const SceneOptions options =
      SceneOptions().source_train(1).source_val(1).target_d_t(40).target_d_s(1).target_d_r(30).target_d_v(1).target_val(
          1);
  const SceneReport report = generate_scenes(options, dir.path());
  const SceneDomainReport& target = report.domain("target");
  EXPECT_EQ(target.frequency_splits, (std::vector<std::string>{"d_t", "d_r"}));
  ASSERT_EQ(target.class_frequency.size(), size_t{kSceneClasses});
  double sum = 0;
  for (double f : target.class_frequency) sum += f;
  EXPECT_NEAR(sum, 1.0, 1e-9);
  const double most = *std::max_element(target.class_frequency.begin(), target.class_frequency.end());
  EXPECT_GE(most, 0.30);
  EXPECT_LE(rarest_classes_share(target.class_frequency, 6), 0.02);
  // Every class present, in each of the two splits on its own too.
  for (const char* split : {"d_t", "d_r"}) {
    const auto& pixels = target.split(split).class_pixels;
    for (int c = 0; c < kSceneClasses; ++c) {
      EXPECT_GT(pixels[static_cast<size_t>(c)], 0) << kSceneClassNames[static_cast<size_t>(c)] << " missing in "
                                                   << split;
    }
  }
  // The frequency is recomputable from the per-split pixel counts.
  const auto& d_t = target.split("d_t").class_pixels;
  const auto& d_r = target.split("d_r").class_pixels;
  int64_t total = 0;
  for (int c = 0; c < kSceneClasses; ++c) total += d_t[static_cast<size_t>(c)] + d_r[static_cast<size_t>(c)];
  EXPECT_EQ(total, int64_t{70} * options.height() * options.width());  // no ignore pixels
  EXPECT_DOUBLE_EQ(target.class_frequency[kRoad], double(d_t[kRoad] + d_r[kRoad]) / double(total));
}

TEST(SceneGenerator, CoverAllThingsPutsEveryThingInTenImages) {
  testing::ScratchDir dir("scenes-cover");
  const SceneOptions options = tiny_options().target_d_t(10).items_min(1).items_max(1);
  const SceneReport report = generate_scenes(options, dir.path());
  const auto& pixels = report.domain("target").split("d_t").class_pixels;
  for (int c = kSceneFirstThing; c < kSceneClasses; ++c) {
    EXPECT_GT(pixels[static_cast<size_t>(c)], 0) << kSceneClassNames[static_cast<size_t>(c)];
  }
  // Without the cover, one Zipf-drawn item per image leaves some class out.
  testing::ScratchDir plain("scenes-nocover");
  const SceneReport drawn = generate_scenes(SceneOptions(options).cover_all_things(false), plain.path());
  const auto& drawn_pixels = drawn.domain("target").split("d_t").class_pixels;
  int missing = 0;
  for (int c = kSceneFirstThing; c < kSceneClasses; ++c) missing += drawn_pixels[static_cast<size_t>(c)] == 0;
  EXPECT_GT(missing, 0);
}

TEST(SceneGenerator, DomainsUseDisjointFashionMnistInstances) {
  testing::ScratchDir dir("scenes-disjoint");
  const SceneReport report = generate_scenes(tiny_options(), dir.path());
  std::set<int> source, target;
  for (const auto& split : report.domain("source").splits) {
    EXPECT_FALSE(split.fashion_train_indices.empty()) << split.name;
    EXPECT_TRUE(split.fashion_test_indices.empty()) << split.name;
    source.insert(split.fashion_train_indices.begin(), split.fashion_train_indices.end());
  }
  for (const auto& split : report.domain("target").splits) {
    if (split.name == "val") {
      // Target val items come from the Fashion-MNIST test images only.
      EXPECT_TRUE(split.fashion_train_indices.empty());
      ASSERT_FALSE(split.fashion_test_indices.empty());
      EXPECT_LT(split.fashion_test_indices.back(), 10000);
      continue;
    }
    EXPECT_FALSE(split.fashion_train_indices.empty()) << split.name;
    EXPECT_TRUE(split.fashion_test_indices.empty()) << split.name;
    target.insert(split.fashion_train_indices.begin(), split.fashion_train_indices.end());
  }
  for (int index : source) EXPECT_EQ(index % 2, 0) << index;
  for (int index : target) EXPECT_EQ(index % 2, 1) << index;
  std::vector<int> shared;
  std::set_intersection(source.begin(), source.end(), target.begin(), target.end(), std::back_inserter(shared));
  EXPECT_TRUE(shared.empty());
}

TEST(SceneGenerator, ReusesUpToDateScenesAndRegeneratesChangedOnes) {
  testing::ScratchDir dir("scenes-reuse");
  const SceneOptions options = tiny_options().target_d_v(5);
  EXPECT_FALSE(scenes_up_to_date(options, dir.path()));
  const SceneReport made = generate_or_reuse_scenes(options, dir.path());
  EXPECT_FALSE(made.reused);
  EXPECT_NE(made.reason.find("no "), std::string::npos) << made.reason;
  EXPECT_TRUE(scenes_up_to_date(options, dir.path()));

  // Second call: nothing is written, the report comes from scenes.json.
  const auto before = fs::last_write_time(dir.path() / "target/images/d_v_00004.png");
  const SceneReport kept = generate_or_reuse_scenes(options, dir.path());
  EXPECT_TRUE(kept.reused);
  EXPECT_EQ(kept.images_written, 0);
  EXPECT_EQ(kept.fingerprint, made.fingerprint);
  EXPECT_EQ(kept.domain("target").class_frequency, made.domain("target").class_frequency);
  EXPECT_EQ(kept.domain("target").split("d_v").class_pixels, made.domain("target").split("d_v").class_pixels);
  EXPECT_EQ(fs::last_write_time(dir.path() / "target/images/d_v_00004.png"), before);

  // Settings that do not change the bytes keep the fingerprint.
  EXPECT_TRUE(scenes_up_to_date(SceneOptions(options).threads(1).out("elsewhere"), dir.path()));

  // A changed option regenerates, and files of the old generation go.
  const SceneOptions changed = SceneOptions(options).target_d_v(3).items_max(4);
  EXPECT_NE(scenes_fingerprint(changed), scenes_fingerprint(options));
  EXPECT_FALSE(scenes_up_to_date(changed, dir.path()));
  const SceneReport remade = generate_or_reuse_scenes(changed, dir.path());
  EXPECT_FALSE(remade.reused);
  EXPECT_NE(remade.reason.find("fingerprint"), std::string::npos) << remade.reason;
  EXPECT_TRUE(scenes_up_to_date(changed, dir.path()));
  EXPECT_FALSE(fs::exists(dir.path() / "target/images/d_v_00004.png"));
  EXPECT_FALSE(fs::exists(dir.path() / "target/labels/d_v_00003.png"));
  EXPECT_TRUE(fs::exists(dir.path() / "target/labels/d_v_00002.png"));

  // --force regenerates even when up to date.
  EXPECT_FALSE(generate_or_reuse_scenes(changed, dir.path(), true).reused);
}

TEST(SceneGenerator, IncompleteOutputIsNotUpToDate) {
  testing::ScratchDir dir("scenes-incomplete");
  const SceneOptions options = tiny_options();
  generate_scenes(options, dir.path());
  ASSERT_TRUE(scenes_up_to_date(options, dir.path()));

  const fs::path label = dir.path() / "source/labels/val_00001.png";
  fs::remove(label);
  EXPECT_NE(scenes_stale_reason(options, dir.path()).find(label.string()), std::string::npos);

  generate_scenes(options, dir.path());
  ASSERT_TRUE(scenes_up_to_date(options, dir.path()));
  // Without scenes.json (written last) a directory is never complete.
  fs::remove(dir.path() / "scenes.json");
  EXPECT_FALSE(scenes_up_to_date(options, dir.path()));
  EXPECT_THROW(read_scenes_report(dir.path()), Error);

  // A damaged scenes.json is stale, not an error.
  write_file_atomically(dir.path() / "scenes.json", "{ not json");
  EXPECT_NE(scenes_stale_reason(options, dir.path()).find("unreadable"), std::string::npos);
}

TEST(SceneGenerator, FingerprintCoversWhatChangesTheBytes) {
  const SceneOptions base = tiny_options();
  const std::string fingerprint = scenes_fingerprint(base);
  EXPECT_EQ(fingerprint.size(), 16u);
  EXPECT_EQ(scenes_fingerprint(SceneOptions(base).out("x").threads(7).fashion_mnist_dir("/elsewhere")), fingerprint);
  EXPECT_NE(scenes_fingerprint(SceneOptions(base).seed(2)), fingerprint);
  EXPECT_NE(scenes_fingerprint(SceneOptions(base).width(96)), fingerprint);
  EXPECT_NE(scenes_fingerprint(SceneOptions(base).thing_hue_jitter(5.0)), fingerprint);
  SceneOptions styled = base;
  styled.target_style().noise_sigma(3.0);
  EXPECT_NE(scenes_fingerprint(styled), fingerprint);
}

TEST(SceneGenerator, RejectsOutOfRangeOptionsNamingTheKey) {
  const auto message_of = [](const SceneOptions& options) {
    try {
      options.validate();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(message_of(SceneOptions()), "");
  EXPECT_NE(message_of(SceneOptions().items_min(5).items_max(2)).find("scenes.items_max = 2"), std::string::npos);
  EXPECT_NE(message_of(SceneOptions().target_d_s(0)).find("scenes.target_d_s = 0"), std::string::npos);
  EXPECT_NE(message_of(SceneOptions().band_heights({0.5, 0.5})).find("scenes.band_heights"), std::string::npos);
  EXPECT_NE(message_of(SceneOptions().thing_hue_jitter(200.0)).find("scenes.thing_hue_jitter = 200"), std::string::npos);
  SceneOptions noisy;
  noisy.target_style().noise_sigma(-1.0);
  EXPECT_NE(message_of(noisy).find("scenes.target_style.noise_sigma = -1"), std::string::npos);
  // generate_scenes validates before touching the output directory.
  testing::ScratchDir dir("scenes-invalid");
  EXPECT_THROW(generate_scenes(SceneOptions().height(8), dir.path()), Error);
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(SceneGenerator, MissingFashionMnistIsNamed) {
  testing::ScratchDir dir("scenes-nodata");
  try {
    generate_scenes(tiny_options().fashion_mnist_dir(dir.path() / "absent"), dir.path() / "out");
    FAIL() << "expected regal::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find((dir.path() / "absent").string()), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace regal::data
