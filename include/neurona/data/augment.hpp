#pragma once
// Image pipelines: seeded augmentation (Keras's RandomFlip, RandomRotation, RandomTranslation,
// RandomZoom; torchvision's RandomCrop) and per-channel normalisation, applied to batches of
// images [N, C, H, W] by the DataLoader after it gathers them. Augmentation changes training
// batches only; normalisation applies to every split.
//
//   auto pipeline = std::make_shared<data::ImagePipeline>(std::vector<data::ImageStep>{
//       std::make_shared<data::RandomCrop>(32, 32, 4), std::make_shared<data::RandomFlip>(),
//       std::make_shared<data::Normalize>(mean, std)});
//   loader_options.transform = pipeline;                 // training batches
//   eval_options.transform = pipeline->evaluation();    // validation / test batches
#include <memory>
#include <string>
#include <vector>

#include "neurona/core/random.hpp"
#include "neurona/core/registry.hpp"
#include "neurona/core/tensor.hpp"
#include "neurona/data/dataset.hpp"

namespace neurona::data {

// One step of an image pipeline, on images [N, C, H, W] (or [N, H, W], one channel). A random
// step draws each image's change from `gen`, image by image in batch order; at evaluation
// (`gen` null) it does its evaluation form: nothing, or random_crop's centre crop.
class ImageTransform {
 public:
  virtual ~ImageTransform() = default;
  virtual std::string kind() const = 0;         // its name in augmentations()
  virtual bool random() const { return true; }  // false: the same at training and evaluation
  virtual Shape output_shape(const Shape& sample) const { return sample; }  // [C, H, W] -> …
  virtual Tensor apply(const Tensor& images, Generator* gen) const = 0;
};
using ImageStep = std::shared_ptr<const ImageTransform>;

// Keras's RandomFlip: each image is mirrored left-right with probability 1/2 (horizontal),
// upside down (vertical), or each of the two independently (horizontal_and_vertical).
class RandomFlip : public ImageTransform {
 public:
  enum class Mode { Horizontal, Vertical, HorizontalAndVertical };
  explicit RandomFlip(Mode mode = Mode::HorizontalAndVertical) : mode_(mode) {}
  std::string kind() const override { return "random_flip"; }
  Tensor apply(const Tensor& images, Generator* gen) const override;
  Mode mode() const { return mode_; }

 private:
  Mode mode_;
};

// torchvision's RandomCrop(size, padding): zero padding of `padding` pixels on every side, then
// a height x width window at a uniformly drawn position (top first, then left). Evaluation takes
// the centre window of the unpadded image, as CenterCrop (top = round((H - height) / 2), halves
// to even; zero-filled where the window is larger than the image).
class RandomCrop : public ImageTransform {
 public:
  RandomCrop(int64_t height, int64_t width, int64_t padding = 0);
  std::string kind() const override { return "random_crop"; }
  Shape output_shape(const Shape& sample) const override;
  Tensor apply(const Tensor& images, Generator* gen) const override;

 private:
  int64_t height_, width_, padding_;
};

// Rotation by an angle uniform in ±degrees (positive turns counter-clockwise as the image is
// seen), about the image centre; bilinear, zero outside the image. Keras's RandomRotation(f)
// is degrees = 360·f with fill_mode="constant" (its default fill is "reflect").
class RandomRotation : public ImageTransform {
 public:
  explicit RandomRotation(double degrees);
  std::string kind() const override { return "random_rotation"; }
  Tensor apply(const Tensor& images, Generator* gen) const override;

 private:
  double degrees_;
};

// Keras's RandomTranslation(height_factor, width_factor, fill_mode="constant"): a shift of
// uniform(−f, f)·H pixels down and uniform(−f, f)·W pixels right (height first), bilinear,
// zero outside the image.
class RandomTranslation : public ImageTransform {
 public:
  RandomTranslation(double height_factor, double width_factor);
  std::string kind() const override { return "random_translation"; }
  Tensor apply(const Tensor& images, Generator* gen) const override;

 private:
  double height_factor_, width_factor_;
};

// Keras's RandomZoom(factor, fill_mode="constant"): each image samples the region 1 + z times
// its size about its centre, z uniform in ±factor (z > 0 zooms out, z < 0 zooms in; one z for
// both axes, Keras's width_factor=None), bilinear, zero outside the image.
class RandomZoom : public ImageTransform {
 public:
  explicit RandomZoom(double factor);
  std::string kind() const override { return "random_zoom"; }
  Tensor apply(const Tensor& images, Generator* gen) const override;

 private:
  double factor_;
};

// torchvision's Normalize(mean, std): (x − mean[c]) / std[c] per channel; one value applies to
// every channel. Not random: validation and test batches are normalised too.
class Normalize : public ImageTransform {
 public:
  Normalize(std::vector<float> mean, std::vector<float> std);
  std::string kind() const override { return "normalize"; }
  bool random() const override { return false; }
  Tensor apply(const Tensor& images, Generator* gen) const override;

 private:
  std::vector<float> mean_, std_;
};

// Steps applied in order. In training form every step runs; the evaluation form (evaluation())
// runs each step's evaluation form. As a BatchTransform it changes batch.x.
class ImagePipeline : public BatchTransform {
 public:
  explicit ImagePipeline(std::vector<ImageStep> steps, bool training = true);
  // images [N, C, H, W] through the steps; `gen` is used in training form only.
  Tensor operator()(const Tensor& images, Generator& gen) const;
  Tensor evaluate(const Tensor& images) const;  // the evaluation form, whatever this one is
  Shape output_shape(const Shape& sample) const override;
  void apply(Batch& batch, Generator& gen) const override;
  std::shared_ptr<const ImagePipeline> evaluation() const;
  bool training() const { return training_; }
  const std::vector<ImageStep>& steps() const { return steps_; }

 private:
  std::vector<ImageStep> steps_;
  bool training_;
};

// The steps by name, for config files: random_flip, random_crop, random_rotation,
// random_translation, random_zoom, normalize (Keras's class names are aliases).
using AugmentEntry = Entry<ImageStep>;
const Registry<AugmentEntry>& augmentations();

}  // namespace neurona::data
