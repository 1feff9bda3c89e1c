// 2-D convolution over NCHW images as im2col + GEMM, and the 'same'-padding rules of PyTorch and
// Keras. Per sample n and group g, with Cg = C/groups input and Og = O/groups output channels,
// K = Cg·kh·kw and P = OH·OW:
//   col[K, P] = im2col(x[n, g])        (a 1×1 stride-1 unpadded conv uses x[n, g] itself)
//   y[n, g]   = W_g[Og, K] · col       then bias and activation in one pass over the sample
//   dcol      = W_gᵀ · dz[n, g]        dx[n, g] = col2im(dcol)
//   dW_gᵀ    += col · dz[n, g]ᵀ        db = Σ dz over (n, oh, ow)
// with dz the gradient before the activation. The pool splits the batch. dW is summed over a
// fixed number of batch chunks (kWeightChunks, not the thread count): each chunk adds its
// samples in order into its own buffer and the buffers are added in chunk order, so the
// gradients do not depend on the number of threads.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "../detail.hpp"
#include "conv_direct_avx512.hpp"
#include "neurona/autograd/node.hpp"
#include "neurona/core/kernels.hpp"
#include "neurona/core/precision.hpp"
#include "neurona/core/threads.hpp"

namespace neurona::nn::functional {

int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_total, int64_t dilation) {
  check(stride >= 1 && dilation >= 1 && kernel >= 1, "conv_output_size: kernel ", kernel, ", stride ", stride,
        " and dilation ", dilation, " must be at least 1");
  const int64_t span = in + pad_total - dilation * (kernel - 1) - 1;
  // Floor division (span may be negative when the kernel does not fit).
  return (span >= 0 ? span / stride : -((-span + stride - 1) / stride)) + 1;
}

SamePad same_padding_torch(int64_t kernel, int64_t dilation) {
  const int64_t total = dilation * (kernel - 1);
  return {total / 2, total - total / 2};
}

SamePad same_padding_keras(int64_t in, int64_t kernel, int64_t stride, int64_t dilation) {
  check(stride >= 1, "same_padding_keras: stride ", stride, " must be at least 1");
  const int64_t out = (in + stride - 1) / stride;
  const int64_t total = std::max<int64_t>((out - 1) * stride + dilation * (kernel - 1) + 1 - in, 0);
  return {total / 2, total - total / 2};
}

Pad2d same_padding2d_torch(Size2d kernel, Size2d dilation) {
  const SamePad h = same_padding_torch(kernel.h, dilation.h), w = same_padding_torch(kernel.w, dilation.w);
  return {h.before, h.after, w.before, w.after};
}

Pad2d same_padding2d_keras(Size2d in, Size2d kernel, Size2d stride, Size2d dilation) {
  const SamePad h = same_padding_keras(in.h, kernel.h, stride.h, dilation.h);
  const SamePad w = same_padding_keras(in.w, kernel.w, stride.w, dilation.w);
  return {h.before, h.after, w.before, w.after};
}

namespace {

// Batch chunks over which the weight gradient is summed (see the top of the file).
constexpr int64_t kWeightChunks = 8;

struct ConvGeom {
  int64_t n, c, h, w;            // input
  int64_t o, kh, kw;             // weight
  int64_t oh, ow;                // output
  int64_t groups, cg, og, k, p;  // per group: channels in, out, K = cg·kh·kw, P = oh·ow
  Size2d stride, dilation;
  Pad2d pad;
  bool direct;  // 1×1, stride 1, no padding: col is the input itself
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

#if defined(__AVX512F__)
// The lanes [0, n) of a 16-float vector (none when n ≤ 0, all when n ≥ 16).
inline __mmask16 first_n(int64_t n) {
  return n >= 16 ? __mmask16(0xffff) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}
#endif

// The output columns ow whose input column ow·sw + off lies in [0, W): [lo, hi).
void valid_range(int64_t off, int64_t stride, int64_t width, int64_t out, int64_t& lo, int64_t& hi) {
  lo = off >= 0 ? 0 : ceil_div(-off, stride);
  hi = width - off <= 0 ? 0 : std::min(out, ceil_div(width - off, stride));
  lo = std::min(lo, hi);
}

// r[q] = src[q] for q in [lo, hi) and 0 for the rest of [0, n): one output row of im2col for a
// stride of 1 (src may point before the input row; only [lo, hi) is read).
inline void copy_row(float* __restrict r, const float* src, int64_t n, int64_t lo, int64_t hi) {
#if defined(__AVX512F__)
  for (int64_t q = 0; q < n; q += 16) {
    const __mmask16 valid = first_n(hi - q) & ~first_n(lo - q);
    _mm512_mask_storeu_ps(r + q, first_n(n - q), _mm512_maskz_loadu_ps(valid, src + q));
  }
#else
  for (int64_t q = 0; q < n; ++q) r[q] = q >= lo && q < hi ? src[q] : 0.f;
#endif
}

// dst[q] += r[q] for q in [lo, hi): one row of col2im for a stride of 1.
inline void add_row(float* dst, const float* __restrict r, int64_t lo, int64_t hi) {
#if defined(__AVX512F__)
  for (int64_t q = lo; q < hi; q += 16) {
    const __mmask16 m = first_n(hi - q);
    _mm512_mask_storeu_ps(dst + q, m,
                          _mm512_add_ps(_mm512_maskz_loadu_ps(m, dst + q), _mm512_maskz_loadu_ps(m, r + q)));
  }
#else
  for (int64_t q = lo; q < hi; ++q) dst[q] += r[q];
#endif
}

// col[(ci·kh + i)·kw + j, oh·OW + ow] = x[ci, oh·sh + i·dh − top, ow·sw + j·dw − left] (0 outside).
void im2col(const float* __restrict x, const ConvGeom& g, float* __restrict col) {
  const int64_t sh = g.stride.h, sw = g.stride.w, ow_n = g.ow;
  for (int64_t ci = 0; ci < g.cg; ++ci)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        float* __restrict row = col + ((ci * g.kh + i) * g.kw + j) * g.p;
        const int64_t dj = j * g.dilation.w - g.pad.left, di = i * g.dilation.h - g.pad.top;
        int64_t lo, hi;
        valid_range(dj, sw, g.w, ow_n, lo, hi);
        for (int64_t oh = 0; oh < g.oh; ++oh) {
          float* __restrict r = row + oh * ow_n;
          const int64_t ih = oh * sh + di;
          if (ih < 0 || ih >= g.h) {
            copy_row(r, x, ow_n, 0, 0);
            continue;
          }
          const float* xr = x + (ci * g.h + ih) * g.w + dj;
          if (sw == 1) {
            copy_row(r, xr, ow_n, lo, hi);
            continue;
          }
          for (int64_t ow = 0; ow < ow_n; ++ow) r[ow] = ow >= lo && ow < hi ? xr[ow * sw] : 0.f;
        }
      }
}

// The adjoint of im2col: dx = 0, then every col entry is added to the input element it came from.
// The rows of one input channel are all added while its plane is in L1.
void col2im(const float* __restrict col, const ConvGeom& g, float* __restrict dx) {
  const int64_t sh = g.stride.h, sw = g.stride.w;
  std::fill(dx, dx + g.cg * g.h * g.w, 0.f);
  for (int64_t ci = 0; ci < g.cg; ++ci)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        const float* __restrict row = col + ((ci * g.kh + i) * g.kw + j) * g.p;
        const int64_t dj = j * g.dilation.w - g.pad.left, di = i * g.dilation.h - g.pad.top;
        int64_t lo, hi;
        valid_range(dj, sw, g.w, g.ow, lo, hi);
        for (int64_t oh = 0; oh < g.oh; ++oh) {
          const int64_t ih = oh * sh + di;
          if (ih < 0 || ih >= g.h) continue;
          const float* __restrict r = row + oh * g.ow;
          float* xr = dx + (ci * g.h + ih) * g.w + dj;
          if (sw == 1)
            add_row(xr, r, lo, hi);
          else
            for (int64_t ow = lo; ow < hi; ++ow) xr[ow * sw] += r[ow];
        }
      }
}

// y[o, :] = act(y[o, :] + b[o]) over one sample's [O, P] output.
template <class Act>
void bias_act_rows(float* y, const float* b, int64_t rows, int64_t cols, Act act) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = y + r * cols;
    const float bias = b ? b[r] : 0.f;
    for (int64_t j = 0; j < cols; ++j) row[j] = act(row[j] + bias);
  }
}

void bias_act(Activation a, float* y, const float* b, int64_t rows, int64_t cols) {
  switch (a) {
    case Activation::Identity:
      if (b) bias_act_rows(y, b, rows, cols, [](float z) { return z; });
      break;
    case Activation::ReLU:
      bias_act_rows(y, b, rows, cols, [](float z) { return z > 0.f ? z : 0.f; });
      break;
    case Activation::Tanh:
      bias_act_rows(y, b, rows, cols, [](float z) { return std::tanh(z); });
      break;
    case Activation::Sigmoid:
      bias_act_rows(y, b, rows, cols, [](float z) { return 1.f / (1.f + std::exp(-z)); });
      break;
  }
}

// dz[0..n) = g · act'(z), from the outputs y.
void pre_activation_grad(Activation a, const float* g, const float* y, int64_t n, float* dz) {
  switch (a) {
    case Activation::Identity:
      std::memcpy(dz, g, static_cast<size_t>(n) * sizeof(float));
      break;
    case Activation::ReLU:
      for (int64_t i = 0; i < n; ++i) dz[i] = y[i] > 0.f ? g[i] : 0.f;
      break;
    case Activation::Tanh:
      for (int64_t i = 0; i < n; ++i) dz[i] = g[i] * (1.f - y[i] * y[i]);
      break;
    case Activation::Sigmoid:
      for (int64_t i = 0; i < n; ++i) dz[i] = g[i] * (y[i] * (1.f - y[i]));
      break;
  }
}

// Σ row[0..n) in float with 8 running sums (it vectorises), added in a fixed order.
float row_sum(const float* row, int64_t n) {
  float acc[8] = {};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int l = 0; l < 8; ++l) acc[l] += row[j + l];
  float tail = 0.f;
  for (; j < n; ++j) tail += row[j];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

// Samples per pool chunk: enough multiply-adds to repay a split.
int64_t sample_grain(const ConvGeom& g) {
  const int64_t per_sample = std::max<int64_t>(1, g.o * g.p * g.k);
  return std::max<int64_t>(1, (int64_t(1) << 18) / per_sample);
}

ConvGeom conv_geometry(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2d stride, Pad2d pad,
                       Size2d dilation, int64_t groups) {
  check(x.defined() && x.dim() == 4, "conv2d: expected input [N, C, H, W], got ",
        x.defined() ? x.shape().str() : "an undefined tensor");
  check(weight.defined() && weight.dim() == 4, "conv2d: expected weight [O, C/groups, kh, kw], got ",
        weight.defined() ? weight.shape().str() : "an undefined tensor");
  check(groups >= 1, "conv2d: groups must be at least 1, got ", groups);
  check(stride.h >= 1 && stride.w >= 1, "conv2d: stride must be at least 1, got ", stride.h, "x", stride.w);
  check(dilation.h >= 1 && dilation.w >= 1, "conv2d: dilation must be at least 1, got ", dilation.h, "x",
        dilation.w);
  check(pad.top >= 0 && pad.bottom >= 0 && pad.left >= 0 && pad.right >= 0,
        "conv2d: padding must not be negative, got (top, bottom, left, right) = (", pad.top, ", ", pad.bottom,
        ", ", pad.left, ", ", pad.right, ")");
  ConvGeom g{};
  g.n = x.size(0), g.c = x.size(1), g.h = x.size(2), g.w = x.size(3);
  g.o = weight.size(0), g.kh = weight.size(2), g.kw = weight.size(3);
  g.groups = groups, g.stride = stride, g.dilation = dilation, g.pad = pad;
  check(g.c % groups == 0 && g.o % groups == 0, "conv2d: groups ", groups,
        " must divide the input channels and the output channels, got input ", x.shape(), " and weight ",
        weight.shape());
  g.cg = g.c / groups, g.og = g.o / groups;
  check(weight.size(1) == g.cg, "conv2d: input ", x.shape(), " has ", g.c, " channels, so weight ",
        weight.shape(), " should have ", g.cg, " input channels per group (groups ", groups, "), got ",
        weight.size(1));
  check(g.kh >= 1 && g.kw >= 1 && g.o >= 1, "conv2d: weight ", weight.shape(), " is empty");
  if (bias.defined())
    check(bias.dim() == 1 && bias.size(0) == g.o, "conv2d: bias ", bias.shape(), " does not match weight ",
          weight.shape(), " (expected [", g.o, "])");
  const int64_t eff_h = dilation.h * (g.kh - 1) + 1, eff_w = dilation.w * (g.kw - 1) + 1;
  const int64_t ph = g.h + pad.top + pad.bottom, pw = g.w + pad.left + pad.right;
  check(ph >= eff_h && pw >= eff_w, "conv2d: kernel ", g.kh, "x", g.kw, " (dilation ", dilation.h, "x",
        dilation.w, ", so ", eff_h, "x", eff_w, ") is bigger than the padded input ", ph, "x", pw,
        " of input ", x.shape());
  g.oh = conv_output_size(g.h, g.kh, stride.h, pad.top + pad.bottom, dilation.h);
  g.ow = conv_output_size(g.w, g.kw, stride.w, pad.left + pad.right, dilation.w);
  g.k = g.cg * g.kh * g.kw, g.p = g.oh * g.ow;
  g.direct = g.kh == 1 && g.kw == 1 && stride.h == 1 && stride.w == 1 && pad.top == 0 && pad.bottom == 0 &&
             pad.left == 0 && pad.right == 0;
  return g;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2d stride, Pad2d padding,
              Size2d dilation, int64_t groups, Activation act) {
  const ConvGeom g = conv_geometry(x, weight, bias, stride, padding, dilation, groups);
  const bool has_bias = bias.defined();
  Tensor y = Tensor::empty({g.n, g.o, g.oh, g.ow});
  const float *xp = x.data(), *wp = weight.data(), *bp = has_bias ? bias.data() : nullptr;
  float* yp = y.data();
  const int64_t in_sample = g.c * g.h * g.w, out_sample = g.o * g.p, in_group = g.cg * g.h * g.w;
  // Stride 1, one group, a kernel or padding that im2col would copy: the direct AVX-512 kernel
  // (conv_direct_avx512.cpp), which gives the same bits as im2col + GEMM. With few input channels
  // im2col is cheap and the GEMM faster (one channel at 28×28: 0.6 ms against 1.0 for the direct
  // kernel; 32 channels at 14×14: 5.5 against 4.0, bench_conv_ops --only conv). In bf16 mode the
  // GEMM's bf16 kernel does the products.
  if (g.stride.h == 1 && g.stride.w == 1 && g.groups == 1 && !g.direct && g.c >= 16 && g.kh * g.kw <= 64 &&
      g.n > 0 && matmul_precision() == "fp32" && detail::direct_conv_enabled()) {
    const detail::DirectConv dc =
        detail::direct_conv_plan(g.c, g.h, g.w, g.o, g.kh, g.kw, g.dilation.h, g.dilation.w, g.pad.top,
                                 g.pad.bottom, g.pad.left, g.pad.right);
    Tensor packed = Tensor::empty({dc.packed_floats});
    detail::direct_conv_pack(dc, wp, packed.data());
    parallel_for(0, g.n, sample_grain(g), [&](int64_t lo, int64_t hi) {
      Tensor xpad = Tensor::empty({dc.xpad_floats}), out = Tensor::empty({dc.out_floats});
      for (int64_t n = lo; n < hi; ++n) {
        float* yn = yp + n * out_sample;
        detail::direct_conv_sample(dc, xp + n * in_sample, packed.data(), xpad.data(), out.data(), yn);
        bias_act(act, yn, bp, g.o, g.p);
      }
    });
  } else {
    parallel_for(0, g.n, sample_grain(g), [&](int64_t lo, int64_t hi) {
      Tensor scratch = g.direct ? Tensor() : Tensor::empty({g.k * g.p});
      for (int64_t n = lo; n < hi; ++n) {
        float* yn = yp + n * out_sample;
        for (int64_t gi = 0; gi < g.groups; ++gi) {
          const float* xg = xp + n * in_sample + gi * in_group;
          float* col = g.direct ? nullptr : scratch.data();
          if (!g.direct) im2col(xg, g, col);
          kernels::gemm(false, false, g.og, g.p, g.k, 1.f, wp + gi * g.og * g.k, g.k, g.direct ? xg : col,
                        g.p, 0.f, yn + gi * g.og * g.p, g.p);
        }
        bias_act(act, yn, bp, g.o, g.p);
      }
    });
  }

  autograd::Inputs inputs{x, weight};
  if (has_bias) inputs.push_back(bias);
  return autograd::record(
      y, "conv2d", std::move(inputs),
      [y_values = y.impl()->storage, g, has_bias, act](const Tensor& grad, autograd::Grads& gr) {
        const Tensor& x = gr.input(0);
        const Tensor& weight = gr.input(1);
        const float *gp = grad.data(), *xp = x.data(), *wp = weight.data(), *yv = y_values.get();
        const bool need_x = gr.needs(0), need_w = gr.needs(1), need_b = has_bias && gr.needs(2);
        const int64_t in_sample = g.c * g.h * g.w, out_sample = g.o * g.p, in_group = g.cg * g.h * g.w;
        const int64_t wsize = g.o * g.k;
        Tensor gx = need_x ? Tensor::empty(x.shape()) : Tensor();
        // Chunk c covers samples [c·N/chunks, (c+1)·N/chunks). Its weight gradient, transposed
        // ([group][K][Og]: dWᵀ = col · dzᵀ, the GEMM whose output is one 64-column panel for
        // Og ≤ 64), goes to wpart[c], its bias gradient to bpart[c]; both are added in chunk order.
        const int64_t chunks = std::max<int64_t>(1, std::min(g.n, kWeightChunks));
        Tensor wpart = need_w ? Tensor::empty({chunks, wsize}) : Tensor();
        std::vector<double> bpart(need_b ? chunks * g.o : 0, 0.0);
        if (g.n > 0 && (need_x || need_w || need_b)) {
          const int64_t chunk_grain =
              std::max<int64_t>(1, sample_grain(g) * chunks / std::max<int64_t>(g.n, 1));
          parallel_for(0, chunks, chunk_grain, [&](int64_t c_lo, int64_t c_hi) {
            Tensor col_t = need_w && !g.direct ? Tensor::empty({g.k * g.p}) : Tensor();
            Tensor dcol_t = need_x && !g.direct ? Tensor::empty({g.k * g.p}) : Tensor();
            Tensor gz_t = act != Activation::Identity ? Tensor::empty({out_sample}) : Tensor();
            for (int64_t c = c_lo; c < c_hi; ++c) {
              float* dw = need_w ? wpart.data() + c * wsize : nullptr;
              const int64_t n0 = c * g.n / chunks, n1 = (c + 1) * g.n / chunks;
              for (int64_t n = n0; n < n1; ++n) {
                // dz of this sample, while it is in cache: the gradient before the activation.
                const float* gn = gp + n * out_sample;
                if (act != Activation::Identity) {
                  pre_activation_grad(act, gn, yv + n * out_sample, out_sample, gz_t.data());
                  gn = gz_t.data();
                }
                if (need_b)
                  for (int64_t o = 0; o < g.o; ++o) bpart[c * g.o + o] += row_sum(gn + o * g.p, g.p);
                for (int64_t gi = 0; gi < g.groups; ++gi) {
                  const float* xg = xp + n * in_sample + gi * in_group;
                  const float* wg = wp + gi * g.og * g.k;
                  const float* gg = gn + gi * g.og * g.p;
                  if (need_w) {
                    const float* col = xg;
                    if (!g.direct) {
                      im2col(xg, g, col_t.data());
                      col = col_t.data();
                    }
                    kernels::gemm(false, true, g.k, g.og, g.p, 1.f, col, g.p, gg, g.p, n == n0 ? 0.f : 1.f,
                                  dw + gi * g.k * g.og, g.og);
                  }
                  if (need_x) {
                    float* dxg = gx.data() + n * in_sample + gi * in_group;
                    if (g.direct) {
                      kernels::gemm(true, false, g.k, g.p, g.og, 1.f, wg, g.k, gg, g.p, 0.f, dxg, g.p);
                    } else {
                      kernels::gemm(true, false, g.k, g.p, g.og, 1.f, wg, g.k, gg, g.p, 0.f, dcol_t.data(),
                                    g.p);
                      col2im(dcol_t.data(), g, dxg);
                    }
                  }
                }
              }
            }
          });
        }
        if (need_x) gr[0] = std::move(gx);
        if (need_w) {
          // gw[gi·Og + o, k] = Σ_c wpart[c][gi][k][o], the chunks added in order.
          Tensor gw = Tensor::empty(weight.shape());
          float* out = gw.data();
          const float* part = wpart.data();
          parallel_for(0, g.o, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, chunks * g.k)),
                       [&](int64_t lo, int64_t hi) {
                         for (int64_t oc = lo; oc < hi; ++oc) {
                           const int64_t gi = oc / g.og, o = oc % g.og;
                           for (int64_t k = 0; k < g.k; ++k) {
                             const int64_t at = (gi * g.k + k) * g.og + o;
                             float s = g.n == 0 ? 0.f : part[at];
                             for (int64_t c = 1; c < chunks && g.n > 0; ++c) s += part[c * wsize + at];
                             out[oc * g.k + k] = s;
                           }
                         }
                       });
          gr[1] = std::move(gw);
        }
        if (need_b) {
          Tensor gb = Tensor::empty({g.o});
          for (int64_t o = 0; o < g.o; ++o) {
            double s = 0.0;
            for (int64_t c = 0; c < chunks; ++c) s += bpart[c * g.o + o];
            gb.data()[o] = static_cast<float>(s);
          }
          gr[2] = std::move(gb);
        }
      });
}

Tensor zero_pad2d(const Tensor& x, Pad2d pad) {
  check(x.defined() && x.dim() == 4, "zero_pad2d: expected input [N, C, H, W], got ",
        x.defined() ? x.shape().str() : "an undefined tensor");
  const int64_t h = x.size(2), w = x.size(3);
  const int64_t oh = h + pad.top + pad.bottom, ow = w + pad.left + pad.right;
  check(oh >= 1 && ow >= 1, "zero_pad2d: padding (left, right, top, bottom) = (", pad.left, ", ", pad.right,
        ", ", pad.top, ", ", pad.bottom, ") leaves nothing of input ", x.shape());
  // Output row r, column q holds input row r − top, column q − left where those exist.
  const int64_t r0 = std::max<int64_t>(0, pad.top), r1 = std::min(oh, h + pad.top);
  const int64_t q0 = std::max<int64_t>(0, pad.left), q1 = std::min(ow, w + pad.left);
  const int64_t planes = x.size(0) * x.size(1);
  // Copies the kept rectangle between a plane of the input and one of the output (either way).
  auto copy = [=](const float* src, float* dst, bool to_output) {
    parallel_for(0, planes, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(oh * ow, 1)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t p = lo; p < hi; ++p)
                     for (int64_t r = r0; r < r1; ++r) {
                       float* out_row = nullptr;
                       const float* in_row = nullptr;
                       const int64_t in_off = (p * h + r - pad.top) * w + (q0 - pad.left),
                                     out_off = (p * oh + r) * ow + q0;
                       if (to_output) {
                         in_row = src + in_off;
                         out_row = dst + out_off;
                       } else {
                         in_row = src + out_off;
                         out_row = dst + in_off;
                       }
                       if (q1 > q0)
                         std::memcpy(out_row, in_row, static_cast<size_t>(q1 - q0) * sizeof(float));
                     }
                 });
  };
  const bool crops = pad.top < 0 || pad.bottom < 0 || pad.left < 0 || pad.right < 0;
  Tensor y = Tensor::zeros({x.size(0), x.size(1), oh, ow});
  copy(x.data(), y.data(), true);
  return autograd::record(y, "zero_pad2d", {x}, [copy, crops](const Tensor& g, autograd::Grads& gr) {
    Tensor gx = crops ? Tensor::zeros(gr.input(0).shape()) : Tensor::empty(gr.input(0).shape());
    copy(g.data(), gx.data(), false);
    gr[0] = std::move(gx);
  });
}

}  // namespace neurona::nn::functional
