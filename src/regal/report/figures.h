#pragma once
// The figures of an experiment run directory (experiment/experiment_run.h),
// drawn by gnuplot as PNG and SVG from CSV files written under
// <run>/figures/data/ (with the gnuplot scripts, so a figure can be restyled
// by hand):
//   miou_vs_budget        val mIoU against budget, a band of one std per method (paper Fig. 4)
//   rare_miou_vs_budget   mIoU of the six rarest classes against budget (Fig. 5)
//   ralis_train_vs_val    train and val mIoU per budget of both RALis variants (Fig. 6)
//   loss_smallest_budget, loss_largest_budget   loss curves of one seed (Figs. 7 and 8)
//   policy_training       reward per step and episode, DQN loss, epsilon
//   per_class_iou         per-class val IoU at the largest budget, methods side by side
//   acquired_classes      class distribution of the acquired pixels against the pool
// and the gallery (report/gallery.h). A figure whose data the run does not
// have (no RALis method run, no policy log) is left out.
#include <filesystem>
#include <string>
#include <vector>

#include "regal/report/run_units.h"

namespace regal::report {

struct Figure {
  std::string name;     // file stem
  std::string title;
  std::string caption;  // what it shows and how it was computed
  std::filesystem::path png;
  std::filesystem::path svg;
};

// Colour of a method in every figure ("#rrggbb"); grey for unknown names.
std::string method_colour(const std::string& method);

// Writes the figures above into <run_dir>/figures (atomically: gnuplot draws
// into temporary files that are renamed once it succeeds).
// throws: regal::Error when the run has no results.json, or gnuplot fails
// (with its message and the script's path).
std::vector<Figure> write_figures(const std::filesystem::path& run_dir);
// The same from units already loaded (load_run_units(run_dir)).
std::vector<Figure> write_figures(const std::filesystem::path& run_dir, const std::vector<RunUnit>& units);

// Runs gnuplot on `script`. throws: regal::Error with gnuplot's output on failure.
void run_gnuplot(const std::filesystem::path& script);

}  // namespace regal::report
