// The IDX reader on the real Debian Fashion-MNIST files and on broken files
// made here: every failure must name the file.
#include <gtest/gtest.h>

#include <zlib.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "regal/data/fashion_mnist.h"
#include "support/test_support.h"

namespace regal::data {
namespace {

namespace fs = std::filesystem;

// Writes `bytes` gzip-compressed to `file`.
void write_gzip(const fs::path& file, const std::vector<uint8_t>& bytes) {
  gzFile out = gzopen(file.c_str(), "wb");
  ASSERT_NE(out, nullptr);
  ASSERT_EQ(gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(out), Z_OK);
}

void append_be32(std::vector<uint8_t>& bytes, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(value >> shift));
}

// The message of the regal::Error `call` throws ("" when it does not throw).
template <typename Call>
std::string error_of(Call call) {
  try {
    call();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(FashionMnist, ReadsTheTrainAndTestParts) {
  const FashionMnist train = load_fashion_mnist(default_fashion_mnist_dir(), FashionMnistPart::kTrain);
  const FashionMnist test = load_fashion_mnist(default_fashion_mnist_dir(), FashionMnistPart::kTest);
  ASSERT_EQ(train.size(), 60000);
  ASSERT_EQ(test.size(), 10000);
  for (const FashionMnist* part : {&train, &test}) {
    EXPECT_EQ(part->images.rows, 28);
    EXPECT_EQ(part->images.cols, 28);
    EXPECT_EQ(part->images.pixels.size(), static_cast<size_t>(part->size()) * 28 * 28);
    ASSERT_EQ(part->labels.size(), static_cast<size_t>(part->size()));
    // Fashion-MNIST is balanced: 6000 / 1000 images per class.
    std::array<int, kFashionMnistClasses> per_class{};
    for (uint8_t label : part->labels) {
      ASSERT_LT(label, kFashionMnistClasses);
      ++per_class[label];
    }
    for (int count : per_class) EXPECT_EQ(count, part->size() / kFashionMnistClasses);
  }
  // The first image of both parts is an ankle boot: a bright item on black.
  EXPECT_EQ(train.labels[0], 9);
  EXPECT_EQ(test.labels[0], 9);
  const cv::Mat first = train.images.image(0);
  ASSERT_EQ(first.type(), CV_8UC1);
  ASSERT_EQ(first.size(), cv::Size(28, 28));
  double low = 0, high = 0;
  cv::minMaxLoc(first, &low, &high);
  EXPECT_EQ(low, 0);
  EXPECT_GT(high, 200);
  // image(i) views the buffer: item 1 starts 784 bytes in.
  EXPECT_EQ(train.images.image(1).data, train.images.pixels.data() + 28 * 28);
  EXPECT_THROW(train.images.image(60000), Error);
}

TEST(FashionMnist, MissingFileIsNamed) {
  testing::ScratchDir dir("fashion-missing");
  const std::string message =
      error_of([&] { load_fashion_mnist(dir.path(), FashionMnistPart::kTest); });
  EXPECT_NE(message.find((dir.path() / "t10k-images-idx3-ubyte.gz").string()), std::string::npos) << message;
  EXPECT_NE(message.find("not found"), std::string::npos) << message;
}

TEST(FashionMnist, TruncatedGzipStreamIsNamed) {
  // The real label file cut in half: the deflate stream ends early.
  testing::ScratchDir dir("fashion-truncated");
  const std::string whole = read_file(default_fashion_mnist_dir() / "train-labels-idx1-ubyte.gz");
  const fs::path cut = dir.path() / "cut-labels.gz";
  write_file_atomically(cut, whole.substr(0, whole.size() / 2));
  const std::string message = error_of([&] { read_idx_labels(cut); });
  EXPECT_NE(message.find(cut.string()), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
}

TEST(FashionMnist, HeaderPromisingMoreItemsThanStoredIsNamed) {
  testing::ScratchDir dir("fashion-short");
  std::vector<uint8_t> bytes;
  append_be32(bytes, 2051);
  append_be32(bytes, 5);  // five 28x28 images promised...
  append_be32(bytes, 28);
  append_be32(bytes, 28);
  bytes.resize(bytes.size() + 28 * 28 * 2, 7);  // ...two stored
  const fs::path file = dir.path() / "short-images.gz";
  write_gzip(file, bytes);
  const std::string message = error_of([&] { read_idx_images(file); });
  EXPECT_NE(message.find(file.string()), std::string::npos) << message;
  EXPECT_NE(message.find("expected 3920 bytes of pixels but got 1568"), std::string::npos) << message;
}

TEST(FashionMnist, WrongMagicNumberIsNamed) {
  testing::ScratchDir dir("fashion-magic");
  std::vector<uint8_t> bytes;
  append_be32(bytes, 2049);  // a label file's magic where images are expected
  append_be32(bytes, 1);
  bytes.push_back(3);
  const fs::path file = dir.path() / "labels-not-images.gz";
  write_gzip(file, bytes);
  const std::string message = error_of([&] { read_idx_images(file); });
  EXPECT_NE(message.find(file.string()), std::string::npos) << message;
  EXPECT_NE(message.find("magic number 2049, expected 2051"), std::string::npos) << message;
  // The same bytes are a valid one-item label file.
  EXPECT_EQ(read_idx_labels(file), std::vector<uint8_t>{3});
}

TEST(FashionMnist, TrailingBytesAreRejected) {
  testing::ScratchDir dir("fashion-trailing");
  std::vector<uint8_t> bytes;
  append_be32(bytes, 2049);
  append_be32(bytes, 2);
  bytes.insert(bytes.end(), {1, 2, 3});  // one label more than the header says
  const fs::path file = dir.path() / "long-labels.gz";
  write_gzip(file, bytes);
  const std::string message = error_of([&] { read_idx_labels(file); });
  EXPECT_NE(message.find(file.string()), std::string::npos) << message;
  EXPECT_NE(message.find("data after the last item"), std::string::npos) << message;
}

TEST(FashionMnist, LabelCountMustMatchImageCount) {
  testing::ScratchDir dir("fashion-mismatch");
  std::vector<uint8_t> images;
  append_be32(images, 2051);
  append_be32(images, 2);
  append_be32(images, 28);
  append_be32(images, 28);
  images.resize(images.size() + 2 * 28 * 28, 0);
  std::vector<uint8_t> labels;
  append_be32(labels, 2049);
  append_be32(labels, 3);
  labels.insert(labels.end(), {0, 1, 2});
  write_gzip(dir.path() / "t10k-images-idx3-ubyte.gz", images);
  write_gzip(dir.path() / "t10k-labels-idx1-ubyte.gz", labels);
  const std::string message = error_of([&] { load_fashion_mnist(dir.path(), FashionMnistPart::kTest); });
  EXPECT_NE(message.find("t10k-labels-idx1-ubyte.gz"), std::string::npos) << message;
  EXPECT_NE(message.find("holds 3 labels but"), std::string::npos) << message;
}

}  // namespace
}  // namespace regal::data
