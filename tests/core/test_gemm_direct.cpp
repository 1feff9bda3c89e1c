// kernels::gemm's direct loop (products of at most 4096 multiply-adds) against a double-precision
// reference: the Playground shapes (K or N of 1, 2 and 8), blocks of 8 columns with and without a
// ragged tail, every transpose case, general alpha/beta, strided C, and K = 0.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "neurona/neurona.hpp"

using namespace neurona;

namespace {

// C (M×N inside a row stride of N+3) = alpha·op(A)·op(B) + beta·C0, checked element by element.
void check_direct(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, float beta) {
  ASSERT_LE(M * N * K, 4096) << "not a direct-loop shape";
  Generator g(7);
  const int64_t lda = ta ? M : K, ldb = tb ? K : N, ldc = N + 3;
  std::vector<float> A(M * K + 1), B(K * N + 1), C(M * ldc);
  for (auto& v : A) v = g.uniform(-1.f, 1.f);
  for (auto& v : B) v = g.uniform(-1.f, 1.f);
  for (auto& v : C) v = g.uniform(-1.f, 1.f);
  std::vector<float> C0 = C;
  kernels::gemm(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      double ref = 0, mag = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double p =
            double(ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
        ref += p;
        mag += std::abs(p);
      }
      ref = alpha * ref + beta * double(C0[i * ldc + j]);
      ASSERT_NEAR(C[i * ldc + j], ref, 1e-6 * (mag + 1))
          << "ta=" << ta << " tb=" << tb << " M=" << M << " N=" << N << " K=" << K << " at " << i << "," << j;
    }
    for (int64_t j = N; j < ldc; ++j) ASSERT_EQ(C[i * ldc + j], C0[i * ldc + j]) << "wrote outside C";
  }
}

}  // namespace

TEST(GemmDirect, PlaygroundShapesAndRaggedEdges) {
  const int64_t shapes[][3] = {{10, 8, 2}, {10, 8, 8}, {10, 1, 8}, {10, 8, 1}, {8, 2, 10},
                               {1, 8, 10}, {3, 17, 5}, {2, 16, 9}, {1, 1, 1},  {4, 100, 10}};
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (const auto& s : shapes) {
        check_direct(ta, tb, s[0], s[1], s[2], 1.f, 0.f);
        check_direct(ta, tb, s[0], s[1], s[2], 1.f, 1.f);
        check_direct(ta, tb, s[0], s[1], s[2], 0.5f, -2.f);
      }
}

TEST(GemmDirect, BetaZeroIgnoresOldValuesAndEmptyKScalesC) {
  // beta = 0 overwrites C without reading it (NaN garbage must not leak into the result).
  const float a[2] = {1.f, 2.f}, b[2] = {3.f, 4.f};
  float c[1] = {std::nanf("")};
  kernels::gemm(false, false, 1, 1, 2, 1.f, a, 2, b, 1, 0.f, c, 1);
  EXPECT_EQ(c[0], 11.f);
  // K = 0: the product is empty, so C = beta·C.
  std::vector<float> big(64 * 64, 3.f);
  kernels::gemm(false, true, 64, 64, 0, 1.f, a, 1, b, 1, 0.5f, big.data(), 64);
  for (float v : big) ASSERT_EQ(v, 1.5f);
  kernels::gemm(true, false, 64, 64, 0, 1.f, a, 64, b, 64, 0.f, big.data(), 64);
  for (float v : big) ASSERT_EQ(v, 0.f);
}

TEST(GemmDirect, ARowGetsTheSameBitsWhateverItsPositionInTheBatch) {
  // Rows are computed in groups of four plus single rows; a row's result must not depend on which
  // (predict in one batch and in batches of 3 must agree exactly).
  Generator g(11);
  const int64_t M = 10, K = 8;
  for (int64_t N : {1, 2, 8, 11}) {
    std::vector<float> A(M * K), B(N * K), C(M * N), row(N);
    for (auto& v : A) v = g.uniform(-1.f, 1.f);
    for (auto& v : B) v = g.uniform(-1.f, 1.f);
    kernels::gemm(false, true, M, N, K, 1.f, A.data(), K, B.data(), K, 0.f, C.data(), N);
    for (int64_t i = 0; i < M; ++i) {
      kernels::gemm(false, true, 1, N, K, 1.f, A.data() + i * K, K, B.data(), K, 0.f, row.data(), N);
      for (int64_t j = 0; j < N; ++j)
        ASSERT_EQ(row[j], C[i * N + j]) << "N=" << N << " row " << i << " col " << j;
    }
  }
}
