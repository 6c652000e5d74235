// Loading YAML files for every section of a config.
#include "regal/experiment/config.h"

#include <system_error>

#include "regal/core/error.h"

namespace regal::experiment {

YAML::Node load_yaml(const std::filesystem::path& file) {
  std::error_code ec;
  REGAL_CHECK(std::filesystem::is_regular_file(file, ec), "config file ", file, " not found");
  try {
    return YAML::LoadFile(file.string());
  } catch (const YAML::ParserException& e) {
    // yaml-cpp's marks are 0-based; editors count from 1.
    if (e.mark.is_null()) REGAL_FAIL(file.string(), ": YAML parse error: ", e.msg);
    REGAL_FAIL(file.string(), ":", e.mark.line + 1, ":", e.mark.column + 1, ": YAML parse error: ", e.msg);
  } catch (const YAML::Exception& e) {
    REGAL_FAIL("cannot read config file ", file, ": ", e.what());
  }
}

}  // namespace regal::experiment
