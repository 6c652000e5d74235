#pragma once
// Reading the JSON files runs write (results, checkpoints' progress, records),
// with an error that names the file: a run directory damaged by hand or by a
// full disk must say which file to remove, not print a bare parser message.
#include <filesystem>

#include <nlohmann/json.hpp>

namespace regal {

// The parsed contents of `file`.
// throws: regal::Error naming the file when it cannot be read or is not JSON.
nlohmann::json read_json_file(const std::filesystem::path& file);

}  // namespace regal
