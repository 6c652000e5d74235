#pragma once
// ResNet-18/34 (BasicBlock) and ResNet-50 (Bottleneck, torchvision's "v1.5":
// stride on the 3x3 conv) backbones for the FPN. Parameter and buffer names
// are exactly torchvision's (`conv1.weight`, `bn1.running_mean`,
// `layer2.0.downsample.1.bias`, ...) without the classifier `fc`, so an
// ImageNet state_dict loads key for key (backbone_weights.h).
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace regal::nn {

enum class Backbone { ResNet18, ResNet34, ResNet50 };

// "resnet18" | "resnet34" | "resnet50": the spelling configs and messages use.
std::string backbone_name(Backbone backbone);
// requires: name is one of backbone_name()'s spellings (case-sensitive).
// throws: regal::Error naming the value and the accepted spellings.
Backbone parse_backbone(const std::string& name);

// Number of scalar parameters (not buffers) of `module` and its children.
int64_t parameter_count(const torch::nn::Module& module);

// Two 3x3 convs with a residual connection (ResNet-18/34). Expansion 1.
class BasicBlockImpl : public torch::nn::Module {
 public:
  // requires: in_channels, planes > 0, stride 1 or 2. A 1x1 conv + BN
  // `downsample` is added when the shape changes (stride or channels).
  BasicBlockImpl(int64_t in_channels, int64_t planes, int64_t stride);
  // requires: x [B, in_channels, H, W]; ensures: [B, planes, ceil(H/s), ceil(W/s)].
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(BasicBlock);

// 1x1 reduce, 3x3 (strided), 1x1 expand to 4*planes, residual (ResNet-50).
class BottleneckImpl : public torch::nn::Module {
 public:
  // requires: in_channels, planes > 0, stride 1 or 2.
  BottleneckImpl(int64_t in_channels, int64_t planes, int64_t stride);
  // requires: x [B, in_channels, H, W]; ensures: [B, 4*planes, ceil(H/s), ceil(W/s)].
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
  torch::nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(Bottleneck);

class ResNetImpl : public torch::nn::Module {
 public:
  // ensures: convs initialised as torchvision does (Kaiming normal, fan_out),
  // BatchNorm weight 1 / bias 0.
  explicit ResNetImpl(Backbone architecture);

  // requires: x [B, 3, H, W] float, H, W >= 1 (any size, not only multiples of 32).
  // ensures: {C2, C3, C4, C5} at strides 4, 8, 16, 32, with
  //   C_k [B, stage_channels()[k-2], ceil(H / 2^k), ceil(W / 2^k)].
  // throws: regal::Error when x is not [B, 3, H, W].
  std::vector<torch::Tensor> forward(torch::Tensor x);

  Backbone architecture() const { return architecture_; }
  // Channels of C2..C5: {64, 128, 256, 512} (18/34) or {256, 512, 1024, 2048} (50).
  const std::array<int64_t, 4>& stage_channels() const { return stage_channels_; }

 private:
  Backbone architecture_;
  std::array<int64_t, 4> stage_channels_{};
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  std::array<torch::nn::Sequential, 4> layers_{
      torch::nn::Sequential{nullptr}, torch::nn::Sequential{nullptr},
      torch::nn::Sequential{nullptr}, torch::nn::Sequential{nullptr}};
};
TORCH_MODULE(ResNet);

}  // namespace regal::nn
