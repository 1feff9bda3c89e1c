#pragma once
// Private: Neurona's own fp32 GEMM for CPUs with AVX-512F (gemm_f32_avx512.cpp).
#include <cstdint>

namespace neurona::kernels {

// True when the CPU running the program has AVX-512F (checked once).
bool f32_avx512_supported();
// Same contract as kernels::gemm, on at most `threads` pool threads; returns false (doing
// nothing) when the CPU lacks AVX-512F. Each element of C gets the same bits whatever `threads`
// is: work is split only over blocks of C, never over K. With alpha = 1 and beta = 0 an element
// is the plain chain acc = fma(A(i,k), B(k,j), acc) for k = 0 … K-1, the direct loop's order.
bool gemm_f32_avx512(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                     int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
                     int threads);

}  // namespace neurona::kernels
