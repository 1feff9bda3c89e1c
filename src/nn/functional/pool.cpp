// Pooling over NCHW images: max (first maximum of each window, gradient scattered back to it),
// average (PyTorch's divisor rule), adaptive average, and the global mean and maximum of each plane.
// Every (n, c) plane is independent, so the pool splits the planes and each plane's gradient is
// written by one thread in a fixed order.
#include "neurona/core/pool.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "../detail.hpp"
#include "neurona/autograd/node.hpp"
#include "neurona/core/threads.hpp"

namespace neurona::nn::functional {
namespace {

struct PoolGeom {
  int64_t planes, h, w, oh, ow;
  Size2d kernel, stride, dilation;
  Pad2d pad;
};

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// PyTorch's pooling_output_shape_pad_lr: in ceil mode a last window is dropped when it would
// start in the right padding.
int64_t pool_output_size(int64_t in, int64_t k, int64_t before, int64_t after, int64_t s, int64_t d,
                         bool ceil_mode) {
  int64_t out = floor_div(in + before + after - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0), s) + 1;
  if (ceil_mode && (out - 1) * s >= in + before) --out;
  return out;
}

PoolGeom pool_geometry(const char* op, const Tensor& x, Size2d kernel, std::optional<Size2d> stride,
                       Pad2d pad, Size2d dilation, bool ceil_mode) {
  check(x.defined() && x.dim() == 4, op, ": expected input [N, C, H, W], got ",
        x.defined() ? x.shape().str() : "an undefined tensor");
  const Size2d s = stride.value_or(kernel);
  check(kernel.h >= 1 && kernel.w >= 1, op, ": kernel must be at least 1, got ", kernel.h, "x", kernel.w);
  check(s.h >= 1 && s.w >= 1, op, ": stride must be at least 1, got ", s.h, "x", s.w);
  check(dilation.h >= 1 && dilation.w >= 1, op, ": dilation must be at least 1, got ", dilation.h, "x",
        dilation.w);
  check(pad.top >= 0 && pad.bottom >= 0 && pad.left >= 0 && pad.right >= 0 && pad.top <= kernel.h / 2 &&
            pad.bottom <= kernel.h / 2 && pad.left <= kernel.w / 2 && pad.right <= kernel.w / 2,
        op, ": padding (top, bottom, left, right) = (", pad.top, ", ", pad.bottom, ", ", pad.left, ", ",
        pad.right, ") must be between 0 and half the kernel ", kernel.h, "x", kernel.w);
  PoolGeom g{};
  g.planes = x.size(0) * x.size(1), g.h = x.size(2), g.w = x.size(3);
  g.kernel = kernel, g.stride = s, g.dilation = dilation, g.pad = pad;
  g.oh = pool_output_size(g.h, kernel.h, pad.top, pad.bottom, s.h, dilation.h, ceil_mode);
  g.ow = pool_output_size(g.w, kernel.w, pad.left, pad.right, s.w, dilation.w, ceil_mode);
  check(g.oh >= 1 && g.ow >= 1, op, ": input ", x.shape(), " is too small for kernel ", kernel.h, "x",
        kernel.w, " (dilation ", dilation.h, "x", dilation.w, ", padding ", pad.top, "+", pad.bottom, " x ",
        pad.left, "+", pad.right, "): the output would be ", g.oh, "x", g.ow);
  return g;
}

// Planes per pool chunk for kernels that touch each input value about once.
int64_t plane_grain(int64_t per_plane) {
  return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(per_plane, 1));
}

Shape nchw(const Tensor& x, int64_t h, int64_t w) { return {x.size(0), x.size(1), h, w}; }

// The output columns ow whose input column ow·stride + off lies in [0, width): [lo, hi).
void valid_range(int64_t off, int64_t stride, int64_t width, int64_t out, int64_t& lo, int64_t& hi) {
  lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
  hi = width - off <= 0 ? 0 : std::min(out, (width - off + stride - 1) / stride);
  lo = std::min(lo, hi);
}

// One plane of max pooling: y and the flat index (ih·W + iw) of each window's first maximum.
// Each output row is built window element by window element (i, j) — the scan order of a window,
// so the first maximum wins as in PyTorch — with the loop over the row's outputs innermost, where
// it vectorises. An output takes a value greater than its current one, a NaN, or its first valid
// element (a window of −∞ keeps the first, as PyTorch's initial index does).
void max_pool_plane(const float* x, const PoolGeom& g, float* y, int32_t* idx) {
  const int64_t sw = g.stride.w;
  for (int64_t oh = 0; oh < g.oh; ++oh) {
    float* yr = y + oh * g.ow;
    int32_t* ir = idx + oh * g.ow;
    std::fill(yr, yr + g.ow, -std::numeric_limits<float>::infinity());
    std::fill(ir, ir + g.ow, -1);
    for (int64_t i = 0; i < g.kernel.h; ++i) {
      const int64_t ih = oh * g.stride.h - g.pad.top + i * g.dilation.h;
      if (ih < 0 || ih >= g.h) continue;
      const float* xr = x + ih * g.w;
      for (int64_t j = 0; j < g.kernel.w; ++j) {
        const int64_t off = j * g.dilation.w - g.pad.left;
        int64_t lo, hi;
        valid_range(off, sw, g.w, g.ow, lo, hi);
        const int32_t base = static_cast<int32_t>(ih * g.w + off);
        for (int64_t ow = lo; ow < hi; ++ow) {
          const float v = xr[ow * sw + off];
          const bool take = v > yr[ow] || v != v || ir[ow] < 0;
          yr[ow] = take ? v : yr[ow];
          ir[ow] = take ? base + static_cast<int32_t>(ow * sw) : ir[ow];
        }
      }
    }
  }
}

#if defined(__AVX512F__)
// The lanes [0, n) of a 16-float vector (none when n ≤ 0, all when n ≥ 16).
inline __mmask16 first_n(int64_t n) {
  return n >= 16 ? __mmask16(0xffff) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}

// Even and odd lanes of the 32 floats lo:hi (the left and right halves of 16 windows).
alignas(64) constexpr int32_t kEven[16] = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
alignas(64) constexpr int32_t kOdd[16] = {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31};
// Interleaving of two 16-lane vectors a, b into a0 b0 a1 b1 … (low half) and a8 b8 … (high half).
alignas(64) constexpr int32_t kZipLo[16] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
alignas(64) constexpr int32_t kZipHi[16] = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
#endif

// MaxPool2d(2) with every window inside the plane: the four candidates of each window in scan
// order (a candidate replaces the best when greater or NaN), 16 windows at a time. Same results
// as max_pool_plane.
void max_pool_2x2(const float* x, int64_t w, int64_t oh, int64_t ow, float* y, int32_t* idx) {
#if defined(__AVX512F__)
  const __m512i even = _mm512_load_si512(kEven), odd = _mm512_load_si512(kOdd);
  const __m512i lane2 = _mm512_mullo_epi32(
      _mm512_set1_epi32(2), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  for (int64_t r = 0; r < oh; ++r) {
    const float* r0 = x + 2 * r * w;
    const float* r1 = r0 + w;
    for (int64_t q = 0; q < ow; q += 16) {
      const int64_t n = std::min<int64_t>(16, ow - q);
      const __mmask16 lo_m = first_n(2 * n), hi_m = first_n(2 * n - 16);
      auto halves = [&](const float* row, __m512& left, __m512& right) {
        const __m512 a = _mm512_maskz_loadu_ps(lo_m, row + 2 * q),
                     b = _mm512_maskz_loadu_ps(hi_m, row + 2 * q + 16);
        left = _mm512_permutex2var_ps(a, even, b);
        right = _mm512_permutex2var_ps(a, odd, b);
      };
      __m512 c0, c1, c2, c3;
      halves(r0, c0, c1);
      halves(r1, c2, c3);
      const __m512i i0 = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int32_t>(2 * r * w + 2 * q)), lane2);
      __m512 best = c0;
      __m512i at = i0;
      const __m512 cand[3] = {c1, c2, c3};
      const int32_t step[3] = {1, static_cast<int32_t>(w), static_cast<int32_t>(w) + 1};
      for (int k = 0; k < 3; ++k) {
        const __mmask16 take = _mm512_cmp_ps_mask(cand[k], best, _CMP_GT_OQ) |
                               _mm512_cmp_ps_mask(cand[k], cand[k], _CMP_UNORD_Q);
        best = _mm512_mask_mov_ps(best, take, cand[k]);
        at = _mm512_mask_mov_epi32(at, take, _mm512_add_epi32(i0, _mm512_set1_epi32(step[k])));
      }
      const __mmask16 m = first_n(n);
      _mm512_mask_storeu_ps(y + r * ow + q, m, best);
      _mm512_mask_storeu_epi32(idx + r * ow + q, m, at);
    }
  }
#else
  for (int64_t r = 0; r < oh; ++r) {
    const float* r0 = x + 2 * r * w;
    const float* r1 = r0 + w;
    const int32_t row = static_cast<int32_t>(2 * r * w), next = static_cast<int32_t>(w);
    for (int64_t q = 0; q < ow; ++q) {
      const int32_t i0 = row + static_cast<int32_t>(2 * q);
      float best = r0[2 * q];
      int32_t at = i0;
      const float cand[3] = {r0[2 * q + 1], r1[2 * q], r1[2 * q + 1]};
      const int32_t where[3] = {i0 + 1, i0 + next, i0 + next + 1};
      for (int k = 0; k < 3; ++k) {
        const bool take = cand[k] > best || cand[k] != cand[k];
        best = take ? cand[k] : best;
        at = take ? where[k] : at;
      }
      y[r * ow + q] = best;
      idx[r * ow + q] = at;
    }
  }
#endif
}

// The gradient of max_pool_2x2 for one plane: each input of a window gets the window's gradient
// when it is the recorded maximum and 0 otherwise, written once (no zeroing, no scatter); rows
// and columns past the last window are 0.
void max_pool_2x2_grad(const float* g, const int32_t* idx, int64_t h, int64_t w, int64_t oh, int64_t ow,
                       float* dx) {
  for (int64_t r = 0; r < oh; ++r) {
    float* d0 = dx + 2 * r * w;
    float* d1 = d0 + w;
    int64_t q = 0;
#if defined(__AVX512F__)
    const __m512i zlo = _mm512_load_si512(kZipLo), zhi = _mm512_load_si512(kZipHi);
    const __m512i lane2 = _mm512_mullo_epi32(
        _mm512_set1_epi32(2), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    for (; q < ow; q += 16) {
      const int64_t n = std::min<int64_t>(16, ow - q);
      const __mmask16 m = first_n(n), lo_m = first_n(2 * n), hi_m = first_n(2 * n - 16);
      const __m512 gv = _mm512_maskz_loadu_ps(m, g + r * ow + q);
      const __m512i at = _mm512_maskz_loadu_epi32(m, idx + r * ow + q);
      const __m512i i0 = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int32_t>(2 * r * w + 2 * q)), lane2);
      auto pick = [&](int32_t step) {
        return _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(at, _mm512_add_epi32(i0, _mm512_set1_epi32(step))),
                                   gv);
      };
      const __m512 c0 = pick(0), c1 = pick(1), c2 = pick(static_cast<int32_t>(w)),
                   c3 = pick(static_cast<int32_t>(w) + 1);
      _mm512_mask_storeu_ps(d0 + 2 * q, lo_m, _mm512_permutex2var_ps(c0, zlo, c1));
      _mm512_mask_storeu_ps(d0 + 2 * q + 16, hi_m, _mm512_permutex2var_ps(c0, zhi, c1));
      _mm512_mask_storeu_ps(d1 + 2 * q, lo_m, _mm512_permutex2var_ps(c2, zlo, c3));
      _mm512_mask_storeu_ps(d1 + 2 * q + 16, hi_m, _mm512_permutex2var_ps(c2, zhi, c3));
    }
#endif
    for (; q < ow; ++q) {
      const int32_t i0 = static_cast<int32_t>(2 * r * w + 2 * q), at = idx[r * ow + q];
      const float gv = g[r * ow + q];
      d0[2 * q] = at == i0 ? gv : 0.f;
      d0[2 * q + 1] = at == i0 + 1 ? gv : 0.f;
      d1[2 * q] = at == i0 + static_cast<int32_t>(w) ? gv : 0.f;
      d1[2 * q + 1] = at == i0 + static_cast<int32_t>(w) + 1 ? gv : 0.f;
    }
    for (int64_t c = 2 * ow; c < w; ++c) d0[c] = d1[c] = 0.f;
  }
  std::fill(dx + 2 * oh * w, dx + h * w, 0.f);
}

// The argmax positions of a max pool, in a buffer from the tensor pool (a repeated step then
// allocates nothing, and nothing is zeroed first). int32_t and float have the same size.
struct Indices {
  std::shared_ptr<float[]> buffer;
  explicit Indices(int64_t n) : buffer(pool_allocate(std::max<int64_t>(n, 1))) {}
  int32_t* data() const { return reinterpret_cast<int32_t*>(buffer.get()); }
};
static_assert(sizeof(int32_t) == sizeof(float));

// Scatters each plane's output gradient to its recorded input positions.
Tensor scatter_grad(const Tensor& g, const Shape& in_shape, const Indices& idx, int64_t out_plane) {
  Tensor gx = Tensor::zeros(in_shape);
  const int64_t planes = in_shape[0] * in_shape[1], in_plane = in_shape[2] * in_shape[3];
  const float* gp = g.data();
  float* o = gx.data();
  const int32_t* ip = idx.data();
  parallel_for(0, planes, plane_grain(in_plane + out_plane), [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) {
      float* op = o + p * in_plane;
      for (int64_t j = 0; j < out_plane; ++j) op[ip[p * out_plane + j]] += gp[p * out_plane + j];
    }
  });
  return gx;
}

}  // namespace

Tensor max_pool2d(const Tensor& x, Size2d kernel, std::optional<Size2d> stride, Pad2d padding,
                  Size2d dilation, bool ceil_mode) {
  const PoolGeom g = pool_geometry("max_pool2d", x, kernel, stride, padding, dilation, ceil_mode);
  check(g.h * g.w <= std::numeric_limits<int32_t>::max(), "max_pool2d: plane ", g.h, "x", g.w,
        " is too large");
  Tensor y = Tensor::empty(nchw(x, g.oh, g.ow));
  const int64_t in_plane = g.h * g.w, out_plane = g.oh * g.ow;
  Indices idx(g.planes * out_plane);
  const bool plain_2x2 = kernel.h == 2 && kernel.w == 2 && g.stride.h == 2 && g.stride.w == 2 &&
                         dilation.h == 1 && dilation.w == 1 && padding.top == 0 && padding.left == 0 &&
                         2 * g.oh <= g.h && 2 * g.ow <= g.w;
  const float* xp = x.data();
  float* yp = y.data();
  int32_t* ip = idx.data();
  parallel_for(0, g.planes, plane_grain(in_plane + out_plane), [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p)
      if (plain_2x2)
        max_pool_2x2(xp + p * in_plane, g.w, g.oh, g.ow, yp + p * out_plane, ip + p * out_plane);
      else
        max_pool_plane(xp + p * in_plane, g, yp + p * out_plane, ip + p * out_plane);
  });
  return autograd::record(
      y, "max_pool2d", {x}, [idx = std::move(idx), g, plain_2x2](const Tensor& grad, autograd::Grads& gr) {
        const int64_t out_plane = g.oh * g.ow;
        if (!plain_2x2) {
          gr[0] = scatter_grad(grad, gr.input(0).shape(), idx, out_plane);
          return;
        }
        Tensor gx = Tensor::empty(gr.input(0).shape());
        const int64_t in_plane = g.h * g.w;
        const float* gp = grad.data();
        const int32_t* ip = idx.data();
        float* o = gx.data();
        parallel_for(0, g.planes, plane_grain(in_plane + out_plane), [&](int64_t lo, int64_t hi) {
          for (int64_t p = lo; p < hi; ++p)
            max_pool_2x2_grad(gp + p * out_plane, ip + p * out_plane, g.h, g.w, g.oh, g.ow, o + p * in_plane);
        });
        gr[0] = std::move(gx);
      });
}

Tensor avg_pool2d(const Tensor& x, Size2d kernel, std::optional<Size2d> stride, Pad2d padding, bool ceil_mode,
                  bool count_include_pad, std::optional<int64_t> divisor_override) {
  const PoolGeom g = pool_geometry("avg_pool2d", x, kernel, stride, padding, {1, 1}, ceil_mode);
  if (divisor_override) check(*divisor_override != 0, "avg_pool2d: divisor_override must not be 0");
  // Per output position (the same for every plane): the window clipped to the input and 1/divisor.
  // The divisor counts the window clipped to the padded input when count_include_pad (PyTorch
  // computes it before clipping to the image), the window clipped to the input otherwise.
  struct Window {
    int32_t h0, h1, w0, w1;
    float scale;
  };
  std::vector<Window> win(static_cast<size_t>(g.oh * g.ow));
  for (int64_t oh = 0; oh < g.oh; ++oh)
    for (int64_t ow = 0; ow < g.ow; ++ow) {
      int64_t h0 = oh * g.stride.h - padding.top, w0 = ow * g.stride.w - padding.left;
      int64_t h1 = std::min(h0 + kernel.h, g.h + padding.bottom),
              w1 = std::min(w0 + kernel.w, g.w + padding.right);
      const int64_t padded_area = (h1 - h0) * (w1 - w0);
      h0 = std::max<int64_t>(h0, 0), w0 = std::max<int64_t>(w0, 0);
      h1 = std::min(h1, g.h), w1 = std::min(w1, g.w);
      const int64_t area = std::max<int64_t>(h1 - h0, 0) * std::max<int64_t>(w1 - w0, 0);
      const int64_t divisor = divisor_override ? *divisor_override : count_include_pad ? padded_area : area;
      win[oh * g.ow + ow] = {static_cast<int32_t>(h0), static_cast<int32_t>(h1), static_cast<int32_t>(w0),
                             static_cast<int32_t>(w1), area > 0 ? 1.f / static_cast<float>(divisor) : 0.f};
    }
  Tensor y = Tensor::empty(nchw(x, g.oh, g.ow));
  const int64_t in_plane = g.h * g.w, out_plane = g.oh * g.ow, wd = g.w;
  const float* xp = x.data();
  float* yp = y.data();
  const int64_t per_plane = in_plane + out_plane * kernel.h * kernel.w;
  parallel_for(0, g.planes, plane_grain(per_plane), [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) {
      const float* xq = xp + p * in_plane;
      for (int64_t j = 0; j < out_plane; ++j) {
        const Window& v = win[j];
        float s = 0.f;
        for (int64_t ih = v.h0; ih < v.h1; ++ih)
          for (int64_t iw = v.w0; iw < v.w1; ++iw) s += xq[ih * wd + iw];
        yp[p * out_plane + j] = s * v.scale;
      }
    }
  });
  return autograd::record(
      y, "avg_pool2d", {x},
      [win = std::move(win), in_plane, out_plane, wd, per_plane](const Tensor& grad, autograd::Grads& gr) {
        const Shape& shape = gr.input(0).shape();
        Tensor gx = Tensor::zeros(shape);
        const float* gp = grad.data();
        float* o = gx.data();
        parallel_for(0, shape[0] * shape[1], plane_grain(per_plane), [&](int64_t lo, int64_t hi) {
          for (int64_t p = lo; p < hi; ++p) {
            float* oq = o + p * in_plane;
            for (int64_t j = 0; j < out_plane; ++j) {
              const Window& v = win[j];
              const float share = gp[p * out_plane + j] * v.scale;
              for (int64_t ih = v.h0; ih < v.h1; ++ih)
                for (int64_t iw = v.w0; iw < v.w1; ++iw) oq[ih * wd + iw] += share;
            }
          }
        });
        gr[0] = std::move(gx);
      });
}

Tensor adaptive_avg_pool2d(const Tensor& x, Size2d output) {
  check(x.defined() && x.dim() == 4, "adaptive_avg_pool2d: expected input [N, C, H, W], got ",
        x.defined() ? x.shape().str() : "an undefined tensor");
  check(output.h >= 1 && output.w >= 1, "adaptive_avg_pool2d: output size must be at least 1, got ", output.h,
        "x", output.w);
  const int64_t h = x.size(2), w = x.size(3);
  check(h >= 1 && w >= 1, "adaptive_avg_pool2d: input ", x.shape(), " has an empty plane");
  // Bin i of n over length L spans [⌊i·L/n⌋, ⌈(i+1)·L/n⌉).
  auto bins = [](int64_t len, int64_t n) {
    std::vector<int64_t> b(static_cast<size_t>(2 * n));
    for (int64_t i = 0; i < n; ++i) {
      b[2 * i] = i * len / n;
      b[2 * i + 1] = ((i + 1) * len + n - 1) / n;
    }
    return b;
  };
  const std::vector<int64_t> bh = bins(h, output.h), bw = bins(w, output.w);
  Tensor y = Tensor::empty(nchw(x, output.h, output.w));
  const int64_t planes = x.size(0) * x.size(1), in_plane = h * w, out_plane = output.h * output.w;
  const int64_t ow = output.w;
  const float* xp = x.data();
  float* yp = y.data();
  parallel_for(0, planes, plane_grain(2 * in_plane), [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) {
      const float* xq = xp + p * in_plane;
      for (int64_t i = 0; i < output.h; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          float s = 0.f;
          for (int64_t ih = bh[2 * i]; ih < bh[2 * i + 1]; ++ih)
            for (int64_t iw = bw[2 * j]; iw < bw[2 * j + 1]; ++iw) s += xq[ih * w + iw];
          const int64_t area = (bh[2 * i + 1] - bh[2 * i]) * (bw[2 * j + 1] - bw[2 * j]);
          yp[p * out_plane + i * ow + j] = s / static_cast<float>(area);
        }
    }
  });
  return autograd::record(
      y, "adaptive_avg_pool2d", {x},
      [bh, bw, in_plane, out_plane, w, oh = output.h, ow](const Tensor& grad, autograd::Grads& gr) {
        const Shape& shape = gr.input(0).shape();
        Tensor gx = Tensor::zeros(shape);
        const float* gp = grad.data();
        float* o = gx.data();
        parallel_for(0, shape[0] * shape[1], plane_grain(2 * in_plane), [&](int64_t lo, int64_t hi) {
          for (int64_t p = lo; p < hi; ++p)
            for (int64_t i = 0; i < oh; ++i)
              for (int64_t j = 0; j < ow; ++j) {
                const int64_t area = (bh[2 * i + 1] - bh[2 * i]) * (bw[2 * j + 1] - bw[2 * j]);
                const float share = gp[p * out_plane + i * ow + j] / static_cast<float>(area);
                for (int64_t ih = bh[2 * i]; ih < bh[2 * i + 1]; ++ih)
                  for (int64_t iw = bw[2 * j]; iw < bw[2 * j + 1]; ++iw)
                    o[p * in_plane + ih * w + iw] += share;
              }
        });
        gr[0] = std::move(gx);
      });
}

Tensor global_avg_pool2d(const Tensor& x) {
  check(x.defined() && x.dim() == 4, "global_avg_pool2d: expected input [N, C, H, W], got ",
        x.defined() ? x.shape().str() : "an undefined tensor");
  return adaptive_avg_pool2d(x, {1, 1}).reshape({x.size(0), x.size(1)});
}

Tensor global_max_pool2d(const Tensor& x) {
  check(x.defined() && x.dim() == 4, "global_max_pool2d: expected input [N, C, H, W], got ",
        x.defined() ? x.shape().str() : "an undefined tensor");
  check(x.size(2) >= 1 && x.size(3) >= 1, "global_max_pool2d: input ", x.shape(), " has an empty plane");
  const int64_t planes = x.size(0) * x.size(1), in_plane = x.size(2) * x.size(3);
  check(in_plane <= std::numeric_limits<int32_t>::max(), "global_max_pool2d: plane of ", in_plane,
        " values is too large");
  Tensor y = Tensor::empty({x.size(0), x.size(1)});
  Indices idx(planes);
  const float* xp = x.data();
  float* yp = y.data();
  int32_t* ip = idx.data();
  parallel_for(0, planes, plane_grain(in_plane), [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) {
      const float* xq = xp + p * in_plane;
      float best = -std::numeric_limits<float>::infinity();
      int64_t at = 0;
      for (int64_t i = 0; i < in_plane; ++i)
        if (xq[i] > best || std::isnan(xq[i])) {
          best = xq[i];
          at = i;
        }
      yp[p] = best;
      ip[p] = static_cast<int32_t>(at);
    }
  });
  return autograd::record(y, "global_max_pool2d", {x},
                          [idx = std::move(idx)](const Tensor& grad, autograd::Grads& gr) {
                            gr[0] = scatter_grad(grad, gr.input(0).shape(), idx, 1);
                          });
}

}  // namespace neurona::nn::functional
