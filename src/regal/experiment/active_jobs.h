#pragma once
// The active-learning jobs of the CLI, as library calls: `train-policy`
// (the query network on D_T, ALGORITHM.md section 6), `evaluate` (one
// acquisition method on D_V, scored on val) and `select` (a trained policy or
// a baseline applied to the user's own unlabelled images: which regions to
// annotate). All start from the pretrain run's best.pt unless told otherwise.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "regal/data/sample_store.h"
#include "regal/experiment/config.h"
#include "regal/experiment/run_data_record.h"
#include "regal/loop/policy_training.h"

namespace regal::experiment {

// Command-line values that override config keys (unset: keep the config's).
struct PolicyOverrides {
  std::optional<std::string> device;
  std::optional<int> threads;
  std::optional<uint64_t> seed;
  std::optional<std::filesystem::path> out;
  std::optional<int> episodes;
  std::optional<std::string> reward;  // miou | wiou
  std::optional<int64_t> stop_after_steps;
  bool resume = false;
};

// Writes <out>/data.json (D_T, D_S and D_R: run_data_record.h), config.yaml,
// meta.json (class frequencies and wIoU weights of D_T and D_R), log.csv,
// episodes.csv, best_policy.pt, checkpoint/. With overrides.resume, data.json
// is checked first: a run whose data has changed is an error, nothing touched.
// throws: regal::Error (config, data, a missing pretrained net, resume).
loop::PolicyTrainingResult run_train_policy(const RunConfig& config, const PolicyOverrides& overrides);

// The five target splits of the active-learning jobs, opened once (an
// experiment evaluates many units on them).
struct TargetSplits {
  std::unique_ptr<data::SampleStore> d_t, d_s, d_r, d_v, val;
  at::Tensor class_frequencies;  // [C] float64 of D_T and D_R (ALGORITHM.md section 8)
  // The splits as a run directory records them (run_data_record.h).
  std::vector<RunSplit> run_splits(const RunConfig& config) const;
};
// requires: the scenes exist and ensure_role_splits(config) has run.
// throws: regal::Error (a missing or unreadable split).
TargetSplits open_target_splits(const RunConfig& config);

// What a run ran with: regal and LibTorch versions, the device and the
// LibTorch thread count now set (numbers can differ slightly between them).
nlohmann::json run_environment(const c10::Device& device);

struct EvaluateRequest {
  std::string method;                           // random | entropy | bald | ralis
  std::string budget;                           // "3%" or a region count; empty: the config's first
  std::optional<std::filesystem::path> policy;  // ralis: default <policy.out>/best_policy.pt
  std::optional<uint64_t> seed;
  std::optional<std::filesystem::path> out;     // default <evaluate.out>/<method>-<budget>-seed<S>.json
  std::optional<std::string> device;
  std::optional<int> threads;
  std::string label;                 // the method's name in the results (default: `method`)
  int64_t prediction_images = 0;     // loop::EvaluationJob: predictions kept for figures
  std::filesystem::path predictions_dir;
  // loop::EvaluationJob: the labelling loop's checkpoints are kept next to
  // the results, in <out without .json>.checkpoint, so that the same request
  // made again (`regal evaluate` with the same arguments, or an experiment's
  // unit) continues an interrupted run from its last saved step.
  double checkpoint_seconds = 600.0;
  int64_t stop_after_steps = 0;
};

// One evaluation run; returns the JSON it wrote, whose "data" holds the
// fingerprints of the splits read (split_fingerprints in run_data_record.h).
nlohmann::json run_evaluate(const RunConfig& config, const EvaluateRequest& request);
// The same on splits already open; device and threads are the caller's
// (request.device and request.threads are ignored).
nlohmann::json run_evaluate(const RunConfig& config, const TargetSplits& splits, const EvaluateRequest& request);

struct SelectRequest {
  std::filesystem::path images;                 // a directory of unlabelled images (data/image_folder.h)
  std::string method = "ralis";                 // random | entropy | bald | ralis
  std::optional<std::filesystem::path> policy;  // ralis: default <policy.out>/best_policy.pt
  std::optional<std::filesystem::path> net;     // segmentation checkpoint: default <pretrain.out>/best.pt
  std::optional<int64_t> regions;               // how many to choose: default evaluate.groups (one step)
  // An earlier round's selection.json: its regions are not chosen again,
  // and this round's excluded_regions keep them (also those of images no
  // longer in `images`), so that the last round names every round.
  std::optional<std::filesystem::path> exclude;
  std::filesystem::path out = "runs/select";
  std::optional<uint64_t> seed;
  std::optional<std::string> device;
  std::optional<int> threads;
};

// Chooses regions of request.images to annotate (loop/region_selection.h)
// with the config's region size, K (evaluate.groups) and the method's N
// (evaluate.per_group), the classes and state set D_S of the config's
// target. Writes, atomically, <out>/selection.json (settings, the class
// names and palette by train id, and regions: image file, x, y, height,
// width, step), <out>/selection.csv (the same rows) and
// <out>/overlays/<image>.png (each image with a region in it, chosen regions
// outlined). Returns selection.json's contents.
// throws: regal::Error (no images, images of different sizes or smaller than
// a region, more regions asked than left, a missing net or policy, a policy
// of another state set or class count, an exclude file of another region
// size or whose regions are off their image's grid, an --out that holds a
// selection, or overlays without one).
nlohmann::json run_select(const RunConfig& config, const SelectRequest& request);

struct FinetuneRequest {
  std::filesystem::path images;     // the directory the selection was made in
  // <labels>/<image stem>.png: grey train ids 0..C-1 (255 = unknown), or the
  // target palette's colours (black = unknown unless a class is black).
  std::filesystem::path labels;
  std::filesystem::path selection;  // selection.json of the last round (earlier rounds through its exclusions)
  // Default: the net the selection was made with (its "net"), else <pretrain.out>/best.pt.
  std::optional<std::filesystem::path> net;
  std::filesystem::path out = "runs/finetune";
  std::optional<uint64_t> seed;
  std::optional<std::string> device;
  std::optional<int> threads;
};

// Trains the net on the annotated regions of every round a selection.json
// records (its regions and excluded_regions) whose images are in
// request.images: every label pixel must be a train id or 255 (or, in a
// colour label, a palette colour or black), and only those inside the regions
// are trained on. An image without a label file, and a
// region 255 throughout, were not annotated: they train nothing, and are
// counted and named (images_without_labels and missing_label_files,
// unannotated_regions and regions_left_255). As the final training of
// an evaluation (policy.segmentation options), it stops early on the
// config's D_R and keeps the best weights, so the net is never worse on D_R
// than the one it started from. Writes <out>/best.pt (the net for the next
// `select --net`) and <out>/finetune.json (regions, epochs, D_R mIoU before
// and after, the curve; best_epoch 0 and improved false when no epoch beat
// the starting net, whose weights best.pt then holds).
// Returns finetune.json's contents.
// throws: regal::Error (no label file or no annotated region at all, a label
// of another size or with other values, annotated images of two sizes, two
// annotated images sharing a label name, a selection with no region in these
// images or of another region size, an --out that holds a fine-tuned net,
// a default net whose file no longer holds the weights the selection
// recorded).
nlohmann::json run_finetune(const RunConfig& config, const FinetuneRequest& request);

}  // namespace regal::experiment
