#pragma once
// A progress line with rate and ETA for long work. On a terminal it redraws
// one line; otherwise (logs, CI) it prints a line every few seconds.
#include <chrono>
#include <cstdint>
#include <string>

namespace regal {

class Progress {
 public:
  // total: number of units (images, steps); label: what is being done.
  Progress(std::string label, int64_t total);
  ~Progress();

  // Adds `units` done; `detail` (e.g. "loss 0.41") is shown after the bar.
  void advance(int64_t units = 1, const std::string& detail = "");
  // Prints the final line with the elapsed time.
  void finish(const std::string& detail = "");

  double elapsed_seconds() const;

 private:
  void draw(bool final_line);

  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  std::string detail_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  bool is_terminal_;
  bool finished_ = false;
};

// "1h02m", "3m05s", "12.3s".
std::string format_duration(double seconds);

// Seconds of the steady clock since `start`: every timing regal reports.
double seconds_since(std::chrono::steady_clock::time_point start);

}  // namespace regal
