#include "regal/core/device.h"

#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "regal/core/error.h"

namespace regal {
namespace {

// Sets or unsets OMP_NUM_THREADS for one test and restores it (ctest sets it
// to 1 for every test) together with LibTorch's thread count.
class ThreadEnvironment {
 public:
  explicit ThreadEnvironment(const std::optional<std::string>& omp_num_threads)
      : saved_threads_(torch::get_num_threads()) {
    if (const char* value = std::getenv("OMP_NUM_THREADS")) saved_env_ = value;
    if (omp_num_threads) {
      setenv("OMP_NUM_THREADS", omp_num_threads->c_str(), 1);
    } else {
      unsetenv("OMP_NUM_THREADS");
    }
  }
  ~ThreadEnvironment() {
    if (saved_env_) {
      setenv("OMP_NUM_THREADS", saved_env_->c_str(), 1);
    } else {
      unsetenv("OMP_NUM_THREADS");
    }
    torch::set_num_threads(saved_threads_);
  }
  ThreadEnvironment(const ThreadEnvironment&) = delete;
  ThreadEnvironment& operator=(const ThreadEnvironment&) = delete;

 private:
  int saved_threads_;
  std::optional<std::string> saved_env_;
};

TEST(Device, AvailableCpuCountIsWithinTheMachine) {
  const int count = available_cpu_count();
  EXPECT_GE(count, 1);
  const unsigned hardware = std::thread::hardware_concurrency();
  if (hardware > 0) {
    EXPECT_LE(count, static_cast<int>(hardware));
  }
}

// A config's `threads: 0` must use the machine: LibTorch's own default can
// be 1 on a multi-core VM.
TEST(Device, ZeroThreadsRaisesADefaultOfOneToEveryAvailableCpu) {
  if (available_cpu_count() < 2) GTEST_SKIP() << "one CPU: nothing to raise the thread count to";
  ThreadEnvironment environment(std::nullopt);
  torch::set_num_threads(1);
  set_thread_count(0);
  EXPECT_EQ(torch::get_num_threads(), available_cpu_count());
}

// Any other default is LibTorch's choice (its physical cores) and stays.
TEST(Device, ZeroThreadsKeepsADefaultAboveOne) {
  ThreadEnvironment environment(std::nullopt);
  const int other_than_available = available_cpu_count() + 1;
  torch::set_num_threads(other_than_available);
  set_thread_count(0);
  EXPECT_EQ(torch::get_num_threads(), other_than_available);
}

TEST(Device, ZeroThreadsLeavesTheCountToOmpNumThreadsWhenSet) {
  if (available_cpu_count() < 2) GTEST_SKIP() << "one CPU: the count would be 1 either way";
  ThreadEnvironment environment(std::string("1"));
  torch::set_num_threads(1);
  set_thread_count(0);
  EXPECT_EQ(torch::get_num_threads(), 1);
}

TEST(Device, AnExplicitCountWinsOverOmpNumThreads) {
  ThreadEnvironment environment(std::string("1"));
  set_thread_count(2);
  EXPECT_EQ(torch::get_num_threads(), 2);
}

TEST(Device, DeviceNamesAreCheckedBySpelling) {
  for (const std::string name : {"auto", "cpu", "cuda", "cuda:0", "cuda:12"}) {
    EXPECT_NO_THROW(check_device_name(name)) << name;
  }
  for (const std::string name : {"gpu", "cuda:", "cuda:-1", "cuda:12345", "CPU", ""}) {
    EXPECT_THROW(check_device_name(name), Error) << name;
  }
}

TEST(Device, CpuAndAutoResolveAndAMissingCudaDeviceIsAnError) {
  EXPECT_TRUE(resolve_device("cpu").is_cpu());
  const auto count = static_cast<int>(torch::cuda::device_count());
  EXPECT_THROW(resolve_device("cuda:" + std::to_string(count)), Error);
  // "auto": the GPU where there is one.
  EXPECT_EQ(resolve_device("auto").is_cuda(), count > 0);
}

TEST(Device, DescribeCpuNamesTheThreadCount) {
  ThreadEnvironment environment(std::string("1"));
  set_thread_count(2);
  EXPECT_EQ(describe_device(c10::Device(c10::kCPU)), "cpu (2 threads)");
}

}  // namespace
}  // namespace regal
