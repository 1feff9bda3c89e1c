// Initialisers: fill a tensor's storage in place from the given (or default) generator.
#include "neurona/nn/init.hpp"

#include <cmath>
#include <vector>

#include "neurona/core/error.hpp"

namespace neurona::nn::init {

namespace {
Generator& rng(Generator* gen) { return gen ? *gen : default_generator(); }
}  // namespace

float calculate_gain(const std::string& nl, float param) {
  if (nl == "linear" || nl == "identity" || nl == "sigmoid" || nl == "conv1d" || nl == "conv2d" ||
      nl == "conv3d" || nl == "conv_transpose1d" || nl == "conv_transpose2d" || nl == "conv_transpose3d")
    return 1.f;
  if (nl == "tanh") return 5.f / 3.f;
  if (nl == "relu") return std::sqrt(2.f);
  if (nl == "leaky_relu") return std::sqrt(2.f / (1.f + param * param));
  if (nl == "selu") return 0.75f;
  fail("calculate_gain: unsupported nonlinearity '", nl, "'");
}

std::pair<int64_t, int64_t> fan_in_and_fan_out(const Tensor& t) {
  check(t.dim() >= 2, "init: fan in and fan out need a tensor with at least 2 dimensions, got ", t.shape());
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

void constant_(Tensor& t, float value) {
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = value;
}
void zeros_(Tensor& t) { constant_(t, 0.f); }
void ones_(Tensor& t) { constant_(t, 1.f); }

void uniform_(Tensor& t, float low, float high, Generator* gen) {
  Generator& g = rng(gen);
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = g.uniform(low, high);
}

void normal_(Tensor& t, float mean, float std, Generator* gen) {
  Generator& g = rng(gen);
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = g.normal(mean, std);
}

void xavier_uniform_(Tensor& t, float gain, Generator* gen) {
  auto [fi, fo] = fan_in_and_fan_out(t);
  const float a = gain * std::sqrt(6.f / static_cast<float>(fi + fo));
  uniform_(t, -a, a, gen);
}

void xavier_normal_(Tensor& t, float gain, Generator* gen) {
  auto [fi, fo] = fan_in_and_fan_out(t);
  normal_(t, 0.f, gain * std::sqrt(2.f / static_cast<float>(fi + fo)), gen);
}

namespace {
float kaiming_std(const Tensor& t, float a, FanMode mode, const std::string& nl) {
  auto [fi, fo] = fan_in_and_fan_out(t);
  const int64_t fan = mode == FanMode::FanIn ? fi : fo;
  check(fan > 0, "init: kaiming initialisation of ", t.shape(), " has a zero fan");
  return calculate_gain(nl, a) / std::sqrt(static_cast<float>(fan));
}
}  // namespace

void kaiming_uniform_(Tensor& t, float a, FanMode mode, const std::string& nl, Generator* gen) {
  const float bound = std::sqrt(3.f) * kaiming_std(t, a, mode, nl);
  uniform_(t, -bound, bound, gen);
}

void kaiming_normal_(Tensor& t, float a, FanMode mode, const std::string& nl, Generator* gen) {
  normal_(t, 0.f, kaiming_std(t, a, mode, nl), gen);
}

void orthogonal_(Tensor& t, float gain, Generator* gen) {
  check(t.dim() >= 2, "orthogonal_: needs a tensor with at least 2 dimensions, got ", t.shape());
  const int64_t rows = t.size(0), cols = t.numel() / rows;
  // Orthonormalise the columns of a tall m×k Gaussian matrix (Gram–Schmidt, done twice for
  // stability; R's diagonal is then positive as in a sign-fixed QR); transpose back when rows < cols.
  const bool flip = rows < cols;
  const int64_t m = flip ? cols : rows, k = flip ? rows : cols;
  Generator& g = rng(gen);
  std::vector<double> a(m * k);  // column-major: column j at a[j*m]
  for (auto& v : a) v = g.normal(0.f, 1.f);
  for (int64_t j = 0; j < k; ++j) {
    double* col = &a[j * m];
    for (int pass = 0; pass < 2; ++pass)
      for (int64_t q = 0; q < j; ++q) {
        const double* prev = &a[q * m];
        double dot = 0;
        for (int64_t i = 0; i < m; ++i) dot += prev[i] * col[i];
        for (int64_t i = 0; i < m; ++i) col[i] -= dot * prev[i];
      }
    double norm = 0;
    for (int64_t i = 0; i < m; ++i) norm += col[i] * col[i];
    norm = std::sqrt(norm);
    check(norm > 0, "orthogonal_: degenerate random matrix");
    for (int64_t i = 0; i < m; ++i) col[i] /= norm;
  }
  float* p = t.data();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const double v = flip ? a[r * m + c] : a[c * m + r];
      p[r * cols + c] = static_cast<float>(gain * v);
    }
}

}  // namespace neurona::nn::init
