#include "regal/report/run_units.h"

#include <algorithm>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"

namespace regal::report {

namespace fs = std::filesystem;

std::vector<RunUnit> load_run_units(const fs::path& run_dir) {
  std::vector<fs::path> files;
  const fs::path units_dir = run_dir / "units";
  if (fs::exists(units_dir)) {
    for (const auto& entry : fs::directory_iterator(units_dir)) {
      if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
    }
  }
  // Directory order is unspecified: by name, every report of a run is the same.
  std::sort(files.begin(), files.end());
  std::vector<RunUnit> units;
  units.reserve(files.size());
  for (auto& file : files) {
    try {
      units.push_back({file, nlohmann::json::parse(read_file(file))});
    } catch (const nlohmann::json::exception& e) {
      REGAL_FAIL(file, " is not valid JSON (", e.what(), "); remove it and run `regal experiment` again to redo the unit");
    }
  }
  return units;
}

}  // namespace regal::report
