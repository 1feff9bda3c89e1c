#pragma once
// IDX files (MNIST, Fashion-MNIST), plain or gzip-compressed, and the Fashion-MNIST set that
// Debian's dataset-fashion-mnist package installs.
#include <string>
#include <vector>

#include "neurona/core/tensor.hpp"

namespace neurona::data {

// Reads any IDX array (uint8, int8, int16, int32, float32, float64; big-endian) as float32 with
// its stored dimensions. Validates the magic number, the dimension sizes and the data length.
Tensor read_idx(const std::string& path);

struct ImageOptions {
  bool flatten = false;        // images as [N, H*W] instead of [N, 1, H, W]
  double rescale = 1.0 / 255;  // each pixel byte times this (Keras's Rescaling); 1/255 gives
                               // torchvision ToTensor's [0, 1], 1 keeps 0 … 255
};

// Images [N, 1, H, W] (N, C, H, W with one channel, as a convolution takes them; or [N, H*W])
// and class ids [N] as floats.
struct ImageSet {
  Tensor images, labels;
};

// An image file (magic 0x00000803) and its label file (magic 0x00000801); their counts must agree.
ImageSet read_idx_images(const std::string& images_path, const std::string& labels_path,
                         const ImageOptions& options = {});

struct MnistData {
  ImageSet train, test;
};

// Reads train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
// t10k-labels-idx1-ubyte from `dir`, each with or without a .gz suffix.
MnistData load_mnist(const std::string& dir, const ImageOptions& options = {});

// Where Fashion-MNIST lives: $NEURONA_FASHION_MNIST if set, else Debian's
// /usr/share/datasets/fashion-mnist if it holds the files, else "".
std::string fashion_mnist_default_dir();
// load_mnist on `dir`, or on fashion_mnist_default_dir() when `dir` is empty; a clear error
// says how to install the set when it is nowhere to be found.
MnistData load_fashion_mnist(const std::string& dir = "", const ImageOptions& options = {});
// The ten Fashion-MNIST class names, by label.
const std::vector<std::string>& fashion_mnist_classes();

}  // namespace neurona::data
