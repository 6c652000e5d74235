#pragma once
// Writes 8-bit palette-indexed PNGs (colour type 3), the format GTA5 labels
// ship in, and grey PNGs with an alpha channel (colour type 4), as some
// drawing tools save labels. cv::imwrite can write neither, so the chunks are
// put together by hand: signature, IHDR, PLTE/tRNS, IDAT (zlib-compressed
// scanlines), IEND, each with its CRC-32.
#include <gtest/gtest.h>
#include <zlib.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

namespace regal::testing {

using PaletteRgb = std::array<uint8_t, 3>;

namespace palette_png_detail {

inline void append_u32(std::vector<uint8_t>& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<uint8_t>(value >> shift));
  }
}

// length, type, data, CRC-32 of type + data (all big-endian).
inline void append_chunk(std::vector<uint8_t>& out, const std::string& type, const std::vector<uint8_t>& data) {
  append_u32(out, static_cast<uint32_t>(data.size()));
  std::vector<uint8_t> type_and_data(type.begin(), type.end());
  type_and_data.insert(type_and_data.end(), data.begin(), data.end());
  out.insert(out.end(), type_and_data.begin(), type_and_data.end());
  append_u32(out, static_cast<uint32_t>(
                      crc32(0L, type_and_data.data(), static_cast<uInt>(type_and_data.size()))));
}

}  // namespace palette_png_detail

// Writes a PNG of bit depth 8 and `colour_type` whose rows are `pixel_rows`
// (each row's bytes as the colour type lays them out), with `chunks` (type,
// data) between IHDR and IDAT.
inline void write_raw_png(const std::filesystem::path& path, int cols, uint8_t colour_type,
                          const std::vector<std::vector<uint8_t>>& pixel_rows,
                          const std::vector<std::pair<std::string, std::vector<uint8_t>>>& chunks) {
  using palette_png_detail::append_chunk;
  using palette_png_detail::append_u32;
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

  std::vector<uint8_t> header;
  append_u32(header, static_cast<uint32_t>(cols));
  append_u32(header, static_cast<uint32_t>(pixel_rows.size()));
  // Bit depth 8, the colour type, deflate, adaptive filtering, no interlace.
  header.insert(header.end(), {8, colour_type, 0, 0, 0});
  append_chunk(png, "IHDR", header);
  for (const auto& [type, data] : chunks) {
    append_chunk(png, type, data);
  }

  // Each scanline: filter type 0 (none), then the row's bytes.
  std::vector<uint8_t> scanlines;
  for (const auto& row : pixel_rows) {
    scanlines.push_back(0);
    scanlines.insert(scanlines.end(), row.begin(), row.end());
  }
  uLongf compressed_size = compressBound(static_cast<uLong>(scanlines.size()));
  std::vector<uint8_t> compressed(compressed_size);
  ASSERT_EQ(compress(compressed.data(), &compressed_size, scanlines.data(),
                     static_cast<uLong>(scanlines.size())),
            Z_OK);
  compressed.resize(compressed_size);
  append_chunk(png, "IDAT", compressed);
  append_chunk(png, "IEND", {});

  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  ASSERT_TRUE(out.good()) << path;
}

// Writes `indices` (CV_8UC1, one palette index per pixel) with `palette`
// (index -> RGB, 1..256 entries) to `path`. Every index must be < palette size.
// A non-empty `alpha` (one entry per leading palette index) adds a tRNS chunk,
// which makes OpenCV decode the file to BGRA.
inline void write_palette_png(const std::filesystem::path& path, const cv::Mat& indices,
                              const std::vector<PaletteRgb>& palette,
                              const std::vector<uint8_t>& alpha = {}) {
  ASSERT_EQ(indices.type(), CV_8UC1);
  ASSERT_TRUE(!palette.empty() && palette.size() <= 256U);
  double max_index = 0.0;
  cv::minMaxLoc(indices, nullptr, &max_index);
  ASSERT_LT(max_index, static_cast<double>(palette.size())) << "index outside the palette";

  std::vector<uint8_t> colours;
  for (const PaletteRgb& rgb : palette) {
    colours.insert(colours.end(), rgb.begin(), rgb.end());
  }
  std::vector<std::pair<std::string, std::vector<uint8_t>>> chunks = {{"PLTE", colours}};
  if (!alpha.empty()) {
    ASSERT_LE(alpha.size(), palette.size());
    chunks.emplace_back("tRNS", alpha);
  }
  std::vector<std::vector<uint8_t>> rows;
  for (int row = 0; row < indices.rows; ++row) {
    rows.emplace_back(indices.ptr<uint8_t>(row), indices.ptr<uint8_t>(row) + indices.cols);
  }
  write_raw_png(path, indices.cols, 3, rows, chunks);
}

// Writes `grey` (CV_8UC1) with the alpha channel `alpha` (CV_8UC1, same size)
// as a grey-with-alpha PNG (colour type 4), which OpenCV decodes to BGRA.
inline void write_grey_alpha_png(const std::filesystem::path& path, const cv::Mat& grey, const cv::Mat& alpha) {
  ASSERT_EQ(grey.type(), CV_8UC1);
  ASSERT_EQ(alpha.type(), CV_8UC1);
  ASSERT_EQ(grey.size(), alpha.size());
  std::vector<std::vector<uint8_t>> rows;
  for (int row = 0; row < grey.rows; ++row) {
    std::vector<uint8_t> bytes;  // grey, alpha per pixel
    for (int col = 0; col < grey.cols; ++col) {
      bytes.push_back(grey.at<uint8_t>(row, col));
      bytes.push_back(alpha.at<uint8_t>(row, col));
    }
    rows.push_back(std::move(bytes));
  }
  write_raw_png(path, grey.cols, 4, rows, {});
}

}  // namespace regal::testing
