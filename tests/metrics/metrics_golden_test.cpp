// Checks the metrics against ../shared/golden/metrics.json (ALGORITHM.md §8):
// every case of the file, within its tolerance; integers exactly; null = NaN.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "regal/metrics/confusion_matrix.h"
#include "regal/metrics/iou.h"
#include "support/test_support.h"

namespace regal::metrics {
namespace {

using nlohmann::json;

struct Tolerance {
  double rtol = 0.0;
  double atol = 0.0;
};

const json& golden() {
  static const json file = regal::testing::load_golden("metrics.json");
  return file;
}

Tolerance tolerance() {
  const json& t = golden().at("tolerance");
  return {t.at("rtol").get<double>(), t.at("atol").get<double>()};
}

std::vector<const json*> cases_with(const std::string& key) {
  std::vector<const json*> out;
  for (const json& c : golden().at("cases")) {
    if (c.contains(key)) {
      out.push_back(&c);
    }
  }
  return out;
}

// [H][W] JSON -> [H, W] int64.
torch::Tensor label_map(const json& rows) {
  const int64_t height = static_cast<int64_t>(rows.size());
  const int64_t width = static_cast<int64_t>(rows.at(0).size());
  torch::Tensor map = torch::empty({height, width}, torch::kLong);  // [H, W]
  auto a = map.accessor<int64_t, 2>();
  for (int64_t y = 0; y < height; ++y) {
    for (int64_t x = 0; x < width; ++x) {
      a[y][x] = rows.at(y).at(x).get<int64_t>();
    }
  }
  return map;
}

std::vector<torch::Tensor> label_maps(const json& list) {
  std::vector<torch::Tensor> maps;
  for (const json& rows : list) {
    maps.push_back(label_map(rows));
  }
  return maps;
}

// [C] JSON of numbers -> [C] float64.
torch::Tensor doubles(const json& values) {
  std::vector<double> v;
  for (const json& x : values) {
    v.push_back(x.get<double>());
  }
  return torch::tensor(v, torch::kDouble);
}

void expect_close(double got, const json& want, const std::string& what) {
  const Tolerance tol = tolerance();
  if (want.is_null()) {
    EXPECT_TRUE(std::isnan(got)) << what << ": expected NaN (null) but got " << got;
    return;
  }
  const double w = want.get<double>();
  EXPECT_LE(std::abs(got - w), tol.atol + tol.rtol * std::abs(w))
      << what << ": got " << got << " want " << w;
}

void expect_close_vector(const torch::Tensor& got, const json& want, const std::string& what) {
  ASSERT_EQ(got.dim(), 1) << what;
  ASSERT_EQ(got.size(0), static_cast<int64_t>(want.size())) << what;
  const torch::Tensor g = got.to(torch::kCPU, torch::kDouble).contiguous();
  for (int64_t i = 0; i < g.size(0); ++i) {
    expect_close(g[i].item<double>(), want.at(i), what + "[" + std::to_string(i) + "]");
  }
}

void expect_equal_integers(const torch::Tensor& got, const json& want, const std::string& what) {
  const torch::Tensor g = got.to(torch::kCPU, torch::kLong).reshape({-1});  // flat
  std::vector<int64_t> flat_want;
  if (want.at(0).is_array()) {
    for (const json& row : want) {
      for (const json& x : row) {
        flat_want.push_back(x.get<int64_t>());
      }
    }
  } else {
    for (const json& x : want) {
      flat_want.push_back(x.get<int64_t>());
    }
  }
  ASSERT_EQ(g.numel(), static_cast<int64_t>(flat_want.size())) << what;
  for (int64_t i = 0; i < g.numel(); ++i) {
    EXPECT_EQ(g[i].item<int64_t>(), flat_want[static_cast<size_t>(i)])
        << what << " flat index " << i;
  }
}

TEST(MetricsGolden, EveryCaseIsOfAKnownKind) {
  const json& cases = golden().at("cases");
  ASSERT_FALSE(cases.empty());
  for (const json& c : cases) {
    const bool maps = c.contains("gt") && c.contains("pred");
    const bool given = c.contains("confusion") && c.contains("class_frequency");
    const bool weights = !given && c.contains("class_frequency");
    EXPECT_EQ(int(maps) + int(given) + int(weights), 1)
        << "case " << c.at("name")
        << " is of no known kind (or of several); this test would skip it";
  }
}

TEST(MetricsGolden, LabelMapCases) {
  const auto cases = cases_with("gt");
  ASSERT_GE(cases.size(), 1u);
  for (const json* c : cases) {
    const std::string name = c->at("name");
    SCOPED_TRACE(name);
    const int64_t num_classes = c->at("num_classes");
    const json& expected = c->at("expected");
    const std::vector<torch::Tensor> gt = label_maps(c->at("gt"));
    const std::vector<torch::Tensor> pred = label_maps(c->at("pred"));
    ASSERT_EQ(gt.size(), pred.size());

    // One [H, W] map per update ...
    ConfusionMatrix per_map(num_classes);
    for (size_t i = 0; i < gt.size(); ++i) {
      per_map.update(pred[i], gt[i]);
    }
    expect_equal_integers(per_map.matrix(), expected.at("confusion"), name + " confusion");
    // ... and, as uint8 [B, H, W], one batched update gives the same matrix.
    ConfusionMatrix batched(num_classes);
    batched.update(torch::stack(pred).to(torch::kUInt8), torch::stack(gt).to(torch::kUInt8));
    EXPECT_TRUE(torch::equal(batched.matrix(), per_map.matrix())) << name;

    const torch::Tensor counts =
        class_pixel_counts(label_maps(c->at("frequency_label_maps")), num_classes);
    expect_equal_integers(counts, expected.at("class_pixel_counts"), name + " counts");
    const torch::Tensor frequencies = class_frequencies(counts);
    expect_close_vector(frequencies, expected.at("class_frequency"), name + " class_frequency");
    const torch::Tensor weights = class_weights(frequencies);
    expect_close_vector(weights, expected.at("class_weights"), name + " class_weights");

    const IouScores scores = iou_scores(per_map.matrix(), weights);
    expect_close_vector(scores.iou, expected.at("iou"), name + " iou");
    expect_close(scores.miou, expected.at("miou"), name + " miou");
    expect_close(scores.wiou, expected.at("wiou"), name + " wiou");
  }
}

TEST(MetricsGolden, ConfusionGivenCase) {
  const auto cases = cases_with("confusion");
  ASSERT_GE(cases.size(), 1u);
  for (const json* c : cases) {
    const std::string name = c->at("name");
    SCOPED_TRACE(name);
    const int64_t num_classes = c->at("num_classes");
    std::vector<int64_t> flat;
    for (const json& row : c->at("confusion")) {
      for (const json& x : row) {
        flat.push_back(x.get<int64_t>());
      }
    }
    const torch::Tensor confusion =
        torch::tensor(flat, torch::kLong).reshape({num_classes, num_classes});  // [C, C]
    const json& expected = c->at("expected");
    const torch::Tensor weights = class_weights(doubles(c->at("class_frequency")));
    expect_close_vector(weights, expected.at("class_weights"), name + " class_weights");
    const IouScores scores = iou_scores(confusion, weights);
    expect_close_vector(scores.iou, expected.at("iou"), name + " iou");
    expect_close(scores.miou, expected.at("miou"), name + " miou");
    expect_close(scores.wiou, expected.at("wiou"), name + " wiou");
  }
}

TEST(MetricsGolden, WeightsOnly) {
  int checked = 0;
  for (const json& c : golden().at("cases")) {
    if (c.contains("class_frequency") && !c.contains("confusion")) {
      SCOPED_TRACE(c.at("name").get<std::string>());
      expect_close_vector(class_weights(doubles(c.at("class_frequency"))),
                          c.at("expected").at("class_weights"), "class_weights");
      ++checked;
    }
  }
  EXPECT_GE(checked, 1);
}

}  // namespace
}  // namespace regal::metrics
