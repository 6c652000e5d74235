#include "support/test_support.h"

#include <random>
#include <unistd.h>

namespace regal::testing {

ScratchDir::ScratchDir(const std::string& tag) {
  std::random_device device;
  const auto base = std::filesystem::temp_directory_path();
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = base / ("regal-test-" + tag + "-" + std::to_string(::getpid()) + "-" +
                             std::to_string(device()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("could not create a scratch directory under " + base.string());
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path golden_dir() { return REGAL_GOLDEN_DIR; }

}  // namespace regal::testing
