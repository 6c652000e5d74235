#pragma once
// Query networks written as the reference RALis code saves them (layer names
// of its QueryNetworkDQN, re-saved as a plain dict), for the import tests.
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace regal::testing {

using NamedTensorList = std::vector<std::pair<std::string, torch::Tensor>>;

// The reference layer of each regal query-network module, written out here
// rather than taken from the implementation's table.
inline const std::map<std::string, std::string>& reference_layer_names() {
  static const std::map<std::string, std::string> names = {
      {"state.bn1", "bn1_s"},         {"state.conv1", "conv1_s"},   {"state.bn2", "bn2_s"},
      {"state.conv2", "conv2_s"},     {"state.bn3", "bn3_s"},       {"state.conv3", "conv3_s"},
      {"state.bn_rows", "bn_last_s"}, {"state.linear", "linear_s"}, {"sim.bn", "bn_bias"},
      {"sim.conv", "conv_bias"},      {"action.bn1", "bn1"},        {"action.conv1", "conv1"},
      {"action.bn2", "bn2"},          {"action.conv2", "conv2"},    {"action.bn3", "bn3"},
      {"action.conv3", "conv3"},      {"head.bn", "bn_final"},      {"head.conv", "conv_final2"}};
  return names;
}

// Regal-named tensors ("state.bn1.weight") under reference names, float32 as
// PyTorch saves them, plus what a reference state_dict carries besides: the
// unused final_q layer and each BatchNorm's num_batches_tracked.
inline NamedTensorList reference_state_dict(const NamedTensorList& regal_named, const std::string& prefix = "") {
  NamedTensorList entries;
  for (const auto& [name, tensor] : regal_named) {
    const auto dot = name.rfind('.');
    const std::string layer = prefix + reference_layer_names().at(name.substr(0, dot));
    const std::string param = name.substr(dot + 1);
    entries.emplace_back(layer + "." + param, tensor.to(torch::kFloat));
    if (param == "running_mean") entries.emplace_back(layer + ".num_batches_tracked", torch::tensor(int64_t{7}));
  }
  entries.emplace_back(prefix + "final_q.weight", torch::randn({1, 256}));
  entries.emplace_back(prefix + "final_q.bias", torch::randn({1}));
  return entries;
}

// torch.save(dict(...), file) of these entries.
inline void write_plain_dict(const std::filesystem::path& file, const NamedTensorList& entries) {
  c10::impl::GenericDict dict(c10::StringType::get(), c10::TensorType::get());
  for (const auto& [key, value] : entries) dict.insert(key, value);
  const std::vector<char> bytes = torch::pickle_save(dict);
  std::ofstream out(file, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace regal::testing
