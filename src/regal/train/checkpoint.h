#pragma once
// Checkpoints: a module's parameters and buffers, optionally an optimizer's
// state, and a JSON document of run state (epoch, best score, lr, ...), all in
// one file written atomically.
#include <filesystem>

#include <nlohmann/json.hpp>

namespace torch {
namespace nn {
class Module;
}
namespace optim {
class Optimizer;
}
}  // namespace torch

namespace regal::train {

// Writes `module` (and `optimizer` when non-null) plus `meta` to `path`.
void save_checkpoint(const std::filesystem::path& path, const torch::nn::Module& module,
                     const torch::optim::Optimizer* optimizer, const nlohmann::json& meta);

// Restores into `module` (and `optimizer` when non-null); returns the meta JSON.
// throws regal::Error naming the file when it is missing, corrupt or does not
// fit the module (different backbone or class count).
nlohmann::json load_checkpoint(const std::filesystem::path& path, torch::nn::Module& module,
                               torch::optim::Optimizer* optimizer);

}  // namespace regal::train
