#pragma once
// Private: the AVX-512 BF16 GEMM behind set_matmul_precision("bf16").
#include <cstdint>

namespace neurona::kernels {

bool bf16_supported();
// Same contract as kernels::gemm; returns false (doing nothing) when the shape is better left to
// the fp32 path (too small or too thin to repay rounding and packing the operands).
bool gemm_bf16(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace neurona::kernels
