// ResNet backbones: torchvision's parameter names and counts, stage shapes
// for sizes that are and are not multiples of 32.
#include "regal/nn/resnet.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>
#include <string>
#include <vector>

#include "regal/core/error.h"

namespace regal::nn {
namespace {

std::set<std::string> state_names(const torch::nn::Module& module) {
  std::set<std::string> names;
  for (const auto& p : module.named_parameters()) {
    names.insert(p.key());
  }
  for (const auto& b : module.named_buffers()) {
    names.insert(b.key());
  }
  return names;
}

std::vector<std::vector<int64_t>> stage_shapes(ResNet& net, int64_t h, int64_t w) {
  torch::NoGradGuard no_grad;
  net->eval();
  std::vector<std::vector<int64_t>> shapes;
  for (const auto& c : net->forward(torch::randn({2, 3, h, w}))) {
    shapes.push_back(c.sizes().vec());
  }
  return shapes;
}

// torchvision: resnet18 11,689,512 and resnet50 25,557,032 parameters, of
// which fc holds 512*1000+1000 and 2048*1000+1000; resnet34 21,797,672.
TEST(ResNet, ParameterCountsMatchTorchvisionWithoutFc) {
  EXPECT_EQ(parameter_count(*ResNet(Backbone::ResNet18)), 11689512 - (512 * 1000 + 1000));
  EXPECT_EQ(parameter_count(*ResNet(Backbone::ResNet18)), 11176512);
  EXPECT_EQ(parameter_count(*ResNet(Backbone::ResNet34)), 21797672 - (512 * 1000 + 1000));
  EXPECT_EQ(parameter_count(*ResNet(Backbone::ResNet50)), 23508032);
}

// torchvision's state_dict has 122 (resnet18) and 320 (resnet50) entries,
// fc.weight and fc.bias included.
TEST(ResNet, StateEntryCountsMatchTorchvisionWithoutFc) {
  EXPECT_EQ(state_names(*ResNet(Backbone::ResNet18)).size(), 122u - 2u);
  EXPECT_EQ(state_names(*ResNet(Backbone::ResNet50)).size(), 320u - 2u);
}

TEST(ResNet, NamesMatchTorchvision) {
  const std::set<std::string> r18 = state_names(*ResNet(Backbone::ResNet18));
  for (const char* name :
       {"conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
        "bn1.num_batches_tracked", "layer1.0.conv1.weight", "layer1.0.bn2.running_var",
        "layer1.1.conv2.weight", "layer2.0.downsample.0.weight", "layer2.0.downsample.1.bias",
        "layer2.0.downsample.1.running_mean", "layer3.1.bn1.weight", "layer4.0.downsample.0.weight",
        "layer4.1.bn2.bias"}) {
    EXPECT_EQ(r18.count(name), 1u) << name;
  }
  for (const char* absent : {"layer1.0.downsample.0.weight", "layer1.0.conv3.weight",
                             "layer1.2.conv1.weight", "fc.weight", "fc.bias"}) {
    EXPECT_EQ(r18.count(absent), 0u) << absent;
  }
  const std::set<std::string> r50 = state_names(*ResNet(Backbone::ResNet50));
  for (const char* name :
       {"conv1.weight", "layer1.0.conv3.weight", "layer1.0.bn3.running_mean",
        "layer1.0.downsample.0.weight", "layer1.0.downsample.1.weight", "layer1.2.conv3.weight",
        "layer3.5.bn3.bias", "layer4.2.conv3.weight", "layer4.0.downsample.1.running_var"}) {
    EXPECT_EQ(r50.count(name), 1u) << name;
  }
  EXPECT_EQ(r50.count("fc.weight"), 0u);
}

TEST(ResNet, BottleneckStridesOnTheThreeByThreeConvLikeTorchvision) {
  // torchvision ResNet-50 "v1.5": conv2 (3x3) carries the stride, conv1 (1x1) does not.
  ResNet net(Backbone::ResNet50);
  const auto modules = net->named_modules();  // OrderedDict: operator[] throws when absent
  auto stride_of = [&](const std::string& name) {
    auto* conv = modules[name]->as<torch::nn::Conv2d>();
    return conv == nullptr ? int64_t{-1} : conv->options.stride()->at(0);
  };
  EXPECT_EQ(stride_of("layer2.0.conv1"), 1);
  EXPECT_EQ(stride_of("layer2.0.conv2"), 2);
  EXPECT_EQ(stride_of("layer2.0.downsample.0"), 2);
}

TEST(ResNet, StageShapesForMultipleOf32AndOddSizes) {
  ResNet r18(Backbone::ResNet18);
  using Shapes = std::vector<std::vector<int64_t>>;
  EXPECT_EQ(stage_shapes(r18, 64, 96),
            (Shapes{{2, 64, 16, 24}, {2, 128, 8, 12}, {2, 256, 4, 6}, {2, 512, 2, 3}}));
  // ceil(H / 2^k): 100 -> 25, 13, 7, 4 and 150 -> 38, 19, 10, 5.
  EXPECT_EQ(stage_shapes(r18, 100, 150),
            (Shapes{{2, 64, 25, 38}, {2, 128, 13, 19}, {2, 256, 7, 10}, {2, 512, 4, 5}}));
  ResNet r50(Backbone::ResNet50);
  EXPECT_EQ(stage_shapes(r50, 64, 64),
            (Shapes{{2, 256, 16, 16}, {2, 512, 8, 8}, {2, 1024, 4, 4}, {2, 2048, 2, 2}}));
  EXPECT_EQ(r50->stage_channels(), (std::array<int64_t, 4>{256, 512, 1024, 2048}));
}

TEST(ResNet, RejectsInputThatIsNotBx3xHxW) {
  ResNet net(Backbone::ResNet18);
  EXPECT_THROW(net->forward(torch::zeros({1, 1, 32, 32})), regal::Error);
  EXPECT_THROW(net->forward(torch::zeros({3, 32, 32})), regal::Error);
}

TEST(ResNet, BackboneNamesRoundTrip) {
  for (Backbone b : {Backbone::ResNet18, Backbone::ResNet34, Backbone::ResNet50}) {
    EXPECT_EQ(parse_backbone(backbone_name(b)), b);
  }
  EXPECT_THROW(parse_backbone("resnet101"), regal::Error);
}

}  // namespace
}  // namespace regal::nn
