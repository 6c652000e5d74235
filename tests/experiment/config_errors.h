#pragma once
// The message load_run_config gives for a config text, for tests of config
// errors ("" when the text loads).
#include <string>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "regal/experiment/config.h"
#include "support/test_support.h"

namespace regal::experiment {

inline std::string load_error(const std::string& yaml) {
  testing::ScratchDir dir("config");
  const auto file = dir.path() / "bad.yaml";
  write_file_atomically(file, yaml);
  try {
    load_run_config(file);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace regal::experiment
