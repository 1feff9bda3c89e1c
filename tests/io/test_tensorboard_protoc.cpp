// Checks event files with tools that share no code with Neurona's writer: the framing and CRCs are
// parsed here with a bitwise CRC32C, and each payload is decoded by `protoc --decode` against the
// minimal TensorBoard .proto files in tests/fixtures/io.
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "io_test_util.hpp"
#include "test_util.hpp"

namespace neurona::testing {
namespace {

uint32_t bitwise_masked_crc32c(const std::string& s) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char ch : s) {
    c ^= ch;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
  }
  c ^= 0xFFFFFFFFu;
  return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

// Splits a TFRecord file into payloads, checking both CRCs of every record.
std::vector<std::string> split_records(const std::string& bytes) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    EXPECT_GE(bytes.size() - pos, 16u);
    if (bytes.size() - pos < 16) break;
    uint64_t n;
    uint32_t len_crc, data_crc;
    std::memcpy(&n, &bytes[pos], 8);
    std::memcpy(&len_crc, &bytes[pos + 8], 4);
    EXPECT_EQ(len_crc, bitwise_masked_crc32c(bytes.substr(pos, 8))) << "record at " << pos;
    EXPECT_LE(pos + 16 + n, bytes.size());
    std::string payload = bytes.substr(pos + 12, n);
    std::memcpy(&data_crc, &bytes[pos + 12 + n], 4);
    EXPECT_EQ(data_crc, bitwise_masked_crc32c(payload)) << "record at " << pos;
    out.push_back(payload);
    pos += 16 + n;
  }
  return out;
}

// protoc's text rendering of `payload` as message `type`; fails the test when protoc rejects it.
std::string protoc_decode(const ScratchDir& dir, const std::string& payload, const std::string& type) {
  io::write_file_atomic(dir / "record.bin", payload);
  const std::string cmd = "protoc -I" + io_fixture("").string() + " --decode=" + type +
                          " tensorboard_min.proto < " + (dir / "record.bin").string() + " > " +
                          (dir / "record.txt").string() + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::string text = io::read_file(dir / "record.txt");
  EXPECT_EQ(rc, 0) << cmd << "\n" << text;
  return text;
}

// Whitespace runs count as one space, so fragments need not copy protoc's indentation.
std::string squeeze(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool space = c == ' ' || c == '\n';
    if (!space)
      out += c;
    else if (!out.empty() && out.back() != ' ')
      out += ' ';
  }
  return out;
}

void expect_contains(const std::string& text, const std::string& fragment) {
  EXPECT_NE(squeeze(text).find(squeeze(fragment)), std::string::npos) << "missing: " << fragment << "\nin:\n"
                                                                      << text;
}

class ProtocDecode : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("protoc --version > /dev/null 2>&1") != 0)
      FAIL() << "protoc not found: run scripts/install-deps.sh (Debian package protobuf-compiler)";
  }
  ScratchDir dir_;
};

TEST_F(ProtocDecode, EveryRecordOfAWrittenFile) {
  std::filesystem::path file;
  {
    io::SummaryWriter w(dir_ / "run");
    w.add_scalar("train/loss", 0.5, 3);
    w.add_scalar("train/loss", 0.25, 1LL << 40);  // a step needing a multi-byte varint
    w.add_histogram("0.weight", Tensor::from({-2.f, 0.5f, 0.5f, 4.f}), 2);
    w.add_text("summary", "**Dense** 3 -> 1", 0);
    w.add_hparams({{"lr", 0.01}, {"optimizer", "sgd"}, {"nesterov", true}}, {{"val_loss", 0.125}});
    file = w.file();
  }
  auto records = split_records(io::read_file(file));
  ASSERT_EQ(records.size(), 1u + 2 + 1 + 1 + 4);

  std::string t = protoc_decode(dir_, records[0], "tensorboard.Event");
  expect_contains(t, "file_version: \"brain.Event:2\"");
  expect_contains(t, "wall_time: ");

  t = protoc_decode(dir_, records[1], "tensorboard.Event");
  expect_contains(t, "step: 3\n");
  expect_contains(t, "tag: \"train/loss\"");
  expect_contains(t, "simple_value: 0.5\n");
  t = protoc_decode(dir_, records[2], "tensorboard.Event");
  expect_contains(t, "step: 1099511627776\n");
  expect_contains(t, "simple_value: 0.25\n");

  t = protoc_decode(dir_, records[3], "tensorboard.Event");
  expect_contains(t, "step: 2\n");
  expect_contains(t, "tag: \"0.weight\"");
  expect_contains(t, "min: -2\n");
  expect_contains(t, "max: 4\n");
  expect_contains(t, "num: 4\n");
  expect_contains(t, "sum: 3\n");
  expect_contains(t, "sum_squares: 20.5\n");
  expect_contains(t, "bucket: 2\n");  // the two 0.5s
  expect_contains(t, "bucket_limit: 1.7976931348623157e+308\n");

  t = protoc_decode(dir_, records[4], "tensorboard.Event");
  expect_contains(t, "tag: \"summary\"");
  expect_contains(t, "plugin_name: \"text\"");
  expect_contains(t, "dtype: 7\n");
  expect_contains(t, "string_val: \"**Dense** 3 -> 1\"");

  t = protoc_decode(dir_, records[5], "tensorboard.HParamsEvent");
  expect_contains(t, "tag: \"_hparams_/experiment\"");
  expect_contains(t, "plugin_name: \"hparams\"");
  expect_contains(t, "name: \"lr\" type: DATA_TYPE_FLOAT64 }");
  expect_contains(t,
                  "name: \"nesterov\" type: DATA_TYPE_BOOL domain_discrete { values { bool_value: false } "
                  "values { bool_value: true } }");
  expect_contains(
      t, "name: \"optimizer\" type: DATA_TYPE_STRING domain_discrete { values { string_value: \"sgd\" } }");
  expect_contains(t, "metric_infos { name { tag: \"val_loss\" } }");

  t = protoc_decode(dir_, records[6], "tensorboard.HParamsEvent");
  expect_contains(t, "tag: \"_hparams_/session_start_info\"");
  expect_contains(t, "key: \"lr\" value { number_value: 0.01 }");
  expect_contains(t, "key: \"optimizer\" value { string_value: \"sgd\" }");
  expect_contains(t, "key: \"nesterov\" value { bool_value: true }");
  expect_contains(t, "start_time_secs: ");
  // The placeholder tensor: empty DT_FLOAT of shape [0].
  expect_contains(t, "tensor { dtype: 1 tensor_shape { dim { } } }");

  t = protoc_decode(dir_, records[7], "tensorboard.Event");
  expect_contains(t, "tag: \"val_loss\"");
  expect_contains(t, "simple_value: 0.125\n");

  t = protoc_decode(dir_, records[8], "tensorboard.HParamsEvent");
  expect_contains(t, "tag: \"_hparams_/session_end_info\"");
  expect_contains(t, "status: STATUS_SUCCESS");
  expect_contains(t, "end_time_secs: ");
}

}  // namespace
}  // namespace neurona::testing
