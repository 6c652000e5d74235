#include "regal/loop/region_selection.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "regal/core/error.h"
#include "regal/core/progress.h"
#include "regal/loop/candidates.h"
#include "regal/loop/region_pool.h"
#include "regal/loop/scoring.h"

namespace regal::loop {

std::vector<SelectedRegion> select_regions(const AcquisitionContext& context_in, const SelectionOptions& options,
                                           const std::vector<al::Region>& excluded) {
  REGAL_CHECK(context_in.pool_images != nullptr, "select: no images");
  REGAL_CHECK(options.regions() >= 1 && options.groups() >= 1 && options.per_group() >= 1,
              "select: regions, K and N must be >= 1");
  AcquisitionContext context = context_in;
  const auto [height, width] = image_size_of(*context.pool_images);
  RegionPool pool(static_cast<int64_t>(context.pool_images->size()), height, width, context.region);
  for (const auto& region : excluded) pool.label(region);
  REGAL_CHECK(options.regions() <= pool.unlabelled_count(), "select: ", options.regions(),
              " regions asked for, but the images hold only ", pool.unlabelled_count(), " regions of ",
              context.region.height, " x ", context.region.width, " that are not excluded");

  // The net is not trained between steps, so the state of the state set is
  // the same at every step: computed once.
  if (options.method() == Method::kPolicy && !context.state.defined()) {
    REGAL_CHECK(context.state_set != nullptr && !context.net.is_empty(),
                "select with the policy needs the segmentation net and the state set");
    context.state = compute_state(context.net, *context.state_set, context.region, context.device,
                                  context.eval_batch_size);  // [M, Fs]
  }

  const int64_t num_classes = context.pool_images->dataset().info().num_classes();
  // No labels are known: the labelled set of the action features stays empty.
  const auto no_fractions = torch::zeros({0, num_classes + 1}, torch::kFloat);  // [0, C+1]
  torch::manual_seed(options.seed());
  std::mt19937_64 rng(options.seed());
  const int64_t steps = (options.regions() + options.groups() - 1) / options.groups();
  Progress progress("select " + to_string(options.method()), steps);
  std::vector<SelectedRegion> selected;
  for (int64_t step = 0; static_cast<int64_t>(selected.size()) < options.regions(); ++step) {
    const int64_t wanted = options.regions() - static_cast<int64_t>(selected.size());
    // As in evaluation: fewer candidates per group when the pool runs low.
    const int64_t groups = std::min({options.groups(), wanted, pool.unlabelled_count()});
    const int64_t per_group = std::min(options.per_group(), pool.unlabelled_count() / groups);
    auto candidates = draw_candidates(pool, groups, per_group, rng);
    torch::manual_seed(options.seed() * 1000003ULL + static_cast<uint64_t>(step));
    const auto picks = pick_regions(options.method(), candidates, no_fractions, context, rng);
    for (int64_t k = 0; k < candidates.groups; ++k) {
      const auto& region = candidates.at(k, picks.index[static_cast<size_t>(k)]);
      pool.label(region);
      selected.push_back({region, step, picks.score[static_cast<size_t>(k)]});
    }
    progress.advance(1, fmt::format("{} of {} regions", selected.size(), options.regions()));
  }
  return selected;
}

}  // namespace regal::loop
