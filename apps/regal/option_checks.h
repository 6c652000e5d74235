#pragma once
// Validators for count and seed options. CLI11's PositiveNumber names the
// whole double range in its message; these name the range a user can type.
#include <cstdint>
#include <limits>

#include <CLI/CLI.hpp>

namespace regal::app {

// A count: threads, epochs, episodes, steps, units (1 or more).
inline CLI::Range at_least_one() { return CLI::Range(1, std::numeric_limits<int>::max()); }

// A seed (0 or more).
inline CLI::Range seed_range() { return CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()); }

}  // namespace regal::app
