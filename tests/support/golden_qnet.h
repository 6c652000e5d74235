#pragma once
// Reading ../shared/golden/qnet.json (the query network's reference vectors),
// for the tests of the query network and of the reference-policy import.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "regal/rl/query_net.h"
#include "support/test_support.h"

namespace regal::testing {

using nlohmann::json;

// Nested JSON arrays of numbers -> a double tensor of the nesting's shape.
inline void flatten(const json& value, std::vector<double>& out) {
  if (value.is_array()) {
    for (const auto& item : value) {
      flatten(item, out);
    }
  } else {
    out.push_back(value.get<double>());
  }
}

inline torch::Tensor tensor_from_json(const json& value) {
  std::vector<int64_t> shape;
  for (const json* level = &value; level->is_array(); level = &level->front()) {
    shape.push_back(static_cast<int64_t>(level->size()));
  }
  std::vector<double> data;
  flatten(value, data);
  return torch::tensor(data, torch::kDouble).reshape(shape);
}

// A golden parameter: {shape, scale, q} (value = q * scale, exact in float32)
// or {shape, values}; flat row-major, reshaped to `shape`.
inline torch::Tensor golden_parameter(const json& spec) {
  const auto shape = spec.at("shape").get<std::vector<int64_t>>();
  if (spec.contains("q")) {
    auto q = torch::tensor(spec.at("q").get<std::vector<double>>(), torch::kDouble);
    return (q * spec.at("scale").get<double>()).reshape(shape);
  }
  return torch::tensor(spec.at("values").get<std::vector<double>>(), torch::kDouble).reshape(shape);
}

inline rl::QueryNetOptions golden_options(const json& golden) {
  return rl::QueryNetOptions(golden.at("state_features").get<int64_t>(), golden.at("action_features").get<int64_t>(),
                             golden.at("state_rows").get<int64_t>())
      .similarity_features(golden.at("sim_features").get<int64_t>())
      .bn_eps(golden.at("bn_eps").get<double>());
}

// |got - want| <= atol + rtol * |want|, element by element.
inline void expect_close(const torch::Tensor& got, const json& want_json, const json& tolerance,
                         const std::string& label) {
  const auto want = tensor_from_json(want_json);
  const auto got_double = got.detach().to(torch::kDouble).contiguous();
  ASSERT_EQ(got_double.sizes(), want.sizes()) << label;
  const double atol = tolerance.at("atol").get<double>();
  const double rtol = tolerance.at("rtol").get<double>();
  const auto g = got_double.flatten();
  const auto w = want.flatten();
  for (int64_t i = 0; i < w.numel(); ++i) {
    const double gi = g[i].item<double>();
    const double wi = w[i].item<double>();
    EXPECT_LE(std::abs(gi - wi), atol + rtol * std::abs(wi))
        << label << " [flat " << i << "]: got " << gi << ", want " << wi;
  }
}

}  // namespace regal::testing
