// Image files and folders of them (include/neurona/data/image_folder.hpp). libpng's simplified
// API and TurboJPEG decode into bytes; the colour conversion, the resize and the layout
// [N, C, H, W] are done here, the same way for both formats.
#include "neurona/data/image_folder.hpp"

#include <png.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "neurona/core/error.hpp"

namespace neurona::data {
namespace {

namespace fs = std::filesystem;

// Keeps `keep` of every `stride` bytes per pixel (drops alpha).
DecodedImage pack(const std::vector<uint8_t>& raw, int64_t h, int64_t w, int64_t stride, int64_t keep) {
  DecodedImage img{h, w, keep, std::vector<uint8_t>(static_cast<size_t>(h * w * keep))};
  for (int64_t p = 0; p < h * w; ++p)
    for (int64_t c = 0; c < keep; ++c) img.pixels[p * keep + c] = raw[p * stride + c];
  return img;
}

// PIL's convert: gray -> RGB repeats the value, RGB -> gray is ITU-R 601-2 luma in 16-bit fixed point.
DecodedImage to_color(DecodedImage img, ColorMode color) {
  const int64_t n = img.height * img.width;
  if (color == ColorMode::RGB && img.channels == 1) {
    DecodedImage out{img.height, img.width, 3, std::vector<uint8_t>(static_cast<size_t>(n * 3))};
    for (int64_t p = 0; p < n; ++p)
      out.pixels[p * 3] = out.pixels[p * 3 + 1] = out.pixels[p * 3 + 2] = img.pixels[p];
    return out;
  }
  if (color == ColorMode::Grayscale && img.channels == 3) {
    DecodedImage out{img.height, img.width, 1, std::vector<uint8_t>(static_cast<size_t>(n))};
    for (int64_t p = 0; p < n; ++p) {
      const uint8_t* rgb = &img.pixels[p * 3];
      out.pixels[p] =
          static_cast<uint8_t>((rgb[0] * 19595u + rgb[1] * 38470u + rgb[2] * 7471u + 0x8000u) >> 16);
    }
    return out;
  }
  return img;
}

// A compressed image can claim far more pixels than its bytes hold (a 100-byte JPEG may say
// 60000x60000): above PIL's decompression-bomb limit (2 x 89,478,485 pixels) it is an error
// before the pixels are allocated.
constexpr int64_t kMaxPixels = 2 * 89478485;
void check_pixel_count(int64_t h, int64_t w, const std::string& name, const char* format) {
  check(h * w <= kMaxPixels, name, ": the ", format, " header says ", w, "x", h, " pixels, more than the ",
        kMaxPixels, " an image may have (a corrupt file or a decompression bomb)");
}

DecodedImage decode_png(const std::vector<uint8_t>& bytes, const std::string& name) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()))
    fail(name, ": corrupt or truncated PNG (", png.message, ")");
  png.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;  // 16-bit samples without gAMA are sRGB, as 8-bit ones
  // Decoded with alpha, which is then dropped (PIL and TensorFlow drop it; libpng would blend).
  const bool color = (png.format & PNG_FORMAT_FLAG_COLOR) != 0;
  png.format = color ? PNG_FORMAT_RGBA : PNG_FORMAT_GA;
  const auto h = static_cast<int64_t>(png.height), w = static_cast<int64_t>(png.width);
  if (h * w > kMaxPixels) png_image_free(&png);  // the reader's memory, before the error
  check_pixel_count(h, w, name, "PNG");
  std::vector<uint8_t> raw(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, raw.data(), 0, nullptr)) {
    const std::string message = png.message;
    png_image_free(&png);
    fail(name, ": corrupt or truncated PNG (", message, ")");
  }
  return pack(raw, h, w, color ? 4 : 2, color ? 3 : 1);
}

DecodedImage decode_jpeg(const std::vector<uint8_t>& bytes, const std::string& name) {
  std::unique_ptr<void, int (*)(tjhandle)> tj(tjInitDecompress(), tjDestroy);
  check(tj != nullptr, name, ": cannot start the JPEG decoder (", tjGetErrorStr2(nullptr), ")");
  int w = 0, h = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(tj.get(), bytes.data(), static_cast<unsigned long>(bytes.size()), &w, &h,
                          &subsampling, &colorspace) != 0)
    fail(name, ": corrupt or truncated JPEG (", tjGetErrorStr2(tj.get()), ")");
  check(colorspace != TJCS_CMYK && colorspace != TJCS_YCCK, name,
        ": CMYK JPEG images are not supported (save it as RGB)");
  check_pixel_count(h, w, name, "JPEG");
  const bool gray = colorspace == TJCS_GRAY;
  const int format = gray ? TJPF_GRAY : TJPF_RGB;
  std::vector<uint8_t> raw(static_cast<size_t>(w) * static_cast<size_t>(h) *
                           static_cast<size_t>(tjPixelSize[format]));
  // A warning (data cut short, bad markers) stops the decode: the image would be part gray.
  if (tjDecompress2(tj.get(), bytes.data(), static_cast<unsigned long>(bytes.size()), raw.data(), w, 0, h,
                    format, TJFLAG_ACCURATEDCT | TJFLAG_STOPONWARNING) != 0)
    fail(name, ": corrupt or truncated JPEG (", tjGetErrorStr2(tj.get()), ")");
  return DecodedImage{h, w, gray ? 1 : 3, std::move(raw)};
}

std::string first_bytes(const std::vector<uint8_t>& b) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < std::min<size_t>(b.size(), 8); ++i) {
    if (i) s += ' ';
    s += hex[b[i] >> 4];
    s += hex[b[i] & 15];
  }
  return s;
}

bool starts_with(const std::vector<uint8_t>& b, const char* magic, size_t n, size_t at = 0) {
  return b.size() >= at + n && std::memcmp(b.data() + at, magic, n) == 0;
}

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// A class folder's image files: folder by folder in sorted path order, each folder's by name
// (ImageFolder's sorted(os.walk(...)) then sorted(files)). `others` counts the files skipped.
std::vector<fs::path> class_files(const fs::path& dir, int64_t& others, std::string& other_example) {
  std::vector<std::pair<std::string, std::string>> found;  // (folder, file name)
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink);
       it != fs::recursive_directory_iterator(); ++it) {
    if (!it->is_regular_file()) continue;
    if (is_image_file(it->path())) {
      found.emplace_back(it->path().parent_path().string(), it->path().filename().string());
    } else if (others++ == 0) {
      other_example = it->path().string();
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> out;
  for (const auto& [folder, file] : found) out.push_back(fs::path(folder) / file);
  return out;
}

}  // namespace

DecodedImage decode_image(const std::vector<uint8_t>& bytes, const std::string& name, ColorMode color) {
  check(!bytes.empty(), name, ": empty file, not an image");
  if (starts_with(bytes, "\x89PNG\r\n\x1a\n", 8)) return to_color(decode_png(bytes, name), color);
  if (starts_with(bytes, "\xff\xd8\xff", 3)) return to_color(decode_jpeg(bytes, name), color);
  const char* other = starts_with(bytes, "BM", 2)                                         ? "a BMP"
                      : starts_with(bytes, "GIF8", 4)                                     ? "a GIF"
                      : starts_with(bytes, "RIFF", 4) && starts_with(bytes, "WEBP", 4, 8) ? "a WebP"
                      : starts_with(bytes, "II*\0", 4) || starts_with(bytes, "MM\0*", 4)  ? "a TIFF"
                                                                                          : nullptr;
  if (other) fail(name, ": ", other, " image; only PNG and JPEG are read (convert it to PNG)");
  fail(name, ": not a PNG or JPEG image (it starts with bytes ", first_bytes(bytes), ")");
}

DecodedImage read_image(const std::string& path, ColorMode color) {
  check(fs::is_regular_file(path), path, ": no such file");
  std::ifstream in(path, std::ios::binary);
  check(in.good(), path, ": cannot open file");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  check(!in.bad(), path, ": read error");
  return decode_image(bytes, path, color);
}

void resize_bilinear(const DecodedImage& img, int64_t out_h, int64_t out_w, float* dst, double scale) {
  check(out_h >= 1 && out_w >= 1, "resize_bilinear: size must be at least 1x1, got ", out_h, "x", out_w);
  const int64_t h = img.height, w = img.width, ch = img.channels;
  const uint8_t* src = img.pixels.data();
  if (h == out_h && w == out_w) {
    for (int64_t c = 0; c < ch; ++c)
      for (int64_t p = 0; p < h * w; ++p) dst[c * h * w + p] = static_cast<float>(src[p * ch + c] * scale);
    return;
  }
  // Source index and weight of each output row / column: half-pixel centres, clamped at 0 and
  // at the last pixel.
  auto taps = [](int64_t in, int64_t out, std::vector<int64_t>& i0, std::vector<int64_t>& i1,
                 std::vector<double>& f) {
    const double ratio = static_cast<double>(in) / static_cast<double>(out);
    for (int64_t o = 0; o < out; ++o) {
      const double s = std::max(0.0, (o + 0.5) * ratio - 0.5);
      const auto lo = std::min(static_cast<int64_t>(s), in - 1);
      i0.push_back(lo);
      i1.push_back(std::min(lo + 1, in - 1));
      f.push_back(s - static_cast<double>(lo));
    }
  };
  std::vector<int64_t> y0, y1, x0, x1;
  std::vector<double> fy, fx;
  taps(h, out_h, y0, y1, fy);
  taps(w, out_w, x0, x1, fx);
  for (int64_t c = 0; c < ch; ++c)
    for (int64_t y = 0; y < out_h; ++y) {
      const uint8_t* r0 = src + y0[y] * w * ch + c;
      const uint8_t* r1 = src + y1[y] * w * ch + c;
      for (int64_t x = 0; x < out_w; ++x) {
        const double top = r0[x0[x] * ch] + fx[x] * (r0[x1[x] * ch] - r0[x0[x] * ch]);
        const double bottom = r1[x0[x] * ch] + fx[x] * (r1[x1[x] * ch] - r1[x0[x] * ch]);
        dst[(c * out_h + y) * out_w + x] = static_cast<float>((top + fy[y] * (bottom - top)) * scale);
      }
    }
}

ImageFolderData read_image_folder(const std::string& dir, const ImageFolderOptions& options) {
  check(fs::is_directory(dir), dir, ": no such directory");
  check((options.height == 0) == (options.width == 0) && options.height >= 0 && options.width >= 0, dir,
        ": image size must be two sizes >= 1 (or none), got ", options.height, "x", options.width);
  ImageFolderData out;
  std::vector<std::string> class_dirs;
  int64_t loose_images = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_directory())
      class_dirs.push_back(e.path().filename().string());
    else if (e.is_regular_file() && is_image_file(e.path()))
      ++loose_images;
  }
  std::sort(class_dirs.begin(), class_dirs.end());
  check(!class_dirs.empty(), dir, ": no class folders (one subfolder per class is expected: ", dir,
        "/<class>/<image>.png)", loose_images ? "; the images directly in it are not read" : "");
  std::vector<std::pair<fs::path, int64_t>> samples;
  for (size_t c = 0; c < class_dirs.size(); ++c) {
    const fs::path folder = fs::path(dir) / class_dirs[c];
    int64_t others = 0;
    std::string example;
    const auto files = class_files(folder, others, example);
    check(!files.empty(), folder.string(), ": class folder '", class_dirs[c],
          "' holds no .png, .jpg or .jpeg file",
          others ? " (" + std::to_string(others) + " other file(s), e.g. " + example + ")" : std::string());
    for (const auto& f : files) samples.emplace_back(f, static_cast<int64_t>(c));
  }
  out.classes = class_dirs;

  const int64_t n = static_cast<int64_t>(samples.size());
  const int64_t channels = options.color == ColorMode::RGB ? 3 : 1;
  int64_t h = options.height, w = options.width;
  out.labels = Tensor::empty(Shape{n});
  std::string first;
  for (int64_t i = 0; i < n; ++i) {
    const std::string file = samples[i].first.string();
    const DecodedImage img = read_image(file, options.color);
    if (i == 0) {
      first = file;
      if (h == 0) h = img.height, w = img.width;
      out.images = Tensor::empty(Shape{n, channels, h, w});
    }
    check(options.height > 0 || (img.height == h && img.width == w), file, ": image is ", img.height, "x",
          img.width, " but the first image, ", first, ", is ", h, "x", w,
          " (give a size to resize every image to it)");
    resize_bilinear(img, h, w, out.images.data() + i * channels * h * w, options.rescale);
    out.labels.data()[i] = static_cast<float>(samples[i].second);
    out.files.push_back(file);
  }
  return out;
}

}  // namespace neurona::data
