#include "regal/data/role_splits.h"

#include <algorithm>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"

namespace regal::data {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A uniform draw from [0, bound) that depends on the generator's raw output
// only: the top partial block of 2^64 is rejected, so no value is favoured.
uint64_t uniform_below(std::mt19937_64& rng, uint64_t bound) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  const uint64_t limit = kMax - kMax % bound;  // a multiple of bound
  uint64_t value = rng();
  while (value >= limit) {
    value = rng();
  }
  return value % bound;
}

std::string describe_counts(const std::vector<RoleCount>& counts) {
  std::string text;
  for (const auto& count : counts) {
    text += (text.empty() ? "" : " + ") + count.role + " " + std::to_string(count.count);
  }
  return text;
}

}  // namespace

RoleSplits draw_role_splits(std::vector<std::string> ids, const std::string& split,
                            const std::vector<RoleCount>& counts, uint64_t seed) {
  REGAL_CHECK(!counts.empty(), "role splits of split '", split, "': no role to draw");
  std::set<std::string> roles;
  int64_t total = 0;
  for (const auto& count : counts) {
    REGAL_CHECK(!count.role.empty(), "role splits of split '", split,
                "': a role has an empty name");
    REGAL_CHECK(roles.insert(count.role).second, "role splits of split '", split, "': role '",
                count.role, "' is given twice");
    REGAL_CHECK(count.count > 0, "role splits of split '", split, "': role '", count.role,
                "' must draw at least one image, got ", count.count);
    total += count.count;
  }
  // Sorted first, so the draw does not depend on the order the loader listed
  // the files in.
  std::sort(ids.begin(), ids.end());
  const auto repeated = std::adjacent_find(ids.begin(), ids.end());
  REGAL_CHECK(repeated == ids.end(), "role splits of split '", split, "': sample id '", *repeated,
              "' is listed twice");
  REGAL_CHECK(total <= static_cast<int64_t>(ids.size()), "cannot draw ", describe_counts(counts),
              " = ", total, " images from split '", split, "': it has ", ids.size());

  // Forward Fisher-Yates: position i takes a uniform pick among the ids not
  // placed yet; only the first `total` positions are needed.
  std::mt19937_64 rng(seed);
  const size_t drawn = static_cast<size_t>(total);
  for (size_t i = 0; i < drawn; ++i) {
    const size_t j = i + static_cast<size_t>(uniform_below(rng, ids.size() - i));
    std::swap(ids[i], ids[j]);
  }

  RoleSplits splits;
  splits.split = split;
  splits.seed = seed;
  auto next = ids.begin();
  for (const auto& count : counts) {
    std::vector<std::string> role_ids(next, next + count.count);
    next += count.count;
    // Sorted: the file reads like a directory listing, and a role's order
    // (which fixes e.g. the order of the state set) follows from its ids.
    std::sort(role_ids.begin(), role_ids.end());
    splits.roles[count.role] = std::move(role_ids);
  }
  return splits;
}

void save_role_splits(const RoleSplits& splits, const fs::path& file) {
  json out = json::object();
  out["split"] = splits.split;
  if (splits.seed) out["seed"] = *splits.seed;
  out["roles"] = json::object();
  for (const auto& [role, ids] : splits.roles) {
    out["roles"][role] = ids;
  }
  write_file_atomically(file, out.dump(2) + "\n");
}

RoleSplits load_role_splits(const fs::path& file) {
  const std::string text = read_file(file);
  json in;
  try {
    in = json::parse(text);
  } catch (const json::parse_error& e) {
    REGAL_FAIL("split file ", file, ": invalid JSON: ", e.what());
  }
  REGAL_CHECK(in.is_object(), "split file ", file, ": must hold a JSON object, got ",
              in.type_name());

  RoleSplits splits;
  REGAL_CHECK(
      in.contains("split"), "split file ", file,
      ": missing key 'split' (the directory split the roles are drawn from, e.g. \"train\")");
  const json& split = in.at("split");
  REGAL_CHECK(split.is_string() && !split.get<std::string>().empty(), "split file ", file,
              ": key 'split' must be a non-empty string, got ", split.dump());
  splits.split = split.get<std::string>();

  if (in.contains("seed") && !in.at("seed").is_null()) {
    const json& seed = in.at("seed");
    REGAL_CHECK(seed.is_number_unsigned(), "split file ", file,
                ": key 'seed' must be a non-negative integer, got ", seed.dump());
    splits.seed = seed.get<uint64_t>();
  }

  REGAL_CHECK(in.contains("roles"), "split file ", file,
              ": missing key 'roles' (an object mapping each role to an array of sample ids)");
  const json& roles = in.at("roles");
  REGAL_CHECK(
      roles.is_object() && !roles.empty(), "split file ", file,
      ": key 'roles' must be a non-empty object mapping roles to arrays of sample ids, got ",
      roles.is_object() ? "{}" : roles.type_name());
  std::map<std::string, std::string> role_of;  // id -> the role that lists it first
  for (const auto& [role, ids] : roles.items()) {
    REGAL_CHECK(ids.is_array() && !ids.empty(), "split file ", file, ": roles['", role,
                "'] must be a non-empty array of sample ids, got ",
                ids.is_array() ? "[]" : ids.dump());
    std::vector<std::string>& role_ids = splits.roles[role];
    role_ids.reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      const json& id = ids[i];
      REGAL_CHECK(id.is_string() && !id.get<std::string>().empty(), "split file ", file,
                  ": roles['", role, "'][", i, "] must be a non-empty string, got ", id.dump());
      const auto [seen, inserted] = role_of.emplace(id.get<std::string>(), role);
      REGAL_CHECK(
          inserted, "split file ", file, ": roles['", role, "'][", i, "] repeats the id ",
          id.dump(),
          seen->second == role ? " within the role" : ", already in role '" + seen->second + "'");
      role_ids.push_back(id.get<std::string>());
    }
  }
  return splits;
}

}  // namespace regal::data
