#include "regal/report/gallery.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "regal/core/atomic_file.h"
#include "regal/core/base64.h"
#include "regal/core/error.h"
#include "regal/data/dataset.h"
#include "regal/experiment/config.h"
#include "regal/experiment/experiment_plan.h"
#include "regal/experiment/role_split_file.h"

namespace regal::report {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kHeader = 22;  // pixels of the caption strip above each tile

cv::Scalar rgb_of(const std::string& hex) {
  const auto value = std::stoul(hex.substr(1), nullptr, 16);
  return cv::Scalar((value >> 16) & 255, (value >> 8) & 255, value & 255);
}

// Train ids -> palette colours (ignore and unknown ids black). label: CV_8UC1.
cv::Mat colourise(const cv::Mat& label, const std::vector<std::array<uint8_t, 3>>& palette) {
  cv::Mat lut(1, 256, CV_8UC3, cv::Scalar(0, 0, 0));
  for (size_t id = 0; id < palette.size() && id < 256; ++id) {
    lut.at<cv::Vec3b>(0, static_cast<int>(id)) = cv::Vec3b(palette[id][0], palette[id][1], palette[id][2]);
  }
  cv::Mat label3, out;
  cv::cvtColor(label, label3, cv::COLOR_GRAY2RGB);
  cv::LUT(label3, lut, out);
  return out;
}

// A tile: `image` resized to width x height below a caption strip.
cv::Mat tile(const cv::Mat& image, int width, int height, const std::string& caption) {
  cv::Mat out(height + kHeader, width, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::Mat resized;
  cv::resize(image, resized, cv::Size(width, height), 0, 0, cv::INTER_NEAREST);
  resized.copyTo(out(cv::Rect(0, kHeader, width, height)));
  cv::putText(out, caption, cv::Point(4, kHeader - 7), cv::FONT_HERSHEY_SIMPLEX, 0.42, cv::Scalar(20, 20, 20), 1,
              cv::LINE_AA);
  return out;
}

cv::Mat row_of(const std::vector<cv::Mat>& tiles, int columns) {
  std::vector<cv::Mat> padded = tiles;
  while (static_cast<int>(padded.size()) < columns) {
    padded.push_back(cv::Mat(tiles.front().size(), CV_8UC3, cv::Scalar(255, 255, 255)));
  }
  cv::Mat row;
  cv::hconcat(padded, row);
  return row;
}

struct ChosenUnit {
  json result;
  fs::path predictions;  // units/<id>.predictions
};

}  // namespace

std::optional<Figure> write_gallery(const fs::path& run_dir) { return write_gallery(run_dir, load_run_units(run_dir)); }

std::optional<Figure> write_gallery(const fs::path& run_dir, const std::vector<RunUnit>& units) {
  // The largest budget, lowest seed, per method.
  std::map<std::string, ChosenUnit> chosen;
  int64_t largest = -1;
  for (const auto& unit : units) largest = std::max(largest, unit.result.at("budget_regions").get<int64_t>());
  for (const auto& [file, result] : units) {
    if (result.at("budget_regions") != largest) continue;
    const auto method = result.at("method").get<std::string>();
    const auto it = chosen.find(method);
    if (it == chosen.end() || result.at("seed") < it->second.result.at("seed")) {
      chosen[method] = {result, fs::path(file).replace_extension(".predictions")};
    }
  }
  std::vector<std::string> methods;
  for (const auto& method : experiment::experiment_methods()) {
    if (chosen.count(method)) methods.push_back(method);
  }
  for (const auto& [method, unit] : chosen) {
    if (std::find(methods.begin(), methods.end(), method) == methods.end()) methods.push_back(method);
  }
  if (methods.empty()) return std::nullopt;

  auto config = experiment::load_run_config(run_dir / "config.yaml");
  // Read, never drawn: a report run from another directory would otherwise
  // draw and write role splits of its own.
  REGAL_CHECK(!config.target.role_splits || fs::exists(config.target.role_splits->file), "the role split file ",
              config.target.role_splits->file, " of ", run_dir / "config.yaml",
              " is not there (paths in it are relative to the directory the experiment ran in)");
  experiment::ensure_role_splits(config);
  const auto val = data::open_dataset(config.target.spec("val"));
  const auto pool = data::open_dataset(config.target.spec("d_v"));
  const auto& palette = val.info().palette;
  const auto first = val.load(0);
  const int tile_width = std::min(first.image.cols, 320);
  const int tile_height = std::max(1, first.image.rows * tile_width / first.image.cols);
  const double scale = static_cast<double>(tile_width) / first.image.cols;
  const int columns = static_cast<int>(methods.size()) + 2;  // image, ground truth, one per method
  std::vector<cv::Mat> rows;

  // Val images: image, ground truth, each method's prediction.
  for (size_t i = 0; i < val.size(); ++i) {
    const auto sample = val.load(i);
    std::string name = sample.id;
    std::replace(name.begin(), name.end(), '/', '_');
    std::vector<cv::Mat> tiles = {tile(sample.image, tile_width, tile_height, "val " + sample.id),
                                  tile(colourise(sample.label, palette), tile_width, tile_height, "ground truth")};
    bool complete = true;
    for (const auto& method : methods) {
      const fs::path file = chosen.at(method).predictions / (name + ".png");
      if (!fs::exists(file)) {
        complete = false;
        break;
      }
      const cv::Mat prediction = cv::imread(file.string(), cv::IMREAD_GRAYSCALE);
      REGAL_CHECK(!prediction.empty(), "cannot read the prediction ", file);
      tiles.push_back(tile(colourise(prediction, palette), tile_width, tile_height, method));
    }
    if (!complete) break;  // units keep the first N val images' predictions
    rows.push_back(row_of(tiles, columns));
  }
  if (rows.empty()) return std::nullopt;

  // Pool images where the methods labelled most, with each method's regions.
  std::map<std::string, int> picks_per_image;
  for (const auto& method : methods) {
    for (const auto& region : chosen.at(method).result.at("labelled_regions")) ++picks_per_image[region.at(0).get<std::string>()];
  }
  std::vector<std::pair<int, std::string>> ranked;
  for (const auto& [id, count] : picks_per_image) ranked.emplace_back(-count, id);
  std::sort(ranked.begin(), ranked.end());
  std::map<std::string, size_t> index_of;
  for (size_t i = 0; i < pool.size(); ++i) index_of[pool.files(i).id] = i;
  const auto region = chosen.at(methods.front()).result.at("region");  // [height, width]
  // As many pool rows as val rows.
  const size_t pool_rows = std::min(rows.size(), ranked.size());
  for (size_t r = 0; r < pool_rows; ++r) {
    const auto& id = ranked[r].second;
    REGAL_CHECK(index_of.count(id), "labelled region in image '", id, "', which the pool D_V does not have");
    const auto sample = pool.load(index_of.at(id));
    std::vector<cv::Mat> tiles = {tile(sample.image, tile_width, tile_height, "pool " + id),
                                  tile(colourise(sample.label, palette), tile_width, tile_height, "ground truth")};
    for (const auto& method : methods) {
      cv::Mat outlined;
      cv::resize(sample.image, outlined, cv::Size(tile_width, tile_height), 0, 0, cv::INTER_AREA);
      const auto colour = rgb_of(method_colour(method));
      for (const auto& picked : chosen.at(method).result.at("labelled_regions")) {
        if (picked.at(0) != id) continue;
        const int x = static_cast<int>(picked.at(1).get<int64_t>() * scale);
        const int y = static_cast<int>(picked.at(2).get<int64_t>() * scale);
        const int w = static_cast<int>(region.at(1).get<int64_t>() * scale);
        const int h = static_cast<int>(region.at(0).get<int64_t>() * scale);
        cv::rectangle(outlined, cv::Rect(x, y, w, h), colour, 2);
      }
      tiles.push_back(tile(outlined, tile_width, tile_height, method + " picks"));
    }
    rows.push_back(row_of(tiles, columns));
  }

  cv::Mat gallery;
  cv::vconcat(rows, gallery);
  cv::Mat bgr;
  cv::cvtColor(gallery, bgr, cv::COLOR_RGB2BGR);
  const fs::path figures = run_dir / "figures";
  Figure figure{"gallery", "Gallery",
                fmt::format("Top rows: val images, their ground truth and each method's prediction at the largest "
                            "budget ({} regions, lowest seed). Bottom rows: the pool images where the methods "
                            "labelled most, with the regions each method picked outlined in its colour.",
                            largest),
                figures / "gallery.png", figures / "gallery.svg"};
  std::vector<uchar> png;
  REGAL_CHECK(cv::imencode(".png", bgr, png), "cannot encode the gallery as PNG");
  const std::string png_bytes(png.begin(), png.end());
  write_file_atomically(figure.png, png_bytes);
  write_file_atomically(figure.svg,
                        fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                    "<svg xmlns=\"http://www.w3.org/2000/svg\" "
                                    "xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"{0}\" height=\"{1}\" "
                                    "viewBox=\"0 0 {0} {1}\">\n<title>regal gallery</title>\n"
                                    "<image width=\"{0}\" height=\"{1}\" xlink:href=\"data:image/png;base64,{2}\"/>\n"
                                    "</svg>\n",
                                    bgr.cols, bgr.rows, base64_encode(png_bytes)));
  return figure;
}

}  // namespace regal::report
