#pragma once
// One core's fp32 FMA peak, measured: 16 independent chains of 512-bit FMAs (AVX-512 CPUs only;
// 0 elsewhere), in GFLOP/s. The benches print their kernels' rates beside it.
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace neurona::bench {

#if defined(__x86_64__)
__attribute__((target("avx512f"))) inline double fma_peak_core(double seconds) {
  using Clock = std::chrono::steady_clock;
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(float(i));
  const __m512 x = _mm512_set1_ps(0.999f), y = _mm512_set1_ps(0.001f);
  int64_t iters = 0;
  const auto t0 = Clock::now();
  double t = 0;
  do {
    for (int n = 0; n < 10000; ++n)
#pragma GCC unroll 16  // the 16 chains stay in registers
      for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
    iters += 10000;
    t = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (t < seconds);
  alignas(64) float out[16];
  for (int i = 1; i < 16; ++i) acc[0] = _mm512_add_ps(acc[0], acc[i]);
  _mm512_store_ps(out, acc[0]);
  volatile float keep = out[0];  // the chains must not be optimised away
  (void)keep;
  return double(iters) * 16 * 16 * 2 / t * 1e-9;
}
#endif

// The summed peak of `threads` cores running the loop at once.
inline double fma_peak(int threads) {
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx512f")) return 0;
  std::vector<double> rate(threads);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) pool.emplace_back([&, i] { rate[i] = fma_peak_core(0.3); });
  for (auto& t : pool) t.join();
  double sum = 0;
  for (double r : rate) sum += r;
  return sum;
#else
  (void)threads;
  return 0;
#endif
}

}  // namespace neurona::bench
