// bf16 GEMM with fp32 accumulation on AVX-512 BF16 (vdpbf16ps), for set_matmul_precision("bf16").
//
// A is rounded to bf16 row by row (K contiguous, padded to an even K). B is rounded and packed in
// panels of 64 columns where each k-pair row holds, per column, the two bf16 values B[2p, j] and
// B[2p+1, j] side by side: one vdpbf16ps then multiplies a broadcast pair of A by 16 columns and
// adds both products into fp32. The micro-kernel keeps a 6 x 64 block of C in 24 registers.
// Threads split the (panel, row block) tasks through Neurona's pool.
#include "gemm_bf16.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "neurona/core/threads.hpp"

#if defined(__AVX512BF16__) && defined(__AVX512BW__) && defined(__AVX512F__)
#include <immintrin.h>

namespace neurona::kernels {
namespace {

constexpr int kNR = 4;                   // 16-column vectors per panel
constexpr int64_t kPanel = 16 * kNR;     // columns per panel
constexpr int kMR = 6;                   // rows per micro-kernel call
constexpr int64_t kRowChunk = 16 * kMR;  // rows per task

// Round to nearest even, as the vector conversion does.
inline uint16_t to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

// n contiguous floats -> n bf16 values.
void round_row(const float* src, int64_t n, uint16_t* dst) {
  int64_t k = 0;
  for (; k + 32 <= n; k += 32) {
    const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + k + 16), _mm512_loadu_ps(src + k));
    _mm512_storeu_si512(dst + k, reinterpret_cast<const __m512i&>(v));
  }
  for (; k < n; ++k) dst[k] = to_bf16(src[k]);
}

inline uint32_t load_pair(const uint16_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

template <int MR>
void micro_kernel(const uint16_t* a, int64_t kp2, int64_t pairs, const uint16_t* panel, float* C, int64_t ldc,
                  int64_t ncols, float alpha, float beta) {
  __m512 acc[MR][kNR];
  for (int r = 0; r < MR; ++r)
    for (int c = 0; c < kNR; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int64_t p = 0; p < pairs; ++p) {
    __m512bh b[kNR];
    for (int c = 0; c < kNR; ++c) {
      const __m512i v = _mm512_loadu_si512(panel + (p * kPanel + 16 * c) * 2);
      b[c] = reinterpret_cast<const __m512bh&>(v);
    }
    for (int r = 0; r < MR; ++r) {
      const __m512i ai = _mm512_set1_epi32(static_cast<int>(load_pair(a + r * kp2 + 2 * p)));
      const __m512bh av = reinterpret_cast<const __m512bh&>(ai);
      for (int c = 0; c < kNR; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], av, b[c]);
    }
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  for (int r = 0; r < MR; ++r)
    for (int c = 0; c < kNR; ++c) {
      const int64_t col = 16 * c;
      if (col >= ncols) break;
      const __mmask16 m = ncols - col >= 16 ? __mmask16(0xffff) : __mmask16((1u << (ncols - col)) - 1);
      float* dst = C + r * ldc + col;
      __m512 v = _mm512_mul_ps(acc[r][c], va);
      if (beta != 0.f) v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, dst), vb, v);
      _mm512_mask_storeu_ps(dst, m, v);
    }
}

using Kernel = void (*)(const uint16_t*, int64_t, int64_t, const uint16_t*, float*, int64_t, int64_t, float,
                        float);
constexpr Kernel kKernels[kMR + 1] = {nullptr,         micro_kernel<1>, micro_kernel<2>, micro_kernel<3>,
                                      micro_kernel<4>, micro_kernel<5>, micro_kernel<6>};

// Rows [i0, i1) of A -> bf16 rows of kp2 values (the last one 0 when K is odd).
void pack_a(bool ta, const float* A, int64_t lda, int64_t K, int64_t kp2, int64_t i0, int64_t i1,
            uint16_t* abf) {
  if (!ta) {
    for (int64_t i = i0; i < i1; ++i) {
      round_row(A + i * lda, K, abf + i * kp2);
      if (kp2 != K) abf[i * kp2 + K] = 0;
    }
    return;
  }
  // A[i, k] = A[k * lda + i]: walk A's rows, writing columns of abf, 64 rows of abf at a time so
  // the cache lines being filled stay in L1.
  for (int64_t b0 = i0; b0 < i1; b0 += 64) {
    const int64_t b1 = std::min(i1, b0 + 64);
    for (int64_t k = 0; k < K; ++k) {
      const float* src = A + k * lda;
      for (int64_t i = b0; i < b1; ++i) abf[i * kp2 + k] = to_bf16(src[i]);
    }
    if (kp2 != K)
      for (int64_t i = b0; i < b1; ++i) abf[i * kp2 + K] = 0;
  }
}

// Panels [p0, p1) of B -> [panel][pair][64 columns][2] bf16, zero-padded past N and K.
void pack_b(bool tb, const float* B, int64_t ldb, int64_t N, int64_t K, int64_t pairs, int64_t p0, int64_t p1,
            uint16_t* bp) {
  const int64_t kp2 = 2 * pairs;
  if (p1 * kPanel > N)  // the last panel is partly padding
    std::fill(bp + (p1 - 1) * pairs * kPanel * 2, bp + p1 * pairs * kPanel * 2, uint16_t(0));
  if (tb) {  // B[k, j] = B[j * ldb + k]: each row of the stored matrix is one column of B
    thread_local std::vector<uint16_t> row;
    if (row.size() < size_t(kp2)) row.resize(kp2);
    for (int64_t j = p0 * kPanel; j < std::min(N, p1 * kPanel); ++j) {
      round_row(B + j * ldb, K, row.data());
      if (kp2 != K) row[K] = 0;
      uint16_t* dst = bp + ((j / kPanel) * pairs * kPanel + j % kPanel) * 2;
      for (int64_t p = 0; p < pairs; ++p) std::memcpy(dst + p * kPanel * 2, row.data() + 2 * p, 4);
    }
    return;
  }
  // Interleave rows 2p and 2p+1, 16 columns at a time.
  alignas(64) static const uint16_t order[32] = {0,  16, 1,  17, 2,  18, 3,  19, 4,  20, 5,
                                                 21, 6,  22, 7,  23, 8,  24, 9,  25, 10, 26,
                                                 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  const __m512i idx = _mm512_load_si512(order);
  const int64_t j1 = std::min(N, p1 * kPanel);
  for (int64_t p = 0; p < pairs; ++p) {
    const float* r0 = B + (2 * p) * ldb;
    const float* r1 = 2 * p + 1 < K ? B + (2 * p + 1) * ldb : nullptr;
    for (int64_t j = p0 * kPanel; j < j1; j += 16) {
      const __mmask16 m = j1 - j >= 16 ? __mmask16(0xffff) : __mmask16((1u << (j1 - j)) - 1);
      const __m512 lo = _mm512_maskz_loadu_ps(m, r0 + j);
      const __m512 hi = r1 ? _mm512_maskz_loadu_ps(m, r1 + j) : _mm512_setzero_ps();
      const __m512bh v = _mm512_cvtne2ps_pbh(hi, lo);
      const __m512i w = _mm512_permutexvar_epi16(idx, reinterpret_cast<const __m512i&>(v));
      _mm512_storeu_si512(bp + ((j / kPanel) * pairs * kPanel + p * kPanel + j % kPanel) * 2, w);
    }
  }
}

}  // namespace

bool bf16_supported() { return __builtin_cpu_supports("avx512bf16"); }

bool gemm_bf16(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M < kMR || N < 32 || K < 16 || M * N * K < (int64_t(1) << 20)) return false;
  const int64_t kp2 = (K + 1) / 2 * 2;  // K padded to even
  const int64_t pairs = kp2 / 2;
  const int64_t panels = (N + kPanel - 1) / kPanel;
  // Scratch reused across calls, so the steady state does not allocate.
  thread_local std::vector<uint16_t> abf, bpack;
  if (abf.size() < size_t(M * kp2)) abf.resize(M * kp2);
  if (bpack.size() < size_t(panels * pairs * kPanel * 2)) bpack.resize(panels * pairs * kPanel * 2);

  // Rounding and packing the operands is split over the pool too (by rows of A, by panels of B):
  // serial, it was a third of the call's time on two threads.
  uint16_t* ap = abf.data();
  parallel_for(0, M, 64, [&](int64_t lo, int64_t hi) { pack_a(ta, A, lda, K, kp2, lo, hi, ap); });
  uint16_t* bp = bpack.data();
  parallel_for(0, panels, 1, [&](int64_t lo, int64_t hi) { pack_b(tb, B, ldb, N, K, pairs, lo, hi, bp); });

  const int64_t chunks = (M + kRowChunk - 1) / kRowChunk;
  const uint16_t* a = abf.data();
  parallel_for(0, panels * chunks, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t panel = t / chunks, m0 = (t % chunks) * kRowChunk, m1 = std::min(M, m0 + kRowChunk);
      const int64_t j0 = panel * kPanel, ncols = std::min(kPanel, N - j0);
      const uint16_t* pp = bp + panel * pairs * kPanel * 2;
      for (int64_t i = m0; i < m1; i += kMR) {
        const int mr = static_cast<int>(std::min<int64_t>(kMR, m1 - i));
        kKernels[mr](a + i * kp2, kp2, pairs, pp, C + i * ldc + j0, ldc, ncols, alpha, beta);
      }
    }
  });
  return true;
}

}  // namespace neurona::kernels

#else  // no AVX-512 BF16 in this build

namespace neurona::kernels {
bool bf16_supported() { return false; }
bool gemm_bf16(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
               float, float*, int64_t) {
  return false;
}
}  // namespace neurona::kernels

#endif
