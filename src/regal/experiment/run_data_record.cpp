#include "regal/experiment/run_data_record.h"

#include <spdlog/spdlog.h>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "regal/data/dataset_fingerprint.h"

namespace regal::experiment {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRecordFile = "data.json";
constexpr const char* kFingerprintNote =
    "FNV-1a 64 over the dataset name, the split, the class names and each sample's id and image and label file "
    "sizes (not their contents)";

nlohmann::json describe_all(const std::vector<RunSplit>& splits) {
  nlohmann::json described = nlohmann::json::object();
  for (const auto& split : splits) {
    REGAL_CHECK(split.dataset != nullptr, "run data: split '", split.role, "' has no dataset");
    described[split.role] = data::describe_split(split.spec, *split.dataset);
  }
  return described;
}

nlohmann::json read_record(const fs::path& file) {
  nlohmann::json record;
  try {
    record = nlohmann::json::parse(read_file(file));
  } catch (const nlohmann::json::exception& e) {
    REGAL_FAIL(file, " is not valid JSON (", e.what(), "); it records which data the run was trained on: "
               "restore it, or start a new run directory");
  }
  REGAL_CHECK(record.is_object() && record.contains("splits") && record["splits"].is_object(), file,
              ": expected an object with a 'splits' object");
  return record;
}

// One line per split that differs, or "" when the recorded split matches.
std::string difference(const fs::path& file, const nlohmann::json& recorded_splits, const std::string& role,
                       const nlohmann::json& current) {
  const std::string now = "now " + current["fingerprint"].get<std::string>() + " with " +
                          std::to_string(current["num_samples"].get<size_t>()) + " samples";
  if (!recorded_splits.contains(role) || !recorded_splits[role].is_object()) {
    return "split '" + role + "' is not recorded in " + file.string() + " (" + now + ")";
  }
  const auto& recorded = recorded_splits[role];
  const std::string recorded_fingerprint = recorded.value("fingerprint", std::string("(none)"));
  if (recorded_fingerprint == current["fingerprint"].get<std::string>()) return "";
  const auto recorded_samples = recorded.contains("num_samples") ? recorded["num_samples"].dump() : std::string("?");
  return "split '" + role + "' (" + current["split"].get<std::string>() + " of " +
         current["root"].get<std::string>() + ") had fingerprint " + recorded_fingerprint + " with " +
         recorded_samples + " samples when the run started, " + now;
}

}  // namespace

RunDataCheck record_run_data(const fs::path& out_dir, const std::vector<RunSplit>& splits, bool resume) {
  const fs::path file = out_dir / kRecordFile;
  const nlohmann::json current = describe_all(splits);
  if (resume && fs::exists(file)) {
    const nlohmann::json recorded = read_record(file);
    std::string differences;
    for (const auto& split : splits) {
      const std::string line = difference(file, recorded["splits"], split.role, current[split.role]);
      if (!line.empty()) differences += (differences.empty() ? "" : "; ") + line;
    }
    REGAL_CHECK(differences.empty(), "continuing the run in ", out_dir,
                ": its data has changed since it started: ", differences, ". Continuing would train on other images; start a new run directory (--out DIR) or delete ",
                out_dir, " to start over");
    return RunDataCheck::kMatched;
  }
  if (resume) {
    spdlog::warn("{}: no {} (the run was started before regal recorded its data), so the data could not be "
                 "checked against the run's; recording the current data",
                 out_dir.string(), kRecordFile);
  }
  const nlohmann::json record = {{"fingerprint", kFingerprintNote}, {"splits", current}};
  write_file_atomically(file, record.dump(2) + "\n");
  return resume ? RunDataCheck::kUnchecked : RunDataCheck::kRecorded;
}

nlohmann::json split_fingerprints(const std::vector<RunSplit>& splits) {
  nlohmann::json described = describe_all(splits);
  for (auto& split : described) split.erase("ids");
  return described;
}

}  // namespace regal::experiment
