#include "regal/data/folder.h"

#include <array>
#include <set>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "regal/data/file_pairing.h"

namespace regal::data {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* const kManifestName = "dataset.json";

// Every check below names the manifest and the key, so a broken generator
// or a hand edit is found without reading the loader.
const json& require_key(const json& manifest, const char* key, json::value_t type,
                        const char* expected, const fs::path& file) {
  REGAL_CHECK(manifest.contains(key), file, ": missing key '", key, "' (", expected, ")");
  const json& value = manifest.at(key);
  REGAL_CHECK(value.type() == type, file, ": key '", key, "' must be ", expected, ", got ",
              value.dump());
  return value;
}

std::vector<std::string> parse_classes(const json& manifest, const fs::path& file) {
  const json& classes =
      require_key(manifest, "classes", json::value_t::array, "an array of class names", file);
  // 255 is the ignore index, so train ids stop at 254.
  REGAL_CHECK(!classes.empty() && classes.size() <= 255, file,
              ": key 'classes' must list 1..255 class names, got ", classes.size());
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (size_t i = 0; i < classes.size(); ++i) {
    const json& name = classes[i];
    REGAL_CHECK(name.is_string() && !name.get<std::string>().empty(), file, ": classes[", i,
                "] must be a non-empty string, got ", name.dump());
    // Class names become CSV columns and cells (results, logs, figure data).
    REGAL_CHECK(name.get<std::string>().find_first_of(",\"\n\r") == std::string::npos, file, ": classes[", i,
                "] ", name.dump(), " holds a comma, quote or line break, which the CSV results cannot hold");
    REGAL_CHECK(seen.insert(name.get<std::string>()).second, file, ": classes[", i,
                "] repeats the class name ", name.dump());
    names.push_back(name.get<std::string>());
  }
  return names;
}

std::vector<std::array<uint8_t, 3>> parse_palette(const json& manifest, size_t num_classes,
                                                  const fs::path& file) {
  const json& palette = require_key(manifest, "palette", json::value_t::array,
                                    "an array of [r, g, b] colours, one per class", file);
  REGAL_CHECK(palette.size() == num_classes, file, ": key 'palette' has ", palette.size(),
              " colours but 'classes' has ", num_classes, " names");
  std::vector<std::array<uint8_t, 3>> colours;
  for (size_t i = 0; i < palette.size(); ++i) {
    const json& colour = palette[i];
    bool valid = colour.is_array() && colour.size() == 3;
    for (size_t c = 0; valid && c < 3; ++c) {
      valid = colour[c].is_number_integer() && colour[c].get<int64_t>() >= 0 &&
              colour[c].get<int64_t>() <= 255;
    }
    REGAL_CHECK(valid, file, ": palette[", i, "] must be [r, g, b] with integers 0..255, got ",
                colour.dump());
    colours.push_back(
        {colour[0].get<uint8_t>(), colour[1].get<uint8_t>(), colour[2].get<uint8_t>()});
  }
  return colours;
}

// An id becomes a file name under images/ and labels/, so it must not reach
// outside them.
bool is_plain_file_name(const std::string& id) {
  return !id.empty() && id != "." && id != ".." && id.find('/') == std::string::npos &&
         id.find('\\') == std::string::npos;
}

std::map<std::string, std::vector<std::string>> parse_splits(const json& manifest,
                                                             const fs::path& file) {
  const json& splits = require_key(manifest, "splits", json::value_t::object,
                                   "an object mapping split names to arrays of sample ids", file);
  REGAL_CHECK(!splits.empty(), file, ": key 'splits' holds no split");
  std::map<std::string, std::vector<std::string>> parsed;
  for (const auto& [split, ids] : splits.items()) {
    REGAL_CHECK(!split.empty(), file, ": 'splits' has a split with an empty name");
    REGAL_CHECK(ids.is_array(), file, ": splits['", split,
                "'] must be an array of sample ids, got ", ids.dump());
    std::set<std::string> seen;
    std::vector<std::string>& split_ids = parsed[split];
    for (size_t i = 0; i < ids.size(); ++i) {
      const json& id = ids[i];
      REGAL_CHECK(id.is_string() && is_plain_file_name(id.get<std::string>()), file, ": splits['",
                  split, "'][", i, "] must be a file name without '/', got ", id.dump());
      REGAL_CHECK(seen.insert(id.get<std::string>()).second, file, ": splits['", split, "'][", i,
                  "] repeats the sample id ", id.dump());
      split_ids.push_back(id.get<std::string>());
    }
  }
  return parsed;
}

}  // namespace

FolderManifest read_folder_manifest(const fs::path& root) {
  require_directory(root, "folder dataset root");
  const fs::path file = root / kManifestName;
  std::error_code ec;
  REGAL_CHECK(fs::is_regular_file(file, ec), "folder dataset: ", file, " does not exist");

  json manifest;
  try {
    manifest = json::parse(read_file(file));
  } catch (const json::parse_error& e) {
    REGAL_FAIL(file, ": invalid JSON: ", e.what());
  }
  REGAL_CHECK(manifest.is_object(), file, ": must hold a JSON object, got ", manifest.type_name());

  FolderManifest parsed;
  parsed.info.name =
      require_key(manifest, "name", json::value_t::string, "a string", file).get<std::string>();
  parsed.info.class_names = parse_classes(manifest, file);
  parsed.info.palette = parse_palette(manifest, parsed.info.class_names.size(), file);
  REGAL_CHECK(manifest.contains("ignore_index"), file, ": missing key 'ignore_index' (255)");
  const json& ignore_index = manifest.at("ignore_index");
  // Label files are 8-bit and train ids fill 0..C-1, so 255 is the only
  // ignore value that cannot collide with a class.
  REGAL_CHECK(ignore_index.is_number_integer() && ignore_index.get<int64_t>() == kIgnoreIndex, file,
              ": key 'ignore_index' must be ", kIgnoreIndex, ", got ", ignore_index.dump());
  parsed.info.ignore_index = kIgnoreIndex;
  parsed.splits = parse_splits(manifest, file);
  return parsed;
}

Dataset open_folder(const fs::path& root, const std::string& split) {
  FolderManifest manifest = read_folder_manifest(root);
  const fs::path file = root / kManifestName;
  const auto listed = manifest.splits.find(split);
  if (listed == manifest.splits.end()) {
    std::string known;
    for (const auto& entry : manifest.splits) {
      known += (known.empty() ? "" : ", ") + entry.first;
    }
    REGAL_FAIL("folder dataset: unknown split '", split, "' in ", file, ": it has ", known);
  }
  REGAL_CHECK(!listed->second.empty(), "split '", split, "' is empty: ", file,
              " lists no sample ids for it (dataset ", root, ")");

  std::vector<std::string> problems;
  std::vector<SampleFiles> files;
  files.reserve(listed->second.size());
  for (const std::string& id : listed->second) {
    const fs::path image = root / "images" / (id + ".png");
    const fs::path label = root / "labels" / (id + ".png");
    // error_code overloads: an unreadable directory reads as "missing" and is
    // reported per file instead of escaping as a filesystem_error.
    std::error_code ec;
    const bool has_image = fs::is_regular_file(image, ec);
    const bool has_label = fs::is_regular_file(label, ec);
    if (has_image && has_label) {
      files.push_back({id, image, label});
    } else if (has_image) {
      problems.push_back(
          detail::concat("image ", image, " has no label file (", label, " missing)"));
    } else if (has_label) {
      problems.push_back(
          detail::concat("label ", label, " has no image file (", image, " missing)"));
    } else {
      problems.push_back(detail::concat("sample '", id, "' of split '", split, "': neither ", image,
                                        " nor ", label, " exists"));
    }
  }
  require_complete_split(files, std::move(problems), split, root);
  LabelMap train_ids = LabelMap::identity(manifest.info.num_classes());
  return Dataset(std::move(manifest.info), split, std::move(files), std::move(train_ids));
}

std::vector<std::string> folder_splits(const fs::path& root) {
  std::vector<std::string> splits;
  for (const auto& entry : read_folder_manifest(root).splits) {
    splits.push_back(entry.first);
  }
  return splits;
}

}  // namespace regal::data
