// Activation functions: each forward and its backward side by side.
#include <cmath>

#include "../detail.hpp"
#include "core/map.hpp"
#include "neurona/autograd/node.hpp"

namespace neurona::nn::functional {

using autograd::Grads;
using autograd::record;

namespace {

// Records a backward of the form gx = g * d(x, y) with d the local derivative.
template <class D>
Tensor pointwise(const char* name, const Tensor& x, Tensor y, D d) {
  return record(y, name, {x}, [x, yv = y.detach(), d](const Tensor& g, Grads& gr) {
    Tensor gx = Tensor::empty(x.shape());
    const float *gp = g.data(), *xp = x.data(), *yp = yv.data();
    float* o = gx.data();
    parallel_for(0, x.numel(), kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) o[i] = gp[i] * d(xp[i], yp[i]);
    });
    gr[0] = gx;
  });
}

constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;
constexpr float kSeluScale = 1.0507009873554804934193349852946f;
constexpr float kInvSqrt2 = 0.70710678118654752440f;
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;

}  // namespace

Tensor relu(const Tensor& x) {
  return pointwise("relu", x, map_unary(x, [](float v) { return v > 0.f ? v : 0.f; }),
                   [](float v, float) { return v > 0.f ? 1.f : 0.f; });
}

Tensor leaky_relu(const Tensor& x, float s) {
  return pointwise("leaky_relu", x, map_unary(x, [s](float v) { return v > 0.f ? v : s * v; }),
                   [s](float v, float) { return v > 0.f ? 1.f : s; });
}

Tensor elu(const Tensor& x, float a) {
  return pointwise("elu", x, map_unary(x, [a](float v) { return v > 0.f ? v : a * std::expm1(v); }),
                   [a](float v, float) { return v > 0.f ? 1.f : a * std::exp(v); });
}

Tensor selu(const Tensor& x) {
  return pointwise(
      "selu", x,
      map_unary(x, [](float v) { return kSeluScale * (v > 0.f ? v : kSeluAlpha * std::expm1(v)); }),
      [](float v, float) { return v > 0.f ? kSeluScale : kSeluScale * kSeluAlpha * std::exp(v); });
}

Tensor gelu(const Tensor& x) {
  return pointwise("gelu", x,
                   map_unary(x, [](float v) { return 0.5f * v * (1.f + std::erf(v * kInvSqrt2)); }),
                   [](float v, float) {
                     const float cdf = 0.5f * (1.f + std::erf(v * kInvSqrt2));
                     return cdf + v * kInvSqrt2Pi * std::exp(-0.5f * v * v);
                   });
}

Tensor sigmoid(const Tensor& x) {
  return pointwise("sigmoid", x, map_unary(x, [](float v) { return 1.f / (1.f + std::exp(-v)); }),
                   [](float, float y) { return y * (1.f - y); });
}

Tensor tanh(const Tensor& x) {
  return pointwise("tanh", x, map_unary(x, [](float v) { return std::tanh(v); }),
                   [](float, float y) { return 1.f - y * y; });
}

Tensor softplus(const Tensor& x, float beta, float threshold) {
  check(beta != 0.f, "softplus: beta must be nonzero");
  return pointwise(
      "softplus", x,
      map_unary(x, [=](float v) { return v * beta > threshold ? v : std::log1p(std::exp(v * beta)) / beta; }),
      [=](float v, float) { return v * beta > threshold ? 1.f : 1.f / (1.f + std::exp(-v * beta)); });
}

Tensor activation(const Tensor& x, Activation a) {
  switch (a) {
    case Activation::ReLU:
      return relu(x);
    case Activation::Tanh:
      return tanh(x);
    case Activation::Sigmoid:
      return sigmoid(x);
    default:
      return x;
  }
}

Tensor prelu(const Tensor& x, const Tensor& weight) {
  const int64_t c = weight.numel();
  int64_t inner = 1;
  if (c != 1) {
    check(x.dim() >= 2 && x.size(1) == c, "prelu: ", c, " slopes need input with ", c,
          " channels in dimension 1, got ", x.shape());
    for (int64_t d = 2; d < x.dim(); ++d) inner *= x.size(d);
  }
  auto channel = [c, inner](int64_t i) { return c == 1 ? 0 : (i / inner) % c; };
  Tensor y = Tensor::empty(x.shape());
  const float *xp = x.data(), *wp = weight.data();
  float* yp = y.data();
  for (int64_t i = 0; i < x.numel(); ++i) yp[i] = xp[i] > 0.f ? xp[i] : wp[channel(i)] * xp[i];
  return record(y, "prelu", {x, weight}, [x, weight, channel](const Tensor& g, Grads& gr) {
    const float *gp = g.data(), *xp = x.data(), *wp = weight.data();
    if (gr.needs(0)) {
      Tensor gx = Tensor::empty(x.shape());
      float* o = gx.data();
      for (int64_t i = 0; i < x.numel(); ++i) o[i] = xp[i] > 0.f ? gp[i] : wp[channel(i)] * gp[i];
      gr[0] = gx;
    }
    if (gr.needs(1)) {
      Tensor gw = Tensor::zeros(weight.shape());
      float* o = gw.data();
      for (int64_t i = 0; i < x.numel(); ++i)
        if (xp[i] <= 0.f) o[channel(i)] += gp[i] * xp[i];
      gr[1] = gw;
    }
  });
}

namespace {

// x's shape seen as [outer, n, inner] around `dim`.
Around around(const Tensor& x, int64_t dim, const char* op) {
  check(x.dim() >= 1, op, ": input must have at least one dimension, got ", x.shape());
  return x.shape().around(dim, op);
}

// out = log_softmax (log = true) or softmax of x along the split dimension.
void softmax_kernel(const float* x, float* out, const Around& a, bool log) {
  for (int64_t o = 0; o < a.outer; ++o)
    for (int64_t in = 0; in < a.inner; ++in) {
      const float* xs = x + o * a.n * a.inner + in;
      float* ys = out + o * a.n * a.inner + in;
      float m = -INFINITY;
      for (int64_t k = 0; k < a.n; ++k) m = std::max(m, xs[k * a.inner]);
      double s = 0;
      for (int64_t k = 0; k < a.n; ++k) s += std::exp(static_cast<double>(xs[k * a.inner] - m));
      if (log) {
        const float lse = m + static_cast<float>(std::log(s));
        for (int64_t k = 0; k < a.n; ++k) ys[k * a.inner] = xs[k * a.inner] - lse;
      } else {
        for (int64_t k = 0; k < a.n; ++k)
          ys[k * a.inner] = static_cast<float>(std::exp(static_cast<double>(xs[k * a.inner] - m)) / s);
      }
    }
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) {
  const Around a = around(x, dim, "softmax");
  Tensor y = Tensor::empty(x.shape());
  softmax_kernel(x.data(), y.data(), a, false);
  return record(y, "softmax", {x}, [a, yv = y.detach()](const Tensor& g, Grads& gr) {
    // gx = y * (g - Σ g·y) along the dimension
    Tensor gx = Tensor::empty(g.shape());
    for (int64_t o = 0; o < a.outer; ++o)
      for (int64_t in = 0; in < a.inner; ++in) {
        const int64_t base = o * a.n * a.inner + in;
        const float *gs = g.data() + base, *ys = yv.data() + base;
        float* out = gx.data() + base;
        double dot = 0;
        for (int64_t k = 0; k < a.n; ++k) dot += static_cast<double>(gs[k * a.inner]) * ys[k * a.inner];
        for (int64_t k = 0; k < a.n; ++k)
          out[k * a.inner] = ys[k * a.inner] * (gs[k * a.inner] - static_cast<float>(dot));
      }
    gr[0] = gx;
  });
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  const Around a = around(x, dim, "log_softmax");
  Tensor y = Tensor::empty(x.shape());
  softmax_kernel(x.data(), y.data(), a, true);
  return record(y, "log_softmax", {x}, [a, yv = y.detach()](const Tensor& g, Grads& gr) {
    // gx = g - softmax · Σ g along the dimension
    Tensor gx = Tensor::empty(g.shape());
    for (int64_t o = 0; o < a.outer; ++o)
      for (int64_t in = 0; in < a.inner; ++in) {
        const int64_t base = o * a.n * a.inner + in;
        const float *gs = g.data() + base, *ys = yv.data() + base;
        float* out = gx.data() + base;
        double s = 0;
        for (int64_t k = 0; k < a.n; ++k) s += gs[k * a.inner];
        for (int64_t k = 0; k < a.n; ++k)
          out[k * a.inner] = gs[k * a.inner] - std::exp(ys[k * a.inner]) * static_cast<float>(s);
      }
    gr[0] = gx;
  });
}

}  // namespace neurona::nn::functional
