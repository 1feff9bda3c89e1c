// examples/image_kernels on tiny images whose results follow by hand: a constant image and a
// vertical step. The example's PNGs are read back through Neurona's image reader.
#include <png.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "test_util.hpp"

using namespace neurona::testing;
namespace fs = std::filesystem;

namespace {

void write_gray_png(const fs::path& path, int64_t h, int64_t w, const std::vector<uint8_t>& pixels) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(w);
  png.height = static_cast<png_uint_32>(h);
  png.format = PNG_FORMAT_GRAY;
  ASSERT_TRUE(png_image_write_to_file(&png, path.c_str(), 0, pixels.data(), 0, nullptr)) << png.message;
}

// The example's output `name`.png as its rows of bytes.
std::vector<uint8_t> result(const fs::path& dir, const std::string& name, int64_t h, int64_t w) {
  const auto img =
      neurona::data::read_image((dir / (name + ".png")).string(), neurona::data::ColorMode::Grayscale);
  EXPECT_EQ(img.height, h) << name;
  EXPECT_EQ(img.width, w) << name;
  return img.pixels;
}

std::vector<uint8_t> rows_of(const std::vector<uint8_t>& row, int64_t rows) {
  std::vector<uint8_t> v;
  for (int64_t r = 0; r < rows; ++r) v.insert(v.end(), row.begin(), row.end());
  return v;
}

}  // namespace

TEST(Examples, ImageKernelsKeepAConstantImageAndZeroItsEdges) {
  const fs::path dir = fresh_dir("image_kernels_constant");
  write_gray_png(dir / "flat.png", 5, 6, std::vector<uint8_t>(30, 100));
  ExampleRun r;
  ASSERT_TRUE(run_example("image_kernels",
                          "--image " + (dir / "flat.png").string() + " --out " + (dir / "out").string(), r))
      << "the example was not built";
  ASSERT_EQ(r.status, 0) << r.output;
  // No padding: 3x4 outputs. Blur, sharpen and emboss sum to 1, the edge kernels to 0.
  for (const char* k : {"blur", "sharpen", "emboss"})
    EXPECT_EQ(result(dir / "out", k, 3, 4), std::vector<uint8_t>(12, 100)) << k;
  for (const char* k : {"outline", "sobel_x", "sobel_y"})
    EXPECT_EQ(result(dir / "out", k, 3, 4), std::vector<uint8_t>(12, 0)) << k;
  EXPECT_EQ(result(dir / "out", "input", 5, 6), std::vector<uint8_t>(30, 100));
  EXPECT_NE(r.output.find("blur     3x4  min   100.00  max   100.00  mean   100.00"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("sobel_x  3x4  min     0.00  max     0.00  mean     0.00"), std::string::npos)
      << r.output;
  fs::remove_all(dir);
}

TEST(Examples, ImageKernelsOnAVerticalStep) {
  // Columns 0-2 are 0, columns 3-5 are 60; output column j is centred on input column j + 1.
  const fs::path dir = fresh_dir("image_kernels_step");
  std::vector<uint8_t> px;
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 6; ++c) px.push_back(c >= 3 ? 60 : 0);
  write_gray_png(dir / "step.png", 5, 6, px);
  ExampleRun r;
  ASSERT_TRUE(run_example("image_kernels",
                          "--image " + (dir / "step.png").string() + " --out " + (dir / "out").string(), r))
      << "the example was not built";
  ASSERT_EQ(r.status, 0) << r.output;
  const fs::path out = dir / "out";
  // blur: (I[c-1] + 2 I[c] + I[c+1]) / 4 along a row (rows are alike).
  EXPECT_EQ(result(out, "blur", 3, 4), rows_of({0, 15, 45, 60}, 3));
  // sobel_x: 4 (I[c+1] - I[c-1]); sobel_y sees no vertical change.
  EXPECT_EQ(result(out, "sobel_x", 3, 4), rows_of({0, 240, 240, 0}, 3));
  EXPECT_EQ(result(out, "sobel_y", 3, 4), std::vector<uint8_t>(12, 0));
  // outline: 6 I[c] - 3 I[c-1] - 3 I[c+1], written as magnitude: -180 and 180 both show as 180.
  EXPECT_EQ(result(out, "outline", 3, 4), rows_of({0, 180, 180, 0}, 3));
  // sharpen: 3 I[c] - I[c-1] - I[c+1]: -60 is clamped to 0.
  EXPECT_EQ(result(out, "sharpen", 3, 4), rows_of({0, 0, 120, 60}, 3));
  EXPECT_NE(r.output.find("sharpen  3x4  min   -60.00  max   120.00"), std::string::npos) << r.output;
  fs::remove_all(dir);
}

TEST(Examples, ImageKernelsOnFashionMnistAndABadFile) {
  ASSERT_FALSE(neurona::data::fashion_mnist_default_dir().empty())
      << "dataset-fashion-mnist is not installed (bash scripts/install-deps.sh installs it)";
  const fs::path dir = fresh_dir("image_kernels_fashion");
  ExampleRun r;
  ASSERT_TRUE(run_example("image_kernels", "--index 3 --out " + dir.string(), r))
      << "the example was not built";
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("Fashion-MNIST test image 3: 28x28"), std::string::npos) << r.output;
  for (const char* k : {"input", "blur", "sharpen", "outline", "sobel_x", "sobel_y", "emboss"})
    EXPECT_TRUE(fs::exists(dir / (std::string(k) + ".png"))) << k;
  ASSERT_TRUE(run_example("image_kernels", "--image " + (dir / "missing.png").string(), r));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("missing.png"), std::string::npos) << r.output;
  fs::remove_all(dir);
}
