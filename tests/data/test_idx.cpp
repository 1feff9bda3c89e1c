#include <zlib.h>

#include <cstdlib>
#include <filesystem>

#include "data/data_test_util.hpp"
#include "test_util.hpp"

using namespace neurona;
using namespace neurona::data;
using neurona::testing::expect_values;
using neurona::testing::scratch_path;
using neurona::testing::write_file;

namespace {
void put32(std::string& s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s += char((v >> shift) & 0xff);
}

// An IDX file of unsigned bytes: magic 0x0000080<rank>, the dimensions, then `data`.
std::string idx_bytes(const std::vector<uint32_t>& dims, const std::string& data) {
  std::string s{0, 0, 0x08, char(dims.size())};
  for (auto d : dims) put32(s, d);
  return s + data;
}

std::string pixels(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += char((i * 37) % 256);
  return s;
}

void write_gzip(const std::string& path, const std::string& data) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, data.data(), unsigned(data.size())), int(data.size()));
  gzclose(f);
}
}  // namespace

TEST(Idx, ReadsImagesAndLabelsPlainAndGzip) {
  const auto images = write_file("img-idx3-ubyte", idx_bytes({3, 2, 2}, pixels(12)));
  const auto labels = scratch_path("lbl-idx1-ubyte.gz");
  write_gzip(labels, idx_bytes({3}, std::string{7, 0, 9}));
  auto set = read_idx_images(images, labels, {.flatten = false, .rescale = 1});
  // [N, C, H, W] with one channel, as a convolution takes them.
  EXPECT_EQ(set.images.shape(), (Shape{3, 1, 2, 2}));
  expect_values(set.images.slice(1, 2), {148, 185, 222, 3});  // bytes 4..7 of i*37 % 256
  expect_values(set.labels, {7, 0, 9});
  auto flat = read_idx_images(images, labels, {.flatten = true});
  EXPECT_EQ(flat.images.shape(), (Shape{3, 4}));
  EXPECT_EQ(flat.images.at({1, 0}), 148.f / 255.f);                 // ToTensor's division, to the last bit
  auto halves = read_idx_images(images, labels, {.rescale = 0.5});  // Keras's Rescaling: x * scale
  EXPECT_EQ(halves.images.at({1, 0, 0, 1}), 92.5f);
}

TEST(Idx, DefaultRescaleIsExactlyToTensorsDivisionBy255) {
  std::string all;
  for (int v = 0; v < 256; ++v) all += char(v);
  const auto images = write_file("all-bytes-idx3-ubyte", idx_bytes({1, 16, 16}, all));
  const auto labels = write_file("one-label-idx1-ubyte", idx_bytes({1}, std::string{3}));
  const auto set = read_idx_images(images, labels);
  ASSERT_EQ(set.images.shape(), (Shape{1, 1, 16, 16}));
  for (int v = 0; v < 256; ++v) EXPECT_EQ(set.images.data()[v], static_cast<float>(v) / 255.f) << v;
}

TEST(Idx, ReadsOtherElementTypes) {
  std::string s{0, 0, 0x0B, 1};  // int16, one dimension
  put32(s, 2);
  s += std::string{char(0xff), char(0xfe), 0x01, 0x00};  // -2, 256
  expect_values(read_idx(write_file("i16.idx", s)), {-2, 256});
}

TEST(Idx, LoadMnistFindsGzipFilesInADirectory) {
  const auto dir = std::filesystem::path(scratch_path("mnist_dir"));
  std::filesystem::create_directories(dir);
  write_gzip((dir / "train-images-idx3-ubyte.gz").string(), idx_bytes({2, 28, 28}, pixels(2 * 784)));
  write_gzip((dir / "train-labels-idx1-ubyte.gz").string(), idx_bytes({2}, std::string{1, 2}));
  write_file("mnist_dir/t10k-images-idx3-ubyte", idx_bytes({1, 28, 28}, pixels(784)));
  write_file("mnist_dir/t10k-labels-idx1-ubyte", idx_bytes({1}, std::string{5}));
  auto d = load_mnist(dir.string(), {.flatten = true});
  EXPECT_EQ(d.train.images.shape(), (Shape{2, 784}));
  EXPECT_EQ(d.test.images.shape(), (Shape{1, 784}));
  expect_values(d.test.labels, {5});
}

TEST(IdxErrors, WrongMagicNumber) {
  const auto path = write_file("bad-magic.idx", std::string("\x12\x34\x08\x01", 4) + std::string(8, '\0'));
  EXPECT_ERROR_CONTAINS(read_idx(path), "bad-magic.idx: not an IDX file: magic number 0x12340801");
  // A label file where images are expected is named as such.
  const auto labels = write_file("labels-as-images.idx", idx_bytes({2}, std::string{1, 2}));
  EXPECT_ERROR_CONTAINS(read_idx_images(labels, labels),
                        "expected an IDX image file (magic 0x00000803) but found magic 0x00000801");
}

TEST(IdxErrors, TruncatedFile) {
  const auto path = write_file("truncated-idx3-ubyte", idx_bytes({10, 28, 28}, pixels(1000)));
  EXPECT_ERROR_CONTAINS(
      read_idx(path),
      "truncated-idx3-ubyte: truncated IDX file: dimensions [10,28,28] need 7840 data bytes, found 1000");
  const auto header = write_file("short-header.idx", std::string{0, 0, 8, 3, 0, 0});
  EXPECT_ERROR_CONTAINS(read_idx(header), "the header of 3 dimensions needs 16 bytes, the file has 6");
  // A gzip stream cut short.
  const auto gz = scratch_path("cut.idx.gz");
  write_gzip(gz, idx_bytes({100, 28, 28}, pixels(78400)));
  const auto size = std::filesystem::file_size(gz);
  std::filesystem::resize_file(gz, size / 2);
  EXPECT_ERROR_CONTAINS(read_idx(gz), "cut.idx.gz");
}

// A gzip file is inflated only as far as its header says: a small file claiming more than
// deflate can hold is refused at once, and data beyond the claim is not inflated (a "zip bomb" of
// 64 MiB of zeros after a 2x2x2 header used to be read whole into memory).
TEST(IdxErrors, GzipIsInflatedNoFurtherThanItsHeaderSays) {
  const auto claim = scratch_path("claim-idx3-ubyte.gz");
  write_gzip(claim, idx_bytes({1000000, 1000, 1000}, pixels(64)));
  EXPECT_ERROR_CONTAINS(read_idx(claim),
                        "dimensions [1000000,1000,1000] need 1000000000000 data bytes, more than a gzip file "
                        "of this size can hold");
  const auto bomb = scratch_path("bomb-idx3-ubyte.gz");
  write_gzip(bomb, idx_bytes({2, 2, 2}, std::string(64 << 20, '\0')));
  ASSERT_LT(std::filesystem::file_size(bomb), 1u << 20);
  EXPECT_ERROR_CONTAINS(read_idx(bomb),
                        "bomb-idx3-ubyte.gz: IDX file has more bytes after the data of "
                        "dimensions [2,2,2]");
}

// Found by fuzzing: a zero dimension after huge ones is an empty array, whose element count
// used to overflow on the way to 0.
TEST(Idx, ZeroDimensionAfterHugeOnesIsAnEmptyArray) {
  const auto path = write_file("empty-idx4-ubyte", idx_bytes({100000, 100000, 100000, 0}, ""));
  const Tensor t = read_idx(path);
  EXPECT_EQ(t.shape(), (Shape{100000, 100000, 100000, 0}));
  EXPECT_EQ(t.numel(), 0);
}

TEST(IdxErrors, ImageLabelCountMismatch) {
  const auto images = write_file("five-images", idx_bytes({5, 2, 2}, pixels(20)));
  const auto labels = write_file("four-labels", idx_bytes({4}, std::string(4, 1)));
  EXPECT_ERROR_CONTAINS(read_idx_images(images, labels), "five-images holds 5 images but");
  EXPECT_ERROR_CONTAINS(read_idx_images(images, labels), "four-labels holds 4 labels");
}

TEST(FashionMnist, DefaultDirHonoursTheEnvironment) {
  ::setenv("NEURONA_FASHION_MNIST", "/some/where", 1);
  EXPECT_EQ(fashion_mnist_default_dir(), "/some/where");
  ::unsetenv("NEURONA_FASHION_MNIST");
  const std::string d = fashion_mnist_default_dir();
  EXPECT_TRUE(d.empty() || d == "/usr/share/datasets/fashion-mnist") << d;
  EXPECT_EQ(fashion_mnist_classes().size(), 10u);
  EXPECT_EQ(fashion_mnist_classes()[9], "Ankle boot");
}

TEST(FashionMnist, LoadsTheDebianPackage) {
  ASSERT_TRUE(std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
      << "dataset-fashion-mnist is not installed (bash scripts/install-deps.sh installs it)";
  auto d = load_fashion_mnist("/usr/share/datasets/fashion-mnist");
  EXPECT_EQ(d.train.images.shape(), (Shape{60000, 1, 28, 28}));
  EXPECT_EQ(d.test.images.shape(), (Shape{10000, 1, 28, 28}));
  EXPECT_EQ(d.train.labels.numel(), 60000);
  EXPECT_EQ(d.test.labels.numel(), 10000);
  std::vector<int> per_class(10);
  for (float v : d.train.labels.to_vector()) {
    ASSERT_GE(v, 0.f);
    ASSERT_LE(v, 9.f);
    ++per_class[int(v)];
  }
  for (int c : per_class) EXPECT_EQ(c, 6000);  // Fashion-MNIST is balanced
  float lo = 1, hi = 0;
  for (float v : d.test.images.to_vector()) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_EQ(lo, 0.f);
  EXPECT_EQ(hi, 1.f);
}
