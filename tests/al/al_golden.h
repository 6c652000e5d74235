#pragma once
// Reading the golden vectors of ../shared/golden into tensors and comparing
// against them with the files' tolerance (see golden/README.md).
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace regal::al::golden {

using nlohmann::json;

// Parses golden_dir()/name; callers keep the result in a function-local static
// so that each large file is parsed once per test executable.
inline json load(const std::string& name) { return regal::testing::load_golden(name); }

inline const json& find_case(const json& file, const std::string& name) {
  for (const auto& c : file.at("cases")) {
    if (c.at("name") == name) return c;
  }
  throw std::runtime_error("golden case " + name + " not found");
}

inline std::vector<std::string> case_names(const json& file) {
  std::vector<std::string> names;
  for (const auto& c : file.at("cases")) names.push_back(c.at("name").get<std::string>());
  return names;
}

namespace detail {
inline void flatten(const json& j, size_t depth, std::vector<int64_t>& shape, std::vector<double>& values) {
  if (j.is_array()) {
    const auto length = static_cast<int64_t>(j.size());
    if (shape.size() == depth) {
      shape.push_back(length);
    } else if (shape.size() < depth || shape[depth] != length) {
      throw std::runtime_error("ragged golden array");
    }
    for (const auto& element : j) flatten(element, depth + 1, shape, values);
  } else {
    if (shape.size() != depth) throw std::runtime_error("ragged golden array");
    values.push_back(j.is_null() ? std::numeric_limits<double>::quiet_NaN() : j.get<double>());
  }
}
}  // namespace detail

// A nested JSON array as a float64 tensor of the same shape (null -> NaN).
inline at::Tensor to_tensor(const json& j) {
  std::vector<int64_t> shape;
  std::vector<double> values;
  detail::flatten(j, 0, shape, values);
  return torch::tensor(values, torch::kDouble).reshape(shape);
}

// Logits [B, C, H, W] of a case's compact images:
// logits[c][y][x] = coarse[c][y / f][x / f] + fine[c][y % py][x % px], added in
// float64 and then rounded to `dtype`.
inline at::Tensor image_logits(const json& images, torch::Dtype dtype = torch::kFloat) {
  std::vector<at::Tensor> out;
  for (const auto& image : images) {
    const int64_t height = image.at("height");
    const int64_t width = image.at("width");
    const int64_t factor = image.at("coarse_factor");
    const auto coarse = to_tensor(image.at("coarse"));  // [C, hc, wc]
    const auto fine = to_tensor(image.at("fine"));      // [C, py, px]
    const auto ys = torch::arange(height, torch::kLong);
    const auto xs = torch::arange(width, torch::kLong);
    const auto up = coarse.index_select(1, ys.div(factor, "floor")).index_select(2, xs.div(factor, "floor"));
    const auto tiled = fine.index_select(1, ys.remainder(fine.size(1))).index_select(2, xs.remainder(fine.size(2)));
    out.push_back((up + tiled).to(dtype));  // [C, H, W]
  }
  return torch::stack(out);  // [B, C, H, W]
}

struct Tolerance {
  double rtol = 0;
  double atol = 0;
};

inline Tolerance tolerance_of(const json& file) {
  return {file.at("tolerance").at("rtol").get<double>(), file.at("tolerance").at("atol").get<double>()};
}

inline std::string index_string(int64_t flat, at::IntArrayRef shape) {
  std::vector<int64_t> index(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  std::ostringstream out;
  out << "[";
  for (size_t d = 0; d < index.size(); ++d) out << (d ? "," : "") << index[d];
  out << "]";
  return out.str();
}

// |got - want| <= atol + rtol |want| everywhere (NaN in got fails), same shape.
inline ::testing::AssertionResult all_close(const at::Tensor& got, const at::Tensor& want, Tolerance tol) {
  if (got.sizes() != want.sizes()) {
    return ::testing::AssertionFailure() << "shape " << got.sizes() << " but want " << want.sizes();
  }
  const auto g = got.to(torch::kCPU, torch::kDouble).contiguous().view(-1);
  const auto w = want.to(torch::kCPU, torch::kDouble).contiguous().view(-1);
  const auto bad = ((g - w).abs() <= tol.atol + tol.rtol * w.abs()).logical_not();
  const int64_t count = bad.sum().item<int64_t>();
  if (count == 0) return ::testing::AssertionSuccess();
  const auto first = bad.nonzero()[0][0].item<int64_t>();
  return ::testing::AssertionFailure() << count << " of " << g.numel() << " values out of tolerance; first at "
                                       << index_string(first, got.sizes()) << ": got "
                                       << g[first].item<double>() << ", want " << w[first].item<double>();
}

// Exact equality of integer-valued tensors (counts, picks, rows).
inline ::testing::AssertionResult all_equal(const at::Tensor& got, const at::Tensor& want) {
  if (got.sizes() != want.sizes()) {
    return ::testing::AssertionFailure() << "shape " << got.sizes() << " but want " << want.sizes();
  }
  const auto g = got.to(torch::kCPU, torch::kDouble).contiguous().view(-1);
  const auto w = want.to(torch::kCPU, torch::kDouble).contiguous().view(-1);
  const auto bad = (g != w);
  const int64_t count = bad.sum().item<int64_t>();
  if (count == 0) return ::testing::AssertionSuccess();
  const auto first = bad.nonzero()[0][0].item<int64_t>();
  return ::testing::AssertionFailure() << count << " of " << g.numel() << " values differ; first at "
                                       << index_string(first, got.sizes()) << ": got " << g[first].item<double>()
                                       << ", want " << w[first].item<double>();
}

}  // namespace regal::al::golden
