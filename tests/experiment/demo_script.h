// What `make demo` (scripts/demo.sh) does with a refusal of regal experiment:
// it keeps the old run directory and starts over only on the messages its
// pattern matches, so every refusal that a newer regal (new scenes, a changed
// config, pretraining made again) can cause must match it.
#pragma once

#include <regex>
#include <string>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "support/test_support.h"

namespace regal::testing {

// Whether scripts/demo.sh starts its experiment over after a refusal reading
// `message`: its pattern is matched as grep -E reads it (POSIX extended).
// throws: regal::Error when the script holds no `restart_pattern="..."`.
inline bool demo_starts_over_on(const std::string& message) {
  const std::string script = read_file(source_dir() / "scripts" / "demo.sh");
  const std::string marker = "\nrestart_pattern=\"";
  const auto begin = script.find(marker);
  REGAL_CHECK(begin != std::string::npos, "scripts/demo.sh: no restart_pattern");
  const auto first = begin + marker.size();
  const auto end = script.find('"', first);
  REGAL_CHECK(end != std::string::npos, "scripts/demo.sh: unterminated restart_pattern");
  return std::regex_search(message, std::regex(script.substr(first, end - first), std::regex::extended));
}

}  // namespace regal::testing
