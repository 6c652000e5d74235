#pragma once
// The segmentation network: a ResNet backbone, a feature pyramid (Lin et al.,
// FPN) and a light semantic head after Kirillov et al.'s panoptic FPN. It maps
// [B, 3, H, W] images to [B, C, H, W] logits for any H, W, and offers the
// MC-dropout mode BALD needs (dropout sampling while BatchNorm stays in eval).
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>

#include "regal/nn/resnet.h"

namespace regal::nn {

struct FpnOptions {
  // requires: num_classes >= 1 (checked when the Fpn is built).
  explicit FpnOptions(int64_t num_classes) : num_classes_(num_classes) {}
  TORCH_ARG(int64_t, num_classes);
  TORCH_ARG(Backbone, backbone) = Backbone::ResNet18;
  // Width of every pyramid level and of the semantic head.
  TORCH_ARG(int64_t, fpn_channels) = 128;
  // Channel dropout (Dropout2d) probability before the classifier; 0 = none.
  TORCH_ARG(double, dropout) = 0.0;
};

// 3x3 conv (no bias) + BatchNorm + ReLU: the per-level pyramid conv.
class ConvBnReluImpl : public torch::nn::Module {
 public:
  ConvBnReluImpl(int64_t in_channels, int64_t out_channels);
  // [B, in, H, W] -> [B, out, H, W]
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
};
TORCH_MODULE(ConvBnRelu);

class FpnImpl : public torch::nn::Module {
 public:
  // requires: num_classes >= 1, fpn_channels >= 1, 0 <= dropout < 1.
  // ensures: submodules "backbone", "lateral.{0..3}", "smooth.{0..3}",
  //   ["dropout"], "classifier"; index 0..3 is pyramid level P2..P5.
  // throws: regal::Error naming the bad option.
  explicit FpnImpl(const FpnOptions& options);

  // requires: x [B, 3, H, W] float on the module's device, H, W >= 1.
  // ensures: logits [B, num_classes, H, W] (bilinear, align_corners=false).
  // throws: regal::Error when x is not [B, 3, H, W].
  torch::Tensor forward(torch::Tensor x);

  // forward() in two parts: features(x) is everything before the dropout,
  // head() the dropout, classifier and upsampling, so that MC-dropout passes
  // (BALD) share one features() call: forward(x) == head(features(x), H, W),
  // drawing the same dropout masks from the same generator state.
  // features: x [B, 3, H, W] -> [B, fpn_channels, ceil(H/4), ceil(W/4)].
  torch::Tensor features(torch::Tensor x);
  // head: features [B, fpn_channels, h, w] -> logits [B, num_classes, height, width].
  torch::Tensor head(const torch::Tensor& features, int64_t height, int64_t width);

  // MC dropout: while on, the dropout samples in both train and eval mode, so
  // eval() + set_mc_dropout(true) gives stochastic passes with BatchNorm on
  // its running statistics. The flag survives later train()/eval() calls.
  // throws: regal::Error when switching on with options().dropout() == 0.
  void set_mc_dropout(bool on);
  bool mc_dropout() const { return mc_dropout_; }

  // Module::train recurses into every child; this override then keeps the
  // dropout in train mode while MC dropout is on.
  void train(bool on = true) override;

  const FpnOptions& options() const { return options_; }
  ResNet& backbone() { return backbone_; }
  const ResNet& backbone() const { return backbone_; }

  // One line for the CLI, e.g. "FPN resnet50 | 128 channels | dropout 0.5 |
  // 19 classes | 24.59M parameters (backbone 23.51M)".
  std::string summary() const;

 private:
  FpnOptions options_;
  bool mc_dropout_ = false;
  ResNet backbone_{nullptr};
  torch::nn::ModuleList lateral_{nullptr};
  torch::nn::ModuleList smooth_{nullptr};
  torch::nn::Dropout2d dropout_{nullptr};
  torch::nn::Conv2d classifier_{nullptr};
};
TORCH_MODULE(Fpn);

}  // namespace regal::nn
