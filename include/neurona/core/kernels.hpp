#pragma once
// Raw CPU kernels over float buffers, shared by the differentiable ops and the layers.
#include <cstdint>

namespace neurona::kernels {

// C = alpha * op(A) * op(B) + beta * C, row-major; op(X) = X or X^T. A is M x K after op,
// B is K x N after op, C is M x N. Tiny products run a direct loop; the rest Neurona's AVX-512
// kernel (CPUs with AVX-512F) or OpenBLAS.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// Name of the GEMM library in use (for `neurona devices`).
const char* gemm_library();
// fp32 products above the direct loop run Neurona's own AVX-512 kernel when the CPU has AVX-512F,
// OpenBLAS otherwise; use_avx512_gemm(false) sends them to OpenBLAS anyway (benchmarks compare
// the two). Returns whether the AVX-512 kernel is in use now.
bool use_avx512_gemm(bool on);
// Keeps the GEMM library at one thread per call (Neurona's pool splits large products) and stops
// its idle threads; called whenever the pool's size is set.
void keep_gemm_library_single_threaded();

}  // namespace neurona::kernels
