// Image pipelines and their steps (include/neurona/data/augment.hpp), and the augmentations()
// table config files read.
#include "neurona/data/augment.hpp"

#include <cmath>
#include <cstring>

#include "neurona/core/error.hpp"
#include "neurona/data/transforms.hpp"

namespace neurona::data {
namespace {

// Images [N, C, H, W] or [N, H, W] (one channel).
struct Dims {
  int64_t n, c, h, w;
};

Dims image_dims(const Tensor& images, const std::string& op) {
  check(images.defined() && (images.dim() == 3 || images.dim() == 4), op,
        ": expects images [N, C, H, W] or [N, H, W], got ",
        images.defined() ? images.shape().str() : std::string("an undefined tensor"));
  return {images.size(0), images.dim() == 4 ? images.size(1) : 1, images.size(-2), images.size(-1)};
}

Shape with_hw(const Tensor& images, int64_t h, int64_t w) {
  std::vector<int64_t> d = images.shape().dims();
  d[d.size() - 2] = h;
  d[d.size() - 1] = w;
  return Shape(std::move(d));
}

// Source position of an output pixel, relative to the image centre, for one image:
// src = m · (dst − centre) + centre + t (x first, then y).
struct Affine {
  double xx = 1, xy = 0, yx = 0, yy = 1, tx = 0, ty = 0;
};

// Each output pixel reads its source position bilinearly; neighbours outside the image are 0.
Tensor resample(const Tensor& images, const std::vector<Affine>& maps) {
  const Dims d = image_dims(images, "resample");
  const double cy = (d.h - 1) / 2.0, cx = (d.w - 1) / 2.0;
  Tensor out = Tensor::empty(images.shape());
  for (int64_t i = 0; i < d.n; ++i) {
    const Affine& m = maps[static_cast<size_t>(i)];
    for (int64_t c = 0; c < d.c; ++c) {
      const float* src = images.data() + (i * d.c + c) * d.h * d.w;
      float* dst = out.data() + (i * d.c + c) * d.h * d.w;
      auto pixel = [&](int64_t yy, int64_t xx) {
        return yy >= 0 && yy < d.h && xx >= 0 && xx < d.w ? src[yy * d.w + xx] : 0.f;
      };
      for (int64_t y = 0; y < d.h; ++y)
        for (int64_t x = 0; x < d.w; ++x) {
          const double px = x - cx, py = y - cy;
          const double sx = m.xx * px + m.xy * py + cx + m.tx, sy = m.yx * px + m.yy * py + cy + m.ty;
          const auto y0 = static_cast<int64_t>(std::floor(sy)), x0 = static_cast<int64_t>(std::floor(sx));
          const double fy = sy - y0, fx = sx - x0;
          double v = (1 - fy) * (1 - fx) * pixel(y0, x0);
          if (fx > 0) v += (1 - fy) * fx * pixel(y0, x0 + 1);
          if (fy > 0) v += fy * (1 - fx) * pixel(y0 + 1, x0);
          if (fx > 0 && fy > 0) v += fy * fx * pixel(y0 + 1, x0 + 1);
          dst[y * d.w + x] = static_cast<float>(v);
        }
    }
  }
  return out;
}

// The h x w window whose top-left corner is (top, left) in image i's coordinates, 0 outside.
void crop_into(const Tensor& images, const Dims& d, int64_t i, int64_t top, int64_t left, int64_t h,
               int64_t w, float* dst) {
  for (int64_t c = 0; c < d.c; ++c) {
    const float* src = images.data() + (i * d.c + c) * d.h * d.w;
    float* plane = dst + c * h * w;
    for (int64_t y = 0; y < h; ++y) {
      const int64_t sy = top + y;
      for (int64_t x = 0; x < w; ++x) {
        const int64_t sx = left + x;
        plane[y * w + x] = sy >= 0 && sy < d.h && sx >= 0 && sx < d.w ? src[sy * d.w + sx] : 0.f;
      }
    }
  }
}

// CenterCrop's offset along one axis: round((size − window) / 2), halves to even as Python
// rounds; a window larger than the image has (window − size) // 2 zero rows before it.
int64_t centre_offset(int64_t size, int64_t window) {
  if (window > size) return -((window - size) / 2);
  const int64_t twice = size - window, down = twice / 2;
  return twice % 2 == 0 || down % 2 == 0 ? down : down + 1;
}

}  // namespace

// --- steps ----------------------------------------------------------------------------------------

Tensor RandomFlip::apply(const Tensor& images, Generator* gen) const {
  const Dims d = image_dims(images, "random_flip");
  if (!gen) return images;
  Tensor out = images.clone();
  for (int64_t i = 0; i < d.n; ++i) {
    const bool h = mode_ != Mode::Vertical && gen->uniform() < 0.5;
    const bool v = mode_ != Mode::Horizontal && gen->uniform() < 0.5;
    if (!h && !v) continue;
    for (int64_t c = 0; c < d.c; ++c) {
      const float* src = images.data() + (i * d.c + c) * d.h * d.w;
      float* dst = out.data() + (i * d.c + c) * d.h * d.w;
      for (int64_t y = 0; y < d.h; ++y)
        for (int64_t x = 0; x < d.w; ++x)
          dst[y * d.w + x] = src[(v ? d.h - 1 - y : y) * d.w + (h ? d.w - 1 - x : x)];
    }
  }
  return out;
}

RandomCrop::RandomCrop(int64_t height, int64_t width, int64_t padding)
    : height_(height), width_(width), padding_(padding) {
  check(height >= 1 && width >= 1, "random_crop: size must be at least 1, got ", height, "x", width);
  check(padding >= 0, "random_crop: padding must be >= 0, got ", padding);
}

Shape RandomCrop::output_shape(const Shape& sample) const {
  std::vector<int64_t> d = sample.dims();
  check(d.size() >= 2, "random_crop: expects images [C, H, W] or [H, W], got samples ", sample);
  check(height_ <= d[d.size() - 2] + 2 * padding_ && width_ <= d[d.size() - 1] + 2 * padding_,
        "random_crop: size ", height_, "x", width_, " is larger than the ", d[d.size() - 2], "x",
        d[d.size() - 1], " images with padding ", padding_);
  d[d.size() - 2] = height_;
  d[d.size() - 1] = width_;
  return Shape(std::move(d));
}

Tensor RandomCrop::apply(const Tensor& images, Generator* gen) const {
  const Dims d = image_dims(images, "random_crop");
  check(!gen || (height_ <= d.h + 2 * padding_ && width_ <= d.w + 2 * padding_), "random_crop: size ",
        height_, "x", width_, " is larger than the ", d.h, "x", d.w, " images with padding ", padding_);
  Tensor out = Tensor::empty(with_hw(images, height_, width_));
  for (int64_t i = 0; i < d.n; ++i) {
    int64_t top, left;
    if (gen) {
      top = gen->randint(d.h + 2 * padding_ - height_ + 1) - padding_;
      left = gen->randint(d.w + 2 * padding_ - width_ + 1) - padding_;
    } else {
      top = centre_offset(d.h, height_);
      left = centre_offset(d.w, width_);
    }
    crop_into(images, d, i, top, left, height_, width_, out.data() + i * d.c * height_ * width_);
  }
  return out;
}

RandomRotation::RandomRotation(double degrees) : degrees_(degrees) {
  check(degrees >= 0, "random_rotation: degrees must be >= 0, got ", degrees);
}

Tensor RandomRotation::apply(const Tensor& images, Generator* gen) const {
  const Dims d = image_dims(images, "random_rotation");
  if (!gen) return images;
  std::vector<Affine> maps(static_cast<size_t>(d.n));
  for (auto& m : maps) {
    const double a = gen->uniform(static_cast<float>(-degrees_), static_cast<float>(degrees_)) * M_PI / 180.0;
    // Turning the image by +a (counter-clockwise on screen, y down) reads each output pixel
    // from the source turned by −a.
    m.xx = std::cos(a), m.xy = -std::sin(a), m.yx = std::sin(a), m.yy = std::cos(a);
  }
  return resample(images, maps);
}

RandomTranslation::RandomTranslation(double height_factor, double width_factor)
    : height_factor_(height_factor), width_factor_(width_factor) {
  check(height_factor >= 0 && height_factor <= 1 && width_factor >= 0 && width_factor <= 1,
        "random_translation: factors must be in [0, 1], got height_factor ", height_factor,
        " and width_factor ", width_factor);
}

Tensor RandomTranslation::apply(const Tensor& images, Generator* gen) const {
  const Dims d = image_dims(images, "random_translation");
  if (!gen) return images;
  std::vector<Affine> maps(static_cast<size_t>(d.n));
  for (auto& m : maps) {
    const double dy =
        gen->uniform(static_cast<float>(-height_factor_), static_cast<float>(height_factor_)) * d.h;
    const double dx =
        gen->uniform(static_cast<float>(-width_factor_), static_cast<float>(width_factor_)) * d.w;
    m.ty = -dy, m.tx = -dx;  // moving the image by +d reads each pixel from d before it
  }
  return resample(images, maps);
}

RandomZoom::RandomZoom(double factor) : factor_(factor) {
  check(factor >= 0 && factor < 1, "random_zoom: factor must be in [0, 1), got ", factor);
}

Tensor RandomZoom::apply(const Tensor& images, Generator* gen) const {
  const Dims d = image_dims(images, "random_zoom");
  if (!gen) return images;
  std::vector<Affine> maps(static_cast<size_t>(d.n));
  for (auto& m : maps) {
    const double z = 1 + gen->uniform(static_cast<float>(-factor_), static_cast<float>(factor_));
    m.xx = m.yy = z;
  }
  return resample(images, maps);
}

Normalize::Normalize(std::vector<float> mean, std::vector<float> std)
    : mean_(std::move(mean)), std_(std::move(std)) {
  check(!mean_.empty() && mean_.size() == std_.size(),
        "normalize: expects as many means as stds (one per channel), got ", mean_.size(), " and ",
        std_.size());
  for (float s : std_) check(s > 0.f, "normalize: std must be > 0, got ", s);
}

Tensor Normalize::apply(const Tensor& images, Generator*) const {
  const Dims d = image_dims(images, "normalize");
  if (mean_.size() == 1 && d.c > 1)
    return normalize_images(images, std::vector<float>(static_cast<size_t>(d.c), mean_[0]),
                            std::vector<float>(static_cast<size_t>(d.c), std_[0]));
  return normalize_images(images, mean_, std_);
}

// --- pipeline -------------------------------------------------------------------------------------

ImagePipeline::ImagePipeline(std::vector<ImageStep> steps, bool training)
    : steps_(std::move(steps)), training_(training) {
  for (const auto& s : steps_) check(s != nullptr, "ImagePipeline: a step is null");
}

Tensor ImagePipeline::operator()(const Tensor& images, Generator& gen) const {
  Tensor x = images;
  for (const auto& s : steps_) x = s->apply(x, training_ ? &gen : nullptr);
  return x;
}

Tensor ImagePipeline::evaluate(const Tensor& images) const {
  Tensor x = images;
  for (const auto& s : steps_) x = s->apply(x, nullptr);
  return x;
}

Shape ImagePipeline::output_shape(const Shape& sample) const {
  Shape s = sample;
  for (const auto& step : steps_) s = step->output_shape(s);
  return s;
}

void ImagePipeline::apply(Batch& batch, Generator& gen) const { batch.x = (*this)(batch.x, gen); }

std::shared_ptr<const ImagePipeline> ImagePipeline::evaluation() const {
  return std::make_shared<ImagePipeline>(steps_, false);
}

// --- the table ------------------------------------------------------------------------------------

namespace {

using T = OptionType;

AugmentEntry row(std::string name, std::vector<std::string> aliases, std::string main_key,
                 std::vector<OptionSpec> options, std::string summary,
                 std::function<ImageStep(const Options&)> make) {
  return make_entry<AugmentEntry>(
      {std::move(name), std::move(aliases), std::move(main_key), std::move(options), std::move(summary)},
      std::move(make));
}

std::vector<float> floats(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

int64_t whole(double v, const char* what) {
  check(v == std::floor(v), what, ": expected whole numbers, got ", v);
  return static_cast<int64_t>(v);
}

}  // namespace

const Registry<AugmentEntry>& augmentations() {
  static const Registry<AugmentEntry> r(
      "augmentation",
      {
          row("random_flip", {"randomflip"}, "mode",
              {{"mode",
                T::Text,
                "horizontal_and_vertical",
                {"horizontal", "vertical", "horizontal_and_vertical"}}},
              "Keras's RandomFlip: mirrors each image with probability 1/2 per direction",
              [](const Options& o) -> ImageStep {
                const std::string m = o.text("mode");
                return std::make_shared<RandomFlip>(m == "horizontal" ? RandomFlip::Mode::Horizontal
                                                    : m == "vertical"
                                                        ? RandomFlip::Mode::Vertical
                                                        : RandomFlip::Mode::HorizontalAndVertical);
              }),
          row("random_crop", {"randomcrop"}, "size", {{"size", T::List}, {"padding", T::Int, "0"}},
              "torchvision's RandomCrop: zero padding, then a window at a random place (the centre at "
              "evaluation)",
              [](const Options& o) -> ImageStep {
                const std::vector<double> s = o.numbers("size");
                check(s.size() == 1 || s.size() == 2, "size: expected [height, width] or one number, got ",
                      s.size(), " numbers");
                return std::make_shared<RandomCrop>(whole(s[0], "size"), whole(s.back(), "size"),
                                                    o.integer("padding"));
              }),
          row("random_rotation", {"randomrotation"}, "degrees", {{"degrees", T::Number}},
              "a rotation by up to ± degrees (torchvision's unit; Keras's factor f is 360·f degrees)",
              [](const Options& o) -> ImageStep {
                return std::make_shared<RandomRotation>(o.number("degrees"));
              }),
          row("random_translation", {"randomtranslation"}, "factor",
              {{"factor", T::Number}, {"height_factor", T::Number}, {"width_factor", T::Number}},
              "Keras's RandomTranslation: a shift by up to ± factor of the height and of the width",
              [](const Options& o) -> ImageStep {
                const double f = o.has("factor") ? o.number("factor") : 0.0;
                const double h = o.has("height_factor") ? o.number("height_factor") : f;
                const double w = o.has("width_factor") ? o.number("width_factor") : f;
                check(h > 0 || w > 0, "random_translation: give factor, height_factor or width_factor (> 0)");
                return std::make_shared<RandomTranslation>(h, w);
              }),
          row("random_zoom", {"randomzoom"}, "factor", {{"factor", T::Number}},
              "Keras's RandomZoom: a zoom by up to ± factor (positive zooms out)",
              [](const Options& o) -> ImageStep { return std::make_shared<RandomZoom>(o.number("factor")); }),
          row("normalize", {}, "", {{"mean", T::List}, {"std", T::List}},
              "torchvision's Normalize: (x − mean) / std per channel, on every split",
              [](const Options& o) -> ImageStep {
                return std::make_shared<Normalize>(floats(o.numbers("mean")), floats(o.numbers("std")));
              }),
      });
  return r;
}

}  // namespace neurona::data
