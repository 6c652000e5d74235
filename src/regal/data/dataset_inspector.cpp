#include "regal/data/dataset_inspector.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "regal/core/error.h"
#include "regal/data/file_pairing.h"

namespace regal::data {
namespace fs = std::filesystem;

namespace {

constexpr int kLabelValues = 256;
// calcHist counts in float, exact up to 2^24; larger labels are counted in
// bands of rows so every count stays exact.
constexpr int kMaxPixelsPerHistogram = 1 << 24;

// [256] exact count of each value in a CV_8UC1 label, batched per band.
std::vector<uint64_t> label_histogram(const cv::Mat& label) {
  std::vector<uint64_t> counts(kLabelValues, 0);
  const int rows_per_band = std::max(1, kMaxPixelsPerHistogram / std::max(1, label.cols));
  const int channels[] = {0};
  const int bins[] = {kLabelValues};
  const float value_range[] = {0.0F, static_cast<float>(kLabelValues)};
  const float* ranges[] = {value_range};
  for (int first_row = 0; first_row < label.rows; first_row += rows_per_band) {
    const cv::Mat band = label.rowRange(first_row, std::min(label.rows, first_row + rows_per_band));
    cv::Mat histogram;
    cv::calcHist(&band, 1, channels, cv::Mat(), histogram, 1, bins, ranges);
    for (int value = 0; value < kLabelValues; ++value) {
      counts[static_cast<size_t>(value)] += static_cast<uint64_t>(histogram.at<float>(value));
    }
  }
  return counts;
}

// What one worker thread saw; merged after the threads join. Sums and maps
// merge the same in any order, and problems carry their sample index, so the
// report does not depend on scheduling.
struct WorkerTally {
  explicit WorkerTally(int num_classes) {
    pixels.per_class.assign(static_cast<size_t>(num_classes), 0);
  }
  size_t loaded = 0;
  std::map<ImageSize, size_t> image_sizes;
  ClassPixels pixels;
  std::vector<std::pair<size_t, std::string>> problems;
};

void inspect_sample(const Dataset& dataset, size_t index, WorkerTally& tally) {
  const int num_classes = dataset.info().num_classes();
  Sample sample;
  try {
    sample = dataset.load(index);
  } catch (const std::exception& e) {
    // regal::Error already names the file; anything else gets it added.
    const bool names_file = dynamic_cast<const Error*>(&e) != nullptr;
    tally.problems.emplace_back(
        index, names_file ? std::string(e.what())
                          : detail::concat("sample ", dataset.files(index).image, ": ", e.what()));
    return;
  }
  const std::vector<uint64_t> counts = label_histogram(sample.label);
  // Loaders only map to 0..C-1 and 255; anything between is a broken label map
  // or label file and must not vanish from the class counts unnoticed.
  for (int value = num_classes; value < dataset.info().ignore_index; ++value) {
    if (counts[static_cast<size_t>(value)] > 0) {
      tally.problems.emplace_back(
          index, detail::concat("label ", dataset.files(index).label, ": train id ", value,
                                " is not a class (", num_classes, " classes)"));
      return;
    }
  }
  for (int id = 0; id < num_classes; ++id) {
    tally.pixels.per_class[static_cast<size_t>(id)] += counts[static_cast<size_t>(id)];
  }
  tally.pixels.ignore += counts[static_cast<size_t>(dataset.info().ignore_index)];
  ++tally.image_sizes[ImageSize{sample.image.cols, sample.image.rows}];
  ++tally.loaded;
}

void add_pixels(ClassPixels& into, const ClassPixels& from) {
  if (into.per_class.size() < from.per_class.size()) {
    into.per_class.resize(from.per_class.size(), 0);
  }
  for (size_t id = 0; id < from.per_class.size(); ++id) {
    into.per_class[id] += from.per_class[id];
  }
  into.ignore += from.ignore;
}

// Decodes every sample of `dataset` on `threads` workers.
SplitInspection inspect_split(const Dataset& dataset, unsigned threads,
                              const InspectionProgressCallback& progress,
                              std::vector<std::string>& problems) {
  const size_t total = dataset.size();
  const unsigned workers = static_cast<unsigned>(std::min<size_t>(threads, total));
  std::vector<WorkerTally> tallies(workers, WorkerTally(dataset.info().num_classes()));
  std::atomic<size_t> next_index{0};
  std::atomic<bool> stop{false};
  std::mutex progress_mutex;
  size_t done = 0;
  std::exception_ptr progress_failure;

  auto work = [&](WorkerTally& tally) {
    for (size_t index = next_index++; index < total && !stop; index = next_index++) {
      inspect_sample(dataset, index, tally);
      const std::lock_guard<std::mutex> lock(progress_mutex);
      ++done;
      if (progress && !progress_failure) {
        try {
          progress(InspectionProgress{dataset.split(), done, total});
        } catch (...) {
          // Rethrown on the calling thread: an exception must not leave a worker.
          progress_failure = std::current_exception();
          stop = true;
        }
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned w = 1; w < workers; ++w) {
    pool.emplace_back(work, std::ref(tallies[w]));
  }
  work(tallies[0]);
  for (auto& thread : pool) {
    thread.join();
  }
  if (progress_failure) {
    std::rethrow_exception(progress_failure);
  }

  SplitInspection split;
  split.split = dataset.split();
  split.opened = true;
  split.sample_count = total;
  split.pixels.per_class.assign(static_cast<size_t>(dataset.info().num_classes()), 0);
  std::vector<std::pair<size_t, std::string>> sample_problems;
  for (const WorkerTally& tally : tallies) {
    split.loaded_count += tally.loaded;
    for (const auto& [size, count] : tally.image_sizes) {
      split.image_sizes[size] += count;
    }
    add_pixels(split.pixels, tally.pixels);
    sample_problems.insert(sample_problems.end(), tally.problems.begin(), tally.problems.end());
  }
  std::sort(sample_problems.begin(), sample_problems.end());
  for (auto& problem : sample_problems) {
    problems.push_back(std::move(problem.second));
  }
  split.resized_label_count = dataset.resized_label_count();
  return split;
}

std::string format_size(const ImageSize& size) {
  return fmt::format("{}x{}", size.width, size.height);
}

nlohmann::json pixels_to_json(const ClassPixels& pixels) {
  return {{"class_pixels", pixels.per_class},
          {"ignore_pixels", pixels.ignore},
          {"class_frequency", pixels.frequencies()}};
}

}  // namespace

uint64_t ClassPixels::labelled() const {
  return std::accumulate(per_class.begin(), per_class.end(), uint64_t{0});
}

std::vector<double> ClassPixels::frequencies() const {
  std::vector<double> shares(per_class.size(), 0.0);
  const uint64_t denominator = labelled();
  if (denominator == 0) {
    return shares;
  }
  for (size_t id = 0; id < per_class.size(); ++id) {
    shares[id] = static_cast<double>(per_class[id]) / static_cast<double>(denominator);
  }
  return shares;
}

InspectionReport inspect_dataset(const std::string& type, const fs::path& root,
                                 const std::optional<std::string>& split,
                                 const InspectionProgressCallback& progress, unsigned threads) {
  InspectionReport report;
  report.type = type;
  report.root = root;
  const unsigned workers =
      threads > 0 ? threads : std::max(1U, std::thread::hardware_concurrency());

  std::vector<std::string> split_names;
  if (split) {
    split_names.push_back(*split);
  } else {
    try {
      split_names = dataset_splits(type, root);
    } catch (const Error& e) {
      report.problems.emplace_back(e.what());
      return report;
    }
  }

  for (const std::string& name : split_names) {
    std::optional<Dataset> dataset;
    try {
      dataset.emplace(open_dataset(DatasetSpec{type, root, name}));
    } catch (const DatasetFilesError& e) {
      report.problems.insert(report.problems.end(), e.problems().begin(), e.problems().end());
    } catch (const Error& e) {
      report.problems.emplace_back(e.what());
    }
    if (!dataset) {
      SplitInspection unopened;
      unopened.split = name;
      report.splits.push_back(std::move(unopened));
      continue;
    }
    if (report.info.class_names.empty()) {
      report.info = dataset->info();
    }
    report.splits.push_back(inspect_split(*dataset, workers, progress, report.problems));
    add_pixels(report.total, report.splits.back().pixels);
  }
  if (report.total.per_class.size() < report.info.class_names.size()) {
    report.total.per_class.resize(report.info.class_names.size(), 0);
  }
  return report;
}

std::string format_inspection_text(const InspectionReport& report) {
  std::string text = fmt::format("dataset '{}' (type {}) at {}\n",
                                 report.info.name.empty() ? report.type : report.info.name,
                                 report.type, report.root.string());
  size_t total_samples = 0;
  for (const SplitInspection& split : report.splits) {
    total_samples += split.sample_count;
    if (!split.opened) {
      text += fmt::format("split {}: could not be opened (see problems)\n", split.split);
      continue;
    }
    text += fmt::format("split {}: {} samples, {} decoded cleanly", split.split, split.sample_count,
                        split.loaded_count);
    if (split.resized_label_count > 0) {
      text += fmt::format(", {} labels resized to their image", split.resized_label_count);
    }
    text += "\n  image sizes:";
    for (const auto& [size, count] : split.image_sizes) {
      text += fmt::format(" {} ({})", format_size(size), count);
    }
    text += split.image_sizes.empty() ? " none (no sample decoded)\n" : "\n";
  }
  text += fmt::format("{} samples in {} split(s)\n", total_samples, report.splits.size());

  if (!report.info.class_names.empty()) {
    // Frequencies are over labelled pixels only: they feed the weighted IoU,
    // which leaves ignore pixels out (ALGORITHM.md section 8).
    text += "\nclass pixels (frequency = share of non-ignore pixels, all splits)\n";
    std::string header = fmt::format("{:>3}  {:<16}", "id", "class");
    for (const SplitInspection& split : report.splits) {
      header += fmt::format(" {:>14}", split.split);
    }
    text += header + fmt::format(" {:>14} {:>9}\n", "total", "frequency");
    const std::vector<double> frequencies = report.total.frequencies();
    for (size_t id = 0; id < report.info.class_names.size(); ++id) {
      std::string row = fmt::format("{:>3}  {:<16}", id, report.info.class_names[id]);
      for (const SplitInspection& split : report.splits) {
        row += fmt::format(" {:>14}",
                           id < split.pixels.per_class.size() ? split.pixels.per_class[id] : 0);
      }
      text += row + fmt::format(" {:>14} {:>9.6f}\n", report.total.per_class[id], frequencies[id]);
    }
    std::string ignore_row = fmt::format("{:>3}  {:<16}", report.info.ignore_index, "(ignore)");
    for (const SplitInspection& split : report.splits) {
      ignore_row += fmt::format(" {:>14}", split.pixels.ignore);
    }
    text += ignore_row + fmt::format(" {:>14}\n", report.total.ignore);
  }

  if (report.problems.empty()) {
    text += "\nno problems found\n";
  } else {
    text += fmt::format("\n{} problem(s):\n", report.problems.size());
    for (const std::string& problem : report.problems) {
      text += "  - " + problem + "\n";
    }
  }
  return text;
}

nlohmann::json inspection_to_json(const InspectionReport& report) {
  nlohmann::json splits = nlohmann::json::array();
  for (const SplitInspection& split : report.splits) {
    nlohmann::json sizes = nlohmann::json::array();
    for (const auto& [size, count] : split.image_sizes) {
      sizes.push_back({{"width", size.width}, {"height", size.height}, {"count", count}});
    }
    nlohmann::json entry = pixels_to_json(split.pixels);
    entry["split"] = split.split;
    entry["opened"] = split.opened;
    entry["samples"] = split.sample_count;
    entry["loaded"] = split.loaded_count;
    entry["resized_labels"] = split.resized_label_count;
    entry["image_sizes"] = std::move(sizes);
    splits.push_back(std::move(entry));
  }
  nlohmann::json palette = nlohmann::json::array();
  for (const auto& colour : report.info.palette) {
    palette.push_back({colour[0], colour[1], colour[2]});
  }
  return {{"type", report.type},           {"root", report.root.string()},
          {"name", report.info.name},      {"classes", report.info.class_names},
          {"palette", std::move(palette)}, {"ignore_index", report.info.ignore_index},
          {"splits", std::move(splits)},   {"total", pixels_to_json(report.total)},
          {"problems", report.problems},   {"ok", report.ok()}};
}

}  // namespace regal::data
