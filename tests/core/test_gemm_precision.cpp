// kernels::gemm in both precisions against a double-precision reference, for every transpose
// combination, odd K, ragged edges and beta = 0 / 1; and the precision switch's names.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "neurona/neurona.hpp"

using namespace neurona;

namespace {

// Checks C = op(A)·op(B) + beta·C0 for one shape; the tolerance is relative to Σ|a·b|.
void check_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float beta, double rel) {
  Generator g(3);
  std::vector<float> A(M * K), B(K * N), C(M * N);
  for (auto& v : A) v = g.uniform(-1.f, 1.f);
  for (auto& v : B) v = g.uniform(-1.f, 1.f);
  for (auto& v : C) v = g.uniform(-1.f, 1.f);
  const std::vector<float> C0 = C;
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  kernels::gemm(ta, tb, M, N, K, 1.f, A.data(), lda, B.data(), ldb, beta, C.data(), N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double ref = beta * double(C0[i * N + j]), mag = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double p =
            double(ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
        ref += p;
        mag += std::abs(p);
      }
      ASSERT_NEAR(C[i * N + j], ref, rel * (mag + 1))
          << "ta=" << ta << " tb=" << tb << " at " << i << "," << j;
    }
}

}  // namespace

TEST(GemmPrecision, Fp32AndBf16MatchDoubleReference) {
  for (const char* prec : {"fp32", "bf16"}) {
    if (!set_matmul_precision(prec)) continue;  // bf16 needs AVX-512 BF16
    const double rel = matmul_precision() == "bf16" ? 1e-2 : 1e-5;
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        check_gemm(ta, tb, 70, 100, 257, 0.f, rel);  // odd K, partial panels and row blocks
        check_gemm(ta, tb, 64, 130, 200, 1.f, rel);  // accumulate into C
        check_gemm(ta, tb, 200, 130, 65, 0.f, rel);  // operands packed by several pool threads
        check_gemm(ta, tb, 5, 7, 3, 0.f, rel);       // the direct loop
      }
  }
  set_matmul_precision("fp32");
}

TEST(GemmPrecision, SwitchNames) {
  EXPECT_TRUE(set_matmul_precision("32-true"));
  EXPECT_EQ(matmul_precision(), "fp32");
  if (cpu_has_bf16()) {
    EXPECT_TRUE(set_matmul_precision("bf16-mixed"));
    EXPECT_EQ(matmul_precision(), "bf16");
  } else {
    EXPECT_FALSE(set_matmul_precision("bf16-mixed"));
    EXPECT_EQ(matmul_precision(), "fp32");
  }
  EXPECT_THROW(set_matmul_precision("fp8"), Error);
  set_matmul_precision("fp32");
}

// bf16-mixed never falls back to fp32 in silence: a CPU without AVX-512 BF16 says so when the
// precision is set, and a product too small for the bf16 kernel says so once (until bf16 is set
// again), naming its shape.
TEST(GemmPrecision, Bf16FallbackToFp32IsSaidOnce) {
  std::vector<float> a(256 * 11, 0.5f), b(11 * 512, 0.25f), c(256 * 512);
  auto small_product = [&] {
    kernels::gemm(false, false, 256, 512, 11, 1.f, a.data(), 11, b.data(), 512, 0.f, c.data(), 512);
  };
  ::testing::internal::CaptureStderr();
  const bool on = set_matmul_precision("bf16-mixed");
  small_product();
  small_product();
  const std::string first = ::testing::internal::GetCapturedStderr();
  EXPECT_FLOAT_EQ(c[0], 11 * 0.125f);
  if (on) {
    EXPECT_NE(first.find("bf16-mixed: matmuls too small for the bf16 kernel run in fp32"), std::string::npos)
        << first;
    EXPECT_NE(first.find("256 x 512 x 11"), std::string::npos) << first;
    EXPECT_EQ(first.find("said once"), first.rfind("said once")) << "said twice:\n" << first;
    ::testing::internal::CaptureStderr();
    set_matmul_precision("bf16");
    small_product();
    EXPECT_NE(::testing::internal::GetCapturedStderr().find("256 x 512 x 11"), std::string::npos);
  } else {
    EXPECT_NE(first.find("continuing in fp32"), std::string::npos) << first;
  }
  ::testing::internal::CaptureStderr();
  set_matmul_precision("fp32");
  small_product();
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");  // fp32 asked for: nothing to say
}
