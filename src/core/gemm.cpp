// GEMM dispatch: tiny products run a direct loop, bf16 mode goes to the AVX-512 BF16 kernel
// (gemm_bf16.cpp), fp32 to Neurona's AVX-512 kernel (gemm_f32_avx512.cpp) on CPUs with AVX-512F
// and otherwise to single-threaded OpenBLAS calls; both are split by blocks of C over Neurona's
// own thread pool. One pool for everything: OpenBLAS's threads spin after each call and
// fought the pool for the two cores (see docs/ARCHITECTURE.md, "Performance").
#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#if defined(__FMA__)
#include <immintrin.h>
#endif

#include "gemm_bf16.hpp"
#include "gemm_f32_avx512.hpp"
#include "neurona/core/error.hpp"
#include "neurona/core/kernels.hpp"
#include "neurona/core/precision.hpp"
#include "neurona/core/threads.hpp"

namespace neurona {
namespace kernels {
namespace {

// Below this many multiply-adds a plain loop beats the BLAS call's fixed overhead
// (measured with bench/gemm_libraries on the Playground and small-batch shapes).
constexpr int64_t kDirectLimit = 4096;
// Products smaller than this stay on one thread: waking the pool costs more than it saves.
constexpr int64_t kSplitLimit = int64_t(1) << 20;

std::atomic<bool> g_bf16{false};
std::atomic<bool> g_avx512{true};  // products above the direct loop may use the AVX-512 kernel
// Set when bf16 mode first sends a product to fp32 (too small for the bf16 kernel), so the user
// hears once that part of the model runs in fp32; cleared when bf16 is switched on.
std::atomic<bool> g_bf16_fallback_said{false};

void say_bf16_fallback(int64_t M, int64_t N, int64_t K) {
  if (g_bf16_fallback_said.exchange(true, std::memory_order_relaxed)) return;
  std::fprintf(
      stderr,
      "neurona: bf16-mixed: matmuls too small for the bf16 kernel run in fp32 (the first: M x N x K = "
      "%lld x %lld x %lld); said once\n",
      static_cast<long long>(M), static_cast<long long>(N), static_cast<long long>(K));
}

// Eight floats as one value (GCC/Clang vector extension): one AVX register, or two SSE ones.
typedef float Float8 __attribute__((vector_size(32)));

// acc + a·b. With FMA hardware both forms round once (fused), without it both round twice: the
// compiler fuses scalar code on its own but not vector-extension code, and a C element must get
// the same bits whichever path (vector block, scalar tail, row group) computes it — a row's
// prediction must not depend on the batch it is in.
inline float madd(float acc, float a, float b) {
#if defined(__FMA__)
  return std::fma(a, b, acc);
#else
  return acc + a * b;
#endif
}
inline Float8 madd(Float8 acc, float a, Float8 b) {
#if defined(__FMA__)
  return _mm256_fmadd_ps(_mm256_set1_ps(a), b, acc);
#else
  return acc + a * b;
#endif
}

// Rows i0 … i0+R-1 of the direct product (see gemm_direct). R independent sums per column block
// keep the adder busy: one running sum alone waits on the previous addition at every k.
template <int R>
void direct_rows(int64_t i0, int64_t N, int64_t K, float alpha, const float* A, int64_t a_row, int64_t a_k,
                 const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  const bool plain = alpha == 1.f && beta == 0.f;
  auto store = [&](float* c, float acc) { *c = plain ? acc : alpha * acc + (beta == 0.f ? 0.f : beta * *c); };
  const float* a = A + i0 * a_row;  // A(i0+r, k) = a[r * a_row + k * a_k]
  const int64_t n8 = N / 8 * 8;
  for (int64_t j0 = 0; j0 < n8; j0 += 8) {
    Float8 acc[R] = {};
    for (int64_t k = 0; k < K; ++k) {
      Float8 b;
      std::memcpy(&b, B + k * ldb + j0, sizeof b);
      for (int r = 0; r < R; ++r) acc[r] = madd(acc[r], a[r * a_row + k * a_k], b);
    }
    for (int r = 0; r < R; ++r) {
      float* c = C + (i0 + r) * ldc + j0;
      if (plain) {
        std::memcpy(c, &acc[r], sizeof acc[r]);  // one vector store, so the next op's vector load
        continue;                                // of C can forward from it
      }
      float out[8];
      std::memcpy(out, &acc[r], sizeof out);
      for (int j = 0; j < 8; ++j) store(c + j, out[j]);
    }
  }
  for (int64_t j = n8; j < N; ++j) {  // the last N mod 8 columns (all of them when N < 8)
    float acc[R] = {};
    for (int64_t k = 0; k < K; ++k) {
      const float b = B[k * ldb + j];
      for (int r = 0; r < R; ++r) acc[r] = madd(acc[r], a[r * a_row + k * a_k], b);
    }
    for (int r = 0; r < R; ++r) store(C + (i0 + r) * ldc + j, acc[r]);
  }
}

// The direct loop for tiny products (Playground layers: K or N of 1, 2 or 8). C is built 8
// columns at a time in Float8 accumulators, 4 rows at once: acc[j] += A(i,k)·B(k,j) for k = 0,
// 1, …, K-1, the order of a plain dot product, whatever the transposes. A transposed B is first
// copied into Bᵀ (K·N floats, at most kDirectLimit since M ≥ 1) so those 8 columns are
// contiguous. α and β are applied once per element at the store, not inside the loop.
void gemm_direct(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                 const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  float packed[kDirectLimit];
  if (tb) {
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j) packed[k * N + j] = B[j * ldb + k];
    B = packed;
    ldb = N;
  }
  const int64_t a_row = ta ? 1 : lda, a_k = ta ? lda : 1;  // A(i,k) = A[i * a_row + k * a_k]
  int64_t i = 0;
  for (; i + 4 <= M; i += 4) direct_rows<4>(i, N, K, alpha, A, a_row, a_k, B, ldb, beta, C, ldc);
  for (; i < M; ++i) direct_rows<1>(i, N, K, alpha, A, a_row, a_k, B, ldb, beta, C, ldc);
}

void blas(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), alpha, A, static_cast<int>(lda),
              B, static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  const int64_t work = M * N * K;
  const bool bf16 = g_bf16.load(std::memory_order_relaxed);
  if (K == 0 || work <= kDirectLimit) {
    if (bf16 && K > 0) say_bf16_fallback(M, N, K);
    gemm_direct(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  if (bf16) {
    if (gemm_bf16(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)) return;
    say_bf16_fallback(M, N, K);
  }
  if (g_avx512.load(std::memory_order_relaxed) &&
      gemm_f32_avx512(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
                      work < kSplitLimit ? 1 : num_threads()))
    return;
  if (work < kSplitLimit || num_threads() == 1) {
    blas(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  // Split the larger of C's two dimensions into one block per thread (multiples of 16).
  const int parts = num_threads();
  const bool by_rows = M >= N;
  const int64_t len = by_rows ? M : N;
  const int64_t block = std::max<int64_t>(16, (len / parts + 15) / 16 * 16);
  parallel_for(0, (len + block - 1) / block, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) {
      const int64_t s = b * block, n = std::min(block, len - s);
      if (by_rows)
        blas(trans_a, trans_b, n, N, K, alpha, trans_a ? A + s : A + s * lda, lda, B, ldb, beta, C + s * ldc,
             ldc);
      else
        blas(trans_a, trans_b, M, n, K, alpha, A, lda, trans_b ? B + s * ldb : B + s, ldb, beta, C + s, ldc);
    }
  });
}

const char* gemm_library() {
  return g_avx512.load() && f32_avx512_supported()
             ? "Neurona AVX-512 fp32 kernel, split over Neurona's pool (OpenBLAS on CPUs without AVX-512F)"
             : "OpenBLAS (one thread per call, split over Neurona's pool)";
}

bool use_avx512_gemm(bool on) {
  g_avx512 = on;
  return on && f32_avx512_supported();
}

// OpenBLAS's own thread server (absent from its serial build, hence the weak reference): the
// threads it starts when the library loads keep calling sched_yield for a while.
extern "C" int blas_thread_shutdown_(void) __attribute__((weak));

// OpenBLAS always runs single-threaded inside Neurona; the pool provides the parallelism, so
// OpenBLAS's idle threads are stopped (it starts them again itself if a caller asks it for more).
void keep_gemm_library_single_threaded() {
  openblas_set_num_threads(1);
  if (blas_thread_shutdown_) blas_thread_shutdown_();
}

namespace {
// At start-up too, not only when the pool is first used: a small model whose ops all run inline
// never builds the pool, and OpenBLAS's threads then spun in sched_yield for the whole run (one
// core busy in a 20,000-step `neurona train` of W4).
const bool g_gemm_library_single_threaded = (keep_gemm_library_single_threaded(), true);
}  // namespace

}  // namespace kernels

bool cpu_has_bf16() { return kernels::bf16_supported(); }

bool set_matmul_precision(const std::string& p) {
  if (p == "fp32" || p == "32" || p == "32-true" || p == "highest" || p == "float32") {
    kernels::g_bf16 = false;
    return true;
  }
  check(p == "bf16" || p == "bf16-mixed" || p == "medium" || p == "bfloat16", "set_matmul_precision: '", p,
        "' is not one of fp32, bf16 (bf16-mixed)");
  if (!kernels::bf16_supported()) {
    std::fprintf(stderr,
                 "neurona: bf16 matmuls need a CPU with AVX-512 BF16 (and a build with -march=native); "
                 "continuing in fp32\n");
    kernels::g_bf16 = false;
    return false;
  }
  kernels::g_bf16 = true;
  kernels::g_bf16_fallback_said = false;
  return true;
}

std::string matmul_precision() { return kernels::g_bf16 ? "bf16" : "fp32"; }

}  // namespace neurona
