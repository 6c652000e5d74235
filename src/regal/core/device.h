#pragma once
// Run-time device selection: the same binary runs on CPU (Debian LibTorch)
// and on CUDA builds. "auto" picks CUDA when available.
#include <string>

#include <c10/core/Device.h>

namespace regal {

// Checks the spelling only ("auto" | "cpu" | "cuda" | "cuda:N"), so that a
// config can be checked on a machine without the device.
// throws regal::Error naming the value when it is none of those.
void check_device_name(const std::string& name);

// name: "auto" | "cpu" | "cuda" | "cuda:N".
// A CUDA device found also asks cuDNN, for the whole process, for
// deterministic algorithms and no benchmarking: one source of run-to-run
// differences on CUDA (nn's resize_bilinear and pixel_cross_entropy remove
// two others).
// throws regal::Error for an unknown name, when CUDA is asked for but absent,
// or when N is not below the number of CUDA devices.
c10::Device resolve_device(const std::string& name);

// CPUs this process may run on (its affinity mask; at least 1).
int available_cpu_count();

// Sets LibTorch's intra-op thread count. threads <= 0 keeps LibTorch's
// default (OMP_NUM_THREADS when set, else its count of physical cores),
// except a default of 1 thread where more CPUs are available: then
// available_cpu_count().
void set_thread_count(int threads);

// "cpu (2 threads)" or "cuda:0 (NVIDIA H100 ...)" for run reports.
std::string describe_device(const c10::Device& device);

}  // namespace regal
