// data.json of a run directory: written when a run starts, checked on
// --resume before anything of the run is touched (other data is an error
// naming the split), and written with a warning for runs from before it.
#include "regal/experiment/run_data_record.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "regal/data/dataset_fingerprint.h"
#include "regal/experiment/config.h"
#include "regal/experiment/supervised_jobs.h"
#include "data/dataset_fixtures.h"
#include "experiment/demo_script.h"
#include "support/test_support.h"

namespace regal::experiment {
namespace {

namespace fs = std::filesystem;

// What the default logger writes while it lives.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(text_)) {
    spdlog::default_logger()->sinks().push_back(sink_);
  }
  ~LogCapture() {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  std::string text() const { return text_.str(); }

 private:
  std::ostringstream text_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

std::string file_bytes(const fs::path& file) { return read_file(file); }

// A folder dataset with train (4) and val (2) images of 32 x 48, 3 classes.
class RunDataRecord : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::write_band_dataset(data_root(), "train", 4, 32, 48, 3, 1);
    testing::write_band_dataset(data_root(), "val", 2, 32, 48, 3, 2);
  }
  fs::path data_root() const { return dir_.path() / "data"; }
  fs::path run_dir() const { return dir_.path() / "run"; }
  data::DatasetSpec spec(const std::string& split) const { return {"folder", data_root(), split}; }
  // Opens train and val now and records or checks them.
  RunDataCheck record(bool resume) {
    const data::Dataset train = data::open_dataset(spec("train"));
    const data::Dataset val = data::open_dataset(spec("val"));
    return record_run_data(run_dir(), {{"train", spec("train"), &train}, {"val", spec("val"), &val}}, resume);
  }
  void drop_last_train_sample() {
    auto info = nlohmann::json::parse(read_file(data_root() / "dataset.json"));
    info["splits"]["train"].erase(info["splits"]["train"].size() - 1);
    write_file_atomically(data_root() / "dataset.json", info.dump());
  }

  testing::ScratchDir dir_{"run-data"};
};

TEST_F(RunDataRecord, ANewRunRecordsEverySplitWithItsIdsAndFingerprint) {
  EXPECT_EQ(record(false), RunDataCheck::kRecorded);
  const auto json = nlohmann::json::parse(read_file(run_dir() / "data.json"));
  ASSERT_TRUE(json["splits"].is_object());
  EXPECT_EQ(json["splits"].size(), 2u);
  const auto& train = json["splits"]["train"];
  EXPECT_EQ(train["split"], "train");
  EXPECT_EQ(train["num_samples"], 4);
  EXPECT_EQ(train["ids"], nlohmann::json({"train_0", "train_1", "train_2", "train_3"}));
  EXPECT_EQ(train["fingerprint"], data::dataset_fingerprint(data::open_dataset(spec("train"))));
  EXPECT_EQ(json["splits"]["val"]["num_samples"], 2);
  EXPECT_TRUE(json["fingerprint"].is_string());
}

TEST_F(RunDataRecord, ResumeOnTheSameDataMatchesAndLeavesTheRecord) {
  record(false);
  const std::string recorded = file_bytes(run_dir() / "data.json");
  EXPECT_EQ(record(true), RunDataCheck::kMatched);
  EXPECT_EQ(file_bytes(run_dir() / "data.json"), recorded);
}

TEST_F(RunDataRecord, ResumeOnOtherDataNamesTheSplitBothFingerprintsAndCounts) {
  record(false);
  const auto old_train = data::dataset_fingerprint(data::open_dataset(spec("train")));
  const auto old_val = data::dataset_fingerprint(data::open_dataset(spec("val")));
  drop_last_train_sample();
  const auto new_train = data::dataset_fingerprint(data::open_dataset(spec("train")));
  const std::string recorded = file_bytes(run_dir() / "data.json");
  const std::string message = testing::error_message([&] { record(true); });
  EXPECT_CONTAINS(message, run_dir().string());
  EXPECT_CONTAINS(message, "split 'train'");
  EXPECT_CONTAINS(message, old_train + " with 4 samples");
  EXPECT_CONTAINS(message, new_train + " with 3 samples");
  EXPECT_CONTAINS(message, "start a new run directory");
  EXPECT_TRUE(testing::demo_starts_over_on(message)) << message;  // make demo keeps the old run and starts over
  EXPECT_EQ(message.find("split 'val'"), std::string::npos) << message;
  EXPECT_EQ(file_bytes(run_dir() / "data.json"), recorded);

  // A label file of val rewritten with another size: val is named too.
  std::ofstream(data_root() / "labels" / "val_1.png", std::ios::binary | std::ios::app) << '\0';
  const std::string both = testing::error_message([&] { record(true); });
  EXPECT_CONTAINS(both, "split 'train'");
  EXPECT_CONTAINS(both, "split 'val'");
  EXPECT_CONTAINS(both, old_val + " with 2 samples");
}

TEST_F(RunDataRecord, ASplitTheRecordDoesNotHoldIsADifference) {
  const data::Dataset train = data::open_dataset(spec("train"));
  record_run_data(run_dir(), {{"train", spec("train"), &train}}, false);
  const std::string message = testing::error_message([&] { record(true); });
  EXPECT_CONTAINS(message, "split 'val' is not recorded");
}

TEST_F(RunDataRecord, ResumeWithoutARecordWarnsAndWritesIt) {
  fs::create_directories(run_dir());
  LogCapture log;
  EXPECT_EQ(record(true), RunDataCheck::kUnchecked);
  EXPECT_CONTAINS(log.text(), "could not be checked");
  EXPECT_CONTAINS(log.text(), run_dir().string());
  EXPECT_TRUE(fs::exists(run_dir() / "data.json"));
  EXPECT_EQ(record(true), RunDataCheck::kMatched);
}

TEST_F(RunDataRecord, ACorruptRecordIsAnErrorNamingIt) {
  write_file_atomically(run_dir() / "data.json", "{not json");
  EXPECT_CONTAINS(testing::error_message([&] { record(true); }), (run_dir() / "data.json").string());
}

TEST_F(RunDataRecord, SplitFingerprintsLeaveTheIdsOut) {
  const data::Dataset val = data::open_dataset(spec("val"));
  const auto json = split_fingerprints({{"val", spec("val"), &val}});
  EXPECT_EQ(json["val"]["fingerprint"], data::dataset_fingerprint(val));
  EXPECT_EQ(json["val"]["num_samples"], 2);
  EXPECT_FALSE(json["val"].contains("ids"));
}

// A one-epoch `regal pretrain` (source train, target val) on the same data.
TEST_F(RunDataRecord, PretrainRecordsItsDataAndResumeOnOtherDataTouchesNothing) {
  const fs::path config_file = dir_.path() / "c.yaml";
  write_file_atomically(config_file,
                        "device: cpu\nthreads: 1\n"
                        "source: {type: folder, root: " + data_root().string() + "}\n"
                        "target: {type: folder, root: " + data_root().string() + "}\n"
                        "model: {backbone: resnet18, fpn_channels: 8}\n"
                        "pretrain: {out: " + run_dir().string() +
                        ", epochs: 1, batch_size: 2, crop: [32, 32], patience: 0, eval_batch_size: 2}\n");
  const RunConfig config = load_run_config(config_file);
  run_pretrain(config, {});
  const auto json = nlohmann::json::parse(read_file(run_dir() / "data.json"));
  EXPECT_EQ(json["splits"]["train"]["num_samples"], 4);
  EXPECT_EQ(json["splits"]["val"]["num_samples"], 2);
  EXPECT_EQ(json["splits"]["val"]["fingerprint"], data::dataset_fingerprint(data::open_dataset(spec("val"))));

  JobOverrides resume;
  resume.resume = true;
  const std::string last = file_bytes(run_dir() / "last.pt");
  const auto last_time = fs::last_write_time(run_dir() / "last.pt");
  const std::string log = file_bytes(run_dir() / "log.csv");
  const std::string dataset_json = read_file(data_root() / "dataset.json");
  drop_last_train_sample();
  const std::string message = testing::error_message([&] { run_pretrain(config, resume); });
  EXPECT_CONTAINS(message, "split 'train'");
  EXPECT_CONTAINS(message, run_dir().string());
  EXPECT_EQ(file_bytes(run_dir() / "last.pt"), last);
  EXPECT_EQ(fs::last_write_time(run_dir() / "last.pt"), last_time);
  EXPECT_EQ(file_bytes(run_dir() / "log.csv"), log);

  // A run from before data.json: warned about, resumed, and recorded.
  write_file_atomically(data_root() / "dataset.json", dataset_json);
  fs::remove(run_dir() / "data.json");
  {
    LogCapture captured;
    run_pretrain(config, resume);
    EXPECT_CONTAINS(captured.text(), "could not be checked");
  }
  EXPECT_TRUE(fs::exists(run_dir() / "data.json"));
  EXPECT_EQ(file_bytes(run_dir() / "last.pt"), last);
}

}  // namespace
}  // namespace regal::experiment
