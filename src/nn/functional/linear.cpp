// Linear layer op: one GEMM for x·Wᵀ, then bias and activation in a single pass over the output.
// The backward turns the output gradient into the pre-activation gradient in one pass, then
// dX = G·W and dW = Gᵀ·X are GEMMs and db is a column sum of G.
#include <cmath>
#include <type_traits>
#if defined(__AVX512F__)
#include <immintrin.h>
// glibc's vectorised tanhf (libmvec, x86-64 vector ABI name), within a few ulp like tanhf itself.
extern "C" __m512 _ZGVeN16v_tanhf(__m512);
#endif

#include "../detail.hpp"
#include "neurona/autograd/node.hpp"
#include "neurona/core/kernels.hpp"
#include "neurona/core/threads.hpp"

namespace neurona::nn {

Activation activation_from_name(const std::string& name) {
  if (name == "linear" || name == "identity" || name == "none" || name.empty()) return Activation::Identity;
  if (name == "relu") return Activation::ReLU;
  if (name == "tanh") return Activation::Tanh;
  if (name == "sigmoid") return Activation::Sigmoid;
  fail("activation '", name, "' is not one of linear, relu, tanh, sigmoid");
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::ReLU:
      return "relu";
    case Activation::Tanh:
      return "tanh";
    case Activation::Sigmoid:
      return "sigmoid";
    default:
      return "linear";
  }
}

namespace functional {

namespace {

struct IdentityOp {
  static float fwd(float z) { return z; }
  static float dfdz_from_y(float) { return 1.f; }
};
struct ReluOp {
  static float fwd(float z) { return z > 0.f ? z : 0.f; }
  static float dfdz_from_y(float y) { return y > 0.f ? 1.f : 0.f; }
};
struct TanhOp {
  static float fwd(float z) { return std::tanh(z); }
  static float dfdz_from_y(float y) { return 1.f - y * y; }
};
struct SigmoidOp {
  static float fwd(float z) { return 1.f / (1.f + std::exp(-z)); }
  static float dfdz_from_y(float y) { return y * (1.f - y); }
};

// y[r, :] = act(y[r, :] + b) for every row.
// tanh over n contiguous values, 16 lanes at a time; the tail goes through the same vector call (masked), so
// an element's value does not depend on its position.
void tanh_flat(float* p, int64_t n) {
#if defined(__AVX512F__)
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = n - j >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - j)) - 1);
    _mm512_mask_storeu_ps(p + j, m, _ZGVeN16v_tanhf(_mm512_maskz_loadu_ps(m, p + j)));
  }
#else
  for (int64_t j = 0; j < n; ++j) p[j] = std::tanh(p[j]);
#endif
}

template <class Op>
void bias_act(float* y, const float* b, int64_t rows, int64_t cols) {
  if constexpr (std::is_same_v<Op, struct TanhOp>) {
    // Bias over each row, then tanh over the chunk as one flat array: whole 16-lane calls instead
    // of a masked partial call per row (a Playground layer has rows of 8).
    parallel_for(0, rows, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(cols, 1)),
                 [&](int64_t lo, int64_t hi) {
                   if (b)
                     for (int64_t r = lo; r < hi; ++r) {
                       float* row = y + r * cols;
                       for (int64_t j = 0; j < cols; ++j) row[j] += b[j];
                     }
                   tanh_flat(y + lo * cols, (hi - lo) * cols);
                 });
    return;
  }
  parallel_for(0, rows, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(cols, 1)),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t r = lo; r < hi; ++r) {
                   float* row = y + r * cols;
                   if (b)
                     for (int64_t j = 0; j < cols; ++j) row[j] = Op::fwd(row[j] + b[j]);
                   else
                     for (int64_t j = 0; j < cols; ++j) row[j] = Op::fwd(row[j]);
                 }
               });
}

template <class Op>
void act_backward(const float* g, const float* y, float* gz, int64_t n) {
  parallel_for(0, n, kParallelGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) gz[i] = g[i] * Op::dfdz_from_y(y[i]);
  });
}

void apply_bias_act(Activation a, float* y, const float* b, int64_t rows, int64_t cols) {
  switch (a) {
    case Activation::Identity:
      if (b) bias_act<IdentityOp>(y, b, rows, cols);
      break;
    case Activation::ReLU:
      bias_act<ReluOp>(y, b, rows, cols);
      break;
    case Activation::Tanh:
      bias_act<TanhOp>(y, b, rows, cols);
      break;
    case Activation::Sigmoid:
      bias_act<SigmoidOp>(y, b, rows, cols);
      break;
  }
}

// The gradient before the activation, from the output gradient g and the output values y.
Tensor pre_activation_grad(Activation a, const Tensor& g, const float* y) {
  if (a == Activation::Identity) return g;
  Tensor gz = Tensor::empty(g.shape());
  switch (a) {
    case Activation::ReLU:
      act_backward<ReluOp>(g.data(), y, gz.data(), g.numel());
      break;
    case Activation::Tanh:
      act_backward<TanhOp>(g.data(), y, gz.data(), g.numel());
      break;
    case Activation::Sigmoid:
      act_backward<SigmoidOp>(g.data(), y, gz.data(), g.numel());
      break;
    default:
      break;
  }
  return gz;
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation act) {
  if (!weight.defined()) fail("linear: weight must be [out, in], got an undefined tensor");
  check(weight.dim() == 2, "linear: weight must be [out, in], got ", weight.shape());
  const int64_t out_f = weight.size(0), in_f = weight.size(1);
  check(x.dim() >= 1 && x.size(-1) == in_f, "linear: input ", x.shape(), " does not match weight ",
        weight.shape(), " (expected last dimension ", in_f, ")");
  const bool has_bias = bias.defined();
  if (has_bias)
    check(bias.dim() == 1 && bias.size(0) == out_f, "linear: bias ", bias.shape(), " does not match weight ",
          weight.shape(), " (expected [", out_f, "])");
  const int64_t rows = in_f == 0 ? 0 : x.numel() / in_f;
  Shape out_shape = x.shape();
  out_shape[-1] = out_f;
  Tensor y = Tensor::empty(out_shape);
  if (rows > 0 && out_f > 0) {
    if (in_f > 0)
      kernels::gemm(false, true, rows, out_f, in_f, 1.f, x.data(), in_f, weight.data(), in_f, 0.f, y.data(),
                    out_f);
    else
      std::fill(y.data(), y.data() + y.numel(), 0.f);
    apply_bias_act(act, y.data(), has_bias ? bias.data() : nullptr, rows, out_f);
  }

  autograd::Inputs inputs{x, weight};
  if (has_bias) inputs.push_back(bias);
  // The backward reads x and W through gr.input() and y through its buffer (captured, not y itself:
  // y owns this node), so the capture costs one reference count and no tensor.
  return autograd::record(
      y, "linear", std::move(inputs),
      [y_values = y.impl()->storage, has_bias, act, rows, in_f, out_f](const Tensor& g, autograd::Grads& gr) {
        const Tensor& x = gr.input(0);
        const Tensor& weight = gr.input(1);
        Tensor gz = pre_activation_grad(act, g, y_values.get());
        if (gr.needs(0)) {
          Tensor gx = Tensor::empty(x.shape());
          if (rows > 0 && in_f > 0)
            kernels::gemm(false, false, rows, in_f, out_f, 1.f, gz.data(), out_f, weight.data(), in_f, 0.f,
                          gx.data(), in_f);
          else
            std::fill(gx.data(), gx.data() + gx.numel(), 0.f);
          gr[0] = std::move(gx);
        }
        if (gr.needs(1)) {
          Tensor gw = Tensor::empty(weight.shape());
          if (rows > 0 && in_f > 0 && out_f > 0)
            kernels::gemm(true, false, out_f, in_f, rows, 1.f, gz.data(), out_f, x.data(), in_f, 0.f,
                          gw.data(), in_f);
          else
            std::fill(gw.data(), gw.data() + gw.numel(), 0.f);
          gr[1] = std::move(gw);
        }
        if (has_bias && gr.needs(2)) {
          Tensor gb = Tensor::zeros({out_f});
          float* b = gb.data();
          const float* gp = gz.data();
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t j = 0; j < out_f; ++j) b[j] += gp[r * out_f + j];
          gr[2] = std::move(gb);
        }
      });
}

}  // namespace functional
}  // namespace neurona::nn
