#include "regal/core/device.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

#include <sched.h>

#include <ATen/Context.h>
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

namespace {

// cuDNN otherwise may pick convolution algorithms that accumulate with atomic
// additions, and with benchmarking on, pick them by timing: either makes two
// runs of the same settings differ.
c10::Device with_reproducible_kernels(const c10::Device& device) {
  if (device.is_cuda()) {
    at::globalContext().setDeterministicCuDNN(true);
    at::globalContext().setBenchmarkCuDNN(false);
  }
  return device;
}

}  // namespace

c10::Device resolve_device(const std::string& name) {
  check_device_name(name);
  if (name == "auto") {
    return with_reproducible_kernels(torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0)
                                                                 : c10::Device(c10::kCPU));
  }
  if (name == "cpu") {
    return c10::Device(c10::kCPU);
  }
  REGAL_CHECK(torch::cuda::is_available(), "device '", name,
              "': this LibTorch build has no usable CUDA device; use --device cpu");
  if (name == "cuda") return with_reproducible_kernels(c10::Device(c10::kCUDA));
  // N is read here, not by c10: its DeviceIndex is 8 bits in LibTorch 1.13,
  // so "cuda:200" would wrap to a negative index.
  const int64_t index = std::stoll(name.substr(5));  // check_device_name: 1 to 4 digits
  const auto count = static_cast<int64_t>(torch::cuda::device_count());
  REGAL_CHECK(index < count, "device '", name, "': this machine has ", count, " CUDA device(s), cuda:0 to cuda:",
              count - 1);
  return with_reproducible_kernels(c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index)));
}

int available_cpu_count() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
    return std::max(1, CPU_COUNT(&allowed));
  }
  return std::max(1U, std::thread::hardware_concurrency());
}

void set_thread_count(int threads) {
  if (threads > 0) {
    torch::set_num_threads(threads);
    return;
  }
  // LibTorch's own default follows OMP_NUM_THREADS, else cpuinfo's count of
  // physical cores: right on most machines (hyper-threads add little to
  // GEMMs), but a VM may report 1 core for 2 vCPUs (measured on the 2-core
  // development machine: 1 thread, half the pretraining speed). Only that
  // case is overridden.
  const char* omp_threads = std::getenv("OMP_NUM_THREADS");
  if (omp_threads != nullptr && *omp_threads != '\0') return;
  const int available = available_cpu_count();
  if (torch::get_num_threads() == 1 && available > 1) torch::set_num_threads(available);
}

std::string describe_device(const c10::Device& device) {
  if (device.is_cpu()) {
    return "cpu (" + std::to_string(torch::get_num_threads()) + " threads)";
  }
  return device.str();
}

}  // namespace regal
