#include "regal/experiment/role_split_file.h"

#include <set>
#include <string>
#include <system_error>
#include <vector>

#include <spdlog/spdlog.h>

#include "regal/core/error.h"
#include "regal/data/dataset.h"
#include "regal/data/role_splits.h"

namespace regal::experiment {

namespace fs = std::filesystem;

namespace {

std::string describe_sizes(const std::map<std::string, std::vector<std::string>>& roles) {
  std::string text;
  for (const auto& role : drawn_roles()) {
    const auto it = roles.find(role);
    if (it != roles.end()) text += (text.empty() ? "" : ", ") + role + " " + std::to_string(it->second.size());
  }
  return text;
}

// Every way the file differs from the config, so one message says them all.
std::vector<std::string> disagreements(const data::RoleSplits& splits, const RoleSplitConfig& wanted) {
  std::vector<std::string> found;
  if (splits.split != wanted.roles_from) {
    found.push_back("it draws from split '" + splits.split + "' but target.roles_from is '" + wanted.roles_from +
                    "'");
  }
  for (const auto& [role, count] : wanted.counts) {
    const auto it = splits.roles.find(role);
    if (it == splits.roles.end()) {
      found.push_back("it has no role '" + role + "'");
    } else if (static_cast<int64_t>(it->second.size()) != count) {
      found.push_back("it lists " + std::to_string(it->second.size()) + " ids for " + role +
                      " but target.role_counts." + role + " is " + std::to_string(count));
    }
  }
  for (const auto& entry : splits.roles) {
    if (wanted.counts.count(entry.first) == 0) found.push_back("it has the unknown role '" + entry.first + "'");
  }
  return found;
}

data::RoleSplits draw(const RunConfig& config, const RoleSplitConfig& wanted) {
  const auto& target = config.target;
  const data::Dataset whole = data::open_dataset({target.type, target.root, wanted.roles_from});
  std::vector<std::string> ids;
  ids.reserve(whole.size());
  for (const auto& files : whole.all_files()) ids.push_back(files.id);
  std::vector<data::RoleCount> counts;
  for (const auto& role : drawn_roles()) counts.push_back({role, wanted.counts.at(role)});
  try {
    return data::draw_role_splits(std::move(ids), wanted.roles_from, counts, wanted.seed);
  } catch (const Error& e) {
    REGAL_FAIL(config.file.string(), ": 'target.role_counts' does not fit ", target.root, ": ", e.what());
  }
}

}  // namespace

void ensure_role_splits(RunConfig& config) {
  if (!config.target.role_splits) return;
  const RoleSplitConfig& wanted = *config.target.role_splits;
  std::error_code ec;
  data::RoleSplits splits;
  if (fs::exists(wanted.file, ec)) {
    splits = data::load_role_splits(wanted.file);
    const auto found = disagreements(splits, wanted);
    if (!found.empty()) {
      std::string list;
      for (const auto& item : found) list += (list.empty() ? "" : "; ") + item;
      REGAL_FAIL("split file ", wanted.file, " does not match target in ", config.file.string(), ": ", list,
                 ". Delete the file to draw the roles again, or point target.split_file elsewhere");
    }
    spdlog::info("role splits: reading {} ({} of {} '{}'{})", wanted.file.string(), describe_sizes(splits.roles),
                 config.target.root.string(), splits.split,
                 splits.seed ? ", drawn with seed " + std::to_string(*splits.seed) : ", written by hand");
  } else {
    splits = draw(config, wanted);
    data::save_role_splits(splits, wanted.file);
    spdlog::info("role splits: drew {} of {} '{}' with seed {}; wrote {} (later commands read it as is)",
                 describe_sizes(splits.roles), config.target.root.string(), splits.split, wanted.seed,
                 wanted.file.string());
  }
  config.target.role_ids = splits.roles;
}

}  // namespace regal::experiment
