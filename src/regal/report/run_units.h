#pragma once
// The finished units of an experiment run directory: units/<id>.json, each
// the result JSON of one (method, budget, seed) unit (loop/evaluation_run.h).
// Loaded once per report and shared by the figures, the gallery and the page.
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

namespace regal::report {

struct RunUnit {
  std::filesystem::path file;  // units/<id>.json; its predictions are in units/<id>.predictions
  nlohmann::json result;
};

// Every units/*.json of `run_dir`, by file name (empty when units/ is missing).
// throws: regal::Error naming the file that is not valid JSON.
std::vector<RunUnit> load_run_units(const std::filesystem::path& run_dir);

}  // namespace regal::report
