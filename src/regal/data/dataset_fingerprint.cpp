#include "regal/data/dataset_fingerprint.h"

#include <cstdint>
#include <system_error>

#include <fmt/format.h>

#include "regal/core/error.h"
#include "regal/core/fnv_hash.h"

namespace regal::data {

namespace {

uint64_t size_of(const std::filesystem::path& file, const char* what, const std::string& split) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  REGAL_CHECK(!ec, "cannot read the size of ", what, " file ", file, " of split '", split, "': ", ec.message());
  return static_cast<uint64_t>(size);
}

}  // namespace

std::string dataset_fingerprint(const Dataset& dataset) {
  Fnv1a64 hash;
  // A version tag: a later change of what is hashed must not collide with
  // fingerprints recorded by this one.
  hash.add_string("regal-dataset-fingerprint-v1");
  hash.add_string(dataset.info().name);
  hash.add_string(dataset.split());
  hash.add_number(dataset.info().class_names.size());
  for (const auto& name : dataset.info().class_names) hash.add_string(name);
  hash.add_number(dataset.size());
  for (const auto& files : dataset.all_files()) {
    hash.add_string(files.id);
    hash.add_number(size_of(files.image, "image", dataset.split()));
    hash.add_number(size_of(files.label, "label", dataset.split()));
  }
  return fmt::format("{:016x}", hash.value());
}

nlohmann::json describe_split(const DatasetSpec& spec, const Dataset& dataset) {
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& files : dataset.all_files()) ids.push_back(files.id);
  return {{"type", spec.type},
          {"name", dataset.info().name},
          {"root", spec.root.string()},
          {"split", dataset.split()},
          {"num_samples", dataset.size()},
          {"fingerprint", dataset_fingerprint(dataset)},
          {"ids", ids}};
}

}  // namespace regal::data
