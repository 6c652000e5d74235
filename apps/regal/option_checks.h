#pragma once
// Validators for count and seed options, and the --device / --threads pair
// every command that runs the net takes. CLI11's PositiveNumber names the
// whole double range in its message; these name the range a user can type.
#include <cstdint>
#include <limits>
#include <string>

#include <CLI/CLI.hpp>

namespace regal::app {

// A count: threads, epochs, episodes, steps, units (1 or more).
inline CLI::Range at_least_one() { return CLI::Range(1, std::numeric_limits<int>::max()); }

// A seed (0 or more).
inline CLI::Range seed_range() { return CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()); }

// --device and --threads, which override the config's `device` and `threads`
// (threads stays 0 when the flag is absent).
inline void add_device_options(CLI::App& command, std::string& device, int& threads) {
  command.add_option("--device", device, "cpu | cuda | cuda:N | auto (default: config, else auto)");
  command.add_option("--threads", threads,
                     "CPU threads for LibTorch (default: the config's `threads`; 0 keeps LibTorch's choice, "
                     "raised to every CPU this process may run on where that is 1)")
      ->check(at_least_one());
}

}  // namespace regal::app
