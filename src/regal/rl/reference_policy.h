#pragma once
// Imports a query network trained with the reference RALis code (PyTorch,
// class QueryNetworkDQN) into a regal QueryNet (ALGORITHM.md §5, §7). Its
// layers carry other names (conv1_s, bn_last_s, conv_bias, conv_final2, ...);
// its unused `final_q` layer and the BatchNorm update counters are ignored.
// The file is the reference's state_dict re-saved as a plain dict (LibTorch
// 1.13 cannot read a bare OrderedDict): reference_policy_export_command().
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "regal/core/saved_tensors.h"
#include "regal/rl/query_net.h"

namespace regal::rl {

struct ReferencePolicyImport {
  int64_t loaded = 0;                   // tensors overwritten: every parameter and running statistic
  std::vector<std::string> ignored;     // final_q.* and *.num_batches_tracked, as named in the file
  std::vector<std::string> unexpected;  // other keys, logged as a warning
};

// The regal name of a reference state_dict key ("bn_last_s.running_mean" ->
// "state.bn_rows.running_mean"), after a leading "module." (DataParallel);
// "" for a key that is ignored (final_q, num_batches_tracked), the key
// itself when it is no reference layer.
std::string regal_name_of_reference_key(const std::string& key);

// Reads the file (either export form of core/saved_tensors.h), so that an
// unreadable one is reported before anything else is done.
// throws: regal::Error with the re-export command.
SavedTensors read_reference_policy(const std::filesystem::path& file);

// requires: `net` built with the options the reference net had: state rows M
//   (|D_S| x regions per image), state and action features, 64 similarity
//   columns (a mismatch names every tensor whose shape differs).
// ensures: every parameter and running statistic of `net` is overwritten.
// throws: regal::Error, `net` unchanged, naming the file and every missing
//   key and shape mismatch; or the re-export command for an unreadable file.
ReferencePolicyImport import_reference_policy(QueryNet& net, const std::filesystem::path& file);
// The same with the file read already (`file` names it in messages).
ReferencePolicyImport import_reference_policy(QueryNet& net, const SavedTensors& saved,
                                              const std::filesystem::path& file);

// The one-line Python command that re-saves a reference checkpoint
// (`policy.pth`) as the plain dict import_reference_policy reads.
std::string reference_policy_export_command();

}  // namespace regal::rl
