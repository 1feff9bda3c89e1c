// "Image kernels explained": what a 3x3 convolution does to a picture. Loads a gray image (a
// Fashion-MNIST image, or any PNG/JPEG through Neurona's image reader), runs six classic kernels
// over it with one F::conv2d call (weight [6, 1, 3, 3], no padding, so every output pixel sees a
// full 3x3 window: the output is 2 pixels smaller each way), and writes the input and each result
// as an 8-bit gray PNG:
//
//   blur      1/16 [1 2 1; 2 4 2; 1 2 1]     a Gaussian-like average: a constant image stays constant
//   sharpen   [0 -1 0; -1 5 -1; 0 -1 0]      the pixel plus its difference from its neighbours
//   outline   [-1 -1 -1; -1 8 -1; -1 -1 -1]  zero on flat regions, large at edges
//   sobel_x   [-1 0 1; -2 0 2; -1 0 1]       horizontal change: vertical edges
//   sobel_y   [-1 -2 -1; 0 0 0; 1 2 1]       vertical change: horizontal edges
//   emboss    [-2 -1 0; -1 1 1; 0 1 2]       relief lit from the top left
//
// Pixels are worked on in 0 … 255. Results are rounded and clamped to 0 … 255 for the PNG; the
// edge kernels (outline, sobel_x, sobel_y) write their magnitude |value|, as the course's pictures
// show them. One summary line per kernel gives the unclamped output's min, max and mean.
//
// usage: image_kernels [--image FILE | --index N] [--data DIR] [--out DIR]
//   --image FILE  a PNG or JPEG (colour images become gray with PIL's luma)
//   --index N     the N-th Fashion-MNIST test image (default 0, an ankle boot)
//   --out DIR     where the PNGs go (default image_kernels_out)
#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "neurona/neurona.hpp"

using namespace neurona;

namespace {

struct Kernel {
  const char* name;
  float w[9];
  bool magnitude;  // written as |value| (edge detectors give both signs)
};

const Kernel kKernels[] = {
    {"blur",
     {1 / 16.f, 2 / 16.f, 1 / 16.f, 2 / 16.f, 4 / 16.f, 2 / 16.f, 1 / 16.f, 2 / 16.f, 1 / 16.f},
     false},
    {"sharpen", {0, -1, 0, -1, 5, -1, 0, -1, 0}, false},
    {"outline", {-1, -1, -1, -1, 8, -1, -1, -1, -1}, true},
    {"sobel_x", {-1, 0, 1, -2, 0, 2, -1, 0, 1}, true},
    {"sobel_y", {-1, -2, -1, 0, 0, 0, 1, 2, 1}, true},
    {"emboss", {-2, -1, 0, -1, 1, 1, 0, 1, 2}, false},
};

// Writes `plane` (height x width values in 0 … 255, row by row) as an 8-bit gray PNG with
// libpng's simplified API.
void write_png(const std::filesystem::path& path, const float* plane, int64_t height, int64_t width,
               bool magnitude) {
  std::vector<uint8_t> bytes(size_t(height * width));
  for (size_t i = 0; i < bytes.size(); ++i) {
    const float v = magnitude ? std::abs(plane[i]) : plane[i];
    bytes[i] = uint8_t(std::clamp(std::lround(v), 0L, 255L));
  }
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = uint32_t(width);
  png.height = uint32_t(height);
  png.format = PNG_FORMAT_GRAY;
  check(png_image_write_to_file(&png, path.c_str(), 0, bytes.data(), 0, nullptr) != 0,
        "image_kernels: cannot write ", path.string(), ": ", png.message);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string image, dir, out = "image_kernels_out";
    int64_t index = 0;
    for (int i = 1; i < argc; ++i) {
      auto value = [&] {
        check(i + 1 < argc, "image_kernels: ", argv[i], " needs a value");
        return std::string(argv[++i]);
      };
      if (!std::strcmp(argv[i], "--image"))
        image = value();
      else if (!std::strcmp(argv[i], "--index"))
        index = std::stoll(value());
      else if (!std::strcmp(argv[i], "--data"))
        dir = value();
      else if (!std::strcmp(argv[i], "--out"))
        out = value();
      else
        fail("unknown argument '", argv[i],
             "' (usage: image_kernels [--image FILE | --index N] [--data DIR] [--out DIR])");
    }

    // The input as [1, 1, H, W] in 0 … 255.
    Tensor x;
    std::string source;
    if (!image.empty()) {
      const data::DecodedImage img = data::read_image(image, data::ColorMode::Grayscale);
      x = Tensor::empty({1, 1, img.height, img.width});
      data::resize_bilinear(img, img.height, img.width, x.data());  // same size: a copy to floats
      source = image;
    } else {
      const data::MnistData fashion = data::load_fashion_mnist(dir, {.rescale = 1.0});
      const Tensor& all = fashion.test.images;
      check(index >= 0 && index < all.size(0), "image_kernels: --index ", index, " is outside the ",
            all.size(0), " test images");
      x = all.slice(index, index + 1);
      source = "Fashion-MNIST test image " + std::to_string(index);
    }
    const int64_t h = x.size(2), w = x.size(3);
    check(h >= 3 && w >= 3, "image_kernels: the image is ", h, "x", w, "; a 3x3 kernel needs at least 3x3");

    // All six kernels at once: six output channels of one convolution.
    const int64_t k = std::size(kKernels);
    Tensor weight = Tensor::empty({k, 1, 3, 3});
    for (int64_t c = 0; c < k; ++c) std::copy_n(kKernels[c].w, 9, weight.data() + c * 9);
    NoGradGuard no_grad;
    const Tensor y = nn::F::conv2d(x, weight);  // [1, 6, H-2, W-2]
    const int64_t oh = y.size(2), ow = y.size(3);

    std::filesystem::create_directories(out);
    write_png(std::filesystem::path(out) / "input.png", x.data(), h, w, false);
    std::printf("%s: %lldx%lld, min %.0f max %.0f mean %.2f -> %s/input.png\n", source.c_str(), (long long)h,
                (long long)w, min(x).item(), max(x).item(), mean(x).item(), out.c_str());
    for (int64_t c = 0; c < k; ++c) {
      const float* plane = y.data() + c * oh * ow;
      const auto [lo, hi] = std::minmax_element(plane, plane + oh * ow);
      double sum = 0;
      for (int64_t i = 0; i < oh * ow; ++i) sum += plane[i];
      const std::string file = std::string(kKernels[c].name) + ".png";
      write_png(std::filesystem::path(out) / file, plane, oh, ow, kKernels[c].magnitude);
      std::printf("%-8s %lldx%lld  min %8.2f  max %8.2f  mean %8.2f -> %s/%s\n", kKernels[c].name,
                  (long long)oh, (long long)ow, *lo, *hi, sum / double(oh * ow), out.c_str(), file.c_str());
    }
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "image_kernels: error: %s\n", e.what());
    return 1;
  }
}
