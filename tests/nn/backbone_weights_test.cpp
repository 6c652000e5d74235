// Loading torchvision-named ResNet weights from the export forms a user can
// produce, all written here without Python:
//  - a plain dict written by torch::pickle_save (C++);
//  - the bytes Python's torch.save(dict(sd), f) writes (protocol-2 pickle in a
//    zip, every tensor via torch._utils._rebuild_tensor_v2 with an empty
//    OrderedDict of backward hooks), built by hand below;
//  - the same with the top-level OrderedDict of a bare torch.save(sd, f),
//    which LibTorch 1.13's unpickler turns into None -> the re-export error;
//  - a TorchScript archive built from torch::jit::Module and saved with save().
#include "regal/nn/backbone_weights.h"

#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "regal/core/error.h"
#include "support/test_support.h"

namespace regal::nn {
namespace {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The ResNet's state as torchvision's state_dict has it: parameters, BN
// buffers (num_batches_tracked included) and a classifier fc.
// BN statistics are randomised so that loading them is visible.
struct ExportedState {
  NamedTensors parameters;
  NamedTensors buffers;
  NamedTensors all() const {
    NamedTensors out = parameters;
    out.insert(out.end(), buffers.begin(), buffers.end());
    return out;
  }
};

ExportedState torchvision_like_state(Backbone backbone, uint64_t seed) {
  torch::manual_seed(seed);
  ResNet source(backbone);
  ExportedState state;
  for (const auto& p : source->named_parameters()) {
    state.parameters.emplace_back(p.key(), p.value().detach().clone());
  }
  for (const auto& b : source->named_buffers()) {
    torch::Tensor value = b.value().detach().clone();
    if (contains(b.key(), "running_mean")) {
      value.uniform_(-1.0, 1.0);
    } else if (contains(b.key(), "running_var")) {
      value.uniform_(0.5, 1.5);
    } else {
      value.fill_(7);  // num_batches_tracked: int64 scalar
    }
    state.buffers.emplace_back(b.key(), value);
  }
  state.parameters.emplace_back("fc.weight", torch::randn({1000, 512}));
  state.parameters.emplace_back("fc.bias", torch::randn({1000}));
  return state;
}

NamedTensors with_prefix(const NamedTensors& entries, const std::string& prefix) {
  NamedTensors out;
  for (const auto& [key, value] : entries) {
    out.emplace_back(prefix + key, value);
  }
  return out;
}

void write_bytes(const std::filesystem::path& file, const std::vector<char>& bytes) {
  std::ofstream out(file, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << file;
}

void write_pickle_save_dict(const std::filesystem::path& file, const NamedTensors& entries) {
  c10::impl::GenericDict dict(c10::StringType::get(), c10::TensorType::get());
  for (const auto& [key, value] : entries) {
    dict.insert(key, value);
  }
  write_bytes(file, torch::pickle_save(dict));
}

// --- Python's torch.save, by hand ------------------------------------------
// Opcodes as single chars so that "\x89" + "c..." cannot merge into one hex escape.
std::string op(char code) { return std::string(1, code); }

std::string le32(int64_t v) {
  const auto u = static_cast<uint32_t>(v);
  std::string out(4, '\0');
  std::memcpy(out.data(), &u, 4);  // x86-64 / aarch64: little-endian, as pickle wants
  return out;
}

std::string unicode(const std::string& s) {  // BINUNICODE
  return op('X') + le32(static_cast<int64_t>(s.size())) + s;
}

std::string binint(int64_t v) { return op('J') + le32(v); }  // BININT

std::string tuple_of(c10::IntArrayRef values) {  // MARK ... TUPLE
  std::string out = op('(');
  for (int64_t v : values) {
    out += binint(v);
  }
  return out + op('t');
}

const std::string kOrderedDictCall = "ccollections\nOrderedDict\n" + op(')') + op('R');

// Float tensors only (the loader's state has no others once
// num_batches_tracked is left out, which a user's export may also do).
std::vector<char> python_torch_save(const NamedTensors& entries, bool ordered_dict) {
  std::string pkl = op('\x80') + op('\x02');         // PROTO 2
  pkl += ordered_dict ? kOrderedDictCall : op('}');  // OrderedDict() | {}
  pkl += op('(');                                    // MARK
  for (size_t i = 0; i < entries.size(); ++i) {
    const torch::Tensor& t = entries[i].second;
    pkl += unicode(entries[i].first);
    pkl += "ctorch._utils\n_rebuild_tensor_v2\n" + op('(');
    // Persistent id ('storage', torch.FloatStorage, key, 'cpu', numel).
    pkl += op('(') + unicode("storage") + "ctorch\nFloatStorage\n" + unicode(std::to_string(i)) +
           unicode("cpu") + binint(t.numel()) + op('t') + op('Q');
    pkl += binint(0) + tuple_of(t.sizes()) + tuple_of(t.strides()) + op('\x89');  // NEWFALSE
    pkl += kOrderedDictCall + op('t') + op('R');  // backward hooks; TUPLE; REDUCE
  }
  pkl += op('u');  // SETITEMS
  if (ordered_dict) {
    // state_dict()._metadata, set by BUILD as Python does (left empty here).
    pkl += op('}') + unicode("_metadata") + kOrderedDictCall + op('s') + op('b');
  }
  pkl += op('.');

  std::vector<char> zip;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t size) {
    const char* bytes = static_cast<const char*>(data);
    zip.insert(zip.end(), bytes, bytes + size);
    return size;
  });
  writer.writeRecord("data.pkl", pkl.data(), pkl.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const torch::Tensor t = entries[i].second.to(torch::kFloat).contiguous();
    writer.writeRecord("data/" + std::to_string(i), t.data_ptr(), t.numel() * sizeof(float));
  }
  writer.writeEndOfFile();
  return zip;
}

NamedTensors float_entries(const NamedTensors& entries) {
  NamedTensors out;
  for (const auto& e : entries) {
    if (e.second.is_floating_point()) {
      out.push_back(e);
    }
  }
  return out;
}

// --- TorchScript, by hand ---------------------------------------------------
// Nested torch::jit::Modules named like the scripted torchvision model, so
// that named_parameters()/named_buffers() give "layer1.0.conv1.weight" etc.
void write_torchscript(const std::filesystem::path& file, const ExportedState& state) {
  int classes = 0;
  auto new_module = [&] {
    return torch::jit::Module("__torch__.Exported" + std::to_string(classes++));
  };
  torch::jit::Module root = new_module();
  auto add = [&](const std::string& name, const torch::Tensor& value, bool is_buffer) {
    torch::jit::Module owner = root;
    std::string rest = name;
    for (size_t dot; (dot = rest.find('.')) != std::string::npos; rest.erase(0, dot + 1)) {
      const std::string part = rest.substr(0, dot);
      if (!owner.hasattr(part)) {
        owner.register_module(part, new_module());
      }
      owner = owner.attr(part).toModule();
    }
    if (is_buffer) {
      owner.register_buffer(rest, value);
    } else {
      owner.register_parameter(rest, value, /*is_buffer=*/false);
    }
  };
  for (const auto& [name, value] : state.parameters) {
    add(name, value, false);
  }
  for (const auto& [name, value] : state.buffers) {
    add(name, value, true);
  }
  root.save(file.string());
}

// --- checks -------------------------------------------------------------------

void expect_backbone_equals(ResNet& net, const ExportedState& state) {
  std::map<std::string, torch::Tensor> want(state.parameters.begin(), state.parameters.end());
  want.insert(state.buffers.begin(), state.buffers.end());
  int64_t compared = 0;
  for (const auto& p : net->named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), want.at(p.key()))) << p.key();
    ++compared;
  }
  for (const auto& b : net->named_buffers()) {
    if (!contains(b.key(), "num_batches_tracked")) {
      EXPECT_TRUE(torch::equal(b.value(), want.at(b.key()))) << b.key();
      ++compared;
    }
  }
  EXPECT_EQ(compared, 100);  // ResNet-18: 60 parameters + 20 BN x 2 running stats
}

std::string load_error(ResNet& net, const std::filesystem::path& file) {
  try {
    load_backbone_weights(net, file);
  } catch (const regal::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected regal::Error loading " << file;
  return "";
}

TEST(BackboneWeights, PlainDictFromPickleSaveLoads) {
  testing::ScratchDir dir("weights");
  const ExportedState state = torchvision_like_state(Backbone::ResNet18, 11);
  write_pickle_save_dict(dir.path() / "r18.pth", state.all());

  torch::manual_seed(12);
  ResNet net(Backbone::ResNet18);
  ASSERT_FALSE(torch::equal(net->named_parameters()["conv1.weight"], state.parameters[0].second));
  const BackboneLoadReport report = load_backbone_weights(net, dir.path() / "r18.pth");
  EXPECT_EQ(report.format, "state_dict");
  EXPECT_EQ(report.loaded, 100);
  EXPECT_EQ(report.ignored.size(), 2u + 20u);  // fc.weight, fc.bias, 20 num_batches_tracked
  EXPECT_TRUE(report.unexpected.empty());
  expect_backbone_equals(net, state);
}

TEST(BackboneWeights, PythonStylePlainDictWithPrefixesLoadsIntoFpn) {
  testing::ScratchDir dir("weights");
  const ExportedState state = torchvision_like_state(Backbone::ResNet18, 21);
  NamedTensors entries = with_prefix(float_entries(state.all()), "module.backbone.");
  entries.emplace_back("module.classifier.weight", torch::randn({4, 128, 1, 1}));
  write_bytes(dir.path() / "r18.pth", python_torch_save(entries, /*ordered_dict=*/false));

  Fpn net(FpnOptions(4));
  const BackboneLoadReport report = load_backbone_weights(net, dir.path() / "r18.pth");
  EXPECT_EQ(report.loaded, 100);
  EXPECT_EQ(report.unexpected, std::vector<std::string>{"module.classifier.weight"});
  EXPECT_EQ(report.ignored,
            (std::vector<std::string>{"module.backbone.fc.weight", "module.backbone.fc.bias"}));
  expect_backbone_equals(net->backbone(), state);
}

TEST(BackboneWeights, TorchScriptArchiveLoads) {
  testing::ScratchDir dir("weights");
  const ExportedState state = torchvision_like_state(Backbone::ResNet18, 31);
  write_torchscript(dir.path() / "r18.pt", state);

  ResNet net(Backbone::ResNet18);
  const BackboneLoadReport report = load_backbone_weights(net, dir.path() / "r18.pt");
  EXPECT_EQ(report.format, "torchscript");
  EXPECT_EQ(report.loaded, 100);
  EXPECT_EQ(report.ignored.size(), 22u);
  expect_backbone_equals(net, state);
}

// What pickle_load does with a bare torch.save(model.state_dict(), f):
// LibTorch 1.13's unpickler maps the global `collections OrderedDict` to a
// function that replaces its (empty) argument tuple by None, because it only
// expects it as a tensor's backward-hooks argument; the SETITEMS that follows
// then fails with "Expected GenericDict but got None". LibTorch 2.11 also
// rejects real torch.save(state_dict) files (seen with files from torch 2.11);
// should a later release read them, the weights must then load correctly.
TEST(BackboneWeights, OrderedDictGetsTheReexportCommand) {
  testing::ScratchDir dir("weights");
  const ExportedState state = torchvision_like_state(Backbone::ResNet18, 41);
  write_bytes(dir.path() / "bare.pth",
              python_torch_save(float_entries(state.all()), /*ordered_dict=*/true));

  ResNet net(Backbone::ResNet18);
  const torch::Tensor before = net->named_parameters()["conv1.weight"].clone();
  std::string message;
  try {
    load_backbone_weights(net, dir.path() / "bare.pth");
  } catch (const regal::Error& e) {
    message = e.what();
  }
#if TORCH_VERSION_MAJOR < 2
  ASSERT_FALSE(message.empty()) << "LibTorch 1.x is expected to reject an OrderedDict";
#endif
  if (message.empty()) {
    expect_backbone_equals(net, state);
  } else {
    EXPECT_TRUE(contains(message, "OrderedDict")) << message;
    EXPECT_TRUE(contains(message,
                         "python -c \"import torch, torchvision; torch.save(dict("
                         "torchvision.models.resnet18(weights='IMAGENET1K_V1')"
                         ".state_dict()), 'resnet18.pth')\""))
        << message;
    EXPECT_TRUE(torch::equal(before, net->named_parameters()["conv1.weight"]));
  }
}

TEST(BackboneWeights, MissingAndMisShapedKeysAreAllNamedAndNothingIsLoaded) {
  testing::ScratchDir dir("weights");
  const ExportedState state = torchvision_like_state(Backbone::ResNet18, 51);
  NamedTensors entries;
  for (const auto& [key, value] : state.all()) {
    if (key == "layer1.0.conv2.weight" || key == "layer4.1.bn2.running_var") {
      continue;  // missing
    }
    entries.emplace_back(key, key == "conv1.weight" ? torch::zeros({64, 3, 3, 3}) : value);
  }
  write_pickle_save_dict(dir.path() / "bad.pth", entries);

  ResNet net(Backbone::ResNet18);
  const torch::Tensor before = net->named_parameters()["layer1.1.conv1.weight"].clone();
  const std::string message = load_error(net, dir.path() / "bad.pth");
  EXPECT_TRUE(contains(message, "bad.pth")) << message;
  EXPECT_TRUE(contains(message, "conv1.weight: expected shape [64, 3, 7, 7], got [64, 3, 3, 3]"))
      << message;
  EXPECT_TRUE(contains(message, "layer1.0.conv2.weight [64, 64, 3, 3]")) << message;
  EXPECT_TRUE(contains(message, "layer4.1.bn2.running_var [512]")) << message;
  EXPECT_TRUE(contains(message, "missing 2 of 100")) << message;
  EXPECT_TRUE(torch::equal(before, net->named_parameters()["layer1.1.conv1.weight"]))
      << "a rejected file must leave the network unchanged";
}

TEST(BackboneWeights, WrongArchitectureIsNamed) {
  testing::ScratchDir dir("weights");
  write_pickle_save_dict(dir.path() / "r18.pth",
                         torchvision_like_state(Backbone::ResNet18, 61).all());
  ResNet net(Backbone::ResNet50);
  const std::string message = load_error(net, dir.path() / "r18.pth");
  EXPECT_TRUE(contains(message, "do not fit resnet50")) << message.substr(0, 400);
  EXPECT_TRUE(contains(message, "resnet18-style")) << message.substr(0, 400);
  EXPECT_TRUE(contains(message, "layer1.0.conv3.weight")) << message.substr(0, 400);
}

TEST(BackboneWeights, UnreadableFilesAreExplained) {
  testing::ScratchDir dir("weights");
  ResNet net(Backbone::ResNet34);
  std::string message = load_error(net, dir.path() / "absent.pth");
  EXPECT_TRUE(contains(message, "no such file")) << message;
  EXPECT_TRUE(contains(message, "torchvision.models.resnet34(")) << message;

  write_bytes(dir.path() / "text.pth", {'n', 'o', 't', ' ', 'a', ' ', 'z', 'i', 'p'});
  message = load_error(net, dir.path() / "text.pth");
  EXPECT_TRUE(contains(message, "not a PyTorch zip archive")) << message;
  EXPECT_TRUE(contains(message, "resnet34.pth")) << message;
}

}  // namespace
}  // namespace regal::nn
