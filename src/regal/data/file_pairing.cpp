#include "regal/data/file_pairing.h"

#include <algorithm>
#include <system_error>
#include <utility>

#include "regal/core/strings.h"

namespace regal::data {
namespace fs = std::filesystem;

namespace {

// The message stays one readable line however many files are broken; the full
// list is in problems().
constexpr size_t kProblemsInMessage = 5;

std::string summarise(const std::string& context, const std::vector<std::string>& problems) {
  std::string message = context + ": " + std::to_string(problems.size()) + " file problem" +
                        (problems.size() == 1 ? "" : "s") + ": ";
  const size_t shown = std::min(problems.size(), kProblemsInMessage);
  for (size_t i = 0; i < shown; ++i) {
    message += (i == 0 ? "" : "; ") + problems[i];
  }
  if (problems.size() > shown) {
    message += "; ... and " + std::to_string(problems.size() - shown) + " more";
  }
  return message;
}


template <typename Iterator>
void collect_files(Iterator entries, const fs::path& dir, const std::string& suffix,
                   FilesByKey& files) {
  for (const auto& entry : entries) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || !ends_with(name, suffix)) {
      continue;
    }
    const std::string relative = entry.path().lexically_relative(dir).generic_string();
    files.emplace(relative.substr(0, relative.size() - suffix.size()), entry.path());
  }
}

}  // namespace

DatasetFilesError::DatasetFilesError(const std::string& context, std::vector<std::string> problems)
    : Error(summarise(context, problems)), problems_(std::move(problems)) {}

void require_directory(const fs::path& dir, const std::string& what) {
  std::error_code ec;
  const auto status = fs::status(dir, ec);
  REGAL_CHECK(fs::exists(status), what, " ", dir, " does not exist");
  REGAL_CHECK(fs::is_directory(status), what, " ", dir, " is not a directory");
}

std::vector<std::string> subdirectory_names(const fs::path& dir) {
  std::vector<std::string> names;
  try {
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.is_directory()) {
        names.push_back(entry.path().filename().string());
      }
    }
  } catch (const fs::filesystem_error& e) {
    REGAL_FAIL("cannot list directory ", dir, ": ", e.code().message());
  }
  std::sort(names.begin(), names.end());
  return names;
}

FilesByKey files_by_key(const fs::path& dir, const std::string& suffix, Search search) {
  FilesByKey files;
  try {
    if (search == Search::kRecursive) {
      // Datasets are often assembled from symlinked folders (one link per
      // city); a link loop ends in an error naming the folder (ELOOP or a
      // name too long), not in a hang.
      collect_files(fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink), dir,
                    suffix, files);
    } else {
      collect_files(fs::directory_iterator(dir), dir, suffix, files);
    }
  } catch (const fs::filesystem_error& e) {
    // Permission problems surface here; they deserve a message naming the folder.
    REGAL_FAIL("cannot list directory ", dir, ": ", e.code().message());
  }
  return files;
}

std::vector<SampleFiles> pair_by_key(const FilesByKey& images, const FilesByKey& labels,
                                     std::vector<std::string>& problems) {
  std::vector<SampleFiles> samples;
  samples.reserve(images.size());
  for (const auto& [key, image] : images) {
    const auto label = labels.find(key);
    if (label == labels.end()) {
      problems.push_back(detail::concat("image ", image, " has no label file"));
      continue;
    }
    samples.push_back({fs::path(key).filename().string(), image, label->second});
  }
  for (const auto& [key, label] : labels) {
    if (images.count(key) == 0) {
      problems.push_back(detail::concat("label ", label, " has no image file"));
    }
  }
  return samples;
}

void require_complete_split(const std::vector<SampleFiles>& files,
                            std::vector<std::string> problems, const std::string& split,
                            const fs::path& directory) {
  if (!problems.empty()) {
    throw DatasetFilesError("split '" + split + "' in " + directory.string(), std::move(problems));
  }
  REGAL_CHECK(!files.empty(), "split '", split, "' is empty: no samples found in ", directory);
}

}  // namespace regal::data
