#pragma once
// The one place where YAML config files map onto Options structs. Every key
// has a default in its Options struct; an unknown key, a wrong type or an
// out-of-range value is an error naming the file, the key and the value.
#include <filesystem>
#include <string>

#include <yaml-cpp/yaml.h>

#include "regal/data/scene_generator.h"

namespace regal::experiment {

// Loads a YAML file; throws regal::Error naming the file on a parse error.
YAML::Node load_yaml(const std::filesystem::path& file);

// The `scenes:` section (config_scenes.cpp). `file` is used in messages.
data::SceneOptions scene_options_from_yaml(const YAML::Node& scenes, const std::string& file);

}  // namespace regal::experiment
