// The user's own unlabelled images: every image file of a directory in name
// order (hidden files skipped), labels all ignore_index; no image at all is an error naming the
// directory.
#include "regal/data/image_folder.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "data/dataset_fixtures.h"
#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "support/test_support.h"

namespace regal::data {
namespace {

namespace fs = std::filesystem;

DatasetInfo three_classes() {
  DatasetInfo info;
  info.name = "mine";
  info.class_names = {"a", "b", "c"};
  info.palette = {{{0, 0, 0}}, {{1, 1, 1}}, {{2, 2, 2}}};
  return info;
}

TEST(ImageFolder, EveryImageFileByNameWithUnknownLabels) {
  testing::ScratchDir dir("image-folder");
  const cv::Mat picture(8, 12, CV_8UC3, cv::Scalar(10, 20, 30));  // BGR
  ASSERT_TRUE(cv::imwrite((dir.path() / "b.png").string(), picture));
  // Decoders read the format from the bytes: a PNG under an upper-case .JPG name is an image file too.
  ASSERT_TRUE(cv::imwrite((dir.path() / "a-source.png").string(), picture));
  fs::rename(dir.path() / "a-source.png", dir.path() / "a.JPG");
  write_file_atomically(dir.path() / "notes.txt", "not an image");
  fs::create_directories(dir.path() / "sub.png");  // a directory, whatever its name
  write_file_atomically(dir.path() / "._b.png", "a macOS resource fork, hidden");

  const Dataset images = open_image_folder(dir.path(), three_classes());
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(images.files(0).id, "a.JPG");
  EXPECT_EQ(images.files(1).id, "b.png");
  const Sample sample = images.load(1);
  EXPECT_EQ(sample.image.size(), cv::Size(12, 8));
  EXPECT_EQ(sample.image.at<cv::Vec3b>(0, 0), cv::Vec3b(30, 20, 10));  // RGB
  ASSERT_EQ(sample.label.size(), cv::Size(12, 8));
  EXPECT_EQ(cv::countNonZero(sample.label != 255), 0);  // every pixel unknown
  EXPECT_EQ(images.info().num_classes(), 3);
}

TEST(ImageFolder, NoImageOrNoDirectoryIsNamed) {
  testing::ScratchDir dir("image-folder-empty");
  write_file_atomically(dir.path() / "readme.md", "no pictures here");
  EXPECT_CONTAINS(testing::error_message([&] { open_image_folder(dir.path(), three_classes()); }), "no image file");
  EXPECT_CONTAINS(testing::error_message([&] { open_image_folder(dir.path() / "missing", three_classes()); }),
                  "missing");
}

}  // namespace
}  // namespace regal::data
