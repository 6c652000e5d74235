// QueryNet contracts beyond the golden numbers: bad options and input shapes
// are rejected with regal::Error, and the shared batch-1 state is eval-only.
#include "regal/rl/query_net.h"

#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "regal/core/error.h"

namespace regal::rl {
namespace {

TEST(QueryNet, RejectsBadOptions) {
  EXPECT_THROW(QueryNet(QueryNetOptions(0, 5, 4)), Error);
  EXPECT_THROW(QueryNet(QueryNetOptions(5, 5, 0)), Error);
  EXPECT_THROW(QueryNet(QueryNetOptions(5, 5, 4).bn_eps(0.0)), Error);
}

TEST(QueryNet, RejectsInputsOfTheWrongShape) {
  torch::manual_seed(0);
  QueryNet net(QueryNetOptions(5, 7, 4));
  net->eval();
  torch::NoGradGuard no_grad;
  const auto state = torch::randn({2, 4, 5});         // [B, M, Fs]
  const auto actions = torch::randn({2, 3, 7 + 64});  // [B, N, Fa+64]
  EXPECT_EQ(net->forward(state, actions).sizes(), torch::IntArrayRef({2, 3}));
  try {
    net->forward(torch::randn({2, 5, 5}), actions);  // M = 5, not 4
    FAIL() << "expected regal::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("state"), std::string::npos) << e.what();
  }
  EXPECT_THROW(net->forward(state, torch::randn({2, 3, 7})), Error);   // no similarity part
  EXPECT_THROW(net->forward(state, torch::randn({3, 3, 71})), Error);  // batch 3 vs 2
  EXPECT_THROW(net->forward(state.select(0, 0), actions), Error);      // 2-D state
}

TEST(QueryNet, SharedStateIsEvalOnly) {
  torch::manual_seed(1);
  QueryNet net(QueryNetOptions(5, 7, 4));
  const auto state = torch::randn({1, 4, 5});         // [1, M, Fs]
  const auto actions = torch::randn({3, 2, 7 + 64});  // [B, N, Fa+64]
  net->train();
  EXPECT_THROW(net->forward(state, actions), Error);
  net->eval();
  EXPECT_EQ(net->forward(state, actions).sizes(), torch::IntArrayRef({3, 2}));
}

}  // namespace
}  // namespace regal::rl
