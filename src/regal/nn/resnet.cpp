#include "regal/nn/resnet.h"

#include <torch/torch.h>

#include "regal/core/error.h"

namespace regal::nn {
namespace {

namespace F = torch::nn::functional;

torch::nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
}

torch::nn::Conv2d conv1x1(int64_t in, int64_t out, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).stride(stride).bias(false));
}

// torchvision's shortcut: Sequential(conv1x1, BatchNorm2d), so its children
// are named `downsample.0` and `downsample.1`. Null when no projection is needed.
torch::nn::Sequential make_downsample(int64_t in, int64_t out, int64_t stride) {
  if (stride == 1 && in == out) {
    return torch::nn::Sequential{nullptr};
  }
  return torch::nn::Sequential(conv1x1(in, out, stride), torch::nn::BatchNorm2d(out));
}

void check_block_args(int64_t in_channels, int64_t planes, int64_t stride) {
  REGAL_CHECK(in_channels > 0 && planes > 0,
              "ResNet block: channels must be positive, got in=", in_channels, " planes=", planes);
  REGAL_CHECK(stride == 1 || stride == 2, "ResNet block: stride must be 1 or 2, got ", stride);
}

struct ArchitectureSpec {
  bool bottleneck;
  std::array<int64_t, 4> blocks;
};

ArchitectureSpec spec_of(Backbone backbone) {
  switch (backbone) {
    case Backbone::ResNet18:
      return {false, {2, 2, 2, 2}};
    case Backbone::ResNet34:
      return {false, {3, 4, 6, 3}};
    case Backbone::ResNet50:
      return {true, {3, 4, 6, 3}};
  }
  REGAL_FAIL("ResNet: unknown backbone enum value ", static_cast<int>(backbone));
}

}  // namespace

std::string backbone_name(Backbone backbone) {
  switch (backbone) {
    case Backbone::ResNet18:
      return "resnet18";
    case Backbone::ResNet34:
      return "resnet34";
    case Backbone::ResNet50:
      return "resnet50";
  }
  REGAL_FAIL("backbone_name: unknown backbone enum value ", static_cast<int>(backbone));
}

Backbone parse_backbone(const std::string& name) {
  for (Backbone b : {Backbone::ResNet18, Backbone::ResNet34, Backbone::ResNet50}) {
    if (name == backbone_name(b)) {
      return b;
    }
  }
  REGAL_FAIL("backbone: expected one of resnet18, resnet34, resnet50 but got '", name, "'");
}

int64_t parameter_count(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : module.parameters(/*recurse=*/true)) {
    total += p.numel();
  }
  return total;
}

BasicBlockImpl::BasicBlockImpl(int64_t in_channels, int64_t planes, int64_t stride) {
  check_block_args(in_channels, planes, stride);
  conv1_ = register_module("conv1", conv3x3(in_channels, planes, stride));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(planes));
  conv2_ = register_module("conv2", conv3x3(planes, planes, 1));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(planes));
  downsample_ = make_downsample(in_channels, planes, stride);
  if (downsample_) {
    register_module("downsample", downsample_);
  }
}

torch::Tensor BasicBlockImpl::forward(torch::Tensor x) {
  torch::Tensor identity = downsample_ ? downsample_->forward(x) : x;
  torch::Tensor out = bn1_->forward(conv1_->forward(x)).relu_();
  out = bn2_->forward(conv2_->forward(out));
  // In place is safe: BatchNorm's backward needs its input, not its output.
  out += identity;
  return out.relu_();
}

BottleneckImpl::BottleneckImpl(int64_t in_channels, int64_t planes, int64_t stride) {
  check_block_args(in_channels, planes, stride);
  const int64_t out_channels = 4 * planes;
  conv1_ = register_module("conv1", conv1x1(in_channels, planes, 1));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(planes));
  conv2_ = register_module("conv2", conv3x3(planes, planes, stride));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(planes));
  conv3_ = register_module("conv3", conv1x1(planes, out_channels, 1));
  bn3_ = register_module("bn3", torch::nn::BatchNorm2d(out_channels));
  downsample_ = make_downsample(in_channels, out_channels, stride);
  if (downsample_) {
    register_module("downsample", downsample_);
  }
}

torch::Tensor BottleneckImpl::forward(torch::Tensor x) {
  torch::Tensor identity = downsample_ ? downsample_->forward(x) : x;
  torch::Tensor out = bn1_->forward(conv1_->forward(x)).relu_();
  out = bn2_->forward(conv2_->forward(out)).relu_();
  out = bn3_->forward(conv3_->forward(out));
  out += identity;
  return out.relu_();
}

ResNetImpl::ResNetImpl(Backbone architecture) : architecture_(architecture) {
  const ArchitectureSpec spec = spec_of(architecture);
  const int64_t expansion = spec.bottleneck ? 4 : 1;

  conv1_ = register_module(
      "conv1",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 64, 7).stride(2).padding(3).bias(false)));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(64));

  int64_t in_channels = 64;
  for (size_t stage = 0; stage < 4; ++stage) {
    const int64_t planes = int64_t{64} << stage;  // 64, 128, 256, 512
    const int64_t first_stride = stage == 0 ? 1 : 2;
    torch::nn::Sequential layer;
    for (int64_t i = 0; i < spec.blocks[stage]; ++i) {
      const int64_t stride = i == 0 ? first_stride : 1;
      // Sequential names its children "0", "1", ...: `layer2.0.conv1.weight`.
      if (spec.bottleneck) {
        layer->push_back(Bottleneck(in_channels, planes, stride));
      } else {
        layer->push_back(BasicBlock(in_channels, planes, stride));
      }
      in_channels = planes * expansion;
    }
    layers_[stage] = register_module("layer" + std::to_string(stage + 1), layer);
    stage_channels_[stage] = planes * expansion;
  }

  // torchvision's initialisation: Kaiming normal (fan_out, ReLU) for convs;
  // BatchNorm's LibTorch defaults (weight 1, bias 0) already match.
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, /*a=*/0.0, torch::kFanOut, torch::kReLU);
    }
  }
}

std::vector<torch::Tensor> ResNetImpl::forward(torch::Tensor x) {
  REGAL_CHECK(x.dim() == 4 && x.size(1) == 3, "ResNet: expected input [B, 3, H, W] but got ",
              x.sizes());
  // Stem: stride 2 conv, then stride 2 max pool -> [B, 64, ceil(H/4), ceil(W/4)].
  x = bn1_->forward(conv1_->forward(x)).relu_();
  x = F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(2).padding(1));
  std::vector<torch::Tensor> stages;
  stages.reserve(4);
  for (auto& layer : layers_) {
    x = layer->forward(x);  // [B, stage_channels[k], H / 2^(k+2), W / 2^(k+2)]
    stages.push_back(x);
  }
  return stages;
}

}  // namespace regal::nn
