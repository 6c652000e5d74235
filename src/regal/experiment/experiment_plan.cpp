#include "regal/experiment/experiment_plan.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join (in format.h before fmt 11)

#include "regal/core/error.h"
#include "regal/loop/region_pool.h"

namespace regal::experiment {

const std::vector<std::string>& experiment_methods() {
  static const std::vector<std::string> methods = {"random", "entropy", "bald", "ralis-miou", "ralis-wiou"};
  return methods;
}

MethodSpec method_spec(const std::string& name, const std::string& what) {
  if (name == "random") return {loop::Method::kRandom, std::nullopt};
  if (name == "entropy") return {loop::Method::kEntropy, std::nullopt};
  if (name == "bald") return {loop::Method::kBald, std::nullopt};
  if (name == "ralis-miou") return {loop::Method::kPolicy, loop::RewardMetric::kMiou};
  if (name == "ralis-wiou") return {loop::Method::kPolicy, loop::RewardMetric::kWiou};
  REGAL_FAIL(what, ": unknown method '", name, "' (known: ", fmt::format("{}", fmt::join(experiment_methods(), ", ")),
             ")");
}

std::string budget_tag(const std::string& budget) {
  if (!budget.empty() && budget.back() == '%') return budget.substr(0, budget.size() - 1) + "pct";
  return budget;
}

std::string ExperimentUnit::id() const { return fmt::format("{}-{}-seed{}", method, budget_tag(budget), seed); }

void ExperimentPlan::validate(const std::string& what) const {
  REGAL_CHECK(!methods.empty(), what, ": no methods to run");
  REGAL_CHECK(!budgets.empty(), what, ": no budgets to run");
  REGAL_CHECK(!seeds.empty(), what, ": no seeds to run");
  for (const auto& method : methods) method_spec(method, what);
  for (const auto& budget : budgets) loop::Budget::parse(budget, what);
  const auto check_unique = [&](const auto& values, const char* kind) {
    std::set<std::string> seen;
    for (const auto& value : values) {
      const std::string text = fmt::format("{}", value);
      REGAL_CHECK(seen.insert(text).second, what, ": ", kind, " '", text, "' is listed twice");
    }
  };
  check_unique(methods, "method");
  check_unique(budgets, "budget");
  check_unique(seeds, "seed");
  // Two spellings of one budget would write one unit file twice.
  std::set<std::string> tags;
  for (const auto& budget : budgets) {
    REGAL_CHECK(tags.insert(budget_tag(budget)).second, what, ": budget '", budget, "' is listed twice");
  }
}

std::vector<ExperimentUnit> ExperimentPlan::units() const {
  std::vector<ExperimentUnit> units;
  for (const auto& budget : budgets) {
    for (const auto seed : seeds) {
      for (const auto& method : methods) units.push_back({method, budget, seed});
    }
  }
  return units;
}

std::vector<loop::RewardMetric> ExperimentPlan::policy_rewards() const {
  std::vector<loop::RewardMetric> rewards;
  for (const auto reward : {loop::RewardMetric::kMiou, loop::RewardMetric::kWiou}) {
    const bool needed = std::any_of(methods.begin(), methods.end(), [&](const std::string& method) {
      return method_spec(method, "methods").policy_reward == reward;
    });
    if (needed) rewards.push_back(reward);
  }
  return rewards;
}

std::vector<std::string> split_list(const std::string& text, const std::string& what) {
  std::vector<std::string> items;
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t end = std::min(text.find(',', begin), text.size());
    std::string item = text.substr(begin, end - begin);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    REGAL_CHECK(!item.empty(), what, ": empty item in '", text, "'");
    items.push_back(item);
    begin = end + 1;
  }
  return items;
}

std::vector<uint64_t> parse_seed_list(const std::string& text, const std::string& what) {
  std::vector<uint64_t> seeds;
  for (const auto& item : split_list(text, what)) {
    REGAL_CHECK(item.find_first_not_of("0123456789") == std::string::npos && item.size() <= 19, what,
                ": seed '", item, "' is not a non-negative integer");
    seeds.push_back(std::stoull(item));
  }
  return seeds;
}

}  // namespace regal::experiment
