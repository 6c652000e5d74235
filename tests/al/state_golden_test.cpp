// State matrix against golden/state.json (ALGORITHM.md section 4).
#include <torch/torch.h>

#include <gtest/gtest.h>

#include "al/al_golden.h"
#include "regal/al/action_features.h"
#include "regal/al/region_grid.h"

namespace regal::al {
namespace {

using golden::json;
using golden::to_tensor;

const json& state_file() {
  static const json file = golden::load("state.json");
  return file;
}

const std::vector<std::string> kCases = {"c19_r32", "c11_r90x80"};

class StateGolden : public ::testing::TestWithParam<std::string> {};

TEST(StateGoldenFile, ListsExactlyTheCasesTested) {
  EXPECT_EQ(golden::case_names(state_file()), kCases);
}

TEST_P(StateGolden, RowOrderIsImageThenXMajor) {
  const auto& c = golden::find_case(state_file(), GetParam());
  const auto& images = c.at("images");
  const RegionGrid grid(images.at(0).at("height"), images.at(0).at("width"),
                        {c.at("region_height").get<int64_t>(), c.at("region_width").get<int64_t>()});
  const auto rows = regions_to_tensor(grid.regions(static_cast<int64_t>(images.size())));  // [M, 3]
  EXPECT_TRUE(golden::all_equal(rows, to_tensor(c.at("expected").at("rows"))));
}

TEST_P(StateGolden, StateMatrixValues) {
  const auto& c = golden::find_case(state_file(), GetParam());
  const int64_t classes = c.at("num_classes");
  const RegionSize region{c.at("region_height").get<int64_t>(), c.at("region_width").get<int64_t>()};
  const auto state = state_matrix(pixel_maps(golden::image_logits(c.at("images"))), region);  // [M, Fs]
  const auto want = to_tensor(c.at("expected").at("state"));
  ASSERT_EQ(state.size(1), state_feature_count(classes));
  // The histogram columns are counts (+1e-7): exact; the rest within tolerance.
  EXPECT_TRUE(golden::all_equal(state.slice(1, 0, classes + 1).to(torch::kDouble).round(),
                                want.slice(1, 0, classes + 1).round()))
      << "hist counts";
  EXPECT_TRUE(golden::all_close(state, want, golden::tolerance_of(state_file())));
}

INSTANTIATE_TEST_SUITE_P(Cases, StateGolden, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace regal::al
