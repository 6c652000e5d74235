#pragma once
// Tiny on-disk datasets for the loader and inspector tests: images and labels
// written with cv::imwrite, plus helpers to break files in the ways real
// datasets break (truncated PNGs, garbage bytes) and to check error messages.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"

namespace regal::testing {

inline constexpr int kFixtureRows = 8;
inline constexpr int kFixtureCols = 16;

// The BGR value every fixture image is filled with; a loader returning RGB
// must hand back {30, 20, 10}.
inline const cv::Scalar kFixtureBgr(10, 20, 30);

inline void write_png(const std::filesystem::path& path, const cv::Mat& mat) {
  std::filesystem::create_directories(path.parent_path());
  ASSERT_TRUE(cv::imwrite(path.string(), mat)) << path;
}

inline cv::Mat fixture_image(int rows = kFixtureRows, int cols = kFixtureCols) {
  return cv::Mat(rows, cols, CV_8UC3, kFixtureBgr);
}

inline cv::Mat filled_label(int value, int rows = kFixtureRows, int cols = kFixtureCols) {
  return cv::Mat(rows, cols, CV_8UC1, cv::Scalar(value));
}

// Rows [0, split_row) hold `top`, the rest `bottom`.
inline cv::Mat two_band_label(int top, int bottom, int split_row) {
  cv::Mat label = filled_label(bottom);
  label.rowRange(0, split_row).setTo(cv::Scalar(top));
  return label;
}

// A valid PNG of noise (so its compressed data is long), cut to half its bytes.
inline void write_truncated_png(const std::filesystem::path& path) {
  cv::Mat noise(kFixtureRows, kFixtureCols, CV_8UC3);
  cv::randu(noise, cv::Scalar::all(0), cv::Scalar::all(256));
  write_png(path, noise);
  const auto full_size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, full_size / 2);
}

inline void write_garbage(const std::filesystem::path& path) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << "this is not a PNG file";
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  write_file_atomically(path, text);
}

// The message of the regal::Error `action` throws; a test failure when it
// throws nothing or something else.
inline std::string error_message(const std::function<void()>& action) {
  try {
    action();
  } catch (const regal::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected regal::Error, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected regal::Error, nothing was thrown";
  return "";
}

#define EXPECT_CONTAINS(text, part)                          \
  EXPECT_NE(std::string(text).find(part), std::string::npos) \
      << "expected to find \"" << (part) << "\" in:\n  " << (text)

}  // namespace regal::testing
