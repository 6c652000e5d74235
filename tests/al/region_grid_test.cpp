// The region grid (ALGORITHM.md section 2): enumeration order, corner checks,
// splitting maps into regions, and the >= 8 pixel rule for feature regions.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <string>

#include "regal/al/action_features.h"
#include "regal/al/region_grid.h"
#include "regal/core/error.h"

namespace regal::al {
namespace {

TEST(RegionSize, SidesBelowEightAreRejected) {
  EXPECT_NO_THROW(check_region_size({8, 8}));
  EXPECT_NO_THROW(check_region_size({128, 128}));
  try {
    check_region_size({7, 128});
    FAIL() << "expected regal::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("7x128"), std::string::npos) << e.what();
  }
  EXPECT_THROW(check_region_size({128, 4}), Error);
  // The feature functions apply the rule themselves.
  const auto maps = pixel_maps(torch::zeros({1, 3, 32, 32}));
  EXPECT_THROW(grid_region_features(maps, {4, 8}), Error);
  EXPECT_THROW(state_matrix(maps, {16, 6}), Error);
  EXPECT_THROW(region_features(maps, torch::zeros({1, 3}, torch::kLong), {6, 6}), Error);
}

TEST(RegionGrid, EnumeratesImageThenXMajor) {
  const RegionGrid grid(64, 96, {32, 32});
  EXPECT_EQ(grid.rows(), 2);
  EXPECT_EQ(grid.columns(), 3);
  EXPECT_EQ(grid.regions_per_image(), 6);
  const std::vector<Region> want = {{0, 0, 0},  {0, 0, 32},  {0, 32, 0},  {0, 32, 32},  {0, 64, 0},  {0, 64, 32},
                                    {1, 0, 0},  {1, 0, 32},  {1, 32, 0},  {1, 32, 32},  {1, 64, 0},  {1, 64, 32}};
  EXPECT_EQ(grid.regions(2), want);
  for (int64_t index = 0; index < grid.regions_per_image(); ++index) {
    const auto region = grid.region_at(0, index);
    EXPECT_EQ(grid.index_in_image(region.x, region.y), index);
  }
  EXPECT_EQ(regions_from_tensor(regions_to_tensor(want)), want);
}

TEST(RegionGrid, NonTilingImageDropsTheLeftovers) {
  // 70 x 100 with 32 x 32 regions: 2 rows, 3 columns; 6 rows and 4 columns of
  // pixels belong to no region.
  const RegionGrid grid(70, 100, {32, 32});
  EXPECT_EQ(grid.rows(), 2);
  EXPECT_EQ(grid.columns(), 3);
  EXPECT_THROW(grid.index_in_image(96, 0), Error);
  EXPECT_THROW(grid.index_in_image(0, 64), Error);

  const auto maps = torch::arange(2 * 70 * 100, torch::kLong).view({2, 70, 100});  // [B, H, W]
  const auto split = grid.split(maps);                                             // [B*R, 32, 32]
  ASSERT_EQ(split.sizes(), (std::vector<int64_t>{12, 32, 32}));
  const auto regions = grid.regions(2);
  for (size_t row = 0; row < regions.size(); ++row) {
    const auto& r = regions[row];
    const auto want = maps[r.image].slice(0, r.y, r.y + 32).slice(1, r.x, r.x + 32);
    EXPECT_TRUE(torch::equal(split[static_cast<int64_t>(row)], want)) << "row " << row;
  }
}

TEST(RegionGrid, StateRowsOfRegionsAndOffGridRegionsRejected) {
  const RegionGrid grid(64, 96, {32, 32});
  const auto regions = torch::tensor({1, 64, 32, 0, 0, 0, 0, 32, 0}, torch::kLong).view({3, 3});
  EXPECT_TRUE(torch::equal(grid.state_rows(regions, 2), torch::tensor({11, 0, 2}, torch::kLong)));
  EXPECT_THROW(grid.state_rows(regions, 1), Error);  // image 1 of a batch of 1
  try {
    grid.state_rows(torch::tensor({0, 0, 0, 0, 5, 0}, torch::kLong).view({2, 3}), 1);
    FAIL() << "expected regal::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("x=5"), std::string::npos) << e.what();
  }
  EXPECT_THROW(grid.state_rows(torch::zeros({2, 3}), 1), Error);  // floating regions
  EXPECT_THROW(grid.state_rows(torch::zeros({2, 2}, torch::kLong), 1), Error);
}

TEST(RegionGrid, RegionLargerThanTheImageRejected) {
  EXPECT_THROW(RegionGrid(64, 96, {128, 32}), Error);
  EXPECT_THROW(RegionGrid(64, 96, {0, 32}), Error);
}

}  // namespace
}  // namespace regal::al
