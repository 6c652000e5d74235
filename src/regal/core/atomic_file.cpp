#include "regal/core/atomic_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include "regal/core/error.h"

namespace regal {
namespace fs = std::filesystem;

namespace {
fs::path temp_name_for(const fs::path& path) {
  // The extension is kept last so that writers choosing a format by extension
  // (cv::imwrite) still see ".png".
  return path.parent_path() /
         (path.stem().string() + ".tmp" + std::to_string(::getpid()) + path.extension().string());
}
// Flushes a file's (or a directory's) data to the disk. Without it a machine
// that goes down right after a rename can leave the new name on an empty or
// partial file: a checkpoint the resume then cannot read. Best effort for
// directories (some file systems refuse to fsync them).
void sync_to_disk(const fs::path& path, bool is_directory) {
  const int fd = ::open(path.c_str(), (is_directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) {
    REGAL_CHECK(is_directory, "cannot open ", path, " to flush it to disk: ", std::strerror(errno));
    return;
  }
  const int status = ::fsync(fd);
  const int fsync_errno = errno;
  ::close(fd);
  REGAL_CHECK(status == 0 || is_directory, "flushing ", path, " to disk failed: ", std::strerror(fsync_errno));
}
}  // namespace

bool is_atomic_write_temp(const fs::path& path) {
  const std::string marker = fs::path(path.stem()).extension().string();  // ".tmp<pid>"
  return marker.size() > 4 && marker.compare(0, 4, ".tmp") == 0 &&
         std::all_of(marker.begin() + 4, marker.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void write_atomically_with(const fs::path& path,
                           const std::function<void(const fs::path&)>& write) {
  if (path.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    REGAL_CHECK(!ec, "cannot create directory ", path.parent_path(), ": ", ec.message());
  }
  const fs::path temp = temp_name_for(path);
  try {
    write(temp);
    sync_to_disk(temp, false);
  } catch (...) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw;
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) {
    fs::remove(temp, ec);
    REGAL_FAIL("cannot move ", temp, " onto ", path, ": ", ec.message());
  }
  sync_to_disk(path.has_parent_path() ? path.parent_path() : fs::path("."), true);
}

void write_file_atomically(const fs::path& path, const std::string& contents) {
  write_atomically_with(path, [&](const fs::path& temp) {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    REGAL_CHECK(out.good(), "cannot open ", temp, " for writing");
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    REGAL_CHECK(out.good(), "writing ", temp, " failed (disk full?)");
  });
}

void copy_files_atomically(const fs::path& from, const fs::path& to) {
  REGAL_CHECK(fs::is_directory(from), "cannot copy ", from, ": not a directory");
  if (fs::exists(to)) return;
  std::error_code ec;
  if (to.has_parent_path()) {
    fs::create_directories(to.parent_path(), ec);
    REGAL_CHECK(!ec, "cannot create directory ", to.parent_path(), ": ", ec.message());
  }
  const fs::path temp = to.parent_path() / (to.filename().string() + ".tmp" + std::to_string(::getpid()));
  fs::remove_all(temp, ec);
  try {
    fs::create_directory(temp);
    for (const auto& entry : fs::directory_iterator(from)) {
      if (entry.is_regular_file()) {
        fs::copy_file(entry.path(), temp / entry.path().filename());
        sync_to_disk(temp / entry.path().filename(), false);
      }
    }
    sync_to_disk(temp, true);
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(temp, ec);
    REGAL_FAIL("cannot copy ", from, " to ", temp, ": ", e.what());
  } catch (const Error&) {
    fs::remove_all(temp, ec);
    throw;
  }
  fs::rename(temp, to, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove_all(temp, ignored);
    // Another process may have renamed its copy onto `to` in between: that one stands.
    REGAL_CHECK(fs::exists(to), "cannot move ", temp, " onto ", to, ": ", ec.message());
    return;
  }
  sync_to_disk(to.has_parent_path() ? to.parent_path() : fs::path("."), true);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REGAL_CHECK(in.good(), "cannot open ", path, " for reading");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace regal
