#include "regal/report/run_units.h"

#include <algorithm>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "regal/experiment/results_table.h"

namespace regal::report {

namespace fs = std::filesystem;

std::vector<RunUnit> load_run_units(const fs::path& run_dir) {
  std::vector<fs::path> files;
  const fs::path units_dir = run_dir / "units";
  if (fs::exists(units_dir)) {
    for (const auto& entry : fs::directory_iterator(units_dir)) {
      // A killed write's temp file (units/<id>.tmp<pid>.json) is no result.
      if (entry.is_regular_file() && entry.path().extension() == ".json" && !is_atomic_write_temp(entry.path())) {
        files.push_back(entry.path());
      }
    }
  }
  // Directory order is unspecified: by name, every report of a run is the same.
  std::sort(files.begin(), files.end());
  std::vector<RunUnit> units;
  units.reserve(files.size());
  for (auto& file : files) {
    const std::string redo = "; remove it and run `regal experiment` again to redo the unit";
    try {
      units.push_back({file, nlohmann::json::parse(read_file(file))});
    } catch (const nlohmann::json::exception& e) {
      REGAL_FAIL(file, " is not valid JSON (", e.what(), ")", redo);
    }
    // The fields every table and figure reads, checked here so that a damaged
    // file is named rather than failing somewhere inside a figure.
    try {
      experiment::unit_result_from_json(units.back().result, file.string());
    } catch (const Error& e) {
      REGAL_FAIL(e.what(), redo);
    }
  }
  return units;
}

}  // namespace regal::report
