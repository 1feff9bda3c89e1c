#include "neurona/data/transforms.hpp"

#include <cmath>
#include <cstring>

#include "neurona/core/error.hpp"

namespace neurona::data {
namespace {

const Tensor& state_entry(const std::map<std::string, Tensor>& state, const std::string& key,
                          const std::string& type) {
  auto it = state.find(key);
  check(it != state.end() && it->second.defined(), type, "::load_state: missing tensor '", key, "'");
  return it->second;
}

// Per-column mean/variance or min/max of x [N, F], accumulated in double.
void column_stats(const Tensor& x, std::vector<double>& a, std::vector<double>& b, bool minmax) {
  const int64_t n = x.size(0), f = x.size(1);
  const float* p = x.data();
  a.assign(static_cast<size_t>(f), minmax ? INFINITY : 0.0);
  b.assign(static_cast<size_t>(f), minmax ? -INFINITY : 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < f; ++j) {
      const double v = p[i * f + j];
      if (minmax) {
        a[j] = std::min(a[j], v);
        b[j] = std::max(b[j], v);
      } else {
        a[j] += v;
      }
    }
  if (minmax) return;
  for (auto& m : a) m /= static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < f; ++j) {
      const double d = p[i * f + j] - a[j];
      b[j] += d * d;
    }
  for (auto& v : b) v /= static_cast<double>(n);
}

Tensor to_tensor(const std::vector<double>& v) {
  std::vector<float> f(v.begin(), v.end());
  return Tensor::from(f, Shape{static_cast<int64_t>(f.size())});
}

void check_fit_input(const Tensor& x, const std::string& type) {
  check(x.defined() && x.dim() == 2 && x.size(0) > 0, type, "::fit: expects features [N, F] with N > 0, got ",
        x.defined() ? x.shape().str() : std::string("undefined"));
}

}  // namespace

// --- Scaler ---------------------------------------------------------------------------------------

void Scaler::check_input(const Tensor& x, const char* op) const {
  check(fitted(), type(), "::", op, ": call fit() first");
  check(x.defined() && x.dim() == 2 && x.size(1) == scale_.numel(), type(), "::", op, ": expects [N, ",
        scale_.numel(), "] (the features it was fitted on), got ",
        x.defined() ? x.shape().str() : std::string("undefined"));
}

Tensor Scaler::transform(const Tensor& x) const {
  check_input(x, "transform");
  Tensor out = Tensor::empty(x.shape());
  const int64_t n = x.size(0), f = x.size(1);
  const float *s = scale_.data(), *c = center_.data(), *in = x.data();
  float* dst = out.data();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < f; ++j) dst[i * f + j] = (in[i * f + j] - c[j]) * s[j] + base_;
  return out;
}

Tensor Scaler::inverse_transform(const Tensor& x) const {
  check_input(x, "inverse_transform");
  Tensor out = Tensor::empty(x.shape());
  const int64_t n = x.size(0), f = x.size(1);
  const float *s = scale_.data(), *c = center_.data(), *in = x.data();
  float* dst = out.data();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < f; ++j) dst[i * f + j] = (in[i * f + j] - base_) / s[j] + c[j];
  return out;
}

Tensor Scaler::fit_transform(const Tensor& x) {
  fit(x);
  return transform(x);
}

// --- StandardScaler -------------------------------------------------------------------------------

void StandardScaler::fit(const Tensor& x) {
  check_fit_input(x, type());
  std::vector<double> mean, var;
  column_stats(x, mean, var, false);
  for (auto& v : var) v = std::sqrt(v);
  set(to_tensor(mean), to_tensor(var));
}

void StandardScaler::set(Tensor mean, Tensor std) {
  mean_ = std::move(mean);
  std_ = std::move(std);
  center_ = mean_;
  scale_ = Tensor::empty(mean_.shape());
  for (int64_t j = 0; j < scale_.numel(); ++j)
    scale_.data()[j] = 1.f / (std_.data()[j] > 0.f ? std_.data()[j] : 1.f);
}

std::map<std::string, Tensor> StandardScaler::state() const { return {{"mean", mean_}, {"scale", std_}}; }

void StandardScaler::load_state(const std::map<std::string, Tensor>& state) {
  const Tensor& mean = state_entry(state, "mean", type());
  const Tensor& std = state_entry(state, "scale", type());
  check(mean.dim() == 1 && mean.shape() == std.shape(), type(), "::load_state: 'mean' ", mean.shape(),
        " and 'scale' ", std.shape(), " must be the same [F]");
  set(mean.clone(), std.clone());
}

// --- MinMaxScaler ---------------------------------------------------------------------------------

MinMaxScaler::MinMaxScaler(float low, float high) : low_(low), high_(high) {
  check(low < high, "MinMaxScaler: feature_range must have low < high, got (", low, ", ", high, ")");
}

void MinMaxScaler::fit(const Tensor& x) {
  check_fit_input(x, type());
  std::vector<double> lo, hi;
  column_stats(x, lo, hi, true);
  set(to_tensor(lo), to_tensor(hi));
}

void MinMaxScaler::set(Tensor min, Tensor max) {
  min_ = std::move(min);
  max_ = std::move(max);
  center_ = min_;
  base_ = low_;
  scale_ = Tensor::empty(min_.shape());
  for (int64_t j = 0; j < scale_.numel(); ++j) {
    const float range = max_.data()[j] - min_.data()[j];
    scale_.data()[j] = (high_ - low_) / (range > 0.f ? range : 1.f);
  }
}

std::map<std::string, Tensor> MinMaxScaler::state() const {
  return {{"data_min", min_}, {"data_max", max_}, {"feature_range", Tensor::from({low_, high_})}};
}

void MinMaxScaler::load_state(const std::map<std::string, Tensor>& state) {
  const Tensor& lo = state_entry(state, "data_min", type());
  const Tensor& hi = state_entry(state, "data_max", type());
  const Tensor& range = state_entry(state, "feature_range", type());
  check(lo.dim() == 1 && lo.shape() == hi.shape() && range.numel() == 2, type(),
        "::load_state: expects 'data_min' and 'data_max' [F] and 'feature_range' [2], got ", lo.shape(), ", ",
        hi.shape(), ", ", range.shape());
  low_ = range.data()[0];
  high_ = range.data()[1];
  set(lo.clone(), hi.clone());
}

std::unique_ptr<Scaler> make_scaler(const std::string& type) {
  if (type == "standard" || type == "StandardScaler") return std::make_unique<StandardScaler>();
  if (type == "minmax" || type == "MinMaxScaler") return std::make_unique<MinMaxScaler>();
  fail("unknown scaler '", type, "' (choose standard or minmax)");
}

std::unique_ptr<Scaler> load_scaler(const std::string& type, const std::map<std::string, Tensor>& state) {
  auto s = make_scaler(type);
  s->load_state(state);
  return s;
}

// --- labels and images ----------------------------------------------------------------------------

Tensor one_hot(const Tensor& labels, int64_t num_classes) {
  check(labels.defined() && (labels.dim() == 1 || (labels.dim() == 2 && labels.size(1) == 1)),
        "one_hot: expects class ids [N] or [N,1], got ",
        labels.defined() ? labels.shape().str() : "undefined");
  check(num_classes >= 1, "one_hot: num_classes must be >= 1, got ", num_classes);
  const int64_t n = labels.size(0);
  Tensor out = Tensor::zeros(Shape{n, num_classes});
  for (int64_t i = 0; i < n; ++i) {
    const float v = labels.data()[i];
    const auto c = static_cast<int64_t>(std::lround(v));
    check(c >= 0 && c < num_classes && std::abs(v - static_cast<float>(c)) < 1e-4f, "one_hot: sample ", i,
          " has label ", v, ", not a class id in [0, ", num_classes, ")");
    out.data()[i * num_classes + c] = 1.f;
  }
  return out;
}

Tensor normalize_images(const Tensor& images, const std::vector<float>& mean, const std::vector<float>& std) {
  check(images.defined() && (images.dim() == 3 || images.dim() == 4),
        "normalize_images: expects [N,H,W] or [N,C,H,W], got ",
        images.defined() ? images.shape().str() : "undefined");
  const int64_t channels = images.dim() == 4 ? images.size(1) : 1;
  check(static_cast<int64_t>(mean.size()) == channels && static_cast<int64_t>(std.size()) == channels,
        "normalize_images: images ", images.shape(), " have ", channels, " channel(s) but ", mean.size(),
        " means and ", std.size(), " stds were given");
  for (float s : std) check(s > 0.f, "normalize_images: std must be > 0, got ", s);
  const int64_t plane = images.size(-1) * images.size(-2), n = images.size(0);
  Tensor out = Tensor::empty(images.shape());
  const float* in = images.data();
  float* dst = out.data();
  for (int64_t i = 0; i < n * channels; ++i) {
    const int64_t c = i % channels;
    for (int64_t k = 0; k < plane; ++k) dst[i * plane + k] = (in[i * plane + k] - mean[c]) / std[c];
  }
  return out;
}

}  // namespace neurona::data
