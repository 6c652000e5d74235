#include "regal/data/fashion_mnist.h"

#include <zlib.h>

#include <algorithm>
#include <system_error>

#include "regal/core/error.h"

namespace regal::data {
namespace fs = std::filesystem;

namespace {

constexpr uint32_t kImagesMagic = 2051;  // 0x00000803: unsigned byte, 3 dimensions
constexpr uint32_t kLabelsMagic = 2049;  // 0x00000801: unsigned byte, 1 dimension
// Sanity bounds so a corrupt header fails with a message instead of a huge allocation.
constexpr uint32_t kMaxCount = 10'000'000;
constexpr uint32_t kMaxSide = 4096;

// Owns a gzFile; zlib reads plain (uncompressed) files transparently too.
class GzReader {
 public:
  explicit GzReader(const fs::path& file) : file_(file) {
    std::error_code ec;
    REGAL_CHECK(fs::is_regular_file(file, ec), "Fashion-MNIST file ", file,
                " not found (install the Debian package dataset-fashion-mnist or set "
                "scenes.fashion_mnist_dir)");
    handle_ = gzopen(file.c_str(), "rb");
    REGAL_CHECK(handle_ != nullptr, "cannot open ", file, " for reading");
  }
  ~GzReader() {
    if (handle_ != nullptr) gzclose(handle_);
  }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  // Reads exactly `size` bytes or throws naming the file and what was being read.
  void read_exactly(void* out, size_t size, const char* what) {
    auto* bytes = static_cast<unsigned char*>(out);
    size_t done = 0;
    while (done < size) {
      // gzread takes an unsigned length: read in chunks well below UINT_MAX.
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(size - done, 1u << 30));
      const int got = gzread(handle_, bytes + done, chunk);
      if (got <= 0) {
        REGAL_FAIL("truncated or corrupt file ", file_, ": expected ", size, " bytes of ", what,
                   " but got ", done, " (", error_text(), ")");
      }
      done += static_cast<size_t>(got);
    }
  }

  // Ensures the stream ends here, with a valid gzip trailer (CRC and length):
  // trailing bytes mean the header dimensions do not describe the file.
  void expect_end() {
    unsigned char extra = 0;
    const int got = gzread(handle_, &extra, 1);
    REGAL_CHECK(got == 0, "file ", file_, " has data after the last item: the header dimensions "
                "do not match the file size");
    int code = Z_OK;
    gzerror(handle_, &code);
    REGAL_CHECK(code == Z_OK || code == Z_STREAM_END, "corrupt file ", file_, ": ", error_text());
  }

  uint32_t read_be32(const char* what) {
    unsigned char b[4];
    read_exactly(b, sizeof(b), what);
    return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
  }

  const fs::path& path() const { return file_; }

 private:
  std::string error_text() {
    int code = Z_OK;
    const char* message = gzerror(handle_, &code);
    if (code == Z_OK || message == nullptr || *message == '\0') return "end of file";
    return message;
  }

  fs::path file_;
  gzFile handle_ = nullptr;
};

void check_magic(GzReader& in, uint32_t expected, const char* kind) {
  const uint32_t magic = in.read_be32("the magic number");
  REGAL_CHECK(magic == expected, "file ", in.path(), " is not an IDX ", kind,
              " file: magic number ", magic, ", expected ", expected);
}

uint32_t read_dimension(GzReader& in, const char* name, uint32_t max) {
  const uint32_t value = in.read_be32(name);
  REGAL_CHECK(value > 0 && value <= max, "file ", in.path(), ": implausible ", name, " ", value,
              " (expected 1..", max, ")");
  return value;
}

}  // namespace

fs::path default_fashion_mnist_dir() { return "/usr/share/datasets/fashion-mnist"; }

cv::Mat IdxImages::image(int i) const {
  REGAL_CHECK(i >= 0 && i < count, "IDX image index ", i, " out of range 0..", count - 1);
  // cv::Mat has no const view type: the const_cast is safe because callers
  // get the header by value and this object promises the buffer, not the view.
  auto* data = const_cast<uint8_t*>(pixels.data()) + static_cast<size_t>(i) * rows * cols;
  return cv::Mat(rows, cols, CV_8UC1, data);
}

IdxImages read_idx_images(const fs::path& file) {
  GzReader in(file);
  check_magic(in, kImagesMagic, "image");
  IdxImages images;
  images.count = static_cast<int>(read_dimension(in, "item count", kMaxCount));
  images.rows = static_cast<int>(read_dimension(in, "row count", kMaxSide));
  images.cols = static_cast<int>(read_dimension(in, "column count", kMaxSide));
  const size_t bytes = static_cast<size_t>(images.count) * images.rows * images.cols;
  images.pixels.resize(bytes);
  in.read_exactly(images.pixels.data(), bytes, "pixels");
  in.expect_end();
  return images;
}

std::vector<uint8_t> read_idx_labels(const fs::path& file) {
  GzReader in(file);
  check_magic(in, kLabelsMagic, "label");
  const uint32_t count = read_dimension(in, "item count", kMaxCount);
  std::vector<uint8_t> labels(count);
  in.read_exactly(labels.data(), labels.size(), "labels");
  in.expect_end();
  return labels;
}

FashionMnist load_fashion_mnist(const fs::path& dir, FashionMnistPart part) {
  const std::string prefix = part == FashionMnistPart::kTrain ? "train" : "t10k";
  const fs::path images_file = dir / (prefix + "-images-idx3-ubyte.gz");
  const fs::path labels_file = dir / (prefix + "-labels-idx1-ubyte.gz");
  FashionMnist data;
  data.images = read_idx_images(images_file);
  REGAL_CHECK(data.images.rows == kFashionMnistSide && data.images.cols == kFashionMnistSide,
              "file ", images_file, " holds ", data.images.rows, "x", data.images.cols,
              " images, expected ", kFashionMnistSide, "x", kFashionMnistSide);
  data.labels = read_idx_labels(labels_file);
  REGAL_CHECK(static_cast<int>(data.labels.size()) == data.images.count, "file ", labels_file,
              " holds ", data.labels.size(), " labels but ", images_file, " holds ",
              data.images.count, " images");
  for (size_t i = 0; i < data.labels.size(); ++i) {
    REGAL_CHECK(data.labels[i] < kFashionMnistClasses, "file ", labels_file, ": label ",
                int{data.labels[i]}, " of item ", i, " is not a class 0..9");
  }
  return data;
}

}  // namespace regal::data
