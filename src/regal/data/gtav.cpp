#include "regal/data/gtav.h"

#include <utility>

#include "regal/core/error.h"
#include "regal/data/cityscapes.h"
#include "regal/data/file_pairing.h"

namespace regal::data {
namespace fs = std::filesystem;

Dataset open_gtav(const fs::path& root, const std::string& split) {
  require_directory(root, "gtav root");
  REGAL_CHECK(split.empty() || split == kGtavSplit, "gtav: unknown split '", split,
              "': GTA5 has one split, '", kGtavSplit, "', holding every image in ",
              root / "images");
  const fs::path image_dir = root / "images";
  const fs::path label_dir = root / "labels";
  require_directory(image_dir, "gtav image folder");
  require_directory(label_dir, "gtav label folder");

  std::vector<std::string> problems;
  std::vector<SampleFiles> files =
      pair_by_key(files_by_key(image_dir, ".png", Search::kFlat),
                  files_by_key(label_dir, ".png", Search::kFlat), problems);
  require_complete_split(files, std::move(problems), kGtavSplit, image_dir);

  DatasetInfo info = cityscapes_info();
  info.name = "gtav";
  // GTA5 ships its labels as palette PNGs (index = label id, colour = the
  // Cityscapes label colour), which imread hands back as BGR.
  return Dataset(std::move(info), kGtavSplit, std::move(files), cityscapes_label_map(),
                 LabelSizeMismatch::kResizeNearest, cityscapes_label_colours());
}

std::vector<std::string> gtav_splits(const fs::path& root) {
  require_directory(root, "gtav root");
  return {kGtavSplit};
}

}  // namespace regal::data
