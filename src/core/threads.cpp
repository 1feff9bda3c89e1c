#include "neurona/core/threads.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "neurona/core/error.hpp"
#include "neurona/core/kernels.hpp"

namespace neurona {
namespace {

thread_local bool t_inside_worker = false;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

int threads_from_environment() {
  if (const char* env = std::getenv("NEURONA_NUM_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n >= 1 && n <= 1024) return static_cast<int>(n);
    fail("NEURONA_NUM_THREADS: expected a whole number from 1 to 1024, got '", env, "'");
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

// Each parallel_for hands every worker one chunk; the caller runs chunk 0, then waits for the
// others. Between jobs, workers spin for a short while before sleeping on a condition variable:
// a training step runs dozens of jobs separated by short serial stretches, and waking a
// sleeping thread cost ≈ 70 µs on average here (measured after a 200 µs pause), as much as a
// small job itself. The caller likewise spins briefly before sleeping while workers finish.
class ThreadPool {
public:
  explicit ThreadPool(int n) { resize(n); }
  ~ThreadPool() { stop_workers(); }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int n) {
    stop_workers();
    stopping_ = false;
    for (int i = 1; i < n; ++i)
      workers_.emplace_back([this, i, g = generation_.load()] { work(i, g); });
  }

  void run(int64_t begin, int64_t end, const std::function<void(int64_t, int64_t)>& fn) {
    std::lock_guard<std::mutex> one_job_at_a_time(job_mu_);
    const int parts = size();
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = &fn;
      begin_ = begin;
      end_ = end;
      parts_ = parts;
      pending_ = parts - 1;
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    t_inside_worker = true;  // a nested parallel_for from chunk 0 runs inline
    run_chunk(0);
    t_inside_worker = false;
    if (!spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; })) {
      std::unique_lock<std::mutex> lock(mu_);
      done_cv_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
    }
    fn_ = nullptr;
  }

private:
  // Spins up to kSpin while `ready()` is false; returns whether it became true.
  static constexpr std::chrono::microseconds kSpin{200};
  template <class Ready>
  static bool spin_until(Ready ready) {
    const auto deadline = std::chrono::steady_clock::now() + kSpin;
    for (int i = 1;; ++i) {
      if (ready()) return true;
      cpu_relax();
      if (i % 64 == 0 && std::chrono::steady_clock::now() > deadline) return ready();
    }
  }

  void run_chunk(int i) {
    const int64_t n = end_ - begin_;
    const int64_t lo = begin_ + n * i / parts_;
    const int64_t hi = begin_ + n * (i + 1) / parts_;
    if (lo < hi) (*fn_)(lo, hi);
  }

  // `seen` starts at the generation current when the worker was made, so it waits for new work.
  void work(int index, uint64_t seen) {
    t_inside_worker = true;
    for (;;) {
      auto new_job = [&] { return generation_.load(std::memory_order_acquire) != seen; };
      if (!spin_until([&] { return new_job() || stopping_.load(); })) {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stopping_.load() || new_job(); });
      }
      if (stopping_.load()) return;
      seen = generation_.load(std::memory_order_acquire);
      run_chunk(index);
      {
        std::lock_guard<std::mutex> lock(mu_);
        pending_.fetch_sub(1, std::memory_order_release);
      }
      done_cv_.notify_one();
    }
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex mu_, job_mu_;
  std::condition_variable cv_, done_cv_;
  // The job: written under mu_ before generation_ is bumped, read by workers after they see it.
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t begin_ = 0, end_ = 0;
  int parts_ = 1;
  std::atomic<int> pending_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
};

ThreadPool& thread_pool() {
  static ThreadPool* pool = [] {
    const int n = threads_from_environment();
    kernels::set_gemm_threads(n);
    return new ThreadPool(n);
  }();
  return *pool;
}

}  // namespace

int num_threads() { return thread_pool().size(); }

void set_num_threads(int n) {
  check(n >= 1, "set_num_threads: expected at least 1 thread, got ", n);
  thread_pool().resize(n);
  kernels::set_gemm_threads(n);
}

namespace detail {
bool parallel_for_inline(int64_t n, int64_t grain) {
  return t_inside_worker || n < 2 * std::max<int64_t>(grain, 1) || num_threads() == 1;
}
}  // namespace detail

void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn) {
  if (end <= begin) return;
  if (detail::parallel_for_inline(end - begin, grain)) {
    fn(begin, end);
    return;
  }
  thread_pool().run(begin, end, fn);
}

}  // namespace neurona
