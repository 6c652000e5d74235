#include "regal/data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <vector>

#include "regal/core/error.h"

namespace regal::data {

namespace fs = std::filesystem;

namespace {

bool is_image_file(const fs::path& path) {
  static const std::set<std::string> extensions = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"};
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extensions.count(extension) > 0;
}

}  // namespace

std::vector<fs::path> image_files_in(const fs::path& dir) {
  REGAL_CHECK(fs::is_directory(dir), "images: ", dir, " is not a directory");
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    // Hidden files (macOS's "._photo.jpg" resource forks) are no images.
    const bool hidden = entry.path().filename().string().front() == '.';
    if (!hidden && entry.is_regular_file() && is_image_file(entry.path())) files.push_back(entry.path());
  }
  REGAL_CHECK(!files.empty(), "images: ", dir, " holds no image file (png, jpg, jpeg, bmp, tif, tiff, webp)");
  // Directory order is unspecified: by name, a selection is reproducible.
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename().string() < b.filename().string(); });
  return files;
}

Dataset open_image_folder(const fs::path& dir, const DatasetInfo& info) {
  std::vector<SampleFiles> files;
  for (const auto& file : image_files_in(dir)) files.push_back({file.filename().string(), file, fs::path()});
  return Dataset(info, "images", std::move(files), LabelMap::identity(info.num_classes()));
}

}  // namespace regal::data
