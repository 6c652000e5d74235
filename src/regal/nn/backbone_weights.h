#pragma once
// Loads ImageNet (or any torchvision-named) ResNet weights into a regal
// backbone, from either export form core/saved_tensors.h reads (TorchScript
// or a plain dict; a bare OrderedDict gets the one-line re-export).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "regal/nn/fpn.h"
#include "regal/nn/resnet.h"

namespace regal::nn {

struct BackboneLoadReport {
  std::string format;                   // "torchscript" or "state_dict"
  int64_t loaded = 0;                   // parameters + buffers copied
  std::vector<std::string> ignored;     // fc.* and *.num_batches_tracked (as in the file)
  std::vector<std::string> unexpected;  // other keys the backbone has no use for
};

// requires: `file` is one of the two exports above, with torchvision key names,
//   optionally prefixed by "module." and/or "backbone.".
// ensures: every parameter and BatchNorm running statistic of `net` is
//   overwritten (converted to its dtype and device); unexpected keys are
//   logged as a warning and listed in the report.
// throws: regal::Error, `net` unchanged, naming the file and, in one message,
//   every missing key and every shape mismatch (expected vs got); or the
//   re-export command for an OrderedDict or unreadable file.
BackboneLoadReport load_backbone_weights(ResNet& net, const std::filesystem::path& file);

// Same, into fpn->backbone(); the FPN head keeps its initialisation.
BackboneLoadReport load_backbone_weights(Fpn& net, const std::filesystem::path& file);

// The one-line Python command that writes `architecture`'s ImageNet weights
// in the plain-dict form this loader reads (file name "<name>.pth").
std::string backbone_export_command(Backbone architecture);

}  // namespace regal::nn
