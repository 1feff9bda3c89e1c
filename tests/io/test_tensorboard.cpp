#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>

#include "io_test_util.hpp"
#include "test_util.hpp"

namespace neurona::testing {
namespace {

using io::SummaryValue;

TEST(TfRecord, Crc32cKnownVectors) {
  EXPECT_EQ(io::crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(io::crc32c(std::string(32, '\0')), 0x8A9136AAu);  // RFC 3720
  // TensorBoard's own test vector, taken from a real TensorFlow file.
  EXPECT_EQ(io::mask_crc32c(io::crc32c(std::string("\x1a\x11") + "CRC test, one two")), 0x5794D08Au);
}

TEST(TfRecord, FramesAKnownEvent) {
  // Event{wall_time = 1.7e9, file_version = "brain.Event:2"} encoded by hand: 24 bytes.
  std::string payload = "\x09";
  double t = 1.7e9;
  payload.append(reinterpret_cast<const char*>(&t), 8);
  payload += std::string("\x1a\x0d") + "brain.Event:2";
  ASSERT_EQ(payload.size(), 24u);
  const std::string rec = io::frame_tfrecord(payload);
  ASSERT_EQ(rec.size(), 40u);
  uint64_t len;
  uint32_t len_crc, data_crc;
  std::memcpy(&len, rec.data(), 8);
  std::memcpy(&len_crc, rec.data() + 8, 4);
  std::memcpy(&data_crc, rec.data() + 36, 4);
  EXPECT_EQ(len, 24u);
  EXPECT_EQ(len_crc, 0x224B7FA3u);
  EXPECT_EQ(data_crc, 0x9D8FEDECu);
  EXPECT_EQ(rec.substr(12, 24), payload);
}

// Every value of one tag across a file, in order.
std::vector<std::pair<int64_t, const SummaryValue*>> values_of(const io::EventFile& f,
                                                               const std::string& tag) {
  std::vector<std::pair<int64_t, const SummaryValue*>> out;
  for (const auto& e : f.events)
    for (const auto& v : e.values)
      if (v.tag == tag) out.push_back({e.step, &v});
  return out;
}

TEST(SummaryWriter, FileNameAndFirstRecord) {
  ScratchDir dir;
  const double before = static_cast<double>(std::time(nullptr));
  std::filesystem::path file;
  {
    io::SummaryWriter w(dir / "run1");
    file = w.file();
  }
  EXPECT_EQ(file.parent_path(), dir / "run1");
  const std::string name = file.filename().string();
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const std::string prefix = "events.out.tfevents.";
  ASSERT_EQ(name.rfind(prefix, 0), 0u) << name;
  const std::string secs = name.substr(prefix.size(), 10);
  EXPECT_NEAR(std::stod(secs), before, 5.0);
  EXPECT_EQ(name.substr(prefix.size() + 10, std::strlen(host) + 2), "." + std::string(host) + ".");
  EXPECT_NE(name.find("." + std::to_string(::getpid()) + "."), std::string::npos) << name;

  auto f = io::read_event_file(file);
  ASSERT_EQ(f.events.size(), 1u);
  EXPECT_EQ(f.events[0].file_version, "brain.Event:2");
  EXPECT_NEAR(f.events[0].wall_time, before, 5.0);
  EXPECT_TRUE(f.warnings.empty());
  EXPECT_EQ(io::find_event_files(dir / "run1"), std::vector<std::filesystem::path>{file});
}

TEST(SummaryWriter, ScalarsHistogramsAndTextReadBack) {
  ScratchDir dir;
  const std::vector<double> losses = {2.5, 1.25, 0.75, 0.5};
  const std::vector<float> weights = {0.5f, -0.25f, 1.5f, 0.f, -2.f, 3.f, 0.5f, 1e-13f};
  std::filesystem::path file;
  {
    io::SummaryWriter w(dir.path());
    for (size_t i = 0; i < losses.size(); ++i)
      w.add_scalar("train/loss", losses[i], static_cast<int64_t>(i + 1));
    w.add_scalar("lr", 0.001, 10);
    w.add_histogram("0.weight", Tensor::from(weights, {2, 4}), 1);
    w.add_text("config", "# Run\n`lr: 0.001`", 0);
    w.add_text("config", "second", 5);
    file = w.file();
  }
  auto f = io::read_event_file(file);
  EXPECT_TRUE(f.warnings.empty());
  ASSERT_EQ(f.events.size(), 1u + 4 + 1 + 1 + 2);
  EXPECT_EQ(f.events[0].file_version, "brain.Event:2");
  EXPECT_TRUE(f.events[0].values.empty());

  auto loss = values_of(f, "train/loss");
  ASSERT_EQ(loss.size(), losses.size());
  for (size_t i = 0; i < losses.size(); ++i) {
    EXPECT_EQ(loss[i].first, static_cast<int64_t>(i + 1));
    EXPECT_EQ(loss[i].second->kind, SummaryValue::Kind::Scalar);
    EXPECT_EQ(loss[i].second->simple_value, static_cast<float>(losses[i]));
  }
  auto lr = values_of(f, "lr");
  ASSERT_EQ(lr.size(), 1u);
  EXPECT_EQ(lr[0].first, 10);
  EXPECT_EQ(lr[0].second->simple_value, 0.001f);

  auto h = values_of(f, "0.weight");
  ASSERT_EQ(h.size(), 1u);
  ASSERT_EQ(h[0].second->kind, SummaryValue::Kind::Histogram);
  const auto& hist = h[0].second->histogram;
  double sum = 0, sum_sq = 0;
  for (float v : weights) sum += v, sum_sq += double(v) * v;
  EXPECT_EQ(hist.num, 8.0);
  EXPECT_EQ(hist.min, -2.0);
  EXPECT_EQ(hist.max, 3.0);
  EXPECT_DOUBLE_EQ(hist.sum, sum);
  EXPECT_DOUBLE_EQ(hist.sum_squares, sum_sq);
  // Each value lies in the first stored bucket whose limit exceeds it.
  ASSERT_EQ(hist.bucket_limit.size(), hist.bucket.size());
  std::vector<double> expected(hist.bucket.size(), 0);
  for (float v : weights) {
    size_t b = 0;
    while (hist.bucket_limit[b] <= v) ++b;
    expected[b] += 1;
  }
  EXPECT_EQ(hist.bucket, expected);
  EXPECT_EQ(hist.bucket_limit.back(), DBL_MAX);
  // 0 falls in [0, 1e-12); 1e-13 too: that bucket holds two values.
  auto zero_bucket = std::find(hist.bucket_limit.begin(), hist.bucket_limit.end(), 1e-12);
  ASSERT_NE(zero_bucket, hist.bucket_limit.end());
  EXPECT_EQ(hist.bucket[static_cast<size_t>(zero_bucket - hist.bucket_limit.begin())], 2.0);
  // 0.5 appears twice: its bucket's limit is the first 1e-12 * 1.1^k above 0.5.
  double limit = 1e-12;
  while (limit <= 0.5) limit *= 1.1;
  auto half = std::find(hist.bucket_limit.begin(), hist.bucket_limit.end(), limit);
  ASSERT_NE(half, hist.bucket_limit.end());
  EXPECT_EQ(hist.bucket[static_cast<size_t>(half - hist.bucket_limit.begin())], 2.0);
  // Runs of empty buckets are merged: no two neighbouring stored buckets are both empty.
  for (size_t i = 1; i < hist.bucket.size(); ++i)
    EXPECT_FALSE(hist.bucket[i] == 0 && hist.bucket[i - 1] == 0) << i;

  auto text = values_of(f, "config");
  ASSERT_EQ(text.size(), 2u);
  EXPECT_EQ(text[0].second->kind, SummaryValue::Kind::Tensor);
  EXPECT_EQ(text[0].second->plugin_name, "text");
  EXPECT_EQ(text[0].second->strings, std::vector<std::string>{"# Run\n`lr: 0.001`"});
  EXPECT_EQ(text[1].first, 5);
  EXPECT_EQ(text[1].second->strings, std::vector<std::string>{"second"});
  EXPECT_EQ(text[1].second->plugin_name, "");  // metadata only on a tag's first value
}

TEST(SummaryWriter, EmptyHistogramIsOneBucket) {
  ScratchDir dir;
  std::filesystem::path file;
  {
    io::SummaryWriter w(dir.path());
    w.add_histogram("g", Tensor::zeros({0}), 0);
    file = w.file();
  }
  auto f = io::read_event_file(file);
  auto& h = f.events.at(1).values.at(0).histogram;
  EXPECT_EQ(h.num, 0.0);
  EXPECT_EQ(h.bucket_limit, std::vector<double>{DBL_MAX});
  EXPECT_EQ(h.bucket, std::vector<double>{0.0});
}

TEST(SummaryWriter, StepsMustIncreasePerTag) {
  ScratchDir dir;
  io::SummaryWriter w(dir.path());
  w.add_scalar("loss", 1.0, 5);
  w.add_scalar("acc", 1.0, 1);  // another tag has its own steps
  EXPECT_ERROR_CONTAINS(w.add_scalar("loss", 0.5, 5), "step 5 of tag 'loss' does not increase (last step 5)");
  EXPECT_ERROR_CONTAINS(w.add_scalar("loss", 0.5, 2), "tag 'loss'");
  w.add_scalar("loss", 0.5, 6);
  w.close();
  EXPECT_ERROR_CONTAINS(w.add_scalar("loss", 0.5, 7), "closed");
  EXPECT_EQ(io::read_event_file(w.file()).events.size(), 4u);
}

TEST(SummaryWriter, FlushesInTheBackground) {
  ScratchDir dir;
  io::SummaryWriter w(dir.path(), 0.1);
  w.add_scalar("loss", 1.0, 1);
  EXPECT_EQ(io::read_event_file(w.file()).events.size(), 1u);  // still pending
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(io::read_event_file(w.file()).events.size(), 2u);
  w.add_scalar("loss", 0.5, 2);
  w.flush();
  EXPECT_EQ(io::read_event_file(w.file()).events.size(), 3u);
}

TEST(EventReader, CorruptRecordIsAnErrorNamingFileAndOffset) {
  ScratchDir dir;
  std::filesystem::path file;
  {
    io::SummaryWriter w(dir.path());
    w.add_scalar("a", 1.0, 1);
    w.add_scalar("a", 2.0, 2);
    file = w.file();
  }
  std::string bytes = io::read_file(file);
  const size_t first = io::read_tfrecords(file).records.at(1).offset;
  std::string damaged = bytes;
  damaged[first + 14] ^= 0x01;  // inside the second record's payload
  io::write_file_atomic(file, damaged);
  EXPECT_ERROR_CONTAINS(io::read_event_file(file),
                        "data CRC mismatch in the record at offset " + std::to_string(first));
  EXPECT_ERROR_CONTAINS(io::read_event_file(file), file.filename().string());
  damaged = bytes;
  damaged[first + 3] ^= 0x01;  // the length bytes
  io::write_file_atomic(file, damaged);
  EXPECT_ERROR_CONTAINS(io::read_event_file(file),
                        "length CRC mismatch in the record at offset " + std::to_string(first));
}

TEST(EventReader, TruncatedLastRecordIsSkippedWithAWarning) {
  ScratchDir dir;
  std::filesystem::path file;
  {
    io::SummaryWriter w(dir.path());
    w.add_scalar("a", 1.0, 1);
    file = w.file();
  }
  const std::string complete = io::read_file(file);
  const std::string extra = io::frame_tfrecord("0123456789");
  for (size_t cut : {size_t(3), size_t(12), size_t(20)}) {
    io::write_file_atomic(file, complete + extra.substr(0, cut));
    auto f = io::read_event_file(file);
    EXPECT_EQ(f.events.size(), 2u) << cut;
    ASSERT_EQ(f.warnings.size(), 1u) << cut;
    EXPECT_NE(f.warnings[0].find("truncated record at offset " + std::to_string(complete.size())),
              std::string::npos)
        << f.warnings[0];
  }
}

TEST(SummaryWriter, HParamsOfTwoRunsDecodeIntoTwoSessions) {
  ScratchDir dir;
  const double lrs[] = {0.1, 0.01};
  const std::vector<std::vector<double>> val_losses = {{0.9, 0.7, 0.6}, {0.8, 0.5, 0.3}};
  for (int r = 0; r < 2; ++r) {
    io::SummaryWriter w(dir / ("run" + std::to_string(r)));
    for (int e = 0; e < 3; ++e) w.add_scalar("val_loss", val_losses[r][e], e + 1);
    w.add_hparams({{"lr", lrs[r]}, {"optimizer", "adam"}, {"batchnorm", r == 1}, {"batch_size", 32}},
                  {{"val_loss", val_losses[r].back()}});
  }
  for (int r = 0; r < 2; ++r) {
    auto files = io::find_event_files(dir / ("run" + std::to_string(r)));
    ASSERT_EQ(files.size(), 1u);
    auto f = io::read_event_file(files[0]);
    int starts = 0, ends = 0, experiments = 0;
    for (const auto& e : f.events)
      for (const auto& v : e.values) {
        if (v.plugin_name != "hparams") continue;
        EXPECT_EQ(e.step, 0);
        auto rec = io::decode_hparams(v.plugin_content);
        if (v.tag == "_hparams_/experiment") {
          ++experiments;
          EXPECT_EQ(rec.kind, io::HParamsRecord::Kind::Experiment);
          EXPECT_EQ(rec.hparam_names,
                    (std::vector<std::string>{"batch_size", "batchnorm", "lr", "optimizer"}));
          EXPECT_EQ(rec.metric_tags, std::vector<std::string>{"val_loss"});
        } else if (v.tag == "_hparams_/session_start_info") {
          ++starts;
          ASSERT_EQ(rec.kind, io::HParamsRecord::Kind::SessionStart);
          EXPECT_EQ(rec.hparams.at("lr").number(), lrs[r]);
          EXPECT_EQ(rec.hparams.at("optimizer").string(), "adam");
          EXPECT_EQ(rec.hparams.at("batchnorm").boolean(), r == 1);
          EXPECT_EQ(rec.hparams.at("batch_size").number(), 32.0);
          EXPECT_EQ(rec.group_name, (dir / ("run" + std::to_string(r))).string());
        } else if (v.tag == "_hparams_/session_end_info") {
          ++ends;
          EXPECT_EQ(rec.kind, io::HParamsRecord::Kind::SessionEnd);
          EXPECT_EQ(rec.status, 1);
        }
      }
    EXPECT_EQ(experiments, 1);
    EXPECT_EQ(starts, 1);
    EXPECT_EQ(ends, 1);
    // The HParams table shows the metric's last value: the final val_loss, not re-written.
    auto vl = values_of(f, "val_loss");
    ASSERT_EQ(vl.size(), 3u);
    EXPECT_EQ(vl.back().second->simple_value, static_cast<float>(val_losses[r].back()));
  }
}

TEST(SummaryWriter, HParamsMetricsNotYetLoggedOrChangedAreWritten) {
  ScratchDir dir;
  io::SummaryWriter w(dir.path());
  w.add_scalar("val_loss", 0.4, 7);
  w.add_hparams({{"lr", 0.5}}, {{"val_loss", 0.35}, {"test_acc", 0.9}}, io::RunStatus::Failed);
  EXPECT_ERROR_CONTAINS(w.add_hparams({{"lr", 0.5}}, {}), "once");
  w.close();
  auto f = io::read_event_file(w.file());
  auto vl = values_of(f, "val_loss");
  ASSERT_EQ(vl.size(), 2u);
  EXPECT_EQ(vl[1].first, 8);
  EXPECT_EQ(vl[1].second->simple_value, 0.35f);
  auto acc = values_of(f, "test_acc");
  ASSERT_EQ(acc.size(), 1u);
  EXPECT_EQ(acc[0].first, 0);
  EXPECT_EQ(acc[0].second->simple_value, 0.9f);
  auto end = values_of(f, "_hparams_/session_end_info");
  ASSERT_EQ(end.size(), 1u);
  EXPECT_EQ(io::decode_hparams(end[0].second->plugin_content).status, 2);
}

}  // namespace
}  // namespace neurona::testing
