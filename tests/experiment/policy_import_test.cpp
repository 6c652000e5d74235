// `regal import-policy` turns a reference RALis query network into a policy
// file the DQN loads (as select and evaluate do), sized by the config's
// classes and state set; a network for another state set, or an --out that
// exists, is refused with nothing written.
#include "regal/experiment/policy_import.h"

#include <map>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "regal/core/saved_tensors.h"
#include "regal/loop/policy_training.h"
#include "regal/rl/dqn.h"
#include "support/reference_policy_file.h"
#include "support/test_support.h"
#include "support/tiny_experiment.h"

namespace regal::experiment {
namespace {

namespace fs = std::filesystem;

// The tiny experiment: 3 classes, D_S of 2 images of 32 x 64 in regions of
// 16 x 16, so M = 2 x 8 state rows.
constexpr int64_t kClasses = 3;
constexpr int64_t kStateRows = 16;

// A reference policy file of a random query network with `state_rows` rows;
// its BatchNorm weights and statistics are random too, so that no tensor
// equals a freshly built net's.
rl::QueryNet write_reference_policy(const fs::path& file, int64_t state_rows) {
  torch::manual_seed(5);
  rl::QueryNet net(loop::query_net_options(kClasses, state_rows));
  {
    torch::NoGradGuard no_grad;
    for (auto& [name, tensor] : importable_tensors(*net)) tensor.uniform_(0.5, 1.5);
  }
  testing::write_plain_dict(file, testing::reference_state_dict(importable_tensors(*net)));
  return net;
}

TEST(PolicyImport, WritesAPolicyFileTheDqnLoadsWithTheReferenceWeights) {
  testing::ScratchDir dir("import-policy");
  const RunConfig config = load_run_config(testing::write_tiny_experiment(dir.path()));
  const rl::QueryNet reference = write_reference_policy(dir.path() / "policy_dict.pth", kStateRows);

  ImportPolicyRequest request;
  request.from = dir.path() / "policy_dict.pth";
  request.out = dir.path() / "imported.pt";
  const auto record = run_import_policy(config, request);
  EXPECT_EQ(record.at("classes").get<int64_t>(), kClasses);
  EXPECT_EQ(record.at("state_rows").get<int64_t>(), kStateRows);
  EXPECT_EQ(record.at("ignored").size(), 2u + 9u);  // final_q, the BatchNorm counters

  rl::DqnTrainer dqn(loop::query_net_options(kClasses, kStateRows), rl::DqnOptions(), c10::Device(c10::kCPU));
  dqn.load(dir.path() / "imported.pt");
  // Policy and target net hold every reference tensor, BatchNorm statistics included.
  for (auto* net : {&dqn.policy(), &dqn.target()}) {
    std::map<std::string, torch::Tensor> imported;
    for (const auto& [name, tensor] : importable_tensors(**net)) imported.emplace(name, tensor);
    for (const auto& [name, tensor] : importable_tensors(*reference)) {
      ASSERT_EQ(imported.count(name), 1u) << name;
      EXPECT_TRUE(torch::equal(imported.at(name), tensor)) << name;
    }
  }

  // A second import onto the same file is refused; the file stays.
  const std::string before = read_file(dir.path() / "imported.pt");
  EXPECT_THROW(run_import_policy(config, request), Error);
  EXPECT_EQ(read_file(dir.path() / "imported.pt"), before);
}

TEST(PolicyImport, ANetworkForAnotherStateSetIsRefusedWithNothingWritten) {
  testing::ScratchDir dir("import-policy");
  const RunConfig config = load_run_config(testing::write_tiny_experiment(dir.path()));
  write_reference_policy(dir.path() / "policy_dict.pth", kStateRows + 8);

  ImportPolicyRequest request;
  request.from = dir.path() / "policy_dict.pth";
  request.out = dir.path() / "imported.pt";
  std::string message;
  try {
    run_import_policy(config, request);
  } catch (const Error& e) {
    message = e.what();
  }
  EXPECT_NE(message.find("M = 24 state rows"), std::string::npos) << message;
  EXPECT_NE(message.find("M = 16 state rows"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(dir.path() / "imported.pt"));
}

}  // namespace
}  // namespace regal::experiment
