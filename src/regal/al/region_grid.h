#pragma once
// The grid of non-overlapping regions of an image (ALGORITHM.md section 2).
// A region is (image, x, y), x the column and y the row of its top-left
// corner; corners sit at x = 0, rw, 2rw, ... <= W - rw and y = 0, rh, ...
// <= H - rh. Pixels right of / below the last full region belong to none.
//
// Region order everywhere in `al` is the *state order*: image, then x-major
// (all regions with x = 0 top to bottom, then x = rw, ...), as the published
// reference orders its state rows, so that its trained policies load unchanged.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace regal::al {

// Smallest region side the features accept: the entropy pools cut a region
// into 8 x 8 cells of at least one pixel.
inline constexpr int64_t kMinRegionSide = 8;

struct Region {
  int64_t image = 0;
  int64_t x = 0;  // column of the top-left corner
  int64_t y = 0;  // row of the top-left corner
  bool operator==(const Region& other) const {
    return image == other.image && x == other.x && y == other.y;
  }
};

struct RegionSize {
  int64_t height = 0;
  int64_t width = 0;
};

// The configuration check for region sizes (section 4).
// requires: nothing. throws: regal::Error naming the size when a side is
// below kMinRegionSide (8).
void check_region_size(RegionSize size);

// Regions as the int64 tensor the batched functions take: [R, 3] rows of
// (image, x, y), on the CPU; and back.
// throws (from_tensor): regal::Error unless the tensor is [R, 3] integer.
at::Tensor regions_to_tensor(const std::vector<Region>& regions);
std::vector<Region> regions_from_tensor(const at::Tensor& regions);

class RegionGrid {
 public:
  // requires: region sides >= 1 and no larger than the image. Does not apply
  // the >= 8 feature rule (the BALD map means work on any grid); the feature
  // functions call check_region_size themselves. throws: regal::Error.
  RegionGrid(int64_t image_height, int64_t image_width, RegionSize region);

  int64_t image_height() const { return image_height_; }
  int64_t image_width() const { return image_width_; }
  RegionSize region_size() const { return region_; }
  int64_t rows() const { return rows_; }        // regions down one column: H / rh
  int64_t columns() const { return columns_; }  // regions along one row: W / rw
  int64_t regions_per_image() const { return rows_ * columns_; }

  // Position of region (x, y) in its image's state order: (x / rw) * rows + y / rh.
  // throws: regal::Error when (x, y) is not a corner of this grid.
  int64_t index_in_image(int64_t x, int64_t y) const;

  // requires: 0 <= index < regions_per_image(). ensures: the inverse of index_in_image.
  Region region_at(int64_t image, int64_t index) const;

  // Every region of images 0..num_images-1, in state order.
  std::vector<Region> regions(int64_t num_images) const;

  // Row of each region in the state-ordered list of a batch of num_images
  // images: image * regions_per_image() + index_in_image(x, y).
  // requires: regions [R, 3] integer (any device). ensures: [R] int64 on the
  // device of `regions`. throws: regal::Error naming the first region that is
  // off the grid or whose image is outside [0, num_images).
  at::Tensor state_rows(const at::Tensor& regions, int64_t num_images) const;

  // Cuts per-image maps into their regions, in state order.
  // requires: maps [B, H, W] with this grid's H and W (any dtype).
  // ensures: [B * regions_per_image(), rh, rw], a contiguous copy; pixels
  // outside every region are dropped. throws: regal::Error on a shape mismatch.
  at::Tensor split(const at::Tensor& maps) const;

  // Reorders per-region values laid out as the image grid into state order.
  // requires: grid_values [B, rows, columns, ...]. ensures: [B * rows * columns, ...].
  at::Tensor to_state_order(const at::Tensor& grid_values) const;

 private:
  int64_t image_height_;
  int64_t image_width_;
  RegionSize region_;
  int64_t rows_;
  int64_t columns_;
};

}  // namespace regal::al
