#pragma once
// report.html of an experiment run: one self-contained file (figures inlined
// as data: URIs, no script or style fetched) with the question, the table of
// mean and standard deviation per method and budget (the best mean of each
// budget marked), the figures, the config, timings and environment.
#include <filesystem>
#include <vector>

#include "regal/report/figures.h"

namespace regal::report {

// Writes <run_dir>/report.html atomically and returns its path. The page
// marks <body data-figures="N">, and once loaded data-images-loaded and
// data-images-broken, so that a headless browser can check every inlined
// figure decoded. throws: regal::Error when results.json is missing.
std::filesystem::path write_report(const std::filesystem::path& run_dir, const std::vector<Figure>& figures);
// The same from units already loaded (load_run_units(run_dir)).
std::filesystem::path write_report(const std::filesystem::path& run_dir, const std::vector<Figure>& figures,
                                   const std::vector<RunUnit>& units);

// Figures (write_figures, write_gallery) and the report in one call: what
// `regal report` and `regal experiment` run.
std::filesystem::path write_figures_and_report(const std::filesystem::path& run_dir);

}  // namespace regal::report
