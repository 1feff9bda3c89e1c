// Times one GEMM library on the matrix shapes of the MLPs Neurona targets (forward and both
// backward products). Compiled once per library by compare.sh; not part of the CMake build.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#if defined(USE_DNNL)
#include <dnnl.h>
static const char* kName = "oneDNN";
static void sgemm(bool ta, bool tb, int M, int N, int K, const float* A, const float* B, float* C) {
  dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, 1.f, A, ta ? M : K, B, tb ? K : N, 0.f, C, N);
}
static void set_threads(int) {}  // follows OMP_NUM_THREADS
#else
#include <cblas.h>
#if defined(USE_BLIS)
static const char* kName = "BLIS";
extern "C" void bli_thread_set_num_threads(long);
static void set_threads(int n) { bli_thread_set_num_threads(n); }
#else
static const char* kName = "OpenBLAS";
static void set_threads(int n) { openblas_set_num_threads(n); }
#endif
static void sgemm(bool ta, bool tb, int M, int N, int K, const float* A, const float* B, float* C) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.f, A,
              ta ? M : K, B, tb ? K : N, 0.f, C, N);
}
#endif

struct Case {
  const char* what;
  bool ta, tb;
  int M, N, K;
};

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  set_threads(threads);
  const Case cases[] = {
      {"W1 fwd 256x512x512 (x*W^T)", false, true, 256, 512, 512},
      {"W1 dW 512x512x256 (g^T*x)", true, false, 512, 512, 256},
      {"W1 first 256x512x11", false, true, 256, 512, 11},
      {"W2 fwd 128x512x784", false, true, 128, 512, 784},
      {"W2 dW 512x784x128", true, false, 512, 784, 128},
      {"W2 fwd 128x256x512", false, true, 128, 256, 512},
      {"W5 b1 1x512x784", false, true, 1, 512, 784},
      {"W5 b8 8x512x784", false, true, 8, 512, 784},
      {"W5 b2048 2048x512x784", false, true, 2048, 512, 784},
      {"W4 10x8x8", false, true, 10, 8, 8},
  };
  std::vector<float> A(2048 * 1024, 0.5f), B(2048 * 1024, 0.25f), C(2048 * 1024);
  for (const Case& c : cases) {
    const double flops = 2.0 * c.M * c.N * c.K;
    const int reps = std::clamp(int(2e9 / (flops + 1e4)), 20, 20000);
    for (int i = 0; i < std::min(reps, 50); ++i)
      sgemm(c.ta, c.tb, c.M, c.N, c.K, A.data(), B.data(), C.data());
    double best = 1e30;
    for (int trial = 0; trial < 5; ++trial) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < reps / 5 + 1; ++i) sgemm(c.ta, c.tb, c.M, c.N, c.K, A.data(), B.data(), C.data());
      const double us =
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() /
          (reps / 5 + 1);
      best = std::min(best, us);
    }
    std::printf("%-9s threads=%d  %-30s %10.2f us  %7.1f GFLOP/s\n", kName, threads, c.what, best,
                flops / best * 1e-3);
  }
}
