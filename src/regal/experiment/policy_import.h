#pragma once
// `regal import-policy`: a query network trained with the reference RALis
// code, turned into a regal policy file that `select --policy` and
// `evaluate --method ralis --policy` take (rl/reference_policy.h).
#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "regal/experiment/config.h"

namespace regal::experiment {

struct ImportPolicyRequest {
  std::filesystem::path from;                // the reference state_dict, re-saved as a plain dict
  std::optional<std::filesystem::path> out;  // default <policy.out>/imported_policy.pt
};

// Builds the query network the config's target implies (classes, and M =
// |D_S| x regions per image of policy.region), loads the reference weights
// into its policy and target nets, and writes it atomically as a regal DQN
// checkpoint (the format DqnTrainer::load reads, with a fresh optimizer).
// Returns what it did: files, the net's sizes, tensors loaded and ignored.
// throws: regal::Error, no policy file written, when --out exists, the file
// is unreadable, or its shapes do not fit the config (every mismatch named).
// The file is read before the config's scenes are generated (embedded
// dataset) or its split file drawn, which may be written on the way.
nlohmann::json run_import_policy(const RunConfig& config, const ImportPolicyRequest& request);

}  // namespace regal::experiment
