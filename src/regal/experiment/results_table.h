#pragma once
// The results of an experiment: one row per (method, budget, seed) unit, read
// from the units' result JSON (loop/evaluation_run.h), and their mean and
// standard deviation over seeds per (method, budget). Written as
// results.json, results.csv (one row per unit) and summary.csv (one row per
// method and budget), the files the figures and the report are drawn from.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace regal::experiment {

// The scalar metrics of a unit, in column order.
const std::vector<std::string>& unit_metric_names();  // val_miou, val_wiou, val_rare_miou, ...

struct UnitResult {
  std::string method;
  std::string budget;
  int64_t budget_regions = 0;
  uint64_t seed = 0;
  std::map<std::string, double> metrics;      // unit_metric_names() -> value
  std::vector<std::string> classes;           // class names, the dataset's order (older units: by name)
  bool dataset_order = false;                 // the unit recorded its classes (not read off val_iou's names)
  std::vector<double> class_iou;              // NaN: class absent from ground truth and prediction
  // Digests of the pretrained net and the policy the unit started from;
  // empty when it had no policy or an older regal did not record them.
  std::string pretrained_digest;
  std::string policy_digest;
};

// requires: a result JSON of loop::run_evaluation, its "method" replaced by
// the experiment's method name (ralis-miou, ...) and "seconds" present.
// throws: regal::Error naming `source` (the file) and the missing key.
UnitResult unit_result_from_json(const nlohmann::json& json, const std::string& source);

struct Statistic {
  double mean = 0.0;
  double std = 0.0;  // sample standard deviation (n - 1); NaN with one seed
};

struct SummaryRow {
  std::string method;
  std::string budget;
  int64_t budget_regions = 0;
  std::vector<uint64_t> seeds;
  std::map<std::string, Statistic> metrics;  // unit_metric_names() -> statistic
  std::vector<Statistic> class_iou;          // per class; a class's NaN seeds are left out
};

// Mean and std over seeds per (method, budget). Rows come in `method_order`
// (methods not in it after, by name), budgets by region count.
// Per-class columns follow the class order of the first unit that recorded
// it (else the first unit's); the other units' IoUs are matched by name.
// requires: units of one dataset (same classes). throws: regal::Error otherwise.
std::vector<SummaryRow> summarize(const std::vector<UnitResult>& units, const std::vector<std::string>& method_order);

// Writes results.json, results.csv and summary.csv into `dir` (atomically).
// `units` are written in the same order as the summary.
void write_results(const std::filesystem::path& dir, std::vector<UnitResult> units,
                   const std::vector<std::string>& method_order, const nlohmann::json& extra);

}  // namespace regal::experiment
