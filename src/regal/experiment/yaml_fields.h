#pragma once
// Typed, checked reads of one config section's keys, shared by the section
// parsers of experiment/config. Every error names the file, the key
// ("section.key") and the offending value.
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "regal/core/error.h"

namespace regal::experiment::yaml_fields {

// Rejects keys a section does not know: a typo must not silently fall back
// to a default. An absent or empty section keeps every default.
// throws regal::Error naming the unknown key and listing the known ones.
inline void check_keys(const YAML::Node& node, const std::set<std::string>& allowed, const std::string& file,
                       const std::string& section) {
  if (!node || node.IsNull()) return;
  REGAL_CHECK(node.IsMap(), file, ": '", section, "' must be a mapping");
  for (const auto& entry : node) {
    const auto key = entry.first.as<std::string>();
    if (allowed.count(key) == 0) {
      std::string known;
      for (const auto& name : allowed) known += (known.empty() ? "" : ", ") + name;
      REGAL_FAIL(file, ": unknown key '", section, ".", key, "' (known: ", known, ")");
    }
  }
}

// node[key] as T, or `fallback` when the section or the key is absent.
// throws regal::Error when the value does not convert to T.
template <typename T>
T read(const YAML::Node& node, const std::string& key, const T& fallback, const std::string& file,
       const std::string& section) {
  if (!node || node.IsNull() || !node[key]) return fallback;
  try {
    return node[key].as<T>();
  } catch (const YAML::Exception&) {
    REGAL_FAIL(file, ": '", section, ".", key, "' has value '", YAML::Dump(node[key]), "' of the wrong type");
  }
}

// As read(), and the value must be > 0.
template <typename T>
T read_positive(const YAML::Node& node, const std::string& key, const T& fallback, const std::string& file,
                const std::string& section) {
  const T value = read<T>(node, key, fallback, file, section);
  REGAL_CHECK(value > 0, file, ": '", section, ".", key, "' must be positive, got ", value);
  return value;
}

// As read(), and the value must be >= 0 (a momentum, a weight decay, a
// patience: LibTorch would reject a negative one only once training starts).
template <typename T>
T read_non_negative(const YAML::Node& node, const std::string& key, const T& fallback, const std::string& file,
                    const std::string& section) {
  const T value = read<T>(node, key, fallback, file, section);
  REGAL_CHECK(value >= 0, file, ": '", section, ".", key, "' must be >= 0, got ", value);
  return value;
}

// A `[height, width]` pair of positive integers.
inline std::pair<int64_t, int64_t> read_size(const YAML::Node& node, const std::string& key,
                                             std::pair<int64_t, int64_t> fallback, const std::string& file,
                                             const std::string& section) {
  const auto values = read<std::vector<int64_t>>(node, key, {fallback.first, fallback.second}, file, section);
  REGAL_CHECK(values.size() == 2 && values[0] > 0 && values[1] > 0, file, ": '", section, ".", key,
              "' must be [height, width] with positive values");
  return {values[0], values[1]};
}

}  // namespace regal::experiment::yaml_fields
