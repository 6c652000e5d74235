#include "regal/experiment/results_table.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "regal/core/atomic_file.h"
#include "regal/core/csv_table.h"
#include "regal/core/error.h"

namespace regal::experiment {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

nlohmann::json number_or_null(double value) { return std::isnan(value) ? nlohmann::json(nullptr) : nlohmann::json(value); }

std::string csv_number(double value) { return std::isnan(value) ? "" : format_number(value); }

Statistic statistic_of(const std::vector<double>& all_values) {
  std::vector<double> values;
  std::copy_if(all_values.begin(), all_values.end(), std::back_inserter(values),
               [](double v) { return !std::isnan(v); });
  if (values.empty()) return {kNaN, kNaN};
  double sum = 0.0;
  for (const double v : values) sum += v;
  const double mean = sum / static_cast<double>(values.size());
  if (values.size() < 2) return {mean, kNaN};
  double squares = 0.0;
  for (const double v : values) squares += (v - mean) * (v - mean);
  return {mean, std::sqrt(squares / static_cast<double>(values.size() - 1))};
}

nlohmann::json statistic_json(const Statistic& s) { return {{"mean", number_or_null(s.mean)}, {"std", number_or_null(s.std)}}; }

// Where each of `classes` sits in a unit's own class list: units written by
// older versions list their classes alphabetically, newer ones in the
// dataset's order. throws: regal::Error when the unit has other classes.
std::vector<size_t> class_positions(const UnitResult& unit, const std::vector<std::string>& classes) {
  REGAL_CHECK(unit.classes.size() == classes.size() &&
                  std::is_permutation(unit.classes.begin(), unit.classes.end(), classes.begin()),
              "results: unit ", unit.method, " ", unit.budget, " seed ", unit.seed,
              " has other classes than the first unit");
  std::vector<size_t> positions;
  for (const auto& name : classes) {
    positions.push_back(static_cast<size_t>(std::find(unit.classes.begin(), unit.classes.end(), name) -
                                            unit.classes.begin()));
  }
  return positions;
}

// The column order: the dataset's, from the first unit that recorded it.
// requires: units not empty.
const std::vector<std::string>& class_order(const std::vector<UnitResult>& units) {
  const auto recorded = std::find_if(units.begin(), units.end(), [](const UnitResult& u) { return u.dataset_order; });
  return recorded != units.end() ? recorded->classes : units.front().classes;
}

size_t method_rank(const std::string& method, const std::vector<std::string>& order) {
  return static_cast<size_t>(std::find(order.begin(), order.end(), method) - order.begin());
}

}  // namespace

const std::vector<std::string>& unit_metric_names() {
  static const std::vector<std::string> names = {"val_miou",   "val_wiou", "val_rare_miou", "train_miou",
                                                 "train_loss", "dr_loss",  "val_loss",      "seconds"};
  return names;
}

UnitResult unit_result_from_json(const nlohmann::json& json, const std::string& source) {
  try {
    UnitResult unit;
    unit.method = json.at("method").get<std::string>();
    unit.budget = json.at("budget").get<std::string>();
    unit.budget_regions = json.at("budget_regions").get<int64_t>();
    unit.seed = json.at("seed").get<uint64_t>();
    for (const auto& name : unit_metric_names()) {
      const auto& value = name == "seconds" ? json.at("seconds").at("total") : json.at(name);
      unit.metrics[name] = value.is_null() ? kNaN : value.get<double>();
    }
    // "classes" holds the dataset's order; val_iou, a JSON object, comes back sorted by name.
    const auto& per_class = json.at("val_iou");
    unit.dataset_order = json.contains("classes");
    if (unit.dataset_order) {
      unit.classes = json.at("classes").get<std::vector<std::string>>();
    } else {
      for (const auto& item : per_class.items()) unit.classes.push_back(item.key());
    }
    for (const auto& name : unit.classes) {
      const auto& value = per_class.at(name);
      unit.class_iou.push_back(value.is_null() ? kNaN : value.get<double>());
    }
    if (const auto digests = json.find("digests"); digests != json.end()) {
      const auto digest_of = [&](const char* key) {
        return digests->contains(key) && digests->at(key).is_string() ? digests->at(key).get<std::string>()
                                                                      : std::string();
      };
      unit.pretrained_digest = digest_of("pretrained");
      unit.policy_digest = digest_of("policy");
    }
    return unit;
  } catch (const nlohmann::json::exception& e) {
    REGAL_FAIL(source, ": not a complete unit result (", e.what(), ")");
  }
}

std::vector<SummaryRow> summarize(const std::vector<UnitResult>& units, const std::vector<std::string>& method_order) {
  std::vector<SummaryRow> rows;
  if (units.empty()) return rows;
  const auto& classes = class_order(units);
  std::map<std::tuple<size_t, std::string, int64_t, std::string>, std::vector<const UnitResult*>> groups;
  std::map<const UnitResult*, std::vector<size_t>> positions;
  for (const auto& unit : units) {
    positions[&unit] = class_positions(unit, classes);
    groups[{method_rank(unit.method, method_order), unit.method, unit.budget_regions, unit.budget}].push_back(&unit);
  }
  for (const auto& [key, members] : groups) {
    SummaryRow row;
    row.method = std::get<1>(key);
    row.budget_regions = std::get<2>(key);
    row.budget = std::get<3>(key);
    for (const auto* unit : members) row.seeds.push_back(unit->seed);
    std::sort(row.seeds.begin(), row.seeds.end());
    for (const auto& name : unit_metric_names()) {
      std::vector<double> values;
      for (const auto* unit : members) values.push_back(unit->metrics.at(name));
      row.metrics[name] = statistic_of(values);
    }
    for (size_t c = 0; c < classes.size(); ++c) {
      std::vector<double> values;
      for (const auto* unit : members) values.push_back(unit->class_iou[positions.at(unit)[c]]);
      row.class_iou.push_back(statistic_of(values));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

void write_results(const std::filesystem::path& dir, std::vector<UnitResult> units,
                   const std::vector<std::string>& method_order, const nlohmann::json& extra) {
  std::sort(units.begin(), units.end(), [&](const UnitResult& a, const UnitResult& b) {
    return std::make_tuple(method_rank(a.method, method_order), a.method, a.budget_regions, a.seed) <
           std::make_tuple(method_rank(b.method, method_order), b.method, b.budget_regions, b.seed);
  });
  const auto summary = summarize(units, method_order);
  const std::vector<std::string> classes = units.empty() ? std::vector<std::string>{} : class_order(units);

  std::vector<std::string> unit_header = {"method", "budget", "budget_regions", "seed"};
  for (const auto& name : unit_metric_names()) unit_header.push_back(name);
  for (const auto& name : classes) unit_header.push_back("iou_" + name);
  CsvTable unit_table(unit_header);
  nlohmann::json unit_json = nlohmann::json::array();
  for (const auto& unit : units) {
    std::vector<std::string> row = {unit.method, unit.budget, std::to_string(unit.budget_regions),
                                    std::to_string(unit.seed)};
    nlohmann::json entry = {{"method", unit.method},
                            {"budget", unit.budget},
                            {"budget_regions", unit.budget_regions},
                            {"seed", unit.seed}};
    for (const auto& name : unit_metric_names()) {
      row.push_back(csv_number(unit.metrics.at(name)));
      entry[name] = number_or_null(unit.metrics.at(name));
    }
    nlohmann::json per_class = nlohmann::json::object();
    const auto position = class_positions(unit, classes);
    for (size_t c = 0; c < classes.size(); ++c) {
      const double iou = unit.class_iou[position[c]];
      row.push_back(csv_number(iou));
      per_class[classes[c]] = number_or_null(iou);
    }
    entry["val_iou"] = per_class;
    unit_table.add_row(std::move(row));
    unit_json.push_back(std::move(entry));
  }

  std::vector<std::string> summary_header = {"method", "budget", "budget_regions", "seeds"};
  for (const auto& name : unit_metric_names()) {
    summary_header.push_back(name + "_mean");
    summary_header.push_back(name + "_std");
  }
  for (const auto& name : classes) {
    summary_header.push_back("iou_" + name + "_mean");
    summary_header.push_back("iou_" + name + "_std");
  }
  CsvTable summary_table(summary_header);
  nlohmann::json summary_json = nlohmann::json::array();
  for (const auto& row : summary) {
    std::vector<std::string> values = {row.method, row.budget, std::to_string(row.budget_regions),
                                       std::to_string(row.seeds.size())};
    nlohmann::json entry = {{"method", row.method},
                            {"budget", row.budget},
                            {"budget_regions", row.budget_regions},
                            {"seeds", row.seeds}};
    for (const auto& name : unit_metric_names()) {
      const auto& s = row.metrics.at(name);
      values.push_back(csv_number(s.mean));
      values.push_back(csv_number(s.std));
      entry[name] = statistic_json(s);
    }
    nlohmann::json per_class = nlohmann::json::object();
    for (size_t c = 0; c < classes.size(); ++c) {
      values.push_back(csv_number(row.class_iou[c].mean));
      values.push_back(csv_number(row.class_iou[c].std));
      per_class[classes[c]] = statistic_json(row.class_iou[c]);
    }
    entry["val_iou"] = per_class;
    summary_table.add_row(std::move(values));
    summary_json.push_back(std::move(entry));
  }

  nlohmann::json results = extra.is_null() ? nlohmann::json::object() : extra;
  results["classes"] = classes;
  results["std"] = "sample standard deviation over seeds (n - 1); null with one seed";
  results["units"] = unit_json;
  results["summary"] = summary_json;
  unit_table.save(dir / "results.csv");
  summary_table.save(dir / "summary.csv");
  write_file_atomically(dir / "results.json", results.dump(2) + "\n");
}

}  // namespace regal::experiment
