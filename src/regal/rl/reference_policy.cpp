#include "regal/rl/reference_policy.h"

#include <array>
#include <utility>

#include <spdlog/spdlog.h>

#include "regal/core/strings.h"

namespace regal::rl {
namespace {

// Reference layer -> regal module path (query_net.h), from the reference's
// QueryNetworkDQN: the *_s layers form the state path, conv_bias/bn_bias the
// similarity path, conv1-3/bn1-3 the action path, conv_final2/bn_final the head.
constexpr std::array<std::pair<const char*, const char*>, 18> kLayerNames{{
    {"bn1_s", "state.bn1"},
    {"conv1_s", "state.conv1"},
    {"bn2_s", "state.bn2"},
    {"conv2_s", "state.conv2"},
    {"bn3_s", "state.bn3"},
    {"conv3_s", "state.conv3"},
    {"bn_last_s", "state.bn_rows"},
    {"linear_s", "state.linear"},
    {"bn_bias", "sim.bn"},
    {"conv_bias", "sim.conv"},
    {"bn1", "action.bn1"},
    {"conv1", "action.conv1"},
    {"bn2", "action.bn2"},
    {"conv2", "action.conv2"},
    {"bn3", "action.bn3"},
    {"conv3", "action.conv3"},
    {"bn_final", "head.bn"},
    {"conv_final2", "head.conv"},
}};



// "M = 1280 state rows, 197 state / 197 action features" from the file's
// BatchNorm sizes, so that a shape mismatch says which option differs.
std::string describe_reference_file(const NamedTensors& tensors) {
  int64_t rows = -1;
  int64_t state_features = -1;
  int64_t action_features = -1;
  for (const auto& [key, tensor] : tensors) {
    const std::string name = regal_name_of_reference_key(key);
    if (tensor.dim() != 1) continue;
    if (name == "state.bn_rows.weight") rows = tensor.size(0);
    if (name == "state.bn1.weight") state_features = tensor.size(0);
    if (name == "action.bn1.weight") action_features = tensor.size(0);
  }
  if (rows < 0 || state_features < 0 || action_features < 0) {
    return "no complete reference QueryNetworkDQN (bn_last_s, bn1_s, bn1): check that it is one";
  }
  return "a reference query network with M = " + std::to_string(rows) + " state rows, " +
         std::to_string(state_features) + " state and " + std::to_string(action_features) + " action features";
}

SavedTensorsLabels reference_labels() { return {"reference policy", reference_policy_export_command()}; }

}  // namespace

std::string regal_name_of_reference_key(const std::string& key) {
  std::string name = key;
  const std::string data_parallel = "module.";
  if (starts_with(name, data_parallel)) name.erase(0, data_parallel.size());
  if (starts_with(name, "final_q.") || ends_with(name, "num_batches_tracked")) return "";
  const auto dot = name.find('.');
  if (dot == std::string::npos) return name;
  const std::string layer = name.substr(0, dot);
  for (const auto& [reference, regal_path] : kLayerNames) {
    if (layer == reference) return regal_path + name.substr(dot);
  }
  return name;
}

std::string reference_policy_export_command() {
  return "python -c \"import torch; torch.save(dict(torch.load('policy.pth', map_location='cpu')), "
         "'policy_dict.pth')\"";
}

SavedTensors read_reference_policy(const std::filesystem::path& file) {
  return read_saved_tensors(file, reference_labels());
}

ReferencePolicyImport import_reference_policy(QueryNet& net, const std::filesystem::path& file) {
  return import_reference_policy(net, read_reference_policy(file), file);
}

ReferencePolicyImport import_reference_policy(QueryNet& net, const SavedTensors& saved,
                                              const std::filesystem::path& file) {
  const auto& options = net->options();
  // M = |D_S| x regions per image and the feature counts (from the number of
  // classes) are what a config decides, so the message names them.
  const std::string net_description = "the query network (M = " + std::to_string(options.state_rows()) +
                                      " state rows, i.e. |D_S| x regions per image; " +
                                      std::to_string(options.state_features()) + " state and " +
                                      std::to_string(options.action_features()) +
                                      " action features, set by the number of classes)";
  const SavedTensorsCopy copy = copy_saved_tensors(saved, importable_tensors(*net), regal_name_of_reference_key, file,
                                                   reference_labels(), net_description, describe_reference_file(saved.tensors));
  spdlog::info("reference policy '{}': loaded {} tensors ({}; {} ignored)", file.string(), copy.loaded,
               saved.format, copy.ignored.size());
  return {copy.loaded, copy.ignored, copy.unexpected};
}

}  // namespace regal::rl
