#include "regal/al/region_grid.h"

#include <torch/torch.h>

#include "regal/core/error.h"

namespace regal::al {

void check_region_size(RegionSize size) {
  REGAL_CHECK(size.height >= kMinRegionSide && size.width >= kMinRegionSide,
              "region size ", size.height, "x", size.width, " (height x width): both sides must be at least ",
              kMinRegionSide, " pixels, so that the entropy pools have 8 x 8 cells of at least one pixel");
}

at::Tensor regions_to_tensor(const std::vector<Region>& regions) {
  auto out = torch::empty({static_cast<int64_t>(regions.size()), 3}, torch::kLong);  // [R, 3]
  auto rows = out.accessor<int64_t, 2>();
  for (size_t i = 0; i < regions.size(); ++i) {
    rows[i][0] = regions[i].image;
    rows[i][1] = regions[i].x;
    rows[i][2] = regions[i].y;
  }
  return out;
}

std::vector<Region> regions_from_tensor(const at::Tensor& regions) {
  REGAL_CHECK(regions.dim() == 2 && regions.size(1) == 3 && !regions.is_floating_point(),
              "regions: expected an integer tensor [R, 3] of (image, x, y) but got ", regions.sizes(), " ",
              regions.scalar_type());
  const auto cpu = regions.to(torch::kCPU, torch::kLong).contiguous();
  const auto rows = cpu.accessor<int64_t, 2>();
  std::vector<Region> out;
  out.reserve(static_cast<size_t>(cpu.size(0)));
  for (int64_t i = 0; i < cpu.size(0); ++i) out.push_back({rows[i][0], rows[i][1], rows[i][2]});
  return out;
}

RegionGrid::RegionGrid(int64_t image_height, int64_t image_width, RegionSize region)
    : image_height_(image_height), image_width_(image_width), region_(region) {
  REGAL_CHECK(region.height >= 1 && region.width >= 1, "region size ", region.height, "x", region.width,
              " (height x width): sides must be positive");
  REGAL_CHECK(region.height <= image_height && region.width <= image_width, "region size ", region.height, "x",
              region.width, " does not fit in an image of ", image_height, "x", image_width, " (height x width)");
  rows_ = image_height / region.height;
  columns_ = image_width / region.width;
}

int64_t RegionGrid::index_in_image(int64_t x, int64_t y) const {
  REGAL_CHECK(x >= 0 && y >= 0 && x % region_.width == 0 && y % region_.height == 0 &&
                  x / region_.width < columns_ && y / region_.height < rows_,
              "region corner (x=", x, ", y=", y, ") is not on the grid of ", region_.height, "x", region_.width,
              " regions of a ", image_height_, "x", image_width_, " image");
  return (x / region_.width) * rows_ + y / region_.height;
}

Region RegionGrid::region_at(int64_t image, int64_t index) const {
  REGAL_CHECK(index >= 0 && index < regions_per_image(), "region index ", index, " outside [0, ",
              regions_per_image(), ")");
  return {image, (index / rows_) * region_.width, (index % rows_) * region_.height};
}

std::vector<Region> RegionGrid::regions(int64_t num_images) const {
  std::vector<Region> out;
  out.reserve(static_cast<size_t>(num_images * regions_per_image()));
  for (int64_t image = 0; image < num_images; ++image) {
    for (int64_t index = 0; index < regions_per_image(); ++index) out.push_back(region_at(image, index));
  }
  return out;
}

at::Tensor RegionGrid::state_rows(const at::Tensor& regions, int64_t num_images) const {
  REGAL_CHECK(regions.dim() == 2 && regions.size(1) == 3 && !regions.is_floating_point(),
              "regions: expected an integer tensor [R, 3] of (image, x, y) but got ", regions.sizes(), " ",
              regions.scalar_type());
  const auto r = regions.to(torch::kLong);  // [R, 3]
  const auto image = r.select(1, 0);
  const auto x = r.select(1, 1);
  const auto y = r.select(1, 2);
  // One vectorised validity test; the slow path below only formats the message.
  const auto valid = (image >= 0) & (image < num_images) & (x >= 0) & (y >= 0) & (x.remainder(region_.width) == 0) &
                     (y.remainder(region_.height) == 0) & (x < columns_ * region_.width) &
                     (y < rows_ * region_.height);  // [R] bool
  if (!valid.all().item<bool>()) {
    const auto bad = valid.logical_not().nonzero()[0][0].item<int64_t>();
    const auto row = r[bad].cpu();
    REGAL_FAIL("region ", bad, " (image=", row[0].item<int64_t>(), ", x=", row[1].item<int64_t>(),
               ", y=", row[2].item<int64_t>(), ") is not on the grid of ", region_.height, "x", region_.width,
               " regions of ", num_images, " image(s) of ", image_height_, "x", image_width_);
  }
  return image * regions_per_image() + x.div(region_.width, "floor") * rows_ + y.div(region_.height, "floor");
}

at::Tensor RegionGrid::split(const at::Tensor& maps) const {
  REGAL_CHECK(maps.dim() == 3 && maps.size(1) == image_height_ && maps.size(2) == image_width_,
              "maps: expected [B, ", image_height_, ", ", image_width_, "] but got ", maps.sizes());
  const int64_t batch = maps.size(0);
  const auto covered = maps.slice(1, 0, rows_ * region_.height).slice(2, 0, columns_ * region_.width);
  // [B, rows, rh, columns, rw] -> [B, columns, rows, rh, rw]: x-major within each image.
  return covered.reshape({batch, rows_, region_.height, columns_, region_.width})
      .permute({0, 3, 1, 2, 4})
      .reshape({batch * columns_ * rows_, region_.height, region_.width})
      .contiguous();  // [B * R, rh, rw]
}

at::Tensor RegionGrid::to_state_order(const at::Tensor& grid_values) const {
  REGAL_CHECK(grid_values.dim() >= 3 && grid_values.size(1) == rows_ && grid_values.size(2) == columns_,
              "grid values: expected [B, ", rows_, ", ", columns_, ", ...] but got ", grid_values.sizes());
  std::vector<int64_t> shape{grid_values.size(0) * rows_ * columns_};
  for (int64_t d = 3; d < grid_values.dim(); ++d) shape.push_back(grid_values.size(d));
  return grid_values.transpose(1, 2).reshape(shape);  // [B * columns * rows, ...]
}

}  // namespace regal::al
