#include "regal/data/dataset.h"

#include <array>
#include <fstream>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "regal/core/error.h"
#include "regal/data/camvid.h"
#include "regal/data/cityscapes.h"
#include "regal/data/folder.h"
#include "regal/data/gtav.h"

namespace regal::data {
namespace fs = std::filesystem;

namespace {

// Decodes one file with OpenCV. A missing, unreadable, truncated or non-image
// file is an error naming it: imread itself only returns an empty matrix.
cv::Mat decode(const fs::path& file, int flags, const char* what) {
  std::error_code ec;
  REGAL_CHECK(fs::is_regular_file(file, ec), what, " file ", file, " does not exist");
  cv::Mat decoded;
  try {
    decoded = cv::imread(file.string(), flags);
  } catch (const cv::Exception& e) {
    REGAL_FAIL("cannot decode ", what, " file ", file, ": ", e.what());
  }
  REGAL_CHECK(!decoded.empty(), "cannot decode ", what, " file ", file,
              " (unreadable, truncated or not an image)");
  return decoded;
}

// Whether `file` is a PNG of colour type grey with alpha (4), read from its
// IHDR chunk (always first: byte 25 of the file is the colour type). OpenCV
// decodes such a file to BGRA.
bool is_grey_alpha_png(const fs::path& file) {
  std::array<char, 26> head{};
  std::ifstream in(file, std::ios::binary);
  if (!in.read(head.data(), head.size())) return false;
  const std::string_view signature_and_chunk(head.data(), 16);  // signature, IHDR length, "IHDR"
  const bool png = signature_and_chunk.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8) &&
                   signature_and_chunk.substr(12, 4) == "IHDR";
  const auto colour_type = static_cast<unsigned char>(head[25]);
  return png && colour_type == 4;
}

std::string describe_size(const cv::Mat& mat) {
  return std::to_string(mat.cols) + "x" + std::to_string(mat.rows);
}

Dataset open_split(const DatasetSpec& spec) {
  if (spec.type == "cityscapes") {
    return open_cityscapes(spec.root, spec.split);
  }
  if (spec.type == "gtav") {
    return open_gtav(spec.root, spec.split);
  }
  if (spec.type == "camvid") {
    return open_camvid(spec.root, spec.split);
  }
  if (spec.type == "folder") {
    return open_folder(spec.root, spec.split);
  }
  REGAL_FAIL("unknown dataset type '", spec.type, "': expected cityscapes, gtav, camvid or folder");
}

// The samples of `whole` named by spec.ids, in the order listed. Every id
// missing from the split is collected first, so one error reports them all.
Dataset select_ids(const Dataset& whole, const DatasetSpec& spec) {
  std::unordered_map<std::string, size_t> index_of;
  index_of.reserve(whole.size());
  for (size_t i = 0; i < whole.size(); ++i) {
    index_of.emplace(whole.files(i).id, i);
  }
  constexpr size_t kShown = 5;
  std::vector<std::string> missing;
  std::unordered_set<std::string> listed;
  std::vector<SampleFiles> files;
  files.reserve(spec.ids.size());
  for (const std::string& id : spec.ids) {
    REGAL_CHECK(listed.insert(id).second, "sample id '", id, "' is listed twice for split '",
                spec.split, "' of ", spec.root);
    const auto found = index_of.find(id);
    if (found == index_of.end()) {
      missing.push_back(id);
    } else {
      files.push_back(whole.files(found->second));
    }
  }
  if (!missing.empty()) {
    std::string shown;
    for (size_t i = 0; i < missing.size() && i < kShown; ++i) {
      shown += (shown.empty() ? "'" : ", '") + missing[i] + "'";
    }
    if (missing.size() > kShown) shown += ", ...";
    REGAL_FAIL(missing.size(), " of ", spec.ids.size(), " listed sample ids are not in split '",
               spec.split, "' of ", spec.type, " dataset ", spec.root, " (", whole.size(),
               " samples): ", shown);
  }
  return whole.with_files(std::move(files));
}

}  // namespace

Dataset::Dataset(DatasetInfo info, std::string split, std::vector<SampleFiles> files,
                 LabelMap label_map, LabelSizeMismatch on_size_mismatch,
                 std::optional<LabelColours> label_colours)
    : info_(std::move(info)),
      split_(std::move(split)),
      files_(std::move(files)),
      label_map_(std::move(label_map)),
      on_size_mismatch_(on_size_mismatch),
      label_colours_(std::move(label_colours)),
      resized_labels_(std::make_shared<std::atomic<int>>(0)) {
  REGAL_CHECK(!files_.empty(), "split '", split_, "' of dataset '", info_.name, "' is empty");
  REGAL_CHECK(info_.num_classes() >= 1, "dataset '", info_.name, "' has no classes");
  REGAL_CHECK(info_.palette.size() == info_.class_names.size(), "dataset '", info_.name, "' has ",
              info_.class_names.size(), " classes but ", info_.palette.size(), " palette colours");
}

const SampleFiles& Dataset::checked_files(size_t index) const {
  REGAL_CHECK(index < files_.size(), "sample index ", index, " out of range: split '", split_,
              "' has ", files_.size(), " samples");
  return files_[index];
}

Sample Dataset::load(size_t index) const {
  const SampleFiles& sample_files = checked_files(index);

  cv::Mat image;
  cv::cvtColor(decode(sample_files.image, cv::IMREAD_COLOR, "image"), image, cv::COLOR_BGR2RGB);

  // An image without labels (regions to choose for annotation): every pixel is unknown.
  if (sample_files.label.empty()) {
    return {sample_files.id, image, cv::Mat(image.rows, image.cols, CV_8UC1, cv::Scalar(info_.ignore_index))};
  }
  cv::Mat label = decode_label(sample_files);

  if (label.size() != image.size()) {
    // A phone photo is often stored sideways with an EXIF orientation; imread
    // turns it upright, a tool that ignores the tag draws on the stored frame.
    const bool turned = label.rows == image.cols && label.cols == image.rows;
    REGAL_CHECK(on_size_mismatch_ == LabelSizeMismatch::kResizeNearest, "label ",
                sample_files.label, " is ", describe_size(label), " but image ", sample_files.image,
                " is ", describe_size(image),
                turned ? " (turned by 90 degrees: an image with an EXIF orientation is read upright, as viewers and "
                         "regal's overlays show it; draw its label on the upright image)"
                       : "");
    // Nearest neighbour: a resized label must only hold ids that were there.
    cv::Mat resized;
    cv::resize(label, resized, image.size(), 0.0, 0.0, cv::INTER_NEAREST);
    label = resized;
    resized_labels_->fetch_add(1);
  }
  return {sample_files.id, image, label};
}

cv::Mat Dataset::load_label(size_t index) const {
  const SampleFiles& sample_files = checked_files(index);
  if (sample_files.label.empty() || on_size_mismatch_ == LabelSizeMismatch::kResizeNearest) {
    return load(index).label;
  }
  return decode_label(sample_files);
}

cv::Mat Dataset::decode_label(const SampleFiles& files) const {
  // UNCHANGED: label ids must reach the map as stored, never colour-converted.
  cv::Mat raw_label = decode(files.label, cv::IMREAD_UNCHANGED, "label");
  // A grey label saved with an alpha channel (as some drawing tools write
  // them) comes back as BGRA with B = G = R: its grey values are the ids,
  // whatever the alpha, and no colour table applies.
  if (raw_label.channels() == 4 && is_grey_alpha_png(files.label)) {
    cv::extractChannel(raw_label, raw_label, 0);
  }
  // imread expands palette-indexed PNGs to BGR; the colour table gives the ids
  // back. Without one, the label map rejects the colour label naming the file.
  // A palette with a transparency chunk comes back as BGRA: the alpha says
  // nothing about the class, so it is dropped.
  if (label_colours_ && raw_label.channels() == 4) {
    cv::cvtColor(raw_label, raw_label, cv::COLOR_BGRA2BGR);
  }
  if (label_colours_ && raw_label.channels() == 3) {
    raw_label = label_colours_->decode(raw_label, files.label);
  }
  return label_map_.apply(raw_label, files.label);
}

Dataset Dataset::with_files(std::vector<SampleFiles> files) const {
  return Dataset(info_, split_, std::move(files), label_map_, on_size_mismatch_, label_colours_);
}

Dataset open_dataset(const DatasetSpec& spec) {
  Dataset whole = open_split(spec);
  if (spec.ids.empty()) {
    return whole;
  }
  return select_ids(whole, spec);
}

std::vector<std::string> dataset_splits(const std::string& type, const fs::path& root) {
  if (type == "cityscapes") {
    return cityscapes_splits(root);
  }
  if (type == "gtav") {
    return gtav_splits(root);
  }
  if (type == "camvid") {
    return camvid_splits(root);
  }
  if (type == "folder") {
    return folder_splits(root);
  }
  REGAL_FAIL("unknown dataset type '", type, "': expected cityscapes, gtav, camvid or folder");
}

}  // namespace regal::data
