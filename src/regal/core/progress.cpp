#include "regal/core/progress.h"

#include <algorithm>
#include <cstdio>
#include <unistd.h>

#include <fmt/format.h>

namespace regal {

namespace {
// Non-terminal output gets a line at most this often, so CI logs stay short.
constexpr double kLogIntervalSeconds = 10.0;
constexpr double kTerminalIntervalSeconds = 0.2;
constexpr int kBarWidth = 24;
}  // namespace

std::string format_duration(double seconds) {
  if (seconds < 60.0) return fmt::format("{:.1f}s", seconds);
  const auto whole = static_cast<int64_t>(seconds);
  if (whole < 3600) return fmt::format("{}m{:02d}s", whole / 60, static_cast<int>(whole % 60));
  return fmt::format("{}h{:02d}m", whole / 3600, static_cast<int>((whole % 3600) / 60));
}

Progress::Progress(std::string label, int64_t total)
    : label_(std::move(label)),
      total_(total),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_),
      is_terminal_(::isatty(::fileno(stderr)) != 0) {}

Progress::~Progress() {
  if (!finished_ && is_terminal_ && done_ > 0) {
    std::fputc('\n', stderr);  // leave the cursor on a fresh line after an exception
  }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double Progress::elapsed_seconds() const {
  return seconds_since(start_);
}

void Progress::advance(int64_t units, const std::string& detail) {
  done_ += units;
  if (!detail.empty()) detail_ = detail;
  const auto now = std::chrono::steady_clock::now();
  const double since_draw = std::chrono::duration<double>(now - last_draw_).count();
  if (since_draw >= (is_terminal_ ? kTerminalIntervalSeconds : kLogIntervalSeconds)) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::finish(const std::string& detail) {
  if (!detail.empty()) detail_ = detail;
  finished_ = true;
  draw(true);
}

void Progress::draw(bool final_line) {
  const double elapsed = elapsed_seconds();
  const double fraction = total_ > 0 ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  const int filled = static_cast<int>(fraction * kBarWidth);
  std::string bar(static_cast<size_t>(std::max(0, std::min(kBarWidth, filled))), '#');
  bar.resize(kBarWidth, '.');
  std::string timing;
  if (final_line) {
    timing = "took " + format_duration(elapsed);
  } else if (done_ > 0) {
    const double rate = static_cast<double>(done_) / elapsed;
    timing = fmt::format("{:.2f}/s, ETA {}", rate,
                         format_duration(static_cast<double>(total_ - done_) / rate));
  }
  const std::string line = fmt::format("{} [{}] {}/{} {} {}", label_, bar, done_, total_, timing, detail_);
  if (is_terminal_) {
    std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), final_line ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

}  // namespace regal
