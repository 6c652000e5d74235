#include "support/test_support.h"

#include <fstream>
#include <random>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <unistd.h>

namespace regal::testing {

ScratchDir::ScratchDir(const std::string& tag) {
  std::random_device device;
  const auto base = std::filesystem::temp_directory_path();
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = base / ("regal-test-" + tag + "-" + std::to_string(::getpid()) + "-" +
                             std::to_string(device()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("could not create a scratch directory under " + base.string());
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void write_band_dataset(const std::filesystem::path& root, const std::string& split, int count, int height,
                        int width, int num_classes, unsigned seed) {
  std::filesystem::create_directories(root / "images");
  std::filesystem::create_directories(root / "labels");
  std::mt19937 rng(seed);
  nlohmann::json info = {{"name", "bands"}, {"ignore_index", 255}};
  for (int c = 0; c < num_classes; ++c) {
    info["classes"].push_back("class" + std::to_string(c));
    info["palette"].push_back({(c * 80) % 256, (255 - c * 60) % 256, (c * 140) % 256});
  }
  std::vector<std::string> ids;
  for (int i = 0; i < count; ++i) {
    cv::Mat image(height, width, CV_8UC3);
    cv::Mat label(height, width, CV_8UC1);
    std::uniform_int_distribution<int> pick_class(0, num_classes - 1);
    const int bands = 3;
    for (int b = 0; b < bands; ++b) {
      const int cls = pick_class(rng);
      const cv::Rect band(b * width / bands, 0, (b + 1) * width / bands - b * width / bands, height);
      image(band).setTo(cv::Scalar(info["palette"][cls][2].get<int>(), info["palette"][cls][1].get<int>(),
                                   info["palette"][cls][0].get<int>()));
      label(band).setTo(cls);
    }
    // Noise from this call's seed, not OpenCV's process-wide generator: the
    // same call writes the same data whatever ran before it in the process.
    cv::Mat noise(height, width, CV_8UC3);
    cv::RNG noise_rng(static_cast<uint64_t>(seed) * 1000003ULL + static_cast<uint64_t>(i) + 1);
    noise_rng.fill(noise, cv::RNG::UNIFORM, 0, 30);
    image += noise;
    const std::string id = split + "_" + std::to_string(i);
    cv::imwrite((root / "images" / (id + ".png")).string(), image);
    cv::imwrite((root / "labels" / (id + ".png")).string(), label);
    ids.push_back(id);
  }
  // Merge with splits written by earlier calls.
  const auto json_path = root / "dataset.json";
  if (std::filesystem::exists(json_path)) {
    std::ifstream in(json_path);
    const auto previous = nlohmann::json::parse(in);
    info["splits"] = previous["splits"];
  }
  info["splits"][split] = ids;
  std::ofstream(json_path) << info.dump(2);
}

std::filesystem::path golden_dir() { return REGAL_GOLDEN_DIR; }

std::filesystem::path source_dir() { return REGAL_SOURCE_DIR; }

nlohmann::json load_golden(const std::string& name) {
  const auto path = golden_dir() / name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open golden file " + path.string());
  return nlohmann::json::parse(in);
}

}  // namespace regal::testing
