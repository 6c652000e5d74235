#include "regal/core/json_file.h"

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"

namespace regal {

nlohmann::json read_json_file(const std::filesystem::path& file) {
  const std::string text = read_file(file);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    REGAL_FAIL(file, " is not valid JSON (", e.what(), ")");
  }
}

}  // namespace regal
