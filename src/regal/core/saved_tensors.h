#pragma once
// Weights written by Python PyTorch, read into LibTorch modules. Two export
// forms are read, told apart by the zip archive's records:
//   TorchScript  torch.jit.save(torch.jit.script(model), f)   (has constants.pkl)
//   plain dict   torch.save(dict(model.state_dict()), f)      (data.pkl only)
// A bare torch.save(model.state_dict(), f) pickles an OrderedDict, which
// LibTorch 1.13's unpickler turns into None; that gets an error showing the
// one-line re-export as a plain dict.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <ATen/Tensor.h>
#include <torch/nn/module.h>

namespace regal {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// What a weight file holds, in file order.
struct SavedTensors {
  std::string format;                    // "torchscript" or "state_dict"
  NamedTensors tensors;                  // CPU tensors
  std::vector<std::string> non_tensors;  // keys whose value is not a tensor
};

// How a weight file and the module it goes into are named in messages.
struct SavedTensorsLabels {
  std::string what;            // "backbone weights", "reference policy"
  std::string export_command;  // the one-line Python export this reader takes
};

// requires: `file` is one of the two exports above.
// throws: regal::Error "<what> '<file>': ..." for a missing or unreadable
//   file, an OrderedDict, or a pickle that is not a dict of name -> tensor;
//   each message shows labels.export_command.
SavedTensors read_saved_tensors(const std::filesystem::path& file, const SavedTensorsLabels& labels);

// A module's parameters and BatchNorm running statistics, in module order
// (num_batches_tracked only counts updates and is never imported).
NamedTensors importable_tensors(const torch::nn::Module& module);

struct SavedTensorsCopy {
  int64_t loaded = 0;                   // target tensors overwritten (all of them)
  std::vector<std::string> ignored;     // file keys the caller maps to ""
  std::vector<std::string> unexpected;  // other file keys no target has
};

// Copies `saved` onto `targets` (module name -> tensor), all or nothing.
// name_in_module(key): the target name of a file key, or "" to ignore it.
// ensures: every target is overwritten (converted to its dtype and device);
//   unexpected keys are logged as a warning and listed in the result.
// throws: regal::Error, targets unchanged, "<what> '<file>' (<format>) do not
//   fit <module_name>; <file_description>. N problem(s): ..." naming every
//   missing target, shape mismatch (expected vs got), key given twice and
//   non-floating tensor in one message.
SavedTensorsCopy copy_saved_tensors(const SavedTensors& saved, const NamedTensors& targets,
                                    const std::function<std::string(const std::string&)>& name_in_module,
                                    const std::filesystem::path& file, const SavedTensorsLabels& labels,
                                    const std::string& module_name, const std::string& file_description);

}  // namespace regal
