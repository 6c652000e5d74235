#pragma once
// Atomic writes: every file a run writes goes to "<stem>.tmp<pid><extension>"
// first, is flushed to disk (fsync) and is renamed over the target, then the
// directory is flushed: neither a crash nor a power loss leaves a torn file.
#include <filesystem>
#include <functional>
#include <string>

namespace regal {

// Writes `contents` to `path` atomically. Creates parent directories.
// Throws regal::Error naming the path when writing or renaming fails.
void write_file_atomically(const std::filesystem::path& path, const std::string& contents);

// Calls `write(temp_path)` to produce the file, then renames it onto `path`.
// For writers that only take a file name (torch::save, cv::imwrite).
void write_atomically_with(const std::filesystem::path& path,
                           const std::function<void(const std::filesystem::path&)>& write);

// Copies the regular files directly in `from` (not its subdirectories) into a
// new directory `to`, all at once: they are copied into a temporary sibling of
// `to` that is then renamed, so `to` never exists half-filled. When `to`
// exists already (another process got there first) it is left as it is.
// throws: regal::Error naming the path when `from` is no directory or copying fails.
void copy_files_atomically(const std::filesystem::path& from, const std::filesystem::path& to);

// Whether `path` is named like the temporary file of an atomic write
// ("<stem>.tmp<pid><extension>"): one is left behind when a process is killed
// between writing and renaming it, so code that lists a directory for results
// skips these names.
bool is_atomic_write_temp(const std::filesystem::path& path);

// Reads a whole file; throws regal::Error naming it when it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace regal
