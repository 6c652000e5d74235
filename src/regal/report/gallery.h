#pragma once
// The gallery figure of an experiment run: for the first val images, the
// image, its ground truth and each method's prediction (largest budget,
// lowest seed; predictions kept by the units); then the pool images where the
// methods labelled most, with the regions each method picked outlined in its
// colour. Drawn with OpenCV (PNG) and wrapped in an SVG that embeds it.
#include <filesystem>
#include <optional>
#include <vector>

#include "regal/report/figures.h"

namespace regal::report {

// Reads the run's config.yaml (its dataset paths are relative to the working
// directory, as when the run was made) and units/. Returns nothing when no
// unit kept predictions. throws: regal::Error (unreadable data or config).
std::optional<Figure> write_gallery(const std::filesystem::path& run_dir);
// The same from units already loaded (load_run_units(run_dir)).
std::optional<Figure> write_gallery(const std::filesystem::path& run_dir, const std::vector<RunUnit>& units);

}  // namespace regal::report
