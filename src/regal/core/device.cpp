#include "regal/core/device.h"

#include <algorithm>

#include <torch/cuda.h>
#include <torch/torch.h>

#include "regal/core/error.h"

namespace regal {

void check_device_name(const std::string& name) {
  if (name == "auto" || name == "cpu" || name == "cuda") return;
  const std::string prefix = "cuda:";
  const bool index_follows = name.size() > prefix.size() && name.size() <= prefix.size() + 4 &&
                             name.compare(0, prefix.size(), prefix) == 0 &&
                             std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix.size()), name.end(),
                                         [](char c) { return c >= '0' && c <= '9'; });
  REGAL_CHECK(index_follows, "device '", name, "': expected auto, cpu, cuda or cuda:N");
}

c10::Device resolve_device(const std::string& name) {
  check_device_name(name);
  if (name == "auto") {
    return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  }
  if (name == "cpu") {
    return c10::Device(c10::kCPU);
  }
  REGAL_CHECK(torch::cuda::is_available(), "device '", name,
              "': this LibTorch build has no usable CUDA device; use --device cpu");
  c10::Device device(c10::kCUDA);
  try {
    device = c10::Device(name);
  } catch (const c10::Error&) {  // an index beyond c10's DeviceIndex
    REGAL_FAIL("device '", name, "': expected cuda or cuda:N with a valid N");
  }
  const auto count = static_cast<int64_t>(torch::cuda::device_count());
  REGAL_CHECK(!device.has_index() || device.index() < count, "device '", name, "': this machine has ", count,
              " CUDA device(s), cuda:0 to cuda:", count - 1);
  return device;
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
