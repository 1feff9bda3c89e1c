#include <filesystem>
#include <fstream>

#include "data/data_test_util.hpp"
#include "test_util.hpp"

using namespace neurona;
using namespace neurona::data;
using neurona::testing::expect_values;
using neurona::testing::fixture_path;
using neurona::testing::scratch_path;

// Fixtures written by NumPy 1.24 (tests/data/fixtures/make_npy_fixtures.py).
TEST(Npy, ReadsNumpyFloat32Float64Uint8Int64) {
  auto f4 = read_npy(fixture_path("f4_2x3.npy"));
  EXPECT_EQ(f4.shape(), (Shape{2, 3}));
  expect_values(f4, {1.5f, -2.f, 3.25f, 0.f, 1e-3f, -7.5f});
  expect_values(read_npy(fixture_path("f8_4.npy")), {0.1f, 2.5f, -3.75f, 1e6f});
  expect_values(read_npy(fixture_path("u1_2x2.npy")), {0, 7, 128, 255});
  expect_values(read_npy(fixture_path("i8_3.npy")), {-5, 0, 123456789.f});
}

TEST(Npy, WriteThenReadRoundTripsAndMatchesNumpyBytes) {
  const auto path = scratch_path("round.npy");
  auto t = Tensor::from({1.5f, -2.f, 3.25f, 0.f, 1e-3f, -7.5f}, {2, 3});
  write_npy(path, t);
  auto back = read_npy(path);
  EXPECT_EQ(back.shape(), (Shape{2, 3}));
  expect_values(back, t.to_vector(), 0);
  // NumPy's own file for the same array is byte for byte what we write.
  auto slurp = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  EXPECT_EQ(slurp(path), slurp(fixture_path("f4_2x3.npy")));
  const auto one_d = scratch_path("one_d.npy");
  write_npy(one_d, Tensor::from({4, 5, 6}));
  EXPECT_EQ(read_npy(one_d).shape(), (Shape{3}));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp." + std::to_string(::getpid())));
}

TEST(NpyErrors, UnsupportedDtype) {
  EXPECT_ERROR_CONTAINS(read_npy(fixture_path("i2_3.npy")), "i2_3.npy: unsupported .npy dtype '<i2'");
}

TEST(NpyErrors, FortranOrderAndNotNpy) {
  EXPECT_ERROR_CONTAINS(read_npy(fixture_path("f4_fortran.npy")), "Fortran-order arrays are not supported");
  EXPECT_ERROR_CONTAINS(read_npy(neurona::testing::write_file("plain.npy", "hello world")),
                        "plain.npy: not a .npy file");
}

namespace {

// A version 1.0 .npy file of `header` (padded to 117 bytes and a newline) and 16 bytes of data.
std::string npy_with_header(std::string header) {
  header.resize(117, ' ');
  header += '\n';
  std::string file = std::string("\x93NUMPY\x01\x00", 8);
  file += static_cast<char>(header.size());
  file += '\0';
  return file + header + std::string(16, '\0');
}

std::string npy_with_shape(const std::string& shape) {
  return npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }");
}

}  // namespace

// A 150-byte file whose header claims far more than it holds: an error before any allocation
// (such a header used to overflow the size product and crash).
TEST(NpyErrors, HeaderClaimingAHugeShapeIsAnErrorBeforeAllocating) {
  EXPECT_ERROR_CONTAINS(
      read_npy(neurona::testing::write_file("huge.npy", npy_with_shape("(1152921504606846976, 4)"))),
      "huge.npy: .npy shape (1152921504606846976, 4) is too large to be an array");
  EXPECT_ERROR_CONTAINS(
      read_npy(neurona::testing::write_file("big.npy", npy_with_shape("(1000000, 1000)"))),
      "big.npy: truncated .npy data: shape [1000000,1000] needs 4000000000 bytes, found 16");
}

// Shapes that are not tuples of non-negative integers (found by fuzzing: an empty one threw
// std::out_of_range, "internal error" in the CLI).
TEST(NpyErrors, MalformedShapesAreErrors) {
  EXPECT_ERROR_CONTAINS(
      read_npy(neurona::testing::write_file(
          "noshape.npy", npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape':"))),
      "noshape.npy: malformed shape in .npy header (expected a tuple such as (3, 4))");
  EXPECT_ERROR_CONTAINS(read_npy(neurona::testing::write_file("neg.npy", npy_with_shape("(-2,)"))),
                        "neg.npy: bad dimension '-2' in .npy shape (-2,)");
  EXPECT_ERROR_CONTAINS(read_npy(neurona::testing::write_file("junk.npy", npy_with_shape("(2x,)"))),
                        "junk.npy: bad dimension '2x' in .npy shape (2x,)");
}
