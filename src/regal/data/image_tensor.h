#pragma once
// Conversions between decoded samples (OpenCV) and network tensors.
// Images are normalised with the ImageNet mean/std that torchvision's
// pretrained ResNets expect.
#include <vector>

#include <ATen/core/Tensor.h>
#include <opencv2/core/mat.hpp>

namespace regal::data {

// requires: rgb is CV_8UC3. ensures: [3, H, W] float32, normalised.
at::Tensor image_to_tensor(const cv::Mat& rgb);
// requires: label is CV_8UC1. ensures: [H, W] int64 (255 stays 255).
at::Tensor label_to_tensor(const cv::Mat& label);
// Inverse of image_to_tensor for figures: [3, H, W] float -> CV_8UC3 RGB.
cv::Mat tensor_to_image(const at::Tensor& normalised);

}  // namespace regal::data
