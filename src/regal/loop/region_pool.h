#pragma once
// The labelled pool of an active-learning run (ALGORITHM.md sections 2-3):
// the grid regions of every image of a split, which of them are labelled, the
// budget in regions, the candidate draw of one step, and the oracle that
// turns a ground-truth label map into the training label of what is labelled.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "regal/al/region_grid.h"

namespace regal::loop {

// A budget in regions: a count ("480") or a percentage of the pool ("3%").
struct Budget {
  bool percent = false;
  double value = 0.0;  // regions, or percent of the pool

  // requires: text is a positive integer or a positive number followed by '%'
  // (at most 100). throws: regal::Error naming `what` (a key or option) and
  // the text otherwise.
  static Budget parse(const std::string& text, const std::string& what);
  // ensures: the budget in regions for a pool of `pool_regions`: a count as
  // is, a percentage floored (at least 1). throws: regal::Error when the
  // result exceeds the pool.
  int64_t regions(int64_t pool_regions) const;
  std::string to_string() const;
};

// Unbiased draw in [0, n) on the 64-bit output of rng (rejection), so that a
// seed gives the same draws with every standard library.
// requires: n >= 1.
int64_t uniform_index(std::mt19937_64& rng, int64_t n);

class RegionPool {
 public:
  // requires: num_images >= 1; region and image sizes as al::RegionGrid.
  // ensures: nothing labelled. throws: regal::Error.
  RegionPool(int64_t num_images, int64_t image_height, int64_t image_width, al::RegionSize region);

  const al::RegionGrid& grid() const { return grid_; }
  int64_t num_images() const { return num_images_; }
  int64_t total_regions() const { return num_images_ * grid_.regions_per_image(); }
  int64_t labelled_count() const { return labelled_count_; }
  int64_t unlabelled_count() const { return total_regions() - labelled_count_; }
  int64_t unlabelled_count(int64_t image) const;

  // [images, rows, columns] bool on the CPU: [i, y / rh, x / rw] is true
  // when region (i, x, y) is labelled.
  const at::Tensor& labelled() const { return labelled_; }
  bool is_labelled(const al::Region& region) const;
  // requires: region on the grid and not yet labelled.
  // throws: regal::Error naming the region otherwise.
  void label(const al::Region& region);
  // Unlabels everything (the start of an episode).
  void reset();

  // Labelled regions in state order (image, then x-major).
  std::vector<al::Region> labelled_regions() const;
  // Unlabelled regions of one image, in state order.
  std::vector<al::Region> unlabelled_regions(int64_t image) const;
  // ensures: [H, W] bool, true on the pixels of the labelled regions of `image`.
  at::Tensor pixel_mask(int64_t image) const;

  // The labelled set as a torch archive, written atomically.
  // throws: regal::Error naming the path on failure.
  void save(const std::filesystem::path& path) const;
  // requires: a file save() wrote for a pool of the same shape.
  // throws: regal::Error naming the path when missing, corrupt or of another shape.
  void load(const std::filesystem::path& path);

 private:
  al::RegionGrid grid_;
  int64_t num_images_;
  at::Tensor labelled_;  // [images, rows, columns] bool
  int64_t labelled_count_ = 0;
};

// The oracle: ground truth inside the labelled regions, IGNORE (255) elsewhere.
// requires: ground_truth [H, W] integer, mask [H, W] bool.
// ensures: [H, W] of ground_truth's dtype. throws: regal::Error on shapes.
at::Tensor oracle_label(const at::Tensor& ground_truth, const at::Tensor& mask);

// Candidate regions of one step (ALGORITHM.md section 3, steps 1-2):
// images drawn uniformly without replacement until they hold more than
// `count` unlabelled regions (all images when the whole pool holds exactly
// `count`), then `count` distinct unlabelled regions drawn one by one: a
// drawn image with unused regions at random, then one of them at random.
// requires: count >= 1 and <= pool.unlabelled_count().
// ensures: `count` distinct unlabelled regions, in draw order.
// throws: regal::Error when the pool holds too few unlabelled regions.
std::vector<al::Region> sample_candidate_regions(const RegionPool& pool, int64_t count, std::mt19937_64& rng);

// A uniform random permutation of 0..n-1 (Fisher-Yates on uniform_index).
std::vector<int64_t> random_permutation(int64_t n, std::mt19937_64& rng);

}  // namespace regal::loop
