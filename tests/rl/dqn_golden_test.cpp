// The double-DQN target, the loss and the exploration schedule against
// ../shared/golden/dqn.json (ALGORITHM.md sections 6-7). The pure functions
// are computed in double here, as the vectors were.
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "regal/rl/dqn.h"
#include "support/test_support.h"

namespace regal::rl {
namespace {

using nlohmann::json;
using testing::load_golden;

torch::Tensor doubles(const json& rows) {
  if (rows.front().is_array()) {
    std::vector<torch::Tensor> stacked;
    for (const auto& row : rows) {
      stacked.push_back(torch::tensor(row.get<std::vector<double>>(), torch::kDouble));
    }
    return torch::stack(stacked);  // [B, N]
  }
  return torch::tensor(rows.get<std::vector<double>>(), torch::kDouble);  // [B]
}

torch::Tensor longs(const json& values) {
  return torch::tensor(values.get<std::vector<int64_t>>(), torch::kLong);  // [B]
}

torch::Tensor bools(const json& values) {
  std::vector<int64_t> flags;
  for (const auto& v : values) {
    flags.push_back(v.get<bool>() ? 1 : 0);
  }
  return torch::tensor(flags, torch::kLong).to(torch::kBool);  // [B]
}

bool close(double got, double want, const json& tolerance) {
  return std::abs(got - want) <=
         tolerance.at("atol").get<double>() + tolerance.at("rtol").get<double>() * std::abs(want);
}

void expect_close(const torch::Tensor& got, const json& want, const json& tolerance,
                  const std::string& label) {
  const auto w = want.get<std::vector<double>>();
  ASSERT_EQ(got.dim(), 1) << label;
  ASSERT_EQ(got.size(0), static_cast<int64_t>(w.size())) << label;
  for (size_t i = 0; i < w.size(); ++i) {
    const double g = got[static_cast<int64_t>(i)].item<double>();
    EXPECT_TRUE(close(g, w[i], tolerance))
        << label << "[" << i << "]: got " << g << ", want " << w[i];
  }
}

TEST(DqnGolden, EveryCaseMatches) {
  const json golden = load_golden("dqn.json");
  const json& tolerance = golden.at("tolerance");
  ASSERT_FALSE(golden.at("cases").empty());
  for (const auto& c : golden.at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const json& expected = c.at("expected");
    const double gamma = c.at("gamma").get<double>();
    const auto q_sa = q_of_actions(doubles(c.at("q_policy")), longs(c.at("actions")));
    expect_close(q_sa, expected.at("q_sa"), tolerance, "q_sa");

    const auto rewards = doubles(c.at("rewards"));
    const auto terminal = bools(c.at("terminal"));
    const auto target = double_dqn_target(rewards, terminal, doubles(c.at("q_policy_next")),
                                          doubles(c.at("q_target_next")), gamma);
    // Integer field: exact.
    EXPECT_EQ(target.next_action.scalar_type(), torch::kLong);
    const auto want_action = expected.at("next_action").get<std::vector<int64_t>>();
    ASSERT_EQ(target.next_action.size(0), static_cast<int64_t>(want_action.size()));
    for (size_t i = 0; i < want_action.size(); ++i) {
      EXPECT_EQ(target.next_action[static_cast<int64_t>(i)].item<int64_t>(), want_action[i])
          << "next_action[" << i << "]";
    }
    expect_close(target.next_value, expected.at("next_value"), tolerance, "next_value");
    expect_close(target.y, expected.at("y"), tolerance, "y");

    // The step functions agree with the composed one.
    EXPECT_TRUE(
        torch::equal(double_dqn_next_action(doubles(c.at("q_policy_next"))), target.next_action));
    EXPECT_TRUE(torch::equal(td_target(rewards, target.next_value, gamma), target.y));

    const double loss = dqn_loss(q_sa, target.y).item<double>();
    EXPECT_TRUE(close(loss, expected.at("loss").get<double>(), tolerance))
        << "loss: got " << loss << ", want " << expected.at("loss").get<double>();
  }
}

TEST(DqnGolden, EpsilonSchedule) {
  const json golden = load_golden("dqn.json");
  const auto t = golden.at("epsilon").at("t").get<std::vector<int64_t>>();
  const auto value = golden.at("epsilon").at("value").get<std::vector<double>>();
  ASSERT_EQ(t.size(), value.size());
  ASSERT_FALSE(t.empty());
  for (size_t i = 0; i < t.size(); ++i) {
    EXPECT_TRUE(close(epsilon(t[i]), value[i], golden.at("tolerance")))
        << "epsilon(" << t[i] << ") = " << epsilon(t[i]) << ", want " << value[i];
  }
}

}  // namespace
}  // namespace regal::rl
