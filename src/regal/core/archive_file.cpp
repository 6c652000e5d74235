#include "regal/core/archive_file.h"

#include <sstream>
#include <string>

#include <torch/serialize.h>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"

namespace regal {
namespace {

template <typename Save>
void save_through_memory(const std::filesystem::path& path, const Save& save) {
  std::ostringstream bytes;
  try {
    save(bytes);
  } catch (const c10::Error& e) {
    REGAL_FAIL("cannot write ", path, ": ", e.what_without_backtrace());
  }
  write_file_atomically(path, bytes.str());
}

}  // namespace

void save_archive_atomically(const std::filesystem::path& path, torch::serialize::OutputArchive& archive) {
  save_through_memory(path, [&](std::ostream& bytes) { archive.save_to(bytes); });
}

void save_tensor_atomically(const std::filesystem::path& path, const at::Tensor& tensor) {
  save_through_memory(path, [&](std::ostream& bytes) { torch::save(tensor, bytes); });
}

void save_tensors_atomically(const std::filesystem::path& path, const std::vector<at::Tensor>& tensors) {
  save_through_memory(path, [&](std::ostream& bytes) { torch::save(tensors, bytes); });
}

}  // namespace regal
