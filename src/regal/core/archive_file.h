#pragma once
// LibTorch archives (checkpoints, policies, saved tensors) written atomically
// with the same bytes whatever the file is called. Saved to a file name,
// LibTorch names the records inside the zip after that file; written to its
// temporary "<stem>.tmp<pid>.pt" first, two runs that computed the same
// weights wrote different files, and the digests regal keys caches and
// resume checks on told them apart. Saved to a stream, every record is
// under "archive/".
#include <filesystem>
#include <vector>

#include <ATen/Tensor.h>
#include <torch/serialize/output-archive.h>

namespace regal {

// Writes `archive` to `path` atomically (see atomic_file.h).
// throws: regal::Error naming the path when LibTorch or the write fails.
void save_archive_atomically(const std::filesystem::path& path, torch::serialize::OutputArchive& archive);

// torch::save(tensor) / torch::save(tensors) into `path`, the same way.
void save_tensor_atomically(const std::filesystem::path& path, const at::Tensor& tensor);
void save_tensors_atomically(const std::filesystem::path& path, const std::vector<at::Tensor>& tensors);

}  // namespace regal
