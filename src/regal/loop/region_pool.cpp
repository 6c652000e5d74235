#include "regal/loop/region_pool.h"

#include <cmath>
#include <sstream>

#include <fmt/format.h>
#include <torch/torch.h>

#include "regal/core/archive_file.h"
#include "regal/core/error.h"

namespace regal::loop {

Budget Budget::parse(const std::string& text, const std::string& what) {
  Budget budget;
  std::string number = text;
  if (!number.empty() && number.back() == '%') {
    budget.percent = true;
    number.pop_back();
  }
  size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(number, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  REGAL_CHECK(used == number.size() && !number.empty() && std::isfinite(value) && value > 0, what, ": budget '",
              text, "' is not a positive region count (e.g. 480) or percentage (e.g. 3%)");
  if (budget.percent) {
    REGAL_CHECK(value <= 100.0, what, ": budget '", text, "' is above 100%");
  } else {
    REGAL_CHECK(value == std::floor(value), what, ": budget '", text, "' must be a whole number of regions");
    // Beyond 2^53 a double no longer holds every count (and int64 overflows
    // soon after): no pool is that large.
    REGAL_CHECK(value <= 9007199254740992.0, what, ": budget '", text, "' is more regions than any pool holds");
  }
  budget.value = value;
  return budget;
}

int64_t Budget::regions(int64_t pool_regions) const {
  const int64_t count = percent ? std::max<int64_t>(1, static_cast<int64_t>(std::floor(
                                                           static_cast<double>(pool_regions) * value / 100.0)))
                                : static_cast<int64_t>(value);
  REGAL_CHECK(count <= pool_regions, "budget ", to_string(), " is ", count, " regions but the pool holds only ",
              pool_regions);
  return count;
}

std::string Budget::to_string() const {
  return percent ? fmt::format("{}%", value) : fmt::format("{}", static_cast<int64_t>(value));
}

int64_t uniform_index(std::mt19937_64& rng, int64_t n) {
  REGAL_CHECK(n >= 1, "uniform_index: n must be >= 1, got ", n);
  const auto range = static_cast<uint64_t>(n);
  const uint64_t rejected = (uint64_t{0} - range) % range;  // 2^64 mod n
  uint64_t draw = rng();
  while (draw < rejected) draw = rng();
  return static_cast<int64_t>(draw % range);
}

std::vector<int64_t> random_permutation(int64_t n, std::mt19937_64& rng) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(uniform_index(rng, i + 1))]);
  }
  return order;
}

RegionPool::RegionPool(int64_t num_images, int64_t image_height, int64_t image_width, al::RegionSize region)
    : grid_(image_height, image_width, region), num_images_(num_images) {
  REGAL_CHECK(num_images >= 1, "a region pool needs at least one image, got ", num_images);
  labelled_ = torch::zeros({num_images_, grid_.rows(), grid_.columns()}, torch::kBool);  // [I, rows, cols]
}

int64_t RegionPool::unlabelled_count(int64_t image) const {
  REGAL_CHECK(image >= 0 && image < num_images_, "image ", image, " is outside the pool of ", num_images_);
  return grid_.regions_per_image() - labelled_[image].sum().item<int64_t>();
}

bool RegionPool::is_labelled(const al::Region& region) const {
  grid_.index_in_image(region.x, region.y);  // throws off the grid
  REGAL_CHECK(region.image >= 0 && region.image < num_images_, "region image ", region.image,
              " is outside the pool of ", num_images_);
  const auto cells = labelled_.accessor<bool, 3>();
  return cells[region.image][region.y / grid_.region_size().height][region.x / grid_.region_size().width];
}

void RegionPool::label(const al::Region& region) {
  REGAL_CHECK(!is_labelled(region), "region (image ", region.image, ", x ", region.x, ", y ", region.y,
              ") is already labelled");
  auto cells = labelled_.accessor<bool, 3>();
  cells[region.image][region.y / grid_.region_size().height][region.x / grid_.region_size().width] = true;
  ++labelled_count_;
}

void RegionPool::reset() {
  labelled_.zero_();
  labelled_count_ = 0;
}

std::vector<al::Region> RegionPool::labelled_regions() const {
  std::vector<al::Region> regions;
  const auto cells = labelled_.accessor<bool, 3>();
  for (int64_t image = 0; image < num_images_; ++image) {
    for (int64_t index = 0; index < grid_.regions_per_image(); ++index) {
      const auto region = grid_.region_at(image, index);
      if (cells[image][region.y / grid_.region_size().height][region.x / grid_.region_size().width]) {
        regions.push_back(region);
      }
    }
  }
  return regions;
}

std::vector<al::Region> RegionPool::unlabelled_regions(int64_t image) const {
  REGAL_CHECK(image >= 0 && image < num_images_, "image ", image, " is outside the pool of ", num_images_);
  std::vector<al::Region> regions;
  const auto cells = labelled_.accessor<bool, 3>();
  for (int64_t index = 0; index < grid_.regions_per_image(); ++index) {
    const auto region = grid_.region_at(image, index);
    if (!cells[image][region.y / grid_.region_size().height][region.x / grid_.region_size().width]) {
      regions.push_back(region);
    }
  }
  return regions;
}

at::Tensor RegionPool::pixel_mask(int64_t image) const {
  REGAL_CHECK(image >= 0 && image < num_images_, "image ", image, " is outside the pool of ", num_images_);
  const auto size = grid_.region_size();
  // Each grid cell blown up to its rh x rw pixels: [rows * rh, cols * rw].
  auto mask = labelled_[image].repeat_interleave(size.height, 0).repeat_interleave(size.width, 1);
  // Pixels right of / below the last full region belong to no region.
  return torch::constant_pad_nd(mask, {0, grid_.image_width() - mask.size(1), 0, grid_.image_height() - mask.size(0)},
                                0);  // [H, W]
}

void RegionPool::save(const std::filesystem::path& path) const {
  save_tensor_atomically(path, labelled_);
}

void RegionPool::load(const std::filesystem::path& path) {
  REGAL_CHECK(std::filesystem::exists(path), "labelled set ", path, " does not exist");
  at::Tensor loaded;
  try {
    torch::load(loaded, path.string());
  } catch (const c10::Error& e) {
    REGAL_FAIL("labelled set ", path, " is not readable: ", e.what_without_backtrace());
  }
  REGAL_CHECK(loaded.scalar_type() == torch::kBool && loaded.sizes() == labelled_.sizes(), "labelled set ", path,
              " has shape ", loaded.sizes(), " but the pool is ", labelled_.sizes());
  labelled_ = loaded.clone();
  labelled_count_ = labelled_.sum().item<int64_t>();
}

at::Tensor oracle_label(const at::Tensor& ground_truth, const at::Tensor& mask) {
  REGAL_CHECK(ground_truth.dim() == 2 && mask.sizes() == ground_truth.sizes() && mask.scalar_type() == torch::kBool,
              "oracle: expected ground truth [H, W] and a bool mask of the same shape, got ", ground_truth.sizes(),
              " and ", mask.sizes());
  return torch::where(mask, ground_truth, torch::full_like(ground_truth, 255));  // [H, W]
}

std::vector<al::Region> sample_candidate_regions(const RegionPool& pool, int64_t count, std::mt19937_64& rng) {
  REGAL_CHECK(count >= 1, "candidates per step must be >= 1, got ", count);
  REGAL_CHECK(pool.unlabelled_count() >= count, "the pool holds ", pool.unlabelled_count(),
              " unlabelled regions, fewer than the ", count,
              " candidates of a step (K * N); lower K, N or the budget");
  // Step 1: images without replacement (partial Fisher-Yates) until their
  // unlabelled regions exceed `count`, or every image is drawn.
  std::vector<int64_t> images(static_cast<size_t>(pool.num_images()));
  for (int64_t i = 0; i < pool.num_images(); ++i) images[static_cast<size_t>(i)] = i;
  std::vector<std::vector<al::Region>> drawn;
  int64_t available = 0;
  for (int64_t i = 0; i < pool.num_images() && available <= count; ++i) {
    const int64_t pick = i + uniform_index(rng, pool.num_images() - i);
    std::swap(images[static_cast<size_t>(i)], images[static_cast<size_t>(pick)]);
    auto regions = pool.unlabelled_regions(images[static_cast<size_t>(i)]);
    available += static_cast<int64_t>(regions.size());
    if (!regions.empty()) drawn.push_back(std::move(regions));
  }
  // Step 2: a drawn image that still has unused regions, then one of them.
  std::vector<al::Region> picked;
  picked.reserve(static_cast<size_t>(count));
  while (static_cast<int64_t>(picked.size()) < count) {
    const auto image = static_cast<size_t>(uniform_index(rng, static_cast<int64_t>(drawn.size())));
    auto& regions = drawn[image];
    const auto index = static_cast<size_t>(uniform_index(rng, static_cast<int64_t>(regions.size())));
    picked.push_back(regions[index]);
    regions[index] = regions.back();
    regions.pop_back();
    if (regions.empty()) {
      drawn[image] = std::move(drawn.back());
      drawn.pop_back();
    }
  }
  return picked;
}

}  // namespace regal::loop
