#include "regal/experiment/policy_import.h"

#include <spdlog/spdlog.h>

#include "regal/al/region_grid.h"
#include "regal/core/error.h"
#include "regal/data/sample_store.h"
#include "regal/experiment/role_split_file.h"
#include "regal/experiment/supervised_jobs.h"
#include "regal/loop/policy_training.h"
#include "regal/loop/scoring.h"
#include "regal/rl/dqn.h"
#include "regal/rl/reference_policy.h"

namespace regal::experiment {
namespace fs = std::filesystem;

nlohmann::json run_import_policy(const RunConfig& config_in, const ImportPolicyRequest& request) {
  RunConfig config = config_in;
  const fs::path out = request.out ? *request.out : config.policy.out / "imported_policy.pt";
  REGAL_CHECK(!fs::exists(out), out, " already exists; choose another --out, or remove it");
  // The file first: an unreadable one is said before any scene is generated.
  const SavedTensors saved = rl::read_reference_policy(request.from);

  // The state rows M come from the config's D_S and region size, as in training.
  ensure_scenes(config);
  ensure_role_splits(config);
  const data::SampleStore d_s(data::open_dataset(config.target.spec("d_s")), false);
  const int64_t num_classes = d_s.dataset().info().num_classes();
  const auto [height, width] = loop::image_size_of(d_s);
  const al::RegionGrid grid(height, width, config.policy.options.region());
  const int64_t state_rows = static_cast<int64_t>(d_s.size()) * grid.regions_per_image();
  const auto net_options = loop::query_net_options(num_classes, state_rows);

  rl::DqnTrainer dqn(net_options, config.policy.options.dqn(), c10::Device(c10::kCPU));
  const auto imported = rl::import_reference_policy(dqn.policy(), saved, request.from);
  dqn.sync_target();
  dqn.save(out);
  spdlog::info("import-policy: {} -> {} ({} tensors; M = {} state rows, {} classes)", request.from.string(),
               out.string(), imported.loaded, state_rows, num_classes);
  return {{"from", request.from.string()},
          {"out", out.string()},
          {"config", config.file.string()},
          {"classes", num_classes},
          {"state_rows", state_rows},
          {"state_features", net_options.state_features()},
          {"action_features", net_options.action_features()},
          {"loaded", imported.loaded},
          {"ignored", imported.ignored},
          {"unexpected", imported.unexpected}};
}

}  // namespace regal::experiment
