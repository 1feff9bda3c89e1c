#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "io_test_util.hpp"
#include "test_util.hpp"

namespace neurona::testing {
namespace {

std::string with_header(const std::string& json, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = json.size();
  std::memcpy(out.data(), &n, 8);
  return out + json + data;
}

std::string floats(std::initializer_list<float> v) {
  return std::string(reinterpret_cast<const char*>(std::data(v)), v.size() * 4);
}

// Fixture written by tests/fixtures/io/write_safetensors_fixture.py (struct + json only).
TEST(Safetensors, ReadsPythonWrittenFixtureInHeaderOrderConvertingDtypes) {
  auto st = io::load_safetensors(io_fixture("fixture.safetensors"));
  ASSERT_EQ(st.tensors.size(), 5u);
  const char* names[] = {"0.weight", "0.bias", "1.running_var", "1.running_mean", "1.num_batches_tracked"};
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(st.tensors[i].name, names[i]);

  EXPECT_EQ(st.at("0.weight").shape(), Shape({2, 3}));
  expect_values(st.at("0.weight"), {1.5f, -2.f, 3.25f, 0.f, 1e-3f, -7.f}, 0);
  expect_values(st.at("0.bias"), {0.1f, -0.2f}, 0);  // F64 rounded to float
  expect_values(st.at("1.running_var"), {1.f, -0.5f, 65504.f, std::ldexp(1.f, -24)},
                0);                                        // F16 incl. subnormal
  expect_values(st.at("1.running_mean"), {1.f, -3.f}, 0);  // BF16
  EXPECT_EQ(st.at("1.num_batches_tracked").shape(), Shape());
  EXPECT_EQ(st.at("1.num_batches_tracked").item(), 42.f);  // I64

  EXPECT_EQ(st.metadata.size(), 2u);
  EXPECT_EQ(st.metadata.at("format"), "pt");
  EXPECT_EQ(st.metadata.at("source"), "python fixture");
  ASSERT_EQ(st.conversions.size(), 4u);
  EXPECT_EQ(st.conversions[0], "0.bias: F64 converted to float32");
  EXPECT_EQ(st.conversions[3], "1.num_batches_tracked: I64 converted to float32");
  EXPECT_ERROR_CONTAINS(st.at("2.weight"), "no tensor named '2.weight'");
}

TEST(Safetensors, WritesTheExactDocumentedBytes) {
  ScratchDir dir;
  io::save_safetensors(dir / "w.safetensors", {{"b", Tensor::from({1.f, -2.f})}}, {{"k", "v"}});
  const std::string json =
      R"({"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"k":"v"}})";
  std::string padded = json + std::string((8 - json.size() % 8) % 8, ' ');
  ASSERT_EQ(padded.size() % 8, 0u);
  EXPECT_EQ(io::read_file(dir / "w.safetensors"), with_header(padded, floats({1.f, -2.f})));
}

TEST(Safetensors, RoundTripKeepsOrderShapesValuesAndMetadata) {
  ScratchDir dir;
  Tensor w = Tensor::from({0.25f, -1.f, 3.f, 4.5f, 1e-7f, -0.f}, {3, 2});
  Tensor b = Tensor::from({9.f, 8.f, 7.f});
  Tensor s = Tensor::scalar(5.f);
  Tensor e = Tensor::zeros({0, 4});
  io::save_safetensors(dir / "m.safetensors", {{"z.weight", w}, {"a.bias", b}, {"m.scalar", s}, {"empty", e}},
                       {{"format", "pt"}, {"epoch", "12"}});
  auto st = io::load_safetensors(dir / "m.safetensors");
  ASSERT_EQ(st.tensors.size(), 4u);
  EXPECT_EQ(st.tensors[0].name, "z.weight");
  EXPECT_EQ(st.tensors[1].name, "a.bias");
  EXPECT_EQ(st.tensors[2].name, "m.scalar");
  EXPECT_EQ(st.tensors[3].name, "empty");
  EXPECT_EQ(st.tensors[0].tensor.shape(), Shape({3, 2}));
  expect_values(st.tensors[0].tensor, w.to_vector(), 0);
  expect_values(st.tensors[1].tensor, {9.f, 8.f, 7.f}, 0);
  EXPECT_EQ(st.tensors[2].tensor.shape(), Shape());
  EXPECT_EQ(st.tensors[2].tensor.item(), 5.f);
  EXPECT_EQ(st.tensors[3].tensor.shape(), Shape({0, 4}));
  EXPECT_EQ(st.metadata.at("epoch"), "12");
  EXPECT_TRUE(st.conversions.empty());
}

// Our file read by an independent reader (Python struct + json); torch too where it is installed.
TEST(Safetensors, PythonReaderAgreesWithOurFile) {
  ScratchDir dir;
  io::save_safetensors(dir / "p.safetensors",
                       {{"0.weight", Tensor::from({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3})},
                        {"0.bias", Tensor::from({-0.5f, 0.25f})}});
  const std::string cmd = "python3 " + io_fixture("read_safetensors.py").string() + " " +
                          (dir / "p.safetensors").string() + " > " + (dir / "out.txt").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(io::read_file(dir / "out.txt"),
            "0.weight F32 [2, 3] [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]\n"
            "0.bias F32 [2] [-0.5, 0.25]\n");
}

class SafetensorsErrors : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& bytes) {
    io::write_file_atomic(dir_ / "bad.safetensors", bytes);
    return dir_ / "bad.safetensors";
  }
  ScratchDir dir_;
};

TEST_F(SafetensorsErrors, TruncatedFiles) {
  EXPECT_ERROR_CONTAINS(io::load_safetensors(write("abc")), "too short");
  const std::string good =
      with_header(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", floats({1, 2}));
  EXPECT_ERROR_CONTAINS(io::load_safetensors(write(good.substr(0, 30))), "exceeds the file size");
  auto p = write(good.substr(0, good.size() - 4));
  EXPECT_ERROR_CONTAINS(io::load_safetensors(p), "tensor 'w'");
  EXPECT_ERROR_CONTAINS(io::load_safetensors(p), "out of range");
  EXPECT_ERROR_CONTAINS(io::load_safetensors(p), "bad.safetensors");
}

TEST_F(SafetensorsErrors, BadJson) {
  EXPECT_ERROR_CONTAINS(io::load_safetensors(write(with_header(R"({"w":{"dtype":"F32",)", ""))),
                        "invalid JSON header");
  // Found by fuzzing: a number too large for a double is nlohmann's out_of_range, not a parse_error.
  EXPECT_ERROR_CONTAINS(io::load_safetensors(write(with_header(R"({"__metadata__":{"n":1e999}})", ""))),
                        "invalid JSON header");
  EXPECT_ERROR_CONTAINS(io::load_safetensors(write(with_header("[1,2]", ""))), "not an object");
  EXPECT_ERROR_CONTAINS(io::load_safetensors(write(with_header(R"({"w":{"dtype":"F32","shape":[1]}})", ""))),
                        "data_offsets");
}

TEST_F(SafetensorsErrors, OffsetsAndShapes) {
  EXPECT_ERROR_CONTAINS(io::load_safetensors(write(with_header(
                            R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", floats({1, 2})))),
                        "data_offsets [0, 16] out of range of the 8-byte data section");
  EXPECT_ERROR_CONTAINS(io::load_safetensors(write(with_header(
                            R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", floats({1, 2})))),
                        "shape [3] of F32 needs 12 bytes but data_offsets span 8");
  EXPECT_ERROR_CONTAINS(
      io::load_safetensors(write(with_header(
          R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
          floats({1, 2, 3})))),
      "tensor 'b': data starts at byte 8 but the previous tensor ends at 4");
  EXPECT_ERROR_CONTAINS(io::load_safetensors(write(with_header(
                            R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", floats({1})))),
                        "unsupported dtype 'U8'");
}

TEST_F(SafetensorsErrors, SaveRejectsDuplicateNames) {
  EXPECT_ERROR_CONTAINS(
      io::save_safetensors(dir_ / "d.safetensors", {{"w", Tensor::ones({1})}, {"w", Tensor::ones({1})}}),
      "tensor name 'w' appears twice");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "d.safetensors"));
}

}  // namespace
}  // namespace neurona::testing
