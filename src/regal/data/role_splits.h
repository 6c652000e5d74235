#pragma once
// Role splits (ALGORITHM.md §1): the target roles (D_T, D_S, D_R, D_V) drawn
// as disjoint sets of sample ids from one directory split (Cityscapes and
// CamVid `train`), and the JSON split file that keeps them, so that every
// command of a run sees the same images:
//   {"split": "train", "seed": 0,
//    "roles": {"d_t": ["<id>", ...], "d_s": [...], "d_r": [...], "d_v": [...]}}
// Ids are Dataset sample ids (SampleFiles::id). "seed" records how the file
// was drawn; a hand-written file may leave it out. Other keys are ignored.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace regal::data {

struct RoleSplits {
  std::string split;             // the directory split the roles are drawn from
  std::optional<uint64_t> seed;  // absent: written by hand
  std::map<std::string, std::vector<std::string>> roles;  // role -> sample ids, sorted when drawn
};

struct RoleCount {
  std::string role;
  int64_t count = 0;
};

// Draws `counts` (in the order given) from `ids`, the samples of `split`:
// the ids are sorted, shuffled with a Fisher-Yates of our own on
// std::mt19937_64(seed) (std::shuffle's algorithm is implementation-defined,
// and so is std::uniform_int_distribution's), and cut in order; each role's
// ids are then sorted. Same ids, counts and seed: the same roles on every
// platform.
// requires: counts non-empty, every count > 0, role names non-empty and
// distinct, ids unique, the counts' sum <= ids.size().
// throws regal::Error naming the role and the numbers otherwise.
RoleSplits draw_role_splits(std::vector<std::string> ids, const std::string& split,
                            const std::vector<RoleCount>& counts, uint64_t seed);

// Writes the split file atomically (creating its directory).
// throws regal::Error naming the file when it cannot be written.
void save_role_splits(const RoleSplits& splits, const std::filesystem::path& file);

// Reads and checks a split file. ensures: "split" is a non-empty string, every
// role holds at least one id, no id is empty or listed twice (within a role or
// across roles). throws regal::Error naming the file and the key at fault
// (unreadable file, invalid JSON, missing key, wrong type, duplicate id).
RoleSplits load_role_splits(const std::filesystem::path& file);

}  // namespace regal::data
