#include "regal/nn/backbone_weights.h"

#include <spdlog/spdlog.h>

#include "regal/core/error.h"
#include "regal/core/saved_tensors.h"
#include "regal/core/strings.h"

namespace regal::nn {
namespace {

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
  const SavedTensorsLabels labels{"backbone weights", backbone_export_command(architecture)};
  const SavedTensors saved = read_saved_tensors(file, labels);
  const auto name_in_backbone = [](const std::string& key) {
    const std::string name = strip_known_prefixes(key);
    // The classifier and BatchNorm's update counter have no place in the backbone.
    return starts_with(name, "fc.") || ends_with(name, "num_batches_tracked") ? std::string() : name;
  };
  const SavedTensorsCopy copy = copy_saved_tensors(saved, importable_tensors(*net), name_in_backbone, file, labels,
                                                   backbone_name(architecture), guess_architecture(saved.tensors));
  BackboneLoadReport report;
  report.format = saved.format;
  report.loaded = copy.loaded;
  report.ignored = copy.ignored;
  report.unexpected = copy.unexpected;
  spdlog::info("backbone weights '{}': loaded {} tensors into {} ({}; {} ignored)", file.string(),
               report.loaded, backbone_name(architecture), report.format, report.ignored.size());
  return report;
}

BackboneLoadReport load_backbone_weights(Fpn& net, const std::filesystem::path& file) {
  return load_backbone_weights(net->backbone(), file);
}

}  // namespace regal::nn
