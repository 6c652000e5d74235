// FPN segmentation network: output shapes for every backbone and for sizes
// that are not multiples of 32, submodule names, MC-dropout mode, gradients.
#include "regal/nn/fpn.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>
#include <string>
#include <vector>

#include "regal/core/error.h"

namespace regal::nn {
namespace {

std::vector<int64_t> eval_output_shape(Fpn& net, std::vector<int64_t> input_shape) {
  torch::NoGradGuard no_grad;
  net->eval();
  return net->forward(torch::randn(input_shape)).sizes().vec();
}

TEST(Fpn, OutputIsInputSizedLogitsForEveryBackbone) {
  torch::manual_seed(0);
  Fpn r18(FpnOptions(5).backbone(Backbone::ResNet18));
  EXPECT_EQ(eval_output_shape(r18, {2, 3, 64, 96}), (std::vector<int64_t>{2, 5, 64, 96}));
  // Not a multiple of 32: stages are 25x38, 13x19, 7x10, 4x5.
  EXPECT_EQ(eval_output_shape(r18, {1, 3, 100, 150}), (std::vector<int64_t>{1, 5, 100, 150}));
  EXPECT_EQ(eval_output_shape(r18, {1, 3, 33, 47}), (std::vector<int64_t>{1, 5, 33, 47}));
  Fpn r34(FpnOptions(3).backbone(Backbone::ResNet34).fpn_channels(32));
  EXPECT_EQ(eval_output_shape(r34, {1, 3, 64, 96}), (std::vector<int64_t>{1, 3, 64, 96}));
  Fpn r50(FpnOptions(19).backbone(Backbone::ResNet50).fpn_channels(64).dropout(0.5));
  EXPECT_EQ(eval_output_shape(r50, {1, 3, 64, 64}), (std::vector<int64_t>{1, 19, 64, 64}));
  EXPECT_EQ(eval_output_shape(r50, {1, 3, 70, 50}), (std::vector<int64_t>{1, 19, 70, 50}));
}

TEST(Fpn, SubmoduleNamesPrefixTheBackbone) {
  Fpn net(FpnOptions(4).dropout(0.1));
  std::set<std::string> names;
  for (const auto& p : net->named_parameters()) {
    names.insert(p.key());
  }
  for (const char* name :
       {"backbone.conv1.weight", "backbone.layer1.0.conv1.weight",
        "backbone.layer2.0.downsample.1.bias", "lateral.0.weight", "lateral.3.bias",
        "smooth.0.conv.weight", "smooth.3.bn.weight", "classifier.weight", "classifier.bias"}) {
    EXPECT_EQ(names.count(name), 1u) << name;
  }
  EXPECT_EQ(net->named_modules().contains("dropout"), true);
  EXPECT_EQ(Fpn(FpnOptions(4))->named_modules().contains("dropout"), false);
  // classifier: 128 * 4 + 4; backbone's 11,176,512 included.
  EXPECT_GT(parameter_count(*net), 11176512 + 128 * 4 + 4);
  EXPECT_EQ(parameter_count(*net->backbone()), 11176512);
}

TEST(Fpn, McDropoutSamplesWhileBatchNormStaysInEval) {
  torch::manual_seed(1);
  Fpn net(FpnOptions(4).dropout(0.5).fpn_channels(32));
  net->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({1, 3, 64, 64});

  // Plain eval: deterministic.
  EXPECT_TRUE(torch::equal(net->forward(x), net->forward(x)));

  net->set_mc_dropout(true);
  const torch::Tensor running_mean = net->backbone()->named_buffers()["bn1.running_mean"].clone();
  const torch::Tensor a = net->forward(x);
  const torch::Tensor b = net->forward(x);
  EXPECT_FALSE(torch::allclose(a, b)) << "MC dropout passes must differ";
  EXPECT_FALSE(net->is_training());
  EXPECT_FALSE(net->backbone()->is_training());
  EXPECT_TRUE(torch::equal(running_mean, net->backbone()->named_buffers()["bn1.running_mean"]))
      << "BatchNorm statistics moved: BN ran in train mode";

  // The flag survives eval()/train() round trips (Module::train recurses).
  net->train();
  net->eval();
  EXPECT_TRUE(net->mc_dropout());
  EXPECT_FALSE(torch::allclose(net->forward(x), net->forward(x)));

  net->set_mc_dropout(false);
  EXPECT_TRUE(torch::equal(net->forward(x), net->forward(x)));
}

// BALD runs features() once and head() per MC pass: that must be the same as
// whole forward passes, mask for mask, from the same generator state.
TEST(Fpn, HeadOnSharedFeaturesEqualsWholeForwardPasses) {
  torch::manual_seed(2);
  Fpn net(FpnOptions(4).dropout(0.5).fpn_channels(16));
  net->eval();
  net->set_mc_dropout(true);
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({2, 3, 40, 72});  // not multiples of 32
  torch::manual_seed(9);
  std::vector<torch::Tensor> whole;
  for (int t = 0; t < 3; ++t) whole.push_back(net->forward(x));
  torch::manual_seed(9);
  const torch::Tensor features = net->features(x);  // [2, 16, 10, 18]
  EXPECT_EQ(features.sizes().vec(), (std::vector<int64_t>{2, 16, 10, 18}));
  const torch::Tensor kept = features.clone();
  for (int t = 0; t < 3; ++t) {
    EXPECT_TRUE(torch::equal(net->head(features, 40, 72), whole[static_cast<size_t>(t)])) << "pass " << t;
  }
  EXPECT_FALSE(torch::equal(whole[0], whole[1])) << "the passes must differ";
  EXPECT_TRUE(torch::equal(features, kept)) << "head() changed the shared features";
  EXPECT_THROW(net->head(features.narrow(1, 0, 8), 40, 72), regal::Error);
}

TEST(Fpn, McDropoutNeedsDropout) {
  Fpn net(FpnOptions(4));
  EXPECT_THROW(net->set_mc_dropout(true), regal::Error);
  EXPECT_NO_THROW(net->set_mc_dropout(false));
}

TEST(Fpn, RejectsBadOptionsAndInput) {
  EXPECT_THROW(Fpn(FpnOptions(0)), regal::Error);
  EXPECT_THROW(Fpn(FpnOptions(4).dropout(1.0)), regal::Error);
  EXPECT_THROW(Fpn(FpnOptions(4).fpn_channels(0)), regal::Error);
  Fpn net(FpnOptions(4).fpn_channels(16));
  EXPECT_THROW(net->forward(torch::zeros({1, 4, 32, 32})), regal::Error);
}

TEST(Fpn, TrainStepReachesHeadAndBackbone) {
  torch::manual_seed(2);
  Fpn net(FpnOptions(3).fpn_channels(16).dropout(0.2));
  net->train();
  const torch::Tensor x = torch::randn({2, 3, 64, 64});
  const torch::Tensor target = torch::randint(0, 3, {2, 64, 64}, torch::kLong);  // [B, H, W]
  const torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(x), target);
  loss.backward();
  for (const char* name : {"classifier.weight", "smooth.3.conv.weight", "lateral.3.weight",
                           "backbone.conv1.weight", "backbone.layer4.1.conv2.weight"}) {
    const torch::Tensor grad = net->named_parameters()[name].grad();
    ASSERT_TRUE(grad.defined()) << name;
    EXPECT_GT(grad.abs().sum().item<double>(), 0.0) << name;
  }
}

TEST(Fpn, SummaryNamesBackboneAndParameters) {
  Fpn net(FpnOptions(19).backbone(Backbone::ResNet18).dropout(0.5));
  const std::string summary = net->summary();
  EXPECT_NE(summary.find("resnet18"), std::string::npos) << summary;
  EXPECT_NE(summary.find("19 classes"), std::string::npos) << summary;
  EXPECT_NE(summary.find("backbone 11.18M"), std::string::npos) << summary;
  EXPECT_EQ(summary.find('\n'), std::string::npos) << summary;
}

}  // namespace
}  // namespace regal::nn
