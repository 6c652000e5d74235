#pragma once
// Run-time device selection: the same binary runs on CPU (Debian LibTorch)
// and on CUDA builds. "auto" picks CUDA when available.
#include <string>

#include <c10/core/Device.h>

namespace regal {

// name: "auto" | "cpu" | "cuda" | "cuda:N".
// throws regal::Error for an unknown name or when CUDA is asked for but absent.
c10::Device resolve_device(const std::string& name);

// Sets the intra-op thread count (threads <= 0 leaves LibTorch's default).
void set_thread_count(int threads);

// "cpu (2 threads)" or "cuda:0 (NVIDIA H100 ...)" for run reports.
std::string describe_device(const c10::Device& device);

}  // namespace regal
