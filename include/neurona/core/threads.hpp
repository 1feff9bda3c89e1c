#pragma once
// The thread pool: one per process, sized by NEURONA_NUM_THREADS (default: all cores) or
// set_num_threads(). Large kernels split their range across it; small ones stay on the caller.
// The GEMM library's thread count follows the same setting.
#include <cstdint>
#include <functional>

namespace neurona {

int num_threads();
void set_num_threads(int n);  // n >= 1

// Calls fn(begin_i, end_i) over disjoint chunks covering [begin, end). Runs on the caller alone
// when the range is shorter than 2 * grain, when one thread is set, or when already inside a
// worker.
void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn);

// Elements per chunk below which elementwise kernels are not worth splitting.
constexpr int64_t kParallelGrain = 1 << 15;

}  // namespace neurona
