// PNG / JPEG decoding, colour conversion, bilinear resizing and the image-folder data set, on
// files the tests write with libpng and TurboJPEG.
#include <png.h>
#include <turbojpeg.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "data/data_test_util.hpp"
#include "test_util.hpp"

using namespace neurona;
using namespace neurona::data;
using neurona::testing::expect_values;
using neurona::testing::fresh_dir;

namespace {

namespace fs = std::filesystem;

// Writes `pixels` (rows of `channels` bytes per pixel: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) as
// an 8-bit PNG.
void write_png(const fs::path& path, int64_t h, int64_t w, int64_t channels,
               const std::vector<uint8_t>& pixels) {
  fs::create_directories(path.parent_path());
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(w);
  png.height = static_cast<png_uint_32>(h);
  png.format = channels == 1   ? PNG_FORMAT_GRAY
               : channels == 2 ? PNG_FORMAT_GA
               : channels == 3 ? PNG_FORMAT_RGB
                               : PNG_FORMAT_RGBA;
  ASSERT_EQ(pixels.size(), static_cast<size_t>(h * w * channels));
  ASSERT_TRUE(png_image_write_to_file(&png, path.c_str(), 0, pixels.data(), 0, nullptr)) << png.message;
}

// Writes RGB (3 channels) or gray (1) pixels as a JPEG of the given quality, 4:4:4 or gray.
void write_jpeg(const fs::path& path, int64_t h, int64_t w, int64_t channels,
                const std::vector<uint8_t>& pixels, int quality = 100) {
  fs::create_directories(path.parent_path());
  tjhandle tj = tjInitCompress();
  ASSERT_NE(tj, nullptr);
  unsigned char* out = nullptr;
  unsigned long size = 0;
  const int rc = tjCompress2(tj, pixels.data(), static_cast<int>(w), 0, static_cast<int>(h),
                             channels == 1 ? TJPF_GRAY : TJPF_RGB, &out, &size,
                             channels == 1 ? TJSAMP_GRAY : TJSAMP_444, quality, TJFLAG_ACCURATEDCT);
  ASSERT_EQ(rc, 0) << tjGetErrorStr2(tj);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(out), static_cast<std::streamsize>(size));
  tjFree(out);
  tjDestroy(tj);
}

std::vector<uint8_t> bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

std::vector<float> pixels_of(const DecodedImage& img) {
  return std::vector<float>(img.pixels.begin(), img.pixels.end());
}

// A 1x3 RGB strip: red, green, blue.
const std::vector<uint8_t> kRgb = {255, 0, 0, 0, 255, 0, 0, 0, 255};

}  // namespace

TEST(ImageDecode, PngRgbAndItsGrayscaleByPilsLuma) {
  const auto dir = fresh_dir("png_rgb");
  write_png(dir / "strip.png", 1, 3, 3, kRgb);
  const DecodedImage rgb = read_image((dir / "strip.png").string(), ColorMode::RGB);
  EXPECT_EQ(rgb.height, 1);
  EXPECT_EQ(rgb.width, 3);
  EXPECT_EQ(rgb.channels, 3);
  expect_values(Tensor::from(pixels_of(rgb), {9}), {255, 0, 0, 0, 255, 0, 0, 0, 255}, 0);
  // (19595 R + 38470 G + 7471 B + 32768) >> 16: red 76, green 150, blue 29, as PIL's "L".
  const DecodedImage gray = read_image((dir / "strip.png").string(), ColorMode::Grayscale);
  EXPECT_EQ(gray.channels, 1);
  expect_values(Tensor::from(pixels_of(gray), {3}), {76, 150, 29}, 0);
}

TEST(ImageDecode, GrayPngRepeatsIntoRgbAndAlphaIsDropped) {
  const auto dir = fresh_dir("png_gray");
  write_png(dir / "g.png", 1, 2, 1, {7, 200});
  expect_values(Tensor::from(pixels_of(read_image((dir / "g.png").string(), ColorMode::RGB)), {6}),
                {7, 7, 7, 200, 200, 200}, 0);
  expect_values(Tensor::from(pixels_of(read_image((dir / "g.png").string(), ColorMode::Grayscale)), {2}),
                {7, 200}, 0);
  // Alpha is dropped, not blended (PIL's convert("RGB"), TensorFlow's decode_png(channels=3)).
  write_png(dir / "rgba.png", 1, 2, 4, {10, 20, 30, 0, 40, 50, 60, 128});
  expect_values(Tensor::from(pixels_of(read_image((dir / "rgba.png").string(), ColorMode::RGB)), {6}),
                {10, 20, 30, 40, 50, 60}, 0);
  write_png(dir / "ga.png", 1, 2, 2, {90, 0, 91, 255});
  expect_values(Tensor::from(pixels_of(read_image((dir / "ga.png").string(), ColorMode::Grayscale)), {2}),
                {90, 91}, 0);
}

TEST(ImageDecode, JpegColourAndGray) {
  const auto dir = fresh_dir("jpeg");
  // 8x8 blocks of one colour survive quality 100 within a step or two.
  std::vector<uint8_t> rgb;
  for (int p = 0; p < 64; ++p) rgb.insert(rgb.end(), {200, 100, 50});
  write_jpeg(dir / "c.jpg", 8, 8, 3, rgb);
  const DecodedImage c = read_image((dir / "c.jpg").string(), ColorMode::RGB);
  ASSERT_EQ(c.channels, 3);
  ASSERT_EQ(c.height * c.width, 64);
  for (int p = 0; p < 64; ++p) {
    EXPECT_NEAR(c.pixels[p * 3], 200, 2);
    EXPECT_NEAR(c.pixels[p * 3 + 1], 100, 2);
    EXPECT_NEAR(c.pixels[p * 3 + 2], 50, 2);
  }
  // Grayscale from a colour JPEG is the luma of its decoded RGB, the same rule as for PNG.
  const DecodedImage g = read_image((dir / "c.jpg").string(), ColorMode::Grayscale);
  ASSERT_EQ(g.channels, 1);
  for (int p = 0; p < 64; ++p) {
    const unsigned want =
        (c.pixels[p * 3] * 19595u + c.pixels[p * 3 + 1] * 38470u + c.pixels[p * 3 + 2] * 7471u + 32768u) >>
        16;
    EXPECT_EQ(g.pixels[p], want);
  }
  // A gray JPEG is decoded as gray and repeated into RGB.
  write_jpeg(dir / "g.jpeg", 8, 8, 1, std::vector<uint8_t>(64, 77));
  const DecodedImage gg = read_image((dir / "g.jpeg").string(), ColorMode::RGB);
  ASSERT_EQ(gg.channels, 3);
  EXPECT_NEAR(gg.pixels[0], 77, 1);
  EXPECT_EQ(gg.pixels[0], gg.pixels[1]);
  EXPECT_EQ(gg.pixels[0], gg.pixels[2]);
}

TEST(ImageDecode, FormatIsTakenFromTheBytesNotTheExtension) {
  const auto dir = fresh_dir("png_as_jpg");
  write_png(dir / "really-png.jpg", 1, 3, 3, kRgb);
  EXPECT_EQ(read_image((dir / "really-png.jpg").string()).pixels, kRgb);
}

// PNG's chunk checksum (CRC-32, polynomial 0xEDB88320), bit by bit.
uint32_t png_crc(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

TEST(ImageDecode, HeadersClaimingTooManyPixelsAreErrorsBeforeAllocating) {
  const auto dir = fresh_dir("bombs");
  // A 1x3 PNG whose IHDR (bytes 16..23 of the file) is rewritten to say 20000x20000, checksum fixed.
  write_png(dir / "small.png", 1, 3, 3, kRgb);
  std::vector<uint8_t> png = bytes_of(dir / "small.png");
  for (int k = 0; k < 2; ++k) {
    const uint32_t side = 20000;
    for (int b = 0; b < 4; ++b) png[16 + 4 * k + b] = static_cast<uint8_t>(side >> (24 - 8 * b));
  }
  const uint32_t crc = png_crc(&png[12], 17);  // chunk type and its 13 bytes of data
  for (int b = 0; b < 4; ++b) png[29 + b] = static_cast<uint8_t>(crc >> (24 - 8 * b));
  EXPECT_ERROR_CONTAINS(decode_image(png, "bomb.png"),
                        "bomb.png: the PNG header says 20000x20000 pixels, more than the 178956970");
  // An 8x8 JPEG whose frame header (after the SOF0 marker FF C0: length, precision, height, width)
  // says 60000x60000 (libjpeg's own limit is 65500 a side).
  write_jpeg(dir / "small.jpg", 8, 8, 1, std::vector<uint8_t>(64, 9));
  std::vector<uint8_t> jpg = bytes_of(dir / "small.jpg");
  size_t sof = 0;
  while (sof + 1 < jpg.size() && !(jpg[sof] == 0xFF && jpg[sof + 1] == 0xC0)) ++sof;
  ASSERT_LT(sof + 9, jpg.size());
  for (size_t b = sof + 5; b < sof + 9; b += 2) {
    jpg[b] = 60000 >> 8;
    jpg[b + 1] = 60000 & 0xFF;
  }
  EXPECT_ERROR_CONTAINS(decode_image(jpg, "bomb.jpg"),
                        "bomb.jpg: the JPEG header says 60000x60000 pixels, more than the 178956970");
}

TEST(ImageResize, BilinearHalfPixelCentresByHand) {
  // 2x2 -> 4x4: output row y reads source row (y + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25,
  // clamped to [0, 1]; the same for columns. E.g. (1, 1) = 0.75 (0.75·0 + 0.25·100) +
  // 0.25 (0.75·200 + 0.25·50) = 59.375.
  const DecodedImage img{2, 2, 1, {0, 100, 200, 50}};
  std::vector<float> out(16);
  resize_bilinear(img, 4, 4, out.data());
  expect_values(Tensor::from(out, {16}),
                {0, 25, 75, 100, 50, 59.375, 78.125, 87.5, 150, 128.125, 84.375, 62.5, 200, 162.5, 87.5, 50});
  // 4x4 -> 2x2 reads source positions 0.5 and 2.5: the mean of each 2x2 block (no antialiasing).
  std::vector<uint8_t> ramp(16);
  for (int i = 0; i < 16; ++i) ramp[i] = static_cast<uint8_t>(10 * i);
  std::vector<float> small(4);
  resize_bilinear(DecodedImage{4, 4, 1, ramp}, 2, 2, small.data());
  expect_values(Tensor::from(small, {4}), {25, 45, 105, 125});
  // Channels come out first, [C, H, W], times the scale; the same size copies.
  std::vector<float> planar(6);
  resize_bilinear(DecodedImage{1, 2, 3, {1, 2, 3, 4, 5, 6}}, 1, 2, planar.data(), 0.5);
  expect_values(Tensor::from(planar, {6}), {0.5, 2, 1, 2.5, 1.5, 3});
}

TEST(ImageFolder, ClassesAndFilesAreSortedAndOtherFilesIgnored) {
  const auto dir = fresh_dir("folder_sorted");
  // Byte order: "Coat" < "bag" < "dress"; in a class, the folder's own files (sorted) come
  // before its subfolders' (ImageFolder's sorted(os.walk)).
  write_png(dir / "dress" / "2.png", 1, 1, 1, {1});
  write_png(dir / "dress" / "10.png", 1, 1, 1, {2});
  write_png(dir / "dress" / "a" / "0.png", 1, 1, 1, {3});
  write_png(dir / "dress" / "x.PNG", 1, 1, 1, {4});
  write_bytes(dir / "dress" / "notes.txt", "not an image");
  write_png(dir / "bag" / "z.jpeg", 1, 1, 1, {5});
  write_png(dir / "Coat" / "y.Jpg", 1, 1, 1, {6});
  write_png(dir / "loose.png", 1, 1, 1, {7});  // not in a class folder: not read
  const ImageFolderData d = read_image_folder(dir.string(), {.color = ColorMode::Grayscale, .rescale = 1});
  EXPECT_EQ(d.classes, (std::vector<std::string>{"Coat", "bag", "dress"}));
  EXPECT_EQ(d.images.shape(), (Shape{6, 1, 1, 1}));
  expect_values(d.images, {6, 5, 2, 1, 4, 3}, 0);  // 10.png, 2.png, x.PNG, then a/0.png
  expect_values(d.labels, {0, 1, 2, 2, 2, 2}, 0);
  EXPECT_EQ(fs::path(d.files[2]).filename(), "10.png");
  EXPECT_EQ(fs::path(d.files[5]).filename(), "0.png");
}

TEST(ImageFolder, ResizesToTheSizeAndRescales) {
  const auto dir = fresh_dir("folder_resize");
  write_png(dir / "a" / "small.png", 2, 2, 1, {0, 100, 200, 50});
  write_png(dir / "b" / "big.png", 4, 4, 1, std::vector<uint8_t>(16, 255));
  const ImageFolderData d =
      read_image_folder(dir.string(), {.height = 4, .width = 4, .color = ColorMode::RGB});
  ASSERT_EQ(d.images.shape(), (Shape{2, 3, 4, 4}));
  // Each channel of the gray image resized as by hand above, then / 255 (ToTensor's [0, 1]).
  for (int64_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(d.images.at({0, c, 1, 1}), 59.375f / 255.f, 1e-7f);
    EXPECT_NEAR(d.images.at({0, c, 3, 0}), 200.f / 255.f, 1e-7f);
  }
  EXPECT_EQ(d.images.at({1, 2, 3, 3}), 1.f);
  const ImageFolderData raw = read_image_folder(dir.string(), {.height = 4, .width = 4, .rescale = 1});
  EXPECT_EQ(raw.images.at({0, 0, 1, 1}), 59.375f);
}

TEST(ImageFolderErrors, EachNamesTheFolderOrFile) {
  const auto dir = fresh_dir("folder_errors");
  EXPECT_ERROR_CONTAINS(read_image_folder((dir / "missing").string()), "missing: no such directory");
  write_png(dir / "loose.png", 1, 1, 1, {1});
  EXPECT_ERROR_CONTAINS(read_image_folder(dir.string()), "no class folders");

  write_png(dir / "a" / "ok.png", 2, 2, 1, {1, 2, 3, 4});
  fs::create_directories(dir / "empty");
  write_bytes(dir / "empty" / "readme.txt", "x");
  EXPECT_ERROR_CONTAINS(read_image_folder(dir.string()),
                        "class folder 'empty' holds no .png, .jpg or .jpeg file");
  EXPECT_ERROR_CONTAINS(read_image_folder(dir.string()), "readme.txt");
  fs::remove_all(dir / "empty");

  // Without a size every image must have the first one's.
  write_png(dir / "b" / "wide.png", 2, 3, 1, {1, 2, 3, 4, 5, 6});
  EXPECT_ERROR_CONTAINS(read_image_folder(dir.string()), "wide.png: image is 2x3 but the first image");
  EXPECT_NO_THROW(read_image_folder(dir.string(), {.height = 2, .width = 2}));
  fs::remove(dir / "b" / "wide.png");

  // Corrupt, truncated, empty and foreign files.
  // Cut in the header, and cut in the pixel data of a bigger image.
  auto png = bytes_of(dir / "a" / "ok.png");
  write_bytes(dir / "b" / "cut.png", std::string(png.begin(), png.begin() + png.size() / 2));
  EXPECT_ERROR_CONTAINS(read_image_folder(dir.string()), "cut.png: corrupt or truncated PNG");
  std::vector<uint8_t> noise(64 * 64);
  for (size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
  write_png(dir / "big.png", 64, 64, 1, noise);
  png = bytes_of(dir / "big.png");
  write_bytes(dir / "b" / "cut.png", std::string(png.begin(), png.begin() + png.size() * 3 / 4));
  EXPECT_ERROR_CONTAINS(read_image_folder(dir.string(), {.height = 2, .width = 2}),
                        "cut.png: corrupt or truncated PNG");
  fs::remove(dir / "b" / "cut.png");
  write_bytes(dir / "b" / "text.png", "hello, not a picture");
  EXPECT_ERROR_CONTAINS(read_image_folder(dir.string()),
                        "text.png: not a PNG or JPEG image (it starts with bytes 68 65");
  fs::remove(dir / "b" / "text.png");
  write_bytes(dir / "b" / "old.jpg", std::string("BM") + std::string(60, '\0'));
  EXPECT_ERROR_CONTAINS(read_image_folder(dir.string()), "old.jpg: a BMP image; only PNG and JPEG are read");
  fs::remove(dir / "b" / "old.jpg");
  write_bytes(dir / "b" / "zero.png", "");
  EXPECT_ERROR_CONTAINS(read_image_folder(dir.string()), "zero.png: empty file");
  fs::remove(dir / "b" / "zero.png");
  // A JPEG cut in its scan (the decoder's "premature end" warning stops it) and in its header.
  std::vector<uint8_t> rgb;
  for (size_t p = 0; p < 64 * 64; ++p) rgb.insert(rgb.end(), {uint8_t(p), uint8_t(noise[p]), uint8_t(p * 7)});
  write_jpeg(dir / "full.jpg", 64, 64, 3, rgb, 90);
  auto jpeg = bytes_of(dir / "full.jpg");
  write_bytes(dir / "b" / "cut.jpg", std::string(jpeg.begin(), jpeg.begin() + jpeg.size() * 3 / 4));
  EXPECT_ERROR_CONTAINS(read_image_folder(dir.string(), {.height = 2, .width = 2}),
                        "cut.jpg: corrupt or truncated JPEG");
  write_bytes(dir / "b" / "cut.jpg", std::string(jpeg.begin(), jpeg.begin() + 20));
  EXPECT_ERROR_CONTAINS(read_image_folder(dir.string()), "cut.jpg: corrupt or truncated JPEG");
}
