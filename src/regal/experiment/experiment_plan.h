#pragma once
// What `regal experiment` runs: every acquisition method at every budget and
// seed. One (method, budget, seed) is a unit, the granularity at which an
// interrupted experiment resumes; the two RALis variants differ only in the
// reward their policy was trained with (ALGORITHM.md section 8).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "regal/loop/acquisition.h"
#include "regal/loop/scoring.h"

namespace regal::experiment {

// The five methods in report order: random, entropy, bald, ralis-miou, ralis-wiou.
const std::vector<std::string>& experiment_methods();

struct MethodSpec {
  loop::Method method = loop::Method::kRandom;
  std::optional<loop::RewardMetric> policy_reward;  // set for the RALis variants
};
// requires: one of experiment_methods(). throws: regal::Error naming `what`,
// the text and the known names otherwise.
MethodSpec method_spec(const std::string& name, const std::string& what);

// "3%" -> "3pct", "1920" -> "1920": a budget as a file-name part.
std::string budget_tag(const std::string& budget);

struct ExperimentUnit {
  std::string method;
  std::string budget;  // as written in the config: "3%" or a region count
  uint64_t seed = 0;
  // "<method>-<budget tag>-seed<S>": the name of the unit's files.
  std::string id() const;
};

struct ExperimentPlan {
  std::vector<std::string> methods;
  std::vector<std::string> budgets;
  std::vector<uint64_t> seeds;

  // Checks every entry (known method, parseable budget, no duplicates, none
  // empty). throws: regal::Error naming `what` and the bad entry.
  void validate(const std::string& what) const;
  // Units ordered budget by budget, then seed, then method: an interrupted
  // run has every method at the smallest budgets first, which is what a
  // partial figure needs.
  std::vector<ExperimentUnit> units() const;
  // The policy rewards the plan's RALis methods need, miou first.
  std::vector<loop::RewardMetric> policy_rewards() const;
};

// "a,b, c" -> {"a", "b", "c"}. throws: regal::Error naming `what` on an empty item.
std::vector<std::string> split_list(const std::string& text, const std::string& what);
// "0,1,2" -> {0, 1, 2}. throws: regal::Error naming `what` on a non-number.
std::vector<uint64_t> parse_seed_list(const std::string& text, const std::string& what);

}  // namespace regal::experiment
