// Importing a query network trained with the reference RALis code: the
// golden network of ../shared/golden/qnet.json, written under the reference's
// layer names (as torch.save(dict(policy_net.state_dict())) would), must
// give the golden Q values once imported.
#include "regal/rl/reference_policy.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "regal/core/error.h"
#include "regal/core/saved_tensors.h"
#include "support/golden_qnet.h"
#include "support/reference_policy_file.h"
#include "support/test_support.h"

namespace regal::rl {
namespace {

using nlohmann::json;
using testing::NamedTensorList;

// The golden weights (regal names, golden layer + "." + param), in file order.
NamedTensorList golden_tensors(const json& weights) {
  NamedTensorList tensors;
  for (const auto& [layer, params] : weights.items()) {
    for (const auto& [param, spec] : params.items()) {
      tensors.emplace_back(layer + "." + param, testing::golden_parameter(spec));
    }
  }
  return tensors;
}

NamedTensorList reference_golden_dict(const json& weights, const std::string& prefix = "") {
  return testing::reference_state_dict(golden_tensors(weights), prefix);
}

std::string import_error(QueryNet& net, const std::filesystem::path& file) {
  try {
    import_reference_policy(net, file);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(ReferencePolicy, KeysMapOntoTheQueryNetworksModules) {
  EXPECT_EQ(regal_name_of_reference_key("bn_last_s.running_mean"), "state.bn_rows.running_mean");
  EXPECT_EQ(regal_name_of_reference_key("conv1_s.weight"), "state.conv1.weight");
  EXPECT_EQ(regal_name_of_reference_key("conv1.weight"), "action.conv1.weight");
  EXPECT_EQ(regal_name_of_reference_key("module.conv_bias.bias"), "sim.conv.bias");
  EXPECT_EQ(regal_name_of_reference_key("conv_final2.weight"), "head.conv.weight");
  EXPECT_EQ(regal_name_of_reference_key("final_q.weight"), "");
  EXPECT_EQ(regal_name_of_reference_key("bn2.num_batches_tracked"), "");
  EXPECT_EQ(regal_name_of_reference_key("something_else.weight"), "something_else.weight");
}

TEST(ReferencePolicy, ImportedGoldenNetworkGivesTheGoldenQValues) {
  const json golden = testing::load_golden("qnet.json");
  testing::ScratchDir dir("reference-policy");
  // DataParallel's "module." prefix, as a reference run on several GPUs saves it.
  testing::write_plain_dict(dir.path() / "policy_dict.pth", reference_golden_dict(golden.at("weights"), "module."));

  torch::manual_seed(3);
  QueryNet net(testing::golden_options(golden));
  const ReferencePolicyImport report = import_reference_policy(net, dir.path() / "policy_dict.pth");
  EXPECT_EQ(report.loaded, static_cast<int64_t>(importable_tensors(*net).size()));
  EXPECT_EQ(report.ignored.size(), 2u + 9u);  // final_q.weight, final_q.bias, 9 BatchNorm counters
  EXPECT_TRUE(report.unexpected.empty());

  net->eval();
  torch::NoGradGuard no_grad;
  const auto state = testing::tensor_from_json(golden.at("state")).to(torch::kFloat);      // [B, M, Fs]
  const auto actions = testing::tensor_from_json(golden.at("actions")).to(torch::kFloat);  // [B, N, Fa+64]
  testing::expect_close(net->forward(state, actions), golden.at("expected").at("q"), golden.at("tolerance"), "q");
}

TEST(ReferencePolicy, ANetworkOfOtherSizesIsRefusedAndLeftUnchanged) {
  const json golden = testing::load_golden("qnet.json");
  testing::ScratchDir dir("reference-policy");
  testing::write_plain_dict(dir.path() / "policy_dict.pth", reference_golden_dict(golden.at("weights")));

  // Another state set: M differs from the golden file's 6 rows.
  const auto options = testing::golden_options(golden);
  QueryNet net(QueryNetOptions(options).state_rows(options.state_rows() + 2));
  const torch::Tensor before = net->named_parameters()["head.conv.weight"].clone();
  const std::string message = import_error(net, dir.path() / "policy_dict.pth");
  EXPECT_TRUE(contains(message, "policy_dict.pth")) << message;
  EXPECT_TRUE(contains(message, "state.bn_rows.weight: expected shape [8], got [6]")) << message;
  EXPECT_TRUE(contains(message, "state.linear.weight: expected shape [128, 8], got [128, 6]")) << message;
  EXPECT_TRUE(contains(message, "M = 6 state rows")) << message;
  EXPECT_TRUE(torch::equal(net->named_parameters()["head.conv.weight"], before));
}

TEST(ReferencePolicy, AMissingLayerIsNamed) {
  const json golden = testing::load_golden("qnet.json");
  testing::ScratchDir dir("reference-policy");
  NamedTensorList entries;
  for (auto& entry : reference_golden_dict(golden.at("weights"))) {
    if (entry.first.rfind("conv_bias.", 0) != 0) entries.push_back(entry);
  }
  testing::write_plain_dict(dir.path() / "policy_dict.pth", entries);
  QueryNet net(testing::golden_options(golden));
  const std::string message = import_error(net, dir.path() / "policy_dict.pth");
  EXPECT_TRUE(contains(message, "missing 2 of")) << message;
  EXPECT_TRUE(contains(message, "sim.conv.weight [1, 64, 1]")) << message;
}

TEST(ReferencePolicy, AFileThatIsNoArchiveGetsTheReexportCommand) {
  testing::ScratchDir dir("reference-policy");
  std::ofstream(dir.path() / "policy.pth") << "not a zip archive";
  QueryNet net(QueryNetOptions(5, 5, 4));
  const std::string message = import_error(net, dir.path() / "policy.pth");
  EXPECT_TRUE(contains(message, "not a PyTorch zip archive")) << message;
  EXPECT_TRUE(contains(message, reference_policy_export_command())) << message;
  EXPECT_TRUE(contains(import_error(net, dir.path() / "absent.pth"), "no such file"));
}

}  // namespace
}  // namespace regal::rl
