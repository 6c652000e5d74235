#pragma once
// Helpers shared by the test executables: scratch directories and the
// location of the golden reference vectors.
#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace regal::testing {

// A fresh, empty directory under the system temp dir, removed on destruction.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Writes a small `folder` dataset (dataset.json, images/, labels/) with one
// split `split` of `count` images of height x width: vertical colour bands,
// each band's class readable from its colour, so a net can learn it.
void write_band_dataset(const std::filesystem::path& root, const std::string& split, int count, int height,
                        int width, int num_classes, unsigned seed);

// ../shared/golden as configured at build time.
std::filesystem::path golden_dir();

// The project's source directory (scripts/, configs/), as configured at build time.
std::filesystem::path source_dir();

// Parses golden_dir()/name. throws: std::runtime_error naming the path when
// the file cannot be opened (nlohmann's parse_error when it is no JSON).
nlohmann::json load_golden(const std::string& name);

}  // namespace regal::testing
