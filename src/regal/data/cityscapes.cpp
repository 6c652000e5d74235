#include "regal/data/cityscapes.h"

#include <array>
#include <utility>

#include "regal/core/error.h"
#include "regal/data/file_pairing.h"

namespace regal::data {
namespace fs = std::filesystem;

namespace {

constexpr int kNumTrainIds = 19;
constexpr int kLastOfficialLabelId = 33;

const char* const kImageSuffix = "_leftImg8bit.png";
const char* const kLabelIdsSuffix = "_gtFine_labelIds.png";
const char* const kTrainIdsSuffix = "_gtFine_labelTrainIds.png";

// Train id i is the class evaluated on label id kEvaluatedLabelIds[i]
// (cityscapesScripts/helpers/labels.py).
constexpr std::array<int, kNumTrainIds> kEvaluatedLabelIds = {
    7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33};

bool every_image_has(const FilesByKey& images, const FilesByKey& labels) {
  for (const auto& entry : images) {
    if (labels.count(entry.first) == 0) {
      return false;
    }
  }
  return true;
}

}  // namespace

DatasetInfo cityscapes_info() {
  DatasetInfo info;
  info.name = "cityscapes";
  info.class_names = {"road", "sidewalk",      "building",     "wall",       "fence",
                      "pole", "traffic light", "traffic sign", "vegetation", "terrain",
                      "sky",  "person",        "rider",        "car",        "truck",
                      "bus",  "train",         "motorcycle",   "bicycle"};
  info.palette = {{128, 64, 128},  {244, 35, 232}, {70, 70, 70},  {102, 102, 156}, {190, 153, 153},
                  {153, 153, 153}, {250, 170, 30}, {220, 220, 0}, {107, 142, 35},  {152, 251, 152},
                  {70, 130, 180},  {220, 20, 60},  {255, 0, 0},   {0, 0, 142},     {0, 0, 70},
                  {0, 60, 100},    {0, 80, 100},   {0, 0, 230},   {119, 11, 32}};
  info.ignore_index = kIgnoreIndex;
  return info;
}

LabelMap cityscapes_label_map() {
  LabelMap map;
  for (int label_id = 0; label_id <= kLastOfficialLabelId; ++label_id) {
    map.set(label_id, kIgnoreIndex);
  }
  for (int train_id = 0; train_id < kNumTrainIds; ++train_id) {
    map.set(kEvaluatedLabelIds[static_cast<size_t>(train_id)], train_id);
  }
  // Not written by cityscapesScripts into labelIds files, but an "ignore" pixel
  // stored as 255 means the same thing; accepting it costs nothing.
  map.set(kIgnoreIndex, kIgnoreIndex);
  return map;
}

LabelColours cityscapes_label_colours() {
  LabelColours colours;
  // Ids 0..4 (unlabeled, ego vehicle, rectification border, out of roi,
  // static) are all black; every one maps to the ignore index, so 0 serves.
  colours.add({0, 0, 0}, 0)
      .add({111, 74, 0}, 5)
      .add({81, 0, 81}, 6)
      .add({128, 64, 128}, 7)
      .add({244, 35, 232}, 8)
      .add({250, 170, 160}, 9)
      .add({230, 150, 140}, 10)
      .add({70, 70, 70}, 11)
      .add({102, 102, 156}, 12)
      .add({190, 153, 153}, 13)
      .add({180, 165, 180}, 14)
      .add({150, 100, 100}, 15)
      .add({150, 120, 90}, 16)
      // Pole (17) and polegroup (18) share this colour, so the palette cannot
      // tell them apart: pole is the evaluated class, polegroup is ignored.
      .add({153, 153, 153}, 17)
      .add({250, 170, 30}, 19)
      .add({220, 220, 0}, 20)
      .add({107, 142, 35}, 21)
      .add({152, 251, 152}, 22)
      .add({70, 130, 180}, 23)
      .add({220, 20, 60}, 24)
      .add({255, 0, 0}, 25)
      .add({0, 0, 142}, 26)
      .add({0, 0, 70}, 27)
      .add({0, 60, 100}, 28)
      .add({0, 0, 90}, 29)
      .add({0, 0, 110}, 30)
      .add({0, 80, 100}, 31)
      .add({0, 0, 230}, 32)
      .add({119, 11, 32}, 33);
  return colours;
}

Dataset open_cityscapes(const fs::path& root, const std::string& split) {
  require_directory(root, "cityscapes root");
  REGAL_CHECK(!split.empty(), "cityscapes: no split given; the splits are the subdirectories of ",
              root / "leftImg8bit", " (train, val, test)");
  const fs::path image_dir = root / "leftImg8bit" / split;
  const fs::path label_dir = root / "gtFine" / split;
  require_directory(image_dir, "cityscapes split '" + split + "' image folder");
  require_directory(label_dir, "cityscapes split '" + split + "' label folder");

  const FilesByKey images = files_by_key(image_dir, kImageSuffix, Search::kRecursive);
  const FilesByKey label_ids = files_by_key(label_dir, kLabelIdsSuffix, Search::kRecursive);
  const FilesByKey train_ids = files_by_key(label_dir, kTrainIdsSuffix, Search::kRecursive);

  // One label map serves a whole split, so trainIds are used only when every
  // image has one; a partly converted split falls back to labelIds throughout.
  const bool use_train_ids = !images.empty() && every_image_has(images, train_ids);
  std::vector<std::string> problems;
  std::vector<SampleFiles> files =
      pair_by_key(images, use_train_ids ? train_ids : label_ids, problems);
  // Label files of the kind not used still need their image: an orphan of
  // either kind means the folders are out of step.
  for (const auto& [key, label] : use_train_ids ? label_ids : train_ids) {
    if (images.count(key) == 0) {
      problems.push_back(detail::concat("label ", label, " has no image file"));
    }
  }
  require_complete_split(files, std::move(problems), split, image_dir);

  return Dataset(cityscapes_info(), split, std::move(files),
                 use_train_ids ? LabelMap::identity(kNumTrainIds) : cityscapes_label_map());
}

std::vector<std::string> cityscapes_splits(const fs::path& root) {
  require_directory(root, "cityscapes root");
  require_directory(root / "leftImg8bit", "cityscapes image folder");
  // Only the image folders with fine labels: leftImg8bit_trainextra unpacks
  // a train_extra/ folder whose labels are coarse (gtCoarse/), not read here.
  std::vector<std::string> splits;
  for (const auto& name : subdirectory_names(root / "leftImg8bit")) {
    std::error_code ec;
    if (fs::is_directory(root / "gtFine" / name, ec)) splits.push_back(name);
  }
  REGAL_CHECK(!splits.empty(), "cityscapes root ", root, ": no folder of ", root / "leftImg8bit",
              " has its fine labels in ", root / "gtFine", " (gtFine_trainvaltest.zip unpacked there)");
  return splits;
}

}  // namespace regal::data
