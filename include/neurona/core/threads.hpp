#pragma once
// The thread pool: one per process, sized by NEURONA_NUM_THREADS (default: all cores) or
// set_num_threads(). Large kernels split their range across it; small ones stay on the caller.
// The GEMM library's thread count follows the same setting.
#include <cstdint>
#include <functional>
#include <type_traits>

namespace neurona {

int num_threads();
void set_num_threads(int n);  // n >= 1

// Calls fn(begin_i, end_i) over disjoint chunks covering [begin, end): one chunk per thread, with
// boundaries that depend only on the range and the thread count; whichever thread is free (the
// caller included) runs the next chunk. Runs on the caller alone when the range is shorter than
// 2 * grain, when one thread is set, or when already inside a chunk. An exception thrown by fn
// reaches the caller once every chunk has run.
void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

namespace detail {
bool parallel_for_inline(int64_t n, int64_t grain);  // true when the range stays on the caller
}

// The same for any callable: a range that stays on the caller calls fn directly, without wrapping
// it in a std::function (which may allocate) — small kernels run once per op in every step.
template <class F>
requires(!std::is_same_v<std::decay_t<F>, std::function<void(int64_t, int64_t)>>) void parallel_for(
    int64_t begin, int64_t end, int64_t grain, F&& fn) {
  if (end <= begin) return;
  if (detail::parallel_for_inline(end - begin, grain)) {
    fn(begin, end);
    return;
  }
  parallel_for(begin, end, grain, std::function<void(int64_t, int64_t)>(std::ref(fn)));
}

// Elements per chunk below which elementwise kernels are not worth splitting.
constexpr int64_t kParallelGrain = 1 << 15;

}  // namespace neurona
