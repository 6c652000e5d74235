#include "regal/core/device.h"

#include <torch/cuda.h>
#include <torch/torch.h>

#include "regal/core/error.h"

namespace regal {

c10::Device resolve_device(const std::string& name) {
  if (name == "auto") {
    return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  }
  if (name == "cpu") {
    return c10::Device(c10::kCPU);
  }
  if (name.rfind("cuda", 0) == 0) {
    REGAL_CHECK(torch::cuda::is_available(), "--device ", name,
                ": this LibTorch build has no usable CUDA device; use --device cpu");
    try {
      return c10::Device(name);
    } catch (const c10::Error&) {
      REGAL_FAIL("--device ", name, ": expected cuda or cuda:N");
    }
  }
  REGAL_FAIL("--device ", name, ": expected auto, cpu, cuda or cuda:N");
}

void set_thread_count(int threads) {
  if (threads > 0) {
    torch::set_num_threads(threads);
  }
}

std::string describe_device(const c10::Device& device) {
  if (device.is_cpu()) {
    return "cpu (" + std::to_string(torch::get_num_threads()) + " threads)";
  }
  return device.str();
}

}  // namespace regal
