#include "regal/nn/fpn.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <array>
#include <vector>

#include "regal/core/error.h"
#include "regal/nn/bilinear_resize.h"

namespace regal::nn {
namespace {

namespace F = torch::nn::functional;

// Nearest-neighbour resize of x [B, C, h, w] to the size of size_of
// [B, ., H, W]. Sizes are taken from the target rather than assumed to be 2x,
// because with inputs that are not multiples of 32 the stages are
// ceil-halved (e.g. 4x5 -> 7x10). (LibTorch's CUDA backward of nearest
// resizing sums each input pixel's outputs in a fixed order, unlike that of
// bilinear resizing: see resize_bilinear.)
torch::Tensor resize_nearest_like(const torch::Tensor& x, const torch::Tensor& size_of) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{size_of.size(2), size_of.size(3)})
                               .mode(torch::kNearest));
}

}  // namespace

ConvBnReluImpl::ConvBnReluImpl(int64_t in_channels, int64_t out_channels) {
  conv_ = register_module(
      "conv", torch::nn::Conv2d(
                  torch::nn::Conv2dOptions(in_channels, out_channels, 3).padding(1).bias(false)));
  bn_ = register_module("bn", torch::nn::BatchNorm2d(out_channels));
  torch::nn::init::kaiming_normal_(conv_->weight, /*a=*/0.0, torch::kFanOut, torch::kReLU);
}

torch::Tensor ConvBnReluImpl::forward(torch::Tensor x) {
  return bn_->forward(conv_->forward(x)).relu_();
}

FpnImpl::FpnImpl(const FpnOptions& options) : options_(options) {
  REGAL_CHECK(options.num_classes() >= 1, "FpnOptions.num_classes: expected >= 1 but got ",
              options.num_classes());
  REGAL_CHECK(options.fpn_channels() >= 1, "FpnOptions.fpn_channels: expected >= 1 but got ",
              options.fpn_channels());
  REGAL_CHECK(options.dropout() >= 0.0 && options.dropout() < 1.0,
              "FpnOptions.dropout: expected a probability in [0, 1) but got ", options.dropout());

  const int64_t width = options.fpn_channels();
  backbone_ = register_module("backbone", ResNet(options.backbone()));

  // Index k holds level P(k+2). Laterals are 1x1 convs with bias, as in FPN.
  lateral_ = register_module("lateral", torch::nn::ModuleList());
  smooth_ = register_module("smooth", torch::nn::ModuleList());
  for (int64_t channels : backbone_->stage_channels()) {
    lateral_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, width, 1)));
    // One 3x3 conv + BN + ReLU per level does two jobs: FPN's smoothing of
    // the top-down sum, and the per-level conv of Kirillov's semantic head
    // (which uses up to three per level; one keeps the head light on CPU and
    // still gives it a non-linearity, without which everything after the
    // backbone would be a linear map).
    smooth_->push_back(ConvBnRelu(width, width));
  }
  if (options.dropout() > 0.0) {
    // Dropout2d drops whole channels of the merged features, i.e. whole
    // columns of the 1x1 classifier's weight: each MC pass is a sample of
    // classifier weights (Gal & Ghahramani's reading of dropout), shared by
    // every pixel, rather than independent per-pixel noise.
    dropout_ = register_module(
        "dropout", torch::nn::Dropout2d(torch::nn::Dropout2dOptions(options.dropout())));
  }
  classifier_ = register_module(
      "classifier", torch::nn::Conv2d(torch::nn::Conv2dOptions(width, options.num_classes(), 1)));
}

torch::Tensor FpnImpl::forward(torch::Tensor x) {
  REGAL_CHECK(x.dim() == 4 && x.size(1) == 3, "Fpn: expected input [B, 3, H, W] but got ",
              x.sizes());
  const int64_t height = x.size(2);
  const int64_t width = x.size(3);
  return head(features(x), height, width);
}

torch::Tensor FpnImpl::features(torch::Tensor x) {
  REGAL_CHECK(x.dim() == 4 && x.size(1) == 3, "Fpn: expected input [B, 3, H, W] but got ",
              x.sizes());
  std::vector<torch::Tensor> c = backbone_->forward(x);  // C2..C5, [B, C_k, H/2^k, W/2^k]

  // Top-down pathway: P5 = lateral(C5); P_k = lateral(C_k) + up(P_{k+1}).
  // Nearest upsampling as in the FPN paper: the 3x3 conv after it smooths the
  // blockiness, and it is cheaper than bilinear.
  std::array<torch::Tensor, 4> p;
  p[3] = lateral_->at<torch::nn::Conv2dImpl>(3).forward(c[3]);  // [B, F, H/32, W/32]
  for (int k = 2; k >= 0; --k) {
    torch::Tensor lateral = lateral_->at<torch::nn::Conv2dImpl>(k).forward(c[k]);
    p[k] = lateral + resize_nearest_like(p[k + 1], lateral);  // [B, F, H/2^(k+2), ..]
  }

  // Semantic head: smooth each level, bring it to 1/4 resolution, and sum.
  // Sum rather than concat + conv: Kirillov's head sums too, and a sum keeps
  // F channels at 1/4 resolution where concat would hold 4F (four times the
  // activation memory) and need an extra 4F -> F conv.
  torch::Tensor merged = smooth_->at<ConvBnReluImpl>(0).forward(p[0]);  // [B, F, H/4, W/4]
  for (size_t k = 1; k < 4; ++k) {
    torch::Tensor level = smooth_->at<ConvBnReluImpl>(k).forward(p[k]);
    merged = merged + resize_bilinear(level, merged.size(2), merged.size(3));
  }
  return merged;
}

torch::Tensor FpnImpl::head(const torch::Tensor& features, int64_t height, int64_t width) {
  REGAL_CHECK(features.dim() == 4 && features.size(1) == options_.fpn_channels() && height >= 1 && width >= 1,
              "Fpn::head: expected features [B, ", options_.fpn_channels(), ", h, w] and an output size, got ",
              features.sizes(), " and ", height, " x ", width);
  // Dropout2d returns a new tensor: `features` stays as it was for the next pass.
  const torch::Tensor kept = dropout_ ? dropout_->forward(features) : features;  // [B, F, H/4, W/4]
  torch::Tensor logits = classifier_->forward(kept);  // [B, num_classes, H/4, W/4]
  return resize_bilinear(logits, height, width);  // [B, num_classes, H, W]
}

void FpnImpl::set_mc_dropout(bool on) {
  REGAL_CHECK(!on || dropout_,
              "Fpn::set_mc_dropout(true): the network has no dropout "
              "(FpnOptions.dropout is 0); MC dropout needs dropout > 0");
  mc_dropout_ = on;
  if (dropout_) {
    dropout_->train(is_training() || mc_dropout_);
  }
}

void FpnImpl::train(bool on) {
  torch::nn::Module::train(on);
  if (dropout_ && mc_dropout_) {
    dropout_->train(true);
  }
}

std::string FpnImpl::summary() const {
  return fmt::format(
      "FPN {} | {} channels | dropout {} | {} classes | {:.2f}M parameters "
      "(backbone {:.2f}M)",
      backbone_name(options_.backbone()), options_.fpn_channels(), options_.dropout(),
      options_.num_classes(), parameter_count(*this) / 1e6, parameter_count(*backbone_) / 1e6);
}

}  // namespace regal::nn
