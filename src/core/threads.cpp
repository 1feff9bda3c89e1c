#include "neurona/core/threads.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
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

// A parallel_for splits its range into one chunk per thread, with boundaries that depend only on
// the range and the thread count (so results do not depend on which thread runs what). The
// chunks are not assigned: the caller and the workers claim them one at a time from a shared
// counter, and the caller keeps claiming until none is left, then waits only for the chunks
// other threads are running. A worker that is descheduled (another process busy on its core)
// therefore delays a job only if it stops in the middle of a chunk; otherwise the caller runs its
// chunk too, and the step costs what it costs on one thread.
//
// Between jobs, workers spin for a short while before sleeping on a condition variable: a
// training step runs dozens of jobs separated by short serial stretches, and waking a sleeping
// thread cost ≈ 70 µs on average here (measured after a 200 µs pause), as much as a small job
// itself. The caller likewise spins briefly before sleeping while workers finish.
class ThreadPool {
 public:
  explicit ThreadPool(int n) { resize(n); }
  ~ThreadPool() { stop_workers(); }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int n) {
    stop_workers();
    stopping_ = false;
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, g = generation(state_.load())] { work(g); });
  }

  void run(int64_t begin, int64_t end, const std::function<void(int64_t, int64_t)>& fn) {
    std::lock_guard<std::mutex> one_job_at_a_time(job_mu_);
    const uint64_t parts = static_cast<uint64_t>(size());
    // The job's fields are written before the state that announces it (release); a thread reads
    // them only after claiming a chunk of this generation, and they stay put until every claimed
    // chunk is done.
    fn_ = &fn;
    begin_ = begin;
    end_ = end;
    error_ = nullptr;
    done_.store(0, std::memory_order_relaxed);
    const uint32_t gen = generation(state_.load(std::memory_order_relaxed)) + 1;
    {
      std::lock_guard<std::mutex> lock(mu_);  // a worker about to sleep sees it or is woken
      state_.store(uint64_t(gen) << 32 | parts << 16, std::memory_order_release);
    }
    cv_.notify_all();
    t_inside_worker = true;  // a nested parallel_for from a chunk runs inline
    run_chunks(gen);
    t_inside_worker = false;
    auto all_done = [&] { return done_.load(std::memory_order_acquire) == parts; };
    if (!spin_until(all_done)) {
      std::unique_lock<std::mutex> lock(mu_);
      done_cv_.wait(lock, all_done);
    }
    fn_ = nullptr;
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  // state_ packs the job's generation (bits 32-63), its number of chunks (16-31) and the next
  // unclaimed chunk (0-15): one compare-and-swap claims a chunk of one particular job.
  static uint32_t generation(uint64_t s) { return static_cast<uint32_t>(s >> 32); }

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

  // Claims and runs chunks of job `gen` until none is left. A thread that comes late, when job
  // `gen` is over and a newer one is running, claims nothing: the compare-and-swap checks the
  // generation together with the chunk index.
  void run_chunks(uint32_t gen) {
    uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      const uint64_t parts = (s >> 16) & 0xffff, next = s & 0xffff;
      if (generation(s) != gen || next >= parts) return;
      if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire))
        continue;
      const int64_t n = end_ - begin_, i = static_cast<int64_t>(next), p = static_cast<int64_t>(parts);
      const int64_t lo = begin_ + n * i / p, hi = begin_ + n * (i + 1) / p;
      try {
        if (lo < hi) (*fn_)(lo, hi);
      } catch (...) {  // the caller rethrows the first, once every chunk is done
        std::lock_guard<std::mutex> lock(mu_);
        if (!error_) error_ = std::current_exception();
      }
      if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == parts) {
        std::lock_guard<std::mutex> lock(mu_);  // the caller checks done_ under mu_ before sleeping
        done_cv_.notify_one();
      }
      s = state_.load(std::memory_order_acquire);
    }
  }

  // `seen` starts at the generation current when the worker was made, so it waits for new work.
  void work(uint32_t seen) {
    t_inside_worker = true;
    for (;;) {
      auto new_job = [&] { return generation(state_.load(std::memory_order_acquire)) != seen; };
      if (!spin_until([&] { return new_job() || stopping_.load(); })) {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stopping_.load() || new_job(); });
      }
      if (stopping_.load()) return;
      seen = generation(state_.load(std::memory_order_acquire));
      run_chunks(seen);
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
  // The job: written before state_ announces it, read only by a thread holding one of its chunks.
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t begin_ = 0, end_ = 0;
  std::exception_ptr error_;  // the first exception a chunk threw (written under mu_)
  std::atomic<uint64_t> state_{0};
  std::atomic<uint64_t> done_{0};  // chunks of the current job finished
  std::atomic<bool> stopping_{false};
};

ThreadPool& thread_pool() {
  static ThreadPool* pool = [] {
    const int n = threads_from_environment();
    kernels::keep_gemm_library_single_threaded();
    return new ThreadPool(n);
  }();
  return *pool;
}

}  // namespace

int num_threads() { return thread_pool().size(); }

void set_num_threads(int n) {
  check(n >= 1, "set_num_threads: expected at least 1 thread, got ", n);
  thread_pool().resize(n);
  kernels::keep_gemm_library_single_threaded();
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
