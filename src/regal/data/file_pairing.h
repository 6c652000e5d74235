#pragma once
// Shared by the loaders: finding image and label files on disk and pairing
// them, so that every loader reports a missing root, a missing partner file
// or an empty split the same way. Nothing is skipped silently: every file
// without its partner becomes one problem, and all of them are thrown together.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "regal/core/error.h"
#include "regal/data/dataset.h"

namespace regal::data {

// Thrown when a split's files do not pair up. what() lists every problem;
// problems() gives them one by one (inspect-dataset reports each).
class DatasetFilesError : public Error {
 public:
  DatasetFilesError(const std::string& context, std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

// requires: nothing. throws regal::Error "<what> <dir> does not exist" (or is
// not a directory).
void require_directory(const std::filesystem::path& dir, const std::string& what);

// Sorted names of the immediate subdirectories of `dir` (split folders).
// requires: `dir` is a directory.
std::vector<std::string> subdirectory_names(const std::filesystem::path& dir);

enum class Search { kFlat, kRecursive };

// Regular files under `dir` whose name ends with `suffix`, keyed by their path
// relative to `dir` without the suffix ("aachen/aachen_000000_000019").
// requires: `dir` is a directory. ensures: keys sorted (std::map), so order is
// deterministic.
using FilesByKey = std::map<std::string, std::filesystem::path>;
FilesByKey files_by_key(const std::filesystem::path& dir, const std::string& suffix, Search search);

// Pairs images and labels that share a key; the sample id is the key's last
// path component. ensures: result in key order; every image without a label
// and every label without an image appended to `problems`, naming the file.
std::vector<SampleFiles> pair_by_key(const FilesByKey& images, const FilesByKey& labels,
                                     std::vector<std::string>& problems);

// The last step of every loader. throws DatasetFilesError when `problems` is
// non-empty, regal::Error naming `split` and `directory` when `files` is empty.
void require_complete_split(const std::vector<SampleFiles>& files,
                            std::vector<std::string> problems, const std::string& split,
                            const std::filesystem::path& directory);

}  // namespace regal::data
