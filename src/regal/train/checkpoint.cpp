#include "regal/train/checkpoint.h"

#include <cstring>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <torch/torch.h>

#include "regal/core/archive_file.h"
#include "regal/core/error.h"

namespace regal::train {

namespace {
constexpr const char* kMetaKey = "regal_meta_json";

at::Tensor string_to_tensor(const std::string& text) {
  auto bytes = torch::empty({static_cast<int64_t>(text.size())}, torch::kUInt8);  // [bytes]
  std::memcpy(bytes.data_ptr(), text.data(), text.size());
  return bytes;
}

// Pairs every parameter and buffer of `module` with its tensor in `archive`
// (Module::save's nested layout), collecting what is missing or mis-shaped.
// LibTorch's Module::load would silently take other shapes.
void collect_checked(torch::nn::Module& module, torch::serialize::InputArchive& archive, const std::string& prefix,
                     std::vector<std::pair<at::Tensor, at::Tensor>>& targets, std::vector<std::string>& problems) {
  auto visit = [&](const std::string& name, const at::Tensor& target, bool is_buffer) {
    at::Tensor stored;
    if (!archive.try_read(name, stored, is_buffer)) {
      problems.push_back(prefix + name + " missing");
    } else if (stored.sizes() != target.sizes()) {
      problems.push_back(fmt::format("{}{} has shape {} in the file but {} in the net", prefix, name,
                                     fmt::streamed(stored.sizes()), fmt::streamed(target.sizes())));
    } else {
      targets.emplace_back(target, stored);
    }
  };
  for (const auto& parameter : module.named_parameters(/*recurse=*/false)) {
    visit(parameter.key(), parameter.value(), false);
  }
  for (const auto& buffer : module.named_buffers(/*recurse=*/false)) {
    visit(buffer.key(), buffer.value(), true);
  }
  for (const auto& child : module.named_children()) {
    torch::serialize::InputArchive child_archive;
    if (!archive.try_read(child.key(), child_archive)) {
      problems.push_back(prefix + child.key() + ".* missing");
      continue;
    }
    collect_checked(*child.value(), child_archive, prefix + child.key() + ".", targets, problems);
  }
}

std::string tensor_to_string(const at::Tensor& bytes) {
  const auto contiguous = bytes.to(torch::kCPU).contiguous();
  return std::string(static_cast<const char*>(contiguous.data_ptr()), static_cast<size_t>(contiguous.numel()));
}
}  // namespace

void save_checkpoint(const std::filesystem::path& path, const torch::nn::Module& module,
                     const torch::optim::Optimizer* optimizer, const nlohmann::json& meta) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model_archive;
  module.save(model_archive);
  archive.write("model", model_archive);
  if (optimizer != nullptr) {
    torch::serialize::OutputArchive optimizer_archive;
    optimizer->save(optimizer_archive);
    archive.write("optimizer", optimizer_archive);
  }
  archive.write(kMetaKey, string_to_tensor(meta.dump()));
  save_archive_atomically(path, archive);
}

nlohmann::json load_checkpoint(const std::filesystem::path& path, torch::nn::Module& module,
                               torch::optim::Optimizer* optimizer) {
  REGAL_CHECK(std::filesystem::exists(path), "checkpoint ", path, " does not exist");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string());
  } catch (const c10::Error& e) {
    REGAL_FAIL("checkpoint ", path, " cannot be read (corrupt or not a regal checkpoint): ",
               e.what_without_backtrace());
  }
  try {
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    std::vector<std::pair<at::Tensor, at::Tensor>> targets;
    std::vector<std::string> problems;
    collect_checked(module, model_archive, "", targets, problems);
    if (!problems.empty()) {
      std::string listed;
      for (size_t i = 0; i < problems.size() && i < 6; ++i) listed += (i ? "; " : "") + problems[i];
      if (problems.size() > 6) listed += fmt::format("; ... and {} more", problems.size() - 6);
      REGAL_FAIL("checkpoint ", path, " does not fit this network (other backbone or class count?): ", listed);
    }
    {
      torch::NoGradGuard no_grad;
      for (auto& [target, stored] : targets) target.copy_(stored);
    }
    if (optimizer != nullptr) {
      torch::serialize::InputArchive optimizer_archive;
      archive.read("optimizer", optimizer_archive);
      optimizer->load(optimizer_archive);
    }
    at::Tensor meta_bytes;
    archive.read(kMetaKey, meta_bytes);
    return nlohmann::json::parse(tensor_to_string(meta_bytes));
  } catch (const c10::Error& e) {
    REGAL_FAIL("checkpoint ", path, " does not fit this network (other backbone or class count?): ",
               e.what_without_backtrace());
  } catch (const nlohmann::json::exception& e) {
    REGAL_FAIL("checkpoint ", path, " has unreadable run state: ", e.what());
  }
}

}  // namespace regal::train
