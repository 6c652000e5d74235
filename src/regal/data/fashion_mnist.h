#pragma once
// Fashion-MNIST as shipped by Debian's dataset-fashion-mnist package: four
// gzip-compressed IDX files (images: magic 2051, [N, 28, 28] uint8; labels:
// magic 2049, [N] uint8 in 0..9). The scene generator pastes these real images
// as "things"; nothing is downloaded at run time.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace regal::data {

inline constexpr int kFashionMnistClasses = 10;
inline constexpr int kFashionMnistSide = 28;

// Label order of the IDX label files (label value -> name).
inline const std::array<std::string, kFashionMnistClasses> kFashionMnistClassNames = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

// Where the Debian package installs the files.
std::filesystem::path default_fashion_mnist_dir();

// Images of one IDX3 file, contiguous: pixel (i, y, x) is pixels[(i*rows + y)*cols + x].
struct IdxImages {
  int count = 0;
  int rows = 0;
  int cols = 0;
  std::vector<uint8_t> pixels;  // [count, rows, cols]

  // A read-only [rows, cols] CV_8UC1 view of item i into `pixels` (no copy):
  // valid while this object lives. requires 0 <= i < count.
  cv::Mat image(int i) const;
};

// Reads an IDX3 image file, gzip-compressed or plain (zlib reads both).
// throws regal::Error naming the file when it is missing, has a magic number
// other than 2051, zero/implausible dimensions, or ends before N*rows*cols bytes.
IdxImages read_idx_images(const std::filesystem::path& file);

// Reads an IDX1 label file (magic 2049): one uint8 per item.
// throws regal::Error naming the file when missing, bad magic or truncated.
std::vector<uint8_t> read_idx_labels(const std::filesystem::path& file);

enum class FashionMnistPart { kTrain, kTest };

// One part of Fashion-MNIST: 60000 (train) or 10000 (test) images with labels.
struct FashionMnist {
  IdxImages images;             // [N, 28, 28]
  std::vector<uint8_t> labels;  // [N], 0..9
  int size() const { return images.count; }
};

// Loads `<dir>/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz`.
// ensures images are 28x28, one label per image, every label < 10;
// throws regal::Error naming the offending file otherwise.
FashionMnist load_fashion_mnist(const std::filesystem::path& dir, FashionMnistPart part);

}  // namespace regal::data
