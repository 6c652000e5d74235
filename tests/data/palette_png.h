#pragma once
// Writes 8-bit palette-indexed PNGs (colour type 3), the format GTA5 labels
// ship in. cv::imwrite cannot write one, so the chunks are put together by
// hand: signature, IHDR, PLTE, IDAT (zlib-compressed scanlines), IEND, each
// with its CRC-32.
#include <gtest/gtest.h>
#include <zlib.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
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
inline void append_chunk(std::vector<uint8_t>& out, const char (&type)[5],
                         const std::vector<uint8_t>& data) {
  append_u32(out, static_cast<uint32_t>(data.size()));
  std::vector<uint8_t> type_and_data(type, type + 4);
  type_and_data.insert(type_and_data.end(), data.begin(), data.end());
  out.insert(out.end(), type_and_data.begin(), type_and_data.end());
  append_u32(out, static_cast<uint32_t>(
                      crc32(0L, type_and_data.data(), static_cast<uInt>(type_and_data.size()))));
}

}  // namespace palette_png_detail

// Writes `indices` (CV_8UC1, one palette index per pixel) with `palette`
// (index -> RGB, 1..256 entries) to `path`. Every index must be < palette size.
// A non-empty `alpha` (one entry per leading palette index) adds a tRNS chunk,
// which makes OpenCV decode the file to BGRA.
inline void write_palette_png(const std::filesystem::path& path, const cv::Mat& indices,
                              const std::vector<PaletteRgb>& palette,
                              const std::vector<uint8_t>& alpha = {}) {
  using palette_png_detail::append_chunk;
  using palette_png_detail::append_u32;
  ASSERT_EQ(indices.type(), CV_8UC1);
  ASSERT_TRUE(!palette.empty() && palette.size() <= 256U);
  double max_index = 0.0;
  cv::minMaxLoc(indices, nullptr, &max_index);
  ASSERT_LT(max_index, static_cast<double>(palette.size())) << "index outside the palette";

  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

  std::vector<uint8_t> header;
  append_u32(header, static_cast<uint32_t>(indices.cols));
  append_u32(header, static_cast<uint32_t>(indices.rows));
  // Bit depth 8, colour type 3 (palette), deflate, adaptive filtering, no interlace.
  header.insert(header.end(), {8, 3, 0, 0, 0});
  append_chunk(png, "IHDR", header);

  std::vector<uint8_t> colours;
  for (const PaletteRgb& rgb : palette) {
    colours.insert(colours.end(), rgb.begin(), rgb.end());
  }
  append_chunk(png, "PLTE", colours);
  if (!alpha.empty()) {
    ASSERT_LE(alpha.size(), palette.size());
    append_chunk(png, "tRNS", alpha);
  }

  // Each scanline: filter type 0 (none), then one index byte per pixel.
  std::vector<uint8_t> scanlines;
  for (int row = 0; row < indices.rows; ++row) {
    scanlines.push_back(0);
    const uint8_t* pixels = indices.ptr<uint8_t>(row);
    scanlines.insert(scanlines.end(), pixels, pixels + indices.cols);
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

}  // namespace regal::testing
