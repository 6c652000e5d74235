#include "regal/nn/backbone_weights.h"

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
#include <utility>

#include "regal/core/error.h"

namespace regal::nn {
namespace {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

struct FileEntries {
  std::string format;
  NamedTensors tensors;
  std::vector<std::string> non_tensors;  // keys whose value is not a tensor
};

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string shape_string(const torch::Tensor& t) {
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

// "module." (DataParallel) and "backbone." (a segmentation checkpoint), in any
// order and repetition: "module.backbone.layer1.0.conv1.weight" -> "layer1.0.conv1.weight".
std::string strip_known_prefixes(std::string key) {
  for (bool stripped = true; stripped;) {
    stripped = false;
    for (const std::string& prefix : {std::string("module."), std::string("backbone.")}) {
      if (starts_with(key, prefix)) {
        key.erase(0, prefix.size());
        stripped = true;
      }
    }
  }
  return key;
}

// c10 messages can run to several lines (source excerpts); one is enough here.
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

std::vector<char> read_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  REGAL_CHECK(in, "backbone weights '", file.string(), "': cannot open the file for reading");
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

FileEntries read_torchscript(const std::filesystem::path& file) {
  FileEntries entries{"torchscript", {}, {}};
  torch::jit::Module module;
  try {
    module = torch::jit::load(file.string(), torch::kCPU);
  } catch (const c10::Error& e) {
    REGAL_FAIL("backbone weights '", file.string(),
               "': looks like TorchScript (has constants.pkl) but torch::jit::load failed: ",
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

FileEntries read_state_dict(const std::filesystem::path& file, Backbone architecture,
                            caffe2::serialize::PyTorchStreamReader& archive) {
  FileEntries entries{"state_dict", {}, {}};
  c10::IValue root;
  try {
    root = torch::pickle_load(read_bytes(file));
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
      REGAL_FAIL("backbone weights '", file.string(),
                 "': the file holds an OrderedDict (a bare torch.save(model.state_dict(), f)), "
                 "which LibTorch's torch::pickle_load cannot read (it says: ",
                 first_line(e.what_without_backtrace()),
                 "); save a plain dict instead: ", backbone_export_command(architecture));
    }
    REGAL_FAIL("backbone weights '", file.string(),
               "': torch::pickle_load failed: ", first_line(e.what_without_backtrace()),
               "; expected torch.save(dict(state_dict), f), e.g. ",
               backbone_export_command(architecture));
  }
  REGAL_CHECK(root.isGenericDict(), "backbone weights '", file.string(),
              "': expected a pickled dict of name -> tensor but the file holds a ", root.tagKind(),
              "; export with ", backbone_export_command(architecture));
  for (const auto& entry : root.toGenericDict()) {
    REGAL_CHECK(entry.key().isString(), "backbone weights '", file.string(),
                "': expected string keys but found a ", entry.key().tagKind(), " key");
    const std::string& key = entry.key().toStringRef();
    if (entry.value().isTensor()) {
      entries.tensors.emplace_back(key, entry.value().toTensor());
    } else {
      entries.non_tensors.push_back(key);
    }
  }
  return entries;
}

FileEntries read_weight_file(const std::filesystem::path& file, Backbone architecture) {
  REGAL_CHECK(std::filesystem::is_regular_file(file), "backbone weights '", file.string(),
              "': no such file; create it with ", backbone_export_command(architecture));
  // Both exports are zip archives; TorchScript's holds constants.pkl and
  // code/, torch.save's only data.pkl and data/. Deciding up front gives an
  // error from the right reader instead of trying one and then the other.
  std::optional<caffe2::serialize::PyTorchStreamReader> archive;
  try {
    archive.emplace(file.string());
  } catch (const c10::Error& e) {
    REGAL_FAIL("backbone weights '", file.string(),
               "': not a PyTorch zip archive (torch.save since PyTorch 1.6, or torch.jit.save): ",
               first_line(e.what_without_backtrace()), "; export with ",
               backbone_export_command(architecture));
  }
  if (archive->hasRecord("constants.pkl")) {
    return read_torchscript(file);
  }
  REGAL_CHECK(archive->hasRecord("data.pkl"), "backbone weights '", file.string(),
              "': the zip archive has neither constants.pkl (TorchScript) nor data.pkl "
              "(torch.save); export with ",
              backbone_export_command(architecture));
  return read_state_dict(file, architecture, *archive);
}

// What the file's block names suggest it holds, for the mismatch message.
std::string guess_architecture(const NamedTensors& tensors) {
  bool resnet = false;
  bool bottleneck = false;
  bool deep = false;
  for (const auto& [key, tensor] : tensors) {
    const std::string name = strip_known_prefixes(key);
    resnet = resnet || starts_with(name, "layer1.0.");
    bottleneck = bottleneck || starts_with(name, "layer1.0.conv3.");
    deep = deep || starts_with(name, "layer3.5.");
  }
  if (!resnet) {
    return "no ResNet block names (layer1.0.*): check the key prefixes";
  }
  if (bottleneck) {
    return "Bottleneck blocks (resnet50-style)";
  }
  return deep ? "BasicBlocks, 6 in layer3 (resnet34-style)"
              : "BasicBlocks, 2 in layer3 (resnet18-style)";
}

}  // namespace

std::string backbone_export_command(Backbone architecture) {
  const std::string name = backbone_name(architecture);
  return "python -c \"import torch, torchvision; torch.save(dict(torchvision.models." + name +
         "(weights='IMAGENET1K_V1').state_dict()), '" + name + ".pth')\"";
}

BackboneLoadReport load_backbone_weights(ResNet& net, const std::filesystem::path& file) {
  const Backbone architecture = net->architecture();
  FileEntries entries = read_weight_file(file, architecture);

  // The backbone's own tensors, in module order (so messages read top-down).
  // num_batches_tracked only counts BatchNorm updates and is not imported.
  NamedTensors targets;
  for (const auto& p : net->named_parameters(/*recurse=*/true)) {
    targets.emplace_back(p.key(), p.value());
  }
  for (const auto& b : net->named_buffers(/*recurse=*/true)) {
    if (!ends_with(b.key(), "num_batches_tracked")) {
      targets.emplace_back(b.key(), b.value());
    }
  }
  std::map<std::string, torch::Tensor> target_by_name(targets.begin(), targets.end());

  BackboneLoadReport report;
  report.format = entries.format;
  std::map<std::string, torch::Tensor> staged;  // backbone name -> file tensor
  std::vector<std::string> problems;
  std::set<std::string> problem_names;  // reported above, so not also "missing"
  for (const auto& [key, tensor] : entries.tensors) {
    const std::string name = strip_known_prefixes(key);
    if (starts_with(name, "fc.") || ends_with(name, "num_batches_tracked")) {
      report.ignored.push_back(key);
      continue;
    }
    auto target = target_by_name.find(name);
    if (target == target_by_name.end()) {
      report.unexpected.push_back(key);
      continue;
    }
    if (staged.count(name) != 0 || problem_names.count(name) != 0) {
      problem_names.insert(name);
      problems.push_back(name + ": given twice (check the module./backbone. prefixes)");
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
  for (const auto& key : entries.non_tensors) {
    report.unexpected.push_back(key + " (not a tensor)");
  }
  std::vector<std::string> missing;
  for (const auto& [name, tensor] : targets) {
    if (staged.count(name) == 0 && problem_names.count(name) == 0) {
      missing.push_back(name + " " + shape_string(tensor));
    }
  }
  if (!missing.empty()) {
    problems.push_back("missing " + std::to_string(missing.size()) + " of " +
                       std::to_string(targets.size()) + ": " + join(missing, ", "));
  }
  if (!report.unexpected.empty()) {
    spdlog::warn("backbone weights '{}': {} unexpected key(s) not used by {}: {}", file.string(),
                 report.unexpected.size(), backbone_name(architecture),
                 join(report.unexpected, ", "));
  }
  if (!problems.empty()) {
    REGAL_FAIL("backbone weights '", file.string(), "' (", entries.format, ") do not fit ",
               backbone_name(architecture), "; the file holds ",
               guess_architecture(entries.tensors), ". ", problems.size(),
               " problem(s): ", join(problems, "; "));
  }

  {
    // Copy only after every entry checked out, so a bad file leaves `net` as it was.
    torch::NoGradGuard no_grad;
    for (auto& [name, tensor] : targets) {
      tensor.copy_(staged.at(name));  // converts dtype and device
    }
  }
  report.loaded = static_cast<int64_t>(targets.size());
  spdlog::info("backbone weights '{}': loaded {} tensors into {} ({}; {} ignored)", file.string(),
               report.loaded, backbone_name(architecture), entries.format, report.ignored.size());
  return report;
}

BackboneLoadReport load_backbone_weights(Fpn& net, const std::filesystem::path& file) {
  return load_backbone_weights(net->backbone(), file);
}

}  // namespace regal::nn
