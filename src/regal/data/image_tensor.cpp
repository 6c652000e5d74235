#include "regal/data/image_tensor.h"

#include <cstring>

#include <torch/torch.h>

#include "regal/core/error.h"

namespace regal::data {

namespace {
at::Tensor imagenet_mean() { return torch::tensor({0.485f, 0.456f, 0.406f}).view({3, 1, 1}); }
at::Tensor imagenet_std() { return torch::tensor({0.229f, 0.224f, 0.225f}).view({3, 1, 1}); }
}  // namespace

at::Tensor image_to_tensor(const cv::Mat& rgb) {
  REGAL_CHECK(rgb.type() == CV_8UC3, "image_to_tensor expects an 8-bit 3-channel image, got type ",
              rgb.type());
  const cv::Mat contiguous = rgb.isContinuous() ? rgb : rgb.clone();
  // [H, W, 3] uint8 view of the OpenCV buffer, copied before it is released.
  auto hwc = torch::from_blob(contiguous.data, {contiguous.rows, contiguous.cols, 3}, torch::kUInt8);
  auto chw = hwc.permute({2, 0, 1}).to(torch::kFloat32).div_(255.0f);  // [3, H, W]
  return chw.sub_(imagenet_mean()).div_(imagenet_std()).contiguous();
}

at::Tensor label_to_tensor(const cv::Mat& label) {
  REGAL_CHECK(label.type() == CV_8UC1, "label_to_tensor expects an 8-bit 1-channel label, got type ",
              label.type());
  const cv::Mat contiguous = label.isContinuous() ? label : label.clone();
  return torch::from_blob(contiguous.data, {contiguous.rows, contiguous.cols}, torch::kUInt8)
      .to(torch::kInt64);  // [H, W], a copy
}

cv::Mat tensor_to_image(const at::Tensor& normalised) {
  REGAL_CHECK(normalised.dim() == 3 && normalised.size(0) == 3, "tensor_to_image expects [3, H, W], got ",
              normalised.sizes());
  auto chw = normalised.detach().to(torch::kCPU, torch::kFloat32).mul(imagenet_std()).add(imagenet_mean());
  auto hwc = chw.mul(255.0f).round().clamp(0, 255).to(torch::kUInt8).permute({1, 2, 0}).contiguous();
  cv::Mat out(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC3);
  std::memcpy(out.data, hwc.data_ptr(), static_cast<size_t>(hwc.numel()));
  return out;
}

}  // namespace regal::data
