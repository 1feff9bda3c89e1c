// conv2d's direct forward for stride 1 and one group on AVX-512F. The input of a sample is copied
// into zero-padded planes of hp × wp floats (wp = W + left + right), laid end to end. Output
// pixel (oh, ow) is computed at the flat position q = oh·wp + ow of a [O, OH·wp] scratch: its tap
// (i, j) of channel c reads xpad[c·plane + q + i·dh·wp + j·dw], so 16 consecutive q are one
// unaligned load per tap, and no im2col is built. Positions with ow ≥ OW (and past OH·wp) are
// computed too and dropped when the scratch is copied out. The micro-kernel holds 8 output
// channels × up to 3 vectors in 24 zmm registers; per tap it loads the vectors, broadcasts 8
// weights and issues the FMAs.
//
// Sum order: acc = fma(w[o, c, i, j], x, acc) over c, i, j in that order from 0 — the order of
// im2col + GEMM (K index (c·kh + i)·kw + j), so both paths give the same bits.
#include "conv_direct_avx512.hpp"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#define NEURONA_AVX512 __attribute__((target("avx512f,fma")))

namespace neurona::nn::functional::detail {

std::atomic<bool> g_direct_on{true};

namespace {

constexpr int kOB = 8;  // output channels per micro-kernel call
constexpr int kVB = 3;  // 16-float vectors per micro-kernel call

bool cpu_ok() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}

template <int VB>
NEURONA_AVX512 void micro(const DirectConv& p, const float* xpad, const float* wblk, const int64_t* toff,
                          int64_t q0, float* out) {
  __m512 acc[kOB][VB];
#pragma GCC unroll 8
  for (int r = 0; r < kOB; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < VB; ++v) acc[r][v] = _mm512_setzero_ps();
  const int64_t taps = p.kh * p.kw;
  for (int64_t c = 0; c < p.c; ++c) {
    const float* xc = xpad + c * p.plane + q0;
    const float* wc = wblk + c * taps * kOB;
    for (int64_t t = 0; t < taps; ++t) {
      const float* xt = xc + toff[t];
      const float* wt = wc + t * kOB;
      __m512 xv[VB];
#pragma GCC unroll 4
      for (int v = 0; v < VB; ++v) xv[v] = _mm512_loadu_ps(xt + 16 * v);
#pragma GCC unroll 8
      for (int r = 0; r < kOB; ++r) {
        const __m512 wb = _mm512_set1_ps(wt[r]);
#pragma GCC unroll 4
        for (int v = 0; v < VB; ++v) acc[r][v] = _mm512_fmadd_ps(wb, xv[v], acc[r][v]);
      }
    }
  }
  const int64_t ld = p.nv * 16;
#pragma GCC unroll 8
  for (int r = 0; r < kOB; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < VB; ++v) _mm512_storeu_ps(out + r * ld + q0 + 16 * v, acc[r][v]);
}

}  // namespace

bool direct_conv_enabled() { return cpu_ok() && g_direct_on.load(std::memory_order_relaxed); }

}  // namespace neurona::nn::functional::detail

namespace neurona::nn::functional {

bool use_direct_conv(bool on) {
  detail::g_direct_on = on;
  return detail::direct_conv_enabled();
}

}  // namespace neurona::nn::functional

namespace neurona::nn::functional::detail {

DirectConv direct_conv_plan(int64_t c, int64_t h, int64_t w, int64_t o, int64_t kh, int64_t kw, int64_t dh,
                            int64_t dw, int64_t top, int64_t bottom, int64_t left, int64_t right) {
  DirectConv p{};
  p.c = c, p.h = h, p.w = w, p.o = o, p.kh = kh, p.kw = kw, p.dh = dh, p.dw = dw, p.top = top, p.left = left;
  p.hp = h + top + bottom, p.wp = w + left + right;
  p.oh = p.hp - dh * (kh - 1), p.ow = p.wp - dw * (kw - 1);
  p.plane = p.hp * p.wp;
  p.nv = (p.oh * p.wp + 15) / 16;
  const int64_t max_off = dh * (kh - 1) * p.wp + dw * (kw - 1);
  // The last vectors read past the last plane by at most 16·nv − OH·wp + max_off floats.
  p.xpad_floats = c * p.plane + 16 * p.nv + max_off + 16;
  p.out_floats = kOB * 16 * p.nv;
  p.packed_floats = (o + kOB - 1) / kOB * c * kh * kw * kOB;
  return p;
}

void direct_conv_pack(const DirectConv& p, const float* weight, float* packed) {
  const int64_t taps = p.kh * p.kw, blocks = (p.o + kOB - 1) / kOB;
  for (int64_t b = 0; b < blocks; ++b)
    for (int64_t c = 0; c < p.c; ++c)
      for (int64_t t = 0; t < taps; ++t)
        for (int r = 0; r < kOB; ++r) {
          const int64_t o = b * kOB + r;
          packed[((b * p.c + c) * taps + t) * kOB + r] = o < p.o ? weight[(o * p.c + c) * taps + t] : 0.f;
        }
}

void direct_conv_sample(const DirectConv& p, const float* x, const float* packed, float* xpad, float* out,
                        float* y) {
  std::fill(xpad, xpad + p.xpad_floats, 0.f);
  for (int64_t c = 0; c < p.c; ++c)
    for (int64_t r = 0; r < p.h; ++r)
      std::memcpy(xpad + c * p.plane + (r + p.top) * p.wp + p.left, x + (c * p.h + r) * p.w,
                  static_cast<size_t>(p.w) * sizeof(float));
  int64_t toff[64];
  const int64_t taps = p.kh * p.kw;
  for (int64_t i = 0; i < p.kh; ++i)
    for (int64_t j = 0; j < p.kw; ++j) toff[i * p.kw + j] = i * p.dh * p.wp + j * p.dw;
  const int64_t blocks = (p.o + kOB - 1) / kOB, ld = 16 * p.nv;
  for (int64_t b = 0; b < blocks; ++b) {
    const float* wblk = packed + b * p.c * taps * kOB;
    int64_t v = 0;
    for (; v + kVB <= p.nv; v += kVB) micro<kVB>(p, xpad, wblk, toff, 16 * v, out);
    if (p.nv - v == 2) micro<2>(p, xpad, wblk, toff, 16 * v, out);
    if (p.nv - v == 1) micro<1>(p, xpad, wblk, toff, 16 * v, out);
    const int64_t o_end = std::min<int64_t>(p.o, (b + 1) * kOB);
    for (int64_t o = b * kOB; o < o_end; ++o)
      for (int64_t r = 0; r < p.oh; ++r)
        std::memcpy(y + (o * p.oh + r) * p.ow, out + (o - b * kOB) * ld + r * p.wp,
                    static_cast<size_t>(p.ow) * sizeof(float));
  }
}

}  // namespace neurona::nn::functional::detail
