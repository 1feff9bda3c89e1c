// fp32 GEMM on AVX-512F: C = alpha·op(A)·op(B) + beta·C, row-major, any shape.
//
// Blocking: op(B) is packed once per call into panels of 64 columns, [panel][k][64] floats with
// zeros past N (split over the pool by panels; a B that is not transposed is read in place when
// at most 12 rows use it). K is cut into blocks of at most kKC; one block of a panel (kc × 64
// floats, 32 KiB at kc = 128) stays in L1 while the micro-kernel walks down the rows of A. Each
// thread takes a block of C's rows (or of its panels, when there are few rows), kMC rows at a
// time. A not transposed is read in place (each tile row streams one row of A); a transposed A
// has its kc-wide slice packed into micro-panels of 6 rows ([k][6] floats), which stay in L2
// while the panels go by. The micro-kernel holds a 6 × 64 block of C in 24 zmm registers: per k
// it loads 4 vectors of B, broadcasts 6 values of A and issues 24 FMAs; edge blocks (fewer rows,
// fewer columns) have their own instances with a masked last vector.
//
// Sum order: acc = fma(A(i,k), B(k,j), acc) for k = 0, 1, …, K-1, starting from 0. Between K
// blocks the partial sum waits in C and the next block resumes from it (alpha = 1), so with
// alpha = 1 and beta = 0 every element is that plain chain — the direct loop's order — whatever
// the blocking, the thread count or the element's place in the tile. Only the first block reads
// C's old value (scaled by beta; beta = 0 never reads it).
//
// Only the kernels and packers below are compiled for AVX-512 (function attributes), and the
// driver calls them only when the CPU has AVX-512F, so the library still runs elsewhere.
#include "gemm_f32_avx512.hpp"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "neurona/core/threads.hpp"

#define NEURONA_AVX512 __attribute__((target("avx512f,fma")))
// The loops over a tile's rows and vectors are unrolled early (#pragma GCC unroll), so that the
// accumulator array becomes 24 registers; otherwise it stays in memory, stored on every k.

namespace neurona::kernels {
namespace {

constexpr int kMR = 6;             // rows of C per micro-kernel call
constexpr int kNV = 4;             // 16-float vectors of C per row of the tile
constexpr int64_t kNR = 16 * kNV;  // columns per panel
constexpr int64_t kKC = 128;       // K per block: a panel's block is kKC × kNR floats (L1)
constexpr int64_t kMC = 32 * kMR;  // rows of A packed at a time: kMC × kKC floats (L2)

inline __mmask16 first_n(int64_t n) {
  return n >= 16 ? __mmask16(0xffff) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}

// One micro-kernel call: a tile of MR rows × NV vectors of C.
struct Tile {
  const float* a;  // A(r, k) = a[r * a_row + k * a_k] (packed: a_row = 1, a_k = kMR)
  int64_t a_row, a_k;
  const float* b;  // B(k, j) = b[k * b_k + j]
  int64_t b_k, kc;
  float* c;
  int64_t ldc;
  __mmask16 last;  // columns of the last vector that exist
  bool first;      // the first K block: C's old value is scaled by beta, not resumed
  float alpha, beta;
};

template <bool Packed, int MR, int NV>
NEURONA_AVX512 void micro_kernel(const Tile& t) {
  const bool resume = !t.first && t.alpha == 1.f;
  __m512 acc[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      const float* c = t.c + r * t.ldc + 16 * v;
      acc[r][v] = !resume       ? _mm512_setzero_ps()
                  : v == NV - 1 ? _mm512_maskz_loadu_ps(t.last, c)
                                : _mm512_loadu_ps(c);
    }
  // Locals, not t's fields: the compiler must see that the loop's stores cannot change them, or
  // it keeps the accumulators in memory.
  const float* a = t.a;
  const float* b = t.b;
  const int64_t a_k = Packed ? kMR : t.a_k, b_k = t.b_k, kc = t.kc;
  const __mmask16 last = t.last;
  int64_t row[MR];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) row[r] = Packed ? r : r * t.a_row;
  for (int64_t k = 0; k < kc; ++k) {
    __m512 bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v)
      bv[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(last, b + 16 * v) : _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(a[row[r]]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
    }
    a += a_k;
    b += b_k;
  }
  // The same rounding steps as the direct loop's store: alpha·acc + beta·c, each product rounded.
  const bool plain = t.alpha == 1.f && t.beta == 0.f;
  const __m512 va = _mm512_set1_ps(t.alpha), vb = _mm512_set1_ps(t.beta);
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      float* c = t.c + r * t.ldc + 16 * v;
      const __mmask16 m = v == NV - 1 ? t.last : __mmask16(0xffff);
      __m512 x = acc[r][v];
      if (t.first) {
        if (!plain) {
          const __m512 old =
              t.beta == 0.f ? _mm512_setzero_ps() : _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m, c));
          x = _mm512_add_ps(_mm512_mul_ps(va, x), old);
        }
      } else if (!resume) {
        x = _mm512_add_ps(_mm512_maskz_loadu_ps(m, c), _mm512_mul_ps(va, x));
      }
      _mm512_mask_storeu_ps(c, m, x);
    }
}

using Kernel = void (*)(const Tile&);
template <bool Packed, int MR, int... V>
constexpr std::array<Kernel, kNV> kernel_row(std::integer_sequence<int, V...>) {
  return {&micro_kernel<Packed, MR, V + 1>...};
}
template <bool Packed, int... R>
constexpr std::array<std::array<Kernel, kNV>, kMR> kernel_table(std::integer_sequence<int, R...>) {
  return {kernel_row<Packed, R + 1>(std::make_integer_sequence<int, kNV>())...};
}
// [mr - 1][nv - 1]
constexpr auto kPackedKernels = kernel_table<true>(std::make_integer_sequence<int, kMR>());
constexpr auto kInPlaceKernels = kernel_table<false>(std::make_integer_sequence<int, kMR>());

// Rows [i0, i0 + mc) × columns [k0, k0 + kc) of op(A) -> micro-panels of kMR rows, [k][kMR] each,
// panel p at dst + p·kMR·kc. Rows past mc in the last panel are left as they are: the kernel for
// a short panel never reads them.
NEURONA_AVX512 void pack_a(bool ta, const float* A, int64_t lda, int64_t i0, int64_t mc, int64_t k0,
                           int64_t kc, float* dst) {
  for (int64_t p = 0; p < mc; p += kMR) {
    const int64_t mr = std::min<int64_t>(kMR, mc - p);
    float* d = dst + p * kc;
    if (ta) {  // A(i, k) = A[k * lda + i]: each k gives mr contiguous values
      const float* s = A + k0 * lda + i0 + p;
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t r = 0; r < mr; ++r) d[k * kMR + r] = s[k * lda + r];
    } else {
      const float* s = A + (i0 + p) * lda + k0;
      for (int64_t r = 0; r < mr; ++r)
        for (int64_t k = 0; k < kc; ++k) d[k * kMR + r] = s[r * lda + k];
    }
  }
}

// Index vectors for the 16 × 16 transpose: stage q swaps bit s = 8 >> q of the row index with the
// same bit of the column index, for each pair of rows (i, i + s).
struct TransposeIndex {
  alignas(64) int32_t lo[4][16];
  alignas(64) int32_t hi[4][16];
};
constexpr TransposeIndex make_transpose_index() {
  TransposeIndex t{};
  for (int q = 0; q < 4; ++q) {
    const int s = 8 >> q;
    for (int c = 0; c < 16; ++c) {
      t.lo[q][c] = (c & s) ? 16 + c - s : c;  // row i keeps its own low half, takes row i+s's
      t.hi[q][c] = (c & s) ? 16 + c : c + s;  // row i+s takes row i's high half, keeps its own
    }
  }
  return t;
}
constexpr TransposeIndex kTransposeIndex = make_transpose_index();

NEURONA_AVX512 inline void transpose16(__m512 (&r)[16]) {
#pragma GCC unroll 4
  for (int q = 0; q < 4; ++q) {
    const int s = 8 >> q;
    const __m512i lo = _mm512_load_si512(kTransposeIndex.lo[q]),
                  hi = _mm512_load_si512(kTransposeIndex.hi[q]);
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i)
      if (!(i & s)) {
        const __m512 x = r[i], y = r[i + s];
        r[i] = _mm512_permutex2var_ps(x, lo, y);
        r[i + s] = _mm512_permutex2var_ps(x, hi, y);
      }
  }
}

// Panels [p0, p1) of op(B) -> [panel][k][kNR] floats at bp, zeros past column N.
NEURONA_AVX512 void pack_b(bool tb, const float* B, int64_t ldb, int64_t N, int64_t K, int64_t p0, int64_t p1,
                           float* bp) {
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t j0 = p * kNR, ncols = std::min(kNR, N - j0);
    float* d = bp + p * K * kNR;
    if (!tb) {
      for (int64_t k = 0; k < K; ++k)
        for (int v = 0; v < kNV; ++v)
          _mm512_store_ps(d + k * kNR + 16 * v,
                          _mm512_maskz_loadu_ps(first_n(ncols - 16 * v), B + k * ldb + j0 + 16 * v));
      continue;
    }
    // B(k, j) = B[j * ldb + k]: 16 columns × 16 k at a time, transposed in registers.
    for (int v = 0; v < kNV; ++v) {
      const int64_t cols = std::min<int64_t>(16, ncols - 16 * v);
      const float* s = B + (j0 + 16 * v) * ldb;
      for (int64_t k = 0; k < K; k += 16) {
        const __mmask16 m = first_n(K - k);
        __m512 r[16];
#pragma GCC unroll 16
        for (int c = 0; c < 16; ++c)
          r[c] = c < cols ? _mm512_maskz_loadu_ps(m, s + c * ldb + k) : _mm512_setzero_ps();
        transpose16(r);
        if (K - k >= 16) {
#pragma GCC unroll 16
          for (int kk = 0; kk < 16; ++kk) _mm512_store_ps(d + (k + kk) * kNR + 16 * v, r[kk]);
        } else {
          for (int64_t kk = 0; kk < K - k; ++kk) _mm512_store_ps(d + (k + kk) * kNR + 16 * v, r[kk]);
        }
      }
    }
  }
}

float* aligned(std::vector<float>& v, int64_t n) {
  if (v.size() < size_t(n + 16)) v.resize(size_t(n + 16));
  const auto p = reinterpret_cast<uintptr_t>(v.data());
  return reinterpret_cast<float*>((p + 63) & ~uintptr_t(63));
}

template <class F>
void run(int threads, int64_t n, F&& fn) {
  if (threads == 1)
    fn(int64_t(0), n);
  else
    parallel_for(0, n, 1, fn);
}

struct Problem {
  bool ta;
  int64_t M, N, K;
  float alpha;
  const float* A;
  int64_t lda;
  const float* B;  // op(B) packed ([panel][k][kNR]) or, when bp is null, as given (not transposed)
  int64_t ldb;
  const float* bp;
  float beta;
  float* C;
  int64_t ldc, kc_max;
};

// C's rows [r0, r1) × panels [q0, q1).
void block(const Problem& P, int64_t r0, int64_t r1, int64_t q0, int64_t q1) {
  Tile t{};
  t.ldc = P.ldc;
  t.alpha = P.alpha;
  t.beta = P.beta;
  // A not transposed is read in place: each row of the tile is a row of A, read forward. A
  // transposed is packed when several panels reuse it: in place, a tile reads one float group per
  // row of the stored A, rows lda apart, and with a power-of-two lda those all fall in the same
  // few L1 sets.
  const bool pack = P.ta && q1 - q0 > 2;
  thread_local std::vector<float> abuf;
  float* ap = pack ? aligned(abuf, kMC * P.kc_max) : nullptr;
  t.a_row = P.ta ? 1 : P.lda;
  t.a_k = P.ta ? P.lda : 1;
  for (int64_t ic = r0; ic < r1; ic += kMC) {
    const int64_t mc = std::min(kMC, r1 - ic);
    for (int64_t pc = 0; pc < P.K; pc += P.kc_max) {
      const int64_t kc = std::min(P.kc_max, P.K - pc);
      if (pack) pack_a(P.ta, P.A, P.lda, ic, mc, pc, kc, ap);
      t.kc = kc;
      t.first = pc == 0;
      for (int64_t q = q0; q < q1; ++q) {
        const int64_t j0 = q * kNR, ncols = std::min(kNR, P.N - j0), nv = (ncols + 15) / 16;
        t.last = first_n(ncols - 16 * (nv - 1));
        t.b = P.bp ? P.bp + (q * P.K + pc) * kNR : P.B + pc * P.ldb + j0;
        t.b_k = P.bp ? kNR : P.ldb;
        for (int64_t i = 0; i < mc; i += kMR) {
          const int64_t mr = std::min<int64_t>(kMR, mc - i);
          t.c = P.C + (ic + i) * P.ldc + j0;
          if (pack) {
            t.a = ap + i * kc;
            kPackedKernels[mr - 1][nv - 1](t);
          } else {
            t.a = P.ta ? P.A + pc * P.lda + ic + i : P.A + (ic + i) * P.lda + pc;
            kInPlaceKernels[mr - 1][nv - 1](t);
          }
        }
      }
    }
  }
}

}  // namespace

bool f32_avx512_supported() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}

bool gemm_f32_avx512(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                     int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
                     int threads) {
  if (!f32_avx512_supported() || M <= 0 || N <= 0 || K <= 0) return false;
  threads = std::max(1, threads);
  const int64_t panels = (N + kNR - 1) / kNR, row_panels = (M + kMR - 1) / kMR;
  const int64_t k_blocks = (K + kKC - 1) / kKC;
  Problem P{ta, M, N, K, alpha, A, lda, B, ldb, nullptr, beta, C, ldc, (K + k_blocks - 1) / k_blocks};
  // A transposed B must be packed; one that is not is read in place when few rows reuse it.
  if (tb || M > 2 * kMR) {
    thread_local std::vector<float> bbuf;
    float* bp = aligned(bbuf, panels * K * kNR);
    run(threads, panels, [&](int64_t lo, int64_t hi) { pack_b(tb, B, ldb, N, K, lo, hi, bp); });
    P.bp = bp;
  }
  // One block of C per thread: by rows when there are enough, else by panels.
  int64_t tm = 1, tn = 1;
  if (threads > 1) {
    if (row_panels >= 8 * threads || panels < threads)
      tm = std::min<int64_t>(threads, row_panels);
    else
      tn = threads;
  }
  run(threads, tm * tn, [&](int64_t lo, int64_t hi) {
    for (int64_t task = lo; task < hi; ++task) {
      const int64_t ti = task / tn, tj = task % tn;
      const int64_t r0 = kMR * (row_panels * ti / tm), r1 = std::min(M, kMR * (row_panels * (ti + 1) / tm));
      block(P, r0, r1, panels * tj / tn, panels * (tj + 1) / tn);
    }
  });
  return true;
}

}  // namespace neurona::kernels
