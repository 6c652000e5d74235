// The query network against ../shared/golden/qnet.json (ALGORITHM.md section
// 5): the golden weights are loaded by parameter name, so these tests also
// pin the submodule names ("state.bn1", ..., "head.conv") to the reference's.
#include <cmath>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "regal/rl/query_net.h"
#include "support/golden_qnet.h"

namespace regal::rl {
namespace {

using nlohmann::json;
using testing::expect_close;
using testing::golden_options;
using testing::golden_parameter;
using testing::load_golden;
using testing::tensor_from_json;

// Copies every golden weight into `net` by name ("state.bn1" + "weight" ->
// "state.bn1.weight"); fails when a net tensor has no golden value, or the
// other way round, or shapes differ. num_batches_tracked has no counterpart.
void load_golden_weights(QueryNet& net, const json& weights) {
  torch::NoGradGuard no_grad;
  std::set<std::string> used;
  auto assign = [&](const std::string& name, torch::Tensor& target) {
    if (name.size() >= 19 && name.substr(name.size() - 19) == "num_batches_tracked") {
      return;
    }
    const auto dot = name.rfind('.');
    const std::string layer = name.substr(0, dot);
    const std::string param = name.substr(dot + 1);
    ASSERT_TRUE(weights.contains(layer) && weights.at(layer).contains(param))
        << "net tensor " << name << " has no golden value";
    auto value = golden_parameter(weights.at(layer).at(param));
    ASSERT_EQ(value.sizes(), target.sizes()) << name;
    target.copy_(value);
    used.insert(name);
  };
  for (auto& item : net->named_parameters()) {
    assign(item.key(), item.value());
  }
  for (auto& item : net->named_buffers()) {
    assign(item.key(), item.value());
  }
  size_t golden_count = 0;
  for (const auto& [layer, params] : weights.items()) {
    for (const auto& [param, spec] : params.items()) {
      ++golden_count;
      EXPECT_TRUE(used.count(layer + "." + param))
          << "golden " << layer << "." << param << " matches no net tensor";
    }
  }
  EXPECT_EQ(used.size(), golden_count);
}

class QueryNetGolden : public ::testing::Test {
 protected:
  void SetUp() override {
    golden_ = load_golden("qnet.json");
    net_ = QueryNet(golden_options(golden_));
    load_golden_weights(net_, golden_.at("weights"));
    state_ = tensor_from_json(golden_.at("state")).to(torch::kFloat);      // [B, M, Fs]
    actions_ = tensor_from_json(golden_.at("actions")).to(torch::kFloat);  // [B, N, Fa+64]
  }

  json golden_;
  QueryNet net_{nullptr};
  torch::Tensor state_;
  torch::Tensor actions_;
};

TEST_F(QueryNetGolden, InputsHaveTheDocumentedShapes) {
  const int64_t b = golden_.at("batch").get<int64_t>();
  const int64_t m = golden_.at("state_rows").get<int64_t>();
  const int64_t n = golden_.at("candidates").get<int64_t>();
  EXPECT_EQ(state_.sizes(),
            torch::IntArrayRef({b, m, golden_.at("state_features").get<int64_t>()}));
  EXPECT_EQ(actions_.sizes(), torch::IntArrayRef({b, n,
                                                  golden_.at("action_features").get<int64_t>() +
                                                      golden_.at("sim_features").get<int64_t>()}));
}

TEST_F(QueryNetGolden, EvalModeOutputAndStagesMatch) {
  net_->eval();
  torch::NoGradGuard no_grad;
  const auto out = net_->forward_detailed(state_, actions_);
  const auto& expected = golden_.at("expected");
  const auto& tolerance = golden_.at("tolerance");
  expect_close(out.state_rows_out, expected.at("state_rows_out"), tolerance, "state_rows_out");
  expect_close(out.state_embedding, expected.at("state_embedding"), tolerance, "state_embedding");
  expect_close(out.sim_logit, expected.at("sim_logit"), tolerance, "sim_logit");
  expect_close(out.head, expected.at("head"), tolerance, "head");
  expect_close(out.q, expected.at("q"), tolerance, "q");
  // forward() is forward_detailed().q.
  EXPECT_TRUE(torch::equal(net_->forward(state_, actions_), out.q));
}

TEST_F(QueryNetGolden, TrainModeUsesBatchStatistics) {
  net_->train();
  torch::NoGradGuard no_grad;
  const auto q = net_->forward(state_, actions_);
  expect_close(q, golden_.at("expected").at("q_train_mode"), golden_.at("tolerance"),
               "q_train_mode");
}

TEST_F(QueryNetGolden, EvalModeAcceptsOneSharedState) {
  // The batch-1 state used when picking actions equals repeating it.
  net_->eval();
  torch::NoGradGuard no_grad;
  const auto first = state_.narrow(0, 0, 1);                   // [1, M, Fs]
  const auto repeated = first.expand_as(state_).contiguous();  // [B, M, Fs]
  EXPECT_TRUE(torch::allclose(net_->forward(first, actions_), net_->forward(repeated, actions_),
                              1e-6, 1e-6));
}

}  // namespace
}  // namespace regal::rl
