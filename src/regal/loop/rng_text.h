#pragma once
// The state of a std::mt19937_64 as text, for checkpoints that must continue
// the same random sequence after a restart.
#include <filesystem>
#include <random>
#include <sstream>
#include <string>

#include "regal/core/error.h"

namespace regal::loop {

inline std::string rng_to_string(const std::mt19937_64& rng) {
  std::ostringstream out;
  out << rng;
  return out.str();
}

// throws: regal::Error naming `file` when the text is not a generator state.
inline void rng_from_string(std::mt19937_64& rng, const std::string& text, const std::filesystem::path& file) {
  std::istringstream in(text);
  in >> rng;
  REGAL_CHECK(!in.fail(), file, ": the saved random generator state is corrupt");
}

}  // namespace regal::loop
