// GEMM dispatch: tiny products run a direct loop, bf16 mode goes to the AVX-512 BF16 kernel
// (gemm_bf16.cpp), the rest to single-threaded OpenBLAS calls that Neurona's own thread pool
// splits by blocks of C. One pool for everything: OpenBLAS's threads spin after each call and
// fought the pool for the two cores (see docs/ARCHITECTURE.md, "Performance").
#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>

#include "gemm_bf16.hpp"
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

// Eight floats as one value (GCC/Clang vector extension): one AVX register, or two SSE ones.
typedef float Float8 __attribute__((vector_size(32)));

// The direct loop for tiny products (Playground layers: K or N of 1, 2 or 8). Each row of C is
// built 8 columns at a time in a Float8 accumulator: acc[j] += A(i,k)·B(k,j) for k = 0, 1, …,
// K-1, the order of a plain dot product, whatever the transposes. A transposed B is first copied
// into Bᵀ (K·N floats, at most kDirectLimit since M ≥ 1) so those 8 columns are contiguous.
// α and β are applied once per element at the store, not inside the loop.
void gemm_direct(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                 int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  float packed[kDirectLimit];
  if (tb) {
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j) packed[k * N + j] = B[j * ldb + k];
    B = packed;
    ldb = N;
  }
  const int64_t a_step = ta ? lda : 1;  // distance between A(i,k) and A(i,k+1)
  const bool plain = alpha == 1.f && beta == 0.f;
  auto store = [&](float* c, const float* acc, int64_t n) {
    for (int64_t j = 0; j < n; ++j) c[j] = plain ? acc[j] : alpha * acc[j] + (beta == 0.f ? 0.f : beta * c[j]);
  };
  const int64_t n8 = N / 8 * 8;
  for (int64_t i = 0; i < M; ++i) {
    const float* a = ta ? A + i : A + i * lda;
    float* c = C + i * ldc;
    for (int64_t j0 = 0; j0 < n8; j0 += 8) {
      Float8 acc = {};
      for (int64_t k = 0; k < K; ++k) {
        Float8 b;
        std::memcpy(&b, B + k * ldb + j0, sizeof b);
        acc += a[k * a_step] * b;
      }
      float out[8];
      std::memcpy(plain ? c + j0 : out, &acc, sizeof out);  // one vector store: the next op's
      if (!plain) store(c + j0, out, 8);                    // vector load of C can forward from it
    }
    for (int64_t j = n8; j < N; ++j) {  // the last N mod 8 columns (all of them when N < 8)
      float acc = 0.f;
      for (int64_t k = 0; k < K; ++k) acc += a[k * a_step] * B[k * ldb + j];
      store(c + j, &acc, 1);
    }
  }
}

void blas(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(M),
              static_cast<int>(N), static_cast<int>(K), alpha, A, static_cast<int>(lda), B, static_cast<int>(ldb),
              beta, C, static_cast<int>(ldc));
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  const int64_t work = M * N * K;
  if (K == 0 || work <= kDirectLimit) {
    gemm_direct(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  if (g_bf16.load(std::memory_order_relaxed) &&
      gemm_bf16(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc))
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
        blas(trans_a, trans_b, n, N, K, alpha, trans_a ? A + s : A + s * lda, lda, B, ldb, beta, C + s * ldc, ldc);
      else
        blas(trans_a, trans_b, M, n, K, alpha, A, lda, trans_b ? B + s * ldb : B + s, ldb, beta, C + s, ldc);
    }
  });
}

const char* gemm_library() { return "OpenBLAS (one thread per call, split over Neurona's pool)"; }

// OpenBLAS always runs single-threaded inside Neurona; the pool provides the parallelism.
void set_gemm_threads(int) { openblas_set_num_threads(1); }

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
  return true;
}

std::string matmul_precision() { return kernels::g_bf16 ? "bf16" : "fp32"; }

}  // namespace neurona
