#pragma once
// A whole `regal experiment` small enough for a test: band images of 32 x 64
// (three classes), regions of 16 x 16 (8 per image), a one-epoch pretraining,
// two-episode policies, budgets of 4 and 8 regions of D_V's 32, and a
// one-epoch upper bound.
#include <filesystem>
#include <string>

#include "regal/core/atomic_file.h"
#include "support/test_support.h"

namespace regal::testing {

// Writes the datasets under <dir>/data and the config <dir>/tiny.yaml, whose
// experiment goes to <dir>/experiment, pretrains into <dir>/pretrained and
// keeps its policies in <dir>/policies.
// Returns the config.
inline std::filesystem::path write_tiny_experiment(const std::filesystem::path& dir) {
  const auto data = dir / "data";
  write_band_dataset(data, "source", 6, 32, 64, 3, 11);
  write_band_dataset(data, "d_t", 4, 32, 64, 3, 1);
  write_band_dataset(data, "d_s", 2, 32, 64, 3, 2);
  write_band_dataset(data, "d_r", 2, 32, 64, 3, 3);
  write_band_dataset(data, "d_v", 4, 32, 64, 3, 4);
  write_band_dataset(data, "val", 2, 32, 64, 3, 5);
  const auto config = dir / "tiny.yaml";
  const std::string root = data.string();
  write_file_atomically(
      config,
      "seed: 0\ndevice: cpu\nthreads: 1\n"
      "source: {type: folder, root: " + root + ", train: source, val: val}\n"
      "target: {type: folder, root: " + root + ", d_t: d_t, d_s: d_s, d_r: d_r, d_v: d_v, val: val}\n"
      "model: {backbone: resnet18, fpn_channels: 8, dropout: 0.3}\n"
      "pretrain: {out: " + (dir / "unused-pretrain").string() +
      ", epochs: 1, batch_size: 2, crop: [32, 32], patience: 0, eval_batch_size: 2}\n"
      "supervised: {out: " + (dir / "unused-supervised").string() +
      ", init: pretrained, epochs: 1, batch_size: 2, crop: [32, 32], patience: 0, eval_batch_size: 2}\n"
      "policy:\n"
      "  out: " + (dir / "unused-policy").string() + "\n"
      "  region: [16, 16]\n  groups: 2\n  per_group: 3\n  budget: 4\n  episodes: 2\n  buffer_capacity: 50\n"
      "  eval_batch_size: 2\n"
      "  dqn: {batch_size: 2, target_sync_every: 2}\n"
      "  segmentation: {crop: [32, 32], batch_size: 2, max_epochs: 2, patience: 1}\n"
      "evaluate:\n  groups: 2\n  per_group: {random: 3, entropy: 3, bald: 3, ralis: 3}\n  bald_passes: 2\n"
      "  eval_batch_size: 2\n"
      "experiment:\n  out: " + (dir / "experiment").string() + "\n  pretrain_cache: " +
      (dir / "pretrained").string() + "\n  policy_cache: " + (dir / "policies").string() + "\n  budgets: ['4', '8']\n  seeds: [0, 1]\n  gallery_images: 2\n  upper_bound: true\n"
      "  unit_checkpoint_minutes: 0\n");
  return config;
}

}  // namespace regal::testing
