// The `scenes:` section of a config onto data::SceneOptions. Keys have the
// names of the SceneOptions / SceneStyle setters; every key is optional and
// defaults to the struct's default.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "regal/core/error.h"
#include "regal/experiment/config.h"

namespace regal::experiment {

namespace {

using Setter = std::function<void(const YAML::Node& value, const std::string& key)>;

// Reads typed values from YAML nodes; every failure names the file, the
// position, the key and the offending value.
class SectionReader {
 public:
  explicit SectionReader(std::string file) : file_(std::move(file)) {}

  std::string where(const YAML::Node& node) const {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) return file_;
    return file_ + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  }

  template <typename T>
  T scalar(const YAML::Node& node, const std::string& key, const char* expected) const {
    REGAL_CHECK(node.IsScalar(), where(node), ": ", key, " must be ", expected, " but got ", shown(node));
    try {
      return node.as<T>();
    } catch (const YAML::Exception&) {
      REGAL_FAIL(where(node), ": ", key, " must be ", expected, " but got ", shown(node));
    }
  }

  std::vector<double> numbers(const YAML::Node& node, const std::string& key) const {
    REGAL_CHECK(node.IsSequence(), where(node), ": ", key, " must be a list of numbers but got ", shown(node));
    std::vector<double> values;
    for (size_t i = 0; i < node.size(); ++i) {
      values.push_back(scalar<double>(node[i], key + "[" + std::to_string(i) + "]", "a number"));
    }
    return values;
  }

  // Calls the setter of every key of the mapping `node`; an unknown key is
  // an error listing the known ones (a typo must not fall back to a default).
  void each_key(const YAML::Node& node, const std::string& section,
                const std::map<std::string, Setter>& setters) const {
    REGAL_CHECK(node.IsMap(), where(node), ": ", section, " must be a mapping of keys but got ", shown(node));
    for (const auto& entry : node) {
      const std::string key = entry.first.Scalar();
      const auto setter = setters.find(key);
      if (setter == setters.end()) {
        std::string known;
        for (const auto& [name, unused] : setters) known += (known.empty() ? "" : ", ") + name;
        REGAL_FAIL(where(entry.first), ": unknown key '", section, ".", key, "' (known keys: ", known, ")");
      }
      setter->second(entry.second, section + "." + key);
    }
  }

 private:
  static std::string shown(const YAML::Node& node) {
    if (node.IsScalar()) return "'" + node.Scalar() + "'";
    if (node.IsSequence()) return "a list";
    if (node.IsMap()) return "a mapping";
    return "nothing";
  }

  std::string file_;
};

void read_style(const SectionReader& in, const YAML::Node& node, const std::string& section,
                data::SceneStyle& style) {
  using S = data::SceneStyle;
  using RealSetter = S& (S::*)(const double&);
  const auto real = [&](RealSetter setter) -> Setter {
    return [&in, &style, setter](const YAML::Node& v, const std::string& k) {
      (style.*setter)(in.scalar<double>(v, k, "a number"));
    };
  };
  const std::map<std::string, Setter> setters = {
      {"texture_contrast", real(&S::texture_contrast)},
      {"texture_scale", real(&S::texture_scale)},
      {"colour_jitter", real(&S::colour_jitter)},
      {"tint_strength", real(&S::tint_strength)},
      {"noise_sigma", real(&S::noise_sigma)},
      {"blur_sigma", real(&S::blur_sigma)},
      {"hue_shift", real(&S::hue_shift)},
      {"saturation", real(&S::saturation)},
      {"brightness", real(&S::brightness)},
      {"contrast", real(&S::contrast)},
      {"gamma", real(&S::gamma)},
      {"lighting_jitter", real(&S::lighting_jitter)},
      {"soft_edges",
       [&](const YAML::Node& v, const std::string& k) { style.soft_edges(in.scalar<bool>(v, k, "true or false")); }},
  };
  in.each_key(node, section, setters);
}

}  // namespace

data::SceneOptions scene_options_from_yaml(const YAML::Node& scenes, const std::string& file) {
  data::SceneOptions o;
  if (!scenes || scenes.IsNull()) {
    return o;  // `scenes:` with no keys: every default
  }
  const SectionReader in(file);
  using O = data::SceneOptions;
  using IntSetter = O& (O::*)(const int&);
  using RealSetter = O& (O::*)(const double&);
  // Adaptors keep the table below one line per key.
  const auto integer = [&](IntSetter setter) -> Setter {
    return [&o, &in, setter](const YAML::Node& v, const std::string& k) {
      (o.*setter)(in.scalar<int>(v, k, "an integer"));
    };
  };
  const auto real = [&](RealSetter setter) -> Setter {
    return [&o, &in, setter](const YAML::Node& v, const std::string& k) {
      (o.*setter)(in.scalar<double>(v, k, "a number"));
    };
  };
  const auto path = [&](const YAML::Node& v, const std::string& k) {
    const auto text = in.scalar<std::string>(v, k, "a directory path");
    // An empty path is the working directory, whose source/ and target/ the generator would replace.
    REGAL_CHECK(!text.empty(), in.where(v), ": ", k, " must be a directory path but got an empty one");
    return std::filesystem::path(text);
  };
  const std::map<std::string, Setter> setters = {
      {"out", [&](const YAML::Node& v, const std::string& k) { o.out(path(v, k)); }},
      {"fashion_mnist_dir", [&](const YAML::Node& v, const std::string& k) { o.fashion_mnist_dir(path(v, k)); }},
      {"seed",
       [&](const YAML::Node& v, const std::string& k) { o.seed(in.scalar<uint64_t>(v, k, "a non-negative integer")); }},
      {"height", integer(&O::height)},
      {"width", integer(&O::width)},
      {"source_train", integer(&O::source_train)},
      {"source_val", integer(&O::source_val)},
      {"target_d_t", integer(&O::target_d_t)},
      {"target_d_s", integer(&O::target_d_s)},
      {"target_d_r", integer(&O::target_d_r)},
      {"target_d_v", integer(&O::target_d_v)},
      {"target_val", integer(&O::target_val)},
      {"band_heights", [&](const YAML::Node& v, const std::string& k) { o.band_heights(in.numbers(v, k)); }},
      {"band_jitter", real(&O::band_jitter)},
      {"boundary_roughness", real(&O::boundary_roughness)},
      {"items_min", integer(&O::items_min)},
      {"items_max", integer(&O::items_max)},
      {"thing_scale_min", real(&O::thing_scale_min)},
      {"thing_scale_max", real(&O::thing_scale_max)},
      {"thing_scale_decay", real(&O::thing_scale_decay)},
      {"thing_zipf_exponent", real(&O::thing_zipf_exponent)},
      {"thing_hue_jitter", real(&O::thing_hue_jitter)},
      {"thing_threshold", real(&O::thing_threshold)},
      {"cover_all_things",
       [&](const YAML::Node& v, const std::string& k) { o.cover_all_things(in.scalar<bool>(v, k, "true or false")); }},
      {"source_style", [&](const YAML::Node& v, const std::string& k) { read_style(in, v, k, o.source_style()); }},
      {"target_style", [&](const YAML::Node& v, const std::string& k) { read_style(in, v, k, o.target_style()); }},
      {"threads", integer(&O::threads)},
  };
  in.each_key(scenes, "scenes", setters);
  try {
    o.validate();
  } catch (const Error& e) {
    REGAL_FAIL(file, ": ", e.what());
  }
  return o;
}

}  // namespace regal::experiment
