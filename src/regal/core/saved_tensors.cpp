#include "regal/core/saved_tensors.h"

#include <caffe2/serialize/inline_container.h>
#include <spdlog/spdlog.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "regal/core/error.h"
#include "regal/core/strings.h"

namespace regal {
namespace fs = std::filesystem;
namespace {


std::string shape_string(const at::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const auto& item : items) {
    out += (out.empty() ? "" : separator) + item;
  }
  return out;
}

// c10 messages can run to several lines (source excerpts); one is enough here.
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// "<what> '<file>'": how every message starts.
std::string subject(const fs::path& file, const SavedTensorsLabels& labels) {
  return labels.what + " '" + file.string() + "'";
}

std::vector<char> read_bytes(const fs::path& file, const SavedTensorsLabels& labels) {
  std::ifstream in(file, std::ios::binary);
  REGAL_CHECK(in, subject(file, labels), ": cannot open the file for reading");
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

SavedTensors read_torchscript(const fs::path& file, const SavedTensorsLabels& labels) {
  SavedTensors entries{"torchscript", {}, {}};
  torch::jit::Module module;
  try {
    module = torch::jit::load(file.string(), torch::kCPU);
  } catch (const c10::Error& e) {
    REGAL_FAIL(subject(file, labels), ": looks like TorchScript (has constants.pkl) but torch::jit::load failed: ",
               first_line(e.what_without_backtrace()));
  }
  for (const auto& p : module.named_parameters(/*recurse=*/true)) {
    entries.tensors.emplace_back(p.name, p.value);
  }
  for (const auto& b : module.named_buffers(/*recurse=*/true)) {
    entries.tensors.emplace_back(b.name, b.value);
  }
  return entries;
}

SavedTensors read_state_dict(const fs::path& file, const SavedTensorsLabels& labels,
                             caffe2::serialize::PyTorchStreamReader& archive) {
  SavedTensors entries{"state_dict", {}, {}};
  c10::IValue root;
  try {
    root = torch::pickle_load(read_bytes(file, labels));
  } catch (const c10::Error& e) {
    // torch.save(model.state_dict()) starts its pickle with the global
    // `collections OrderedDict` (protocol 2: right after the 2-byte header).
    // LibTorch 1.13's unpickler maps that global to None (it only expects it
    // as a tensor's empty backward-hooks argument), so the first SETITEMS
    // fails with "Expected GenericDict but got None"; LibTorch 2.11 rejects
    // such files too (checked with files written by torch 2.11). Tensors in a
    // plain dict carry an OrderedDict as well, which is why only the head is
    // checked.
    auto [data, size] = archive.getRecord("data.pkl");
    const std::string head(static_cast<const char*>(data.get()), std::min<size_t>(size, 64));
    if (head.find("OrderedDict") != std::string::npos) {
      REGAL_FAIL(subject(file, labels),
                 ": the file holds an OrderedDict (a bare torch.save(model.state_dict(), f)), "
                 "which LibTorch's torch::pickle_load cannot read (it says: ",
                 first_line(e.what_without_backtrace()), "); save a plain dict instead: ", labels.export_command);
    }
    REGAL_FAIL(subject(file, labels), ": torch::pickle_load failed: ", first_line(e.what_without_backtrace()),
               "; expected torch.save(dict(state_dict), f), e.g. ", labels.export_command);
  }
  REGAL_CHECK(root.isGenericDict(), subject(file, labels),
              ": expected a pickled dict of name -> tensor but the file holds a ", root.tagKind(), "; export with ",
              labels.export_command);
  for (const auto& entry : root.toGenericDict()) {
    REGAL_CHECK(entry.key().isString(), subject(file, labels), ": expected string keys but found a ",
                entry.key().tagKind(), " key");
    const std::string& key = entry.key().toStringRef();
    if (entry.value().isTensor()) {
      entries.tensors.emplace_back(key, entry.value().toTensor());
    } else {
      entries.non_tensors.push_back(key);
    }
  }
  return entries;
}

}  // namespace

SavedTensors read_saved_tensors(const fs::path& file, const SavedTensorsLabels& labels) {
  REGAL_CHECK(fs::is_regular_file(file), subject(file, labels), ": no such file; create it with ",
              labels.export_command);
  // Both exports are zip archives; TorchScript's holds constants.pkl and
  // code/, torch.save's only data.pkl and data/. Deciding up front gives an
  // error from the right reader instead of trying one and then the other.
  std::optional<caffe2::serialize::PyTorchStreamReader> archive;
  try {
    archive.emplace(file.string());
  } catch (const c10::Error& e) {
    REGAL_FAIL(subject(file, labels),
               ": not a PyTorch zip archive (torch.save since PyTorch 1.6, or torch.jit.save): ",
               first_line(e.what_without_backtrace()), "; export with ", labels.export_command);
  }
  if (archive->hasRecord("constants.pkl")) {
    return read_torchscript(file, labels);
  }
  REGAL_CHECK(archive->hasRecord("data.pkl"), subject(file, labels),
              ": the zip archive has neither constants.pkl (TorchScript) nor data.pkl (torch.save); export with ",
              labels.export_command);
  return read_state_dict(file, labels, *archive);
}

NamedTensors importable_tensors(const torch::nn::Module& module) {
  NamedTensors targets;
  for (const auto& p : module.named_parameters(/*recurse=*/true)) {
    targets.emplace_back(p.key(), p.value());
  }
  for (const auto& b : module.named_buffers(/*recurse=*/true)) {
    if (!ends_with(b.key(), "num_batches_tracked")) {
      targets.emplace_back(b.key(), b.value());
    }
  }
  return targets;
}

SavedTensorsCopy copy_saved_tensors(const SavedTensors& saved, const NamedTensors& targets,
                                    const std::function<std::string(const std::string&)>& name_in_module,
                                    const fs::path& file, const SavedTensorsLabels& labels,
                                    const std::string& module_name, const std::string& file_description) {
  const std::map<std::string, at::Tensor> target_by_name(targets.begin(), targets.end());
  SavedTensorsCopy report;
  std::map<std::string, at::Tensor> staged;  // target name -> file tensor
  std::vector<std::string> problems;
  std::set<std::string> problem_names;  // reported above, so not also "missing"
  for (const auto& [key, tensor] : saved.tensors) {
    const std::string name = name_in_module(key);
    if (name.empty()) {
      report.ignored.push_back(key);
      continue;
    }
    const auto target = target_by_name.find(name);
    if (target == target_by_name.end()) {
      report.unexpected.push_back(key);
      continue;
    }
    if (staged.count(name) != 0 || problem_names.count(name) != 0) {
      problem_names.insert(name);
      problems.push_back(name + ": given twice (check the key prefixes)");
      continue;
    }
    if (!tensor.is_floating_point()) {
      problem_names.insert(name);
      problems.push_back(name + ": expected a floating-point tensor, got " +
                         std::string(c10::toString(tensor.scalar_type())));
      continue;
    }
    if (tensor.sizes() != target->second.sizes()) {
      problem_names.insert(name);
      problems.push_back(name + ": expected shape " + shape_string(target->second) + ", got " +
                         shape_string(tensor));
      continue;
    }
    staged.emplace(name, tensor);
  }
  for (const auto& key : saved.non_tensors) {
    report.unexpected.push_back(key + " (not a tensor)");
  }
  std::vector<std::string> missing;
  for (const auto& [name, tensor] : targets) {
    if (staged.count(name) == 0 && problem_names.count(name) == 0) {
      missing.push_back(name + " " + shape_string(tensor));
    }
  }
  if (!missing.empty()) {
    problems.push_back("missing " + std::to_string(missing.size()) + " of " + std::to_string(targets.size()) +
                       ": " + join(missing, ", "));
  }
  if (!report.unexpected.empty()) {
    spdlog::warn("{}: {} unexpected key(s) not used by {}: {}", subject(file, labels), report.unexpected.size(),
                 module_name, join(report.unexpected, ", "));
  }
  if (!problems.empty()) {
    REGAL_FAIL(subject(file, labels), " (", saved.format, ") do not fit ", module_name, "; the file holds ",
               file_description, ". ", problems.size(), " problem(s): ", join(problems, "; "));
  }
  {
    // Copy only after every entry checked out, so a bad file leaves the module as it was.
    torch::NoGradGuard no_grad;
    for (const auto& [name, tensor] : targets) {
      auto target = tensor;  // shares storage with the module's tensor
      target.copy_(staged.at(name));  // converts dtype and device
    }
  }
  report.loaded = static_cast<int64_t>(targets.size());
  return report;
}

}  // namespace regal
