// kernels::gemm's fp32 path above the direct loop (Neurona's AVX-512 kernel on CPUs that have it,
// OpenBLAS elsewhere) against a double-precision reference: every transpose combination, edges of
// the 6 × 64 tile and of the K blocks, K = 1, alpha/beta (beta = 0 over NaN garbage), leading
// dimensions larger than the width; then the sum order the AVX-512 kernel promises (the plain
// fma chain, bit for bit) and the same bits on one and two threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "neurona/neurona.hpp"

using namespace neurona;

namespace {

bool has_avx512() { return __builtin_cpu_supports("avx512f"); }

struct Case {
  bool ta, tb;
  int64_t M, N, K;
  float alpha, beta;
};

// Operands stored with padded leading dimensions (lda = width + 5, ldb = width + 3, ldc = N + 7),
// values in [-1, 1]; C starts as NaN when beta = 0.
struct Operands {
  int64_t lda, ldb, ldc;
  std::vector<float> A, B, C;
  Operands(const Case& c, uint64_t seed) {
    Generator g(seed);
    lda = (c.ta ? c.M : c.K) + 5;
    ldb = (c.tb ? c.K : c.N) + 3;
    ldc = c.N + 7;
    A.resize((c.ta ? c.K : c.M) * lda);
    B.resize((c.tb ? c.N : c.K) * ldb);
    C.resize(c.M * ldc);
    for (auto& v : A) v = g.uniform(-1.f, 1.f);
    for (auto& v : B) v = g.uniform(-1.f, 1.f);
    for (auto& v : C) v = c.beta == 0.f ? std::nanf("") : g.uniform(-1.f, 1.f);
  }
  float a(const Case& c, int64_t i, int64_t k) const { return c.ta ? A[k * lda + i] : A[i * lda + k]; }
  float b(const Case& c, int64_t k, int64_t j) const { return c.tb ? B[j * ldb + k] : B[k * ldb + j]; }
  void gemm(const Case& c) {
    kernels::gemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, A.data(), lda, B.data(), ldb, c.beta, C.data(), ldc);
  }
};

std::string describe(const Case& c) {
  return "ta=" + std::to_string(c.ta) + " tb=" + std::to_string(c.tb) + " M=" + std::to_string(c.M) +
         " N=" + std::to_string(c.N) + " K=" + std::to_string(c.K) + " alpha=" + std::to_string(c.alpha) +
         " beta=" + std::to_string(c.beta);
}

void check_against_double(const Case& c) {
  Operands o(c, 5);
  const std::vector<float> C0 = o.C;
  o.gemm(c);
  for (int64_t i = 0; i < c.M; ++i) {
    for (int64_t j = 0; j < c.N; ++j) {
      double ref = 0, mag = 0;
      for (int64_t k = 0; k < c.K; ++k) {
        const double p = double(o.a(c, i, k)) * o.b(c, k, j);
        ref += p;
        mag += std::abs(p);
      }
      const double old = c.beta == 0.f ? 0.0 : c.beta * double(C0[i * o.ldc + j]);
      ref = c.alpha * ref + old;
      mag = std::abs(c.alpha) * mag + std::abs(old);
      ASSERT_NEAR(o.C[i * o.ldc + j], ref, 2e-6 * (mag + 1)) << describe(c) << " at " << i << "," << j;
    }
    for (int64_t j = c.N; j < o.ldc; ++j)
      ASSERT_TRUE(std::memcmp(&o.C[i * o.ldc + j], &C0[i * o.ldc + j], 4) == 0)
          << describe(c) << ": wrote outside C at " << i << "," << j;
  }
}

// Shapes around the tile (6 rows × 64 columns, vectors of 16) and the K blocks (at most 128).
const int64_t kShapes[][3] = {
    {6, 64, 128},  {7, 65, 129}, {5, 17, 300},  {1, 4096, 2},   {13, 100, 1},
    {200, 1, 40},  {64, 15, 33}, {130, 200, 7}, {97, 130, 257}, {12, 48, 64},
    {1, 300, 300}, {300, 31, 1}, {61, 79, 128}, {2, 2, 1100},   {40, 96, 385},
};

}  // namespace

TEST(GemmF32, MatchesDoubleReferenceOnEdgesTransposesAndScales) {
  const float scales[][2] = {{1.f, 0.f}, {1.f, 1.f}, {0.5f, -2.f}, {-1.5f, 0.f}};
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (const auto& s : kShapes)
        for (const auto& ab : scales) check_against_double({ta, tb, s[0], s[1], s[2], ab[0], ab[1]});
}

TEST(GemmF32, LargeProductsSplitOverThreadsMatchDoubleReference) {
  const int before = num_threads();
  set_num_threads(2);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      check_against_double({ta, tb, 256, 320, 200, 1.f, 0.f});  // split by rows
      check_against_double({ta, tb, 20, 700, 130, 0.5f, 1.f});  // split by panels
    }
  set_num_threads(before);
}

TEST(GemmF32, Avx512KernelSumsEachElementAsOneFmaChain) {
  if (!has_avx512()) GTEST_SKIP() << "the CPU lacks AVX-512F: OpenBLAS computes these products";
  // alpha = 1, beta = 0: C(i,j) is acc = fma(A(i,k), B(k,j), acc) for k = 0, 1, …, bit for bit,
  // across K blocks and tile edges alike.
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (const auto& s : kShapes) {
        const Case c{ta, tb, s[0], s[1], s[2], 1.f, 0.f};
        Operands o(c, 9);
        o.gemm(c);
        for (int64_t i = 0; i < c.M; ++i)
          for (int64_t j = 0; j < c.N; ++j) {
            float acc = 0.f;
            for (int64_t k = 0; k < c.K; ++k) acc = std::fma(o.a(c, i, k), o.b(c, k, j), acc);
            ASSERT_EQ(o.C[i * o.ldc + j], acc) << describe(c) << " at " << i << "," << j;
          }
      }
}

TEST(GemmF32, ARowGetsTheSameBitsAloneAndInABatch) {
  if (!has_avx512()) GTEST_SKIP() << "the CPU lacks AVX-512F: OpenBLAS computes these products";
  // Predicting one row and predicting it inside a batch of 300 must agree exactly (the direct
  // loop covers a single row only while K·N ≤ 4096; here K·N = 512·130).
  Generator g(13);
  const int64_t M = 300, N = 130, K = 512;
  std::vector<float> A(M * K), W(N * K), C(M * N), row(N);
  for (auto& v : A) v = g.uniform(-1.f, 1.f);
  for (auto& v : W) v = g.uniform(-1.f, 1.f);
  kernels::gemm(false, true, M, N, K, 1.f, A.data(), K, W.data(), K, 0.f, C.data(), N);
  for (int64_t i : {0, 1, 5, 6, 7, 150, 299}) {
    kernels::gemm(false, true, 1, N, K, 1.f, A.data() + i * K, K, W.data(), K, 0.f, row.data(), N);
    for (int64_t j = 0; j < N; ++j) ASSERT_EQ(row[j], C[i * N + j]) << "row " << i << " col " << j;
  }
}

TEST(GemmF32, OneAndTwoThreadsGiveTheSameBits) {
  if (!has_avx512()) GTEST_SKIP() << "the CPU lacks AVX-512F: OpenBLAS computes these products";
  const int before = num_threads();
  const Case cases[] = {
      {false, true, 256, 512, 512, 1.f, 0.f}, {false, false, 256, 512, 512, 1.f, 0.f},
      {true, false, 512, 512, 256, 1.f, 0.f}, {true, true, 130, 333, 300, 0.5f, 1.f},
      {false, false, 12, 900, 288, 1.f, 1.f}, {false, true, 3000, 64, 288, -1.f, 0.f},
  };
  for (const Case& c : cases) {
    Operands one(c, 21), two(c, 21);
    set_num_threads(1);
    one.gemm(c);
    set_num_threads(2);
    two.gemm(c);
    ASSERT_EQ(std::memcmp(one.C.data(), two.C.data(), one.C.size() * sizeof(float)), 0) << describe(c);
  }
  set_num_threads(before);
}
