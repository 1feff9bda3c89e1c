#pragma once
// PNG and JPEG images (libpng's simplified API, TurboJPEG), bilinear resizing, and a folder of
// images with one subfolder per class: torchvision's ImageFolder, Keras's
// image_dataset_from_directory.
#include <cstdint>
#include <string>
#include <vector>

#include "neurona/core/tensor.hpp"

namespace neurona::data {

// rgb: 3 channels (a gray image's value in each, alpha dropped, as PIL's convert("RGB"));
// grayscale: 1 channel (a colour image's ITU-R 601-2 luma rounded to a byte, as PIL's
// convert("L"): (19595 R + 38470 G + 7471 B + 32768) >> 16).
enum class ColorMode { RGB, Grayscale };

// Pixel bytes, row by row, channels last (as the decoders give them).
struct DecodedImage {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;  // height * width * channels
};

// Decodes PNG (any bit depth and colour type; 16-bit samples are brought to 8 bits in sRGB) or
// JPEG (baseline or progressive, gray or colour; not CMYK), told apart by their first bytes,
// whatever the file's extension. Errors name the file: unreadable, empty, corrupt or truncated,
// or another format (BMP, GIF, WebP, …).
DecodedImage read_image(const std::string& path, ColorMode color = ColorMode::RGB);
// The same from bytes in memory; `name` stands for the file in messages.
DecodedImage decode_image(const std::vector<uint8_t>& bytes, const std::string& name,
                          ColorMode color = ColorMode::RGB);

// Bilinear resize to out_h x out_w with half-pixel centres and no antialiasing (PyTorch's
// interpolate(mode="bilinear", align_corners=False); TensorFlow's resize(method="bilinear"),
// which image_dataset_from_directory uses): the source of output row y is (y + 0.5)·H/out_h − 0.5,
// clamped to the image. Writes channels first, [C, out_h, out_w], each value times `scale`.
// The same size copies the pixels.
void resize_bilinear(const DecodedImage& image, int64_t out_h, int64_t out_w, float* dst, double scale = 1.0);

struct ImageFolderOptions {
  // Every image is resized to height x width (Keras's image_size). 0 x 0: no resizing, and every
  // image must have the first one's size.
  int64_t height = 0, width = 0;
  ColorMode color = ColorMode::RGB;
  double rescale = 1.0 / 255;  // pixel times this (1/255: ToTensor's [0, 1]; 1 keeps 0 … 255)
};

struct ImageFolderData {
  Tensor images;                     // [N, C, H, W]
  Tensor labels;                     // [N] class ids
  std::vector<std::string> classes;  // class i's folder name
  std::vector<std::string> files;    // each sample's file
};

// `dir`/<class>/…/<image>: the classes are the subfolders' names in sorted (byte) order, class i
// being label i; each class's files with extension .png, .jpg or .jpeg (any case) are taken from
// its whole subtree, folder by folder in sorted order and sorted by name in each (ImageFolder's
// order), so samples come class by class. Other files and files directly in `dir` are ignored.
// Errors: `dir` missing, no class folders, a class folder without images, an image that cannot
// be decoded, and without a size an image whose size differs from the first's; each names the
// folder or file.
ImageFolderData read_image_folder(const std::string& dir, const ImageFolderOptions& options = {});

}  // namespace neurona::data
