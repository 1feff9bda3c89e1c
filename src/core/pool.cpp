// The pool. Shared free lists per power-of-two bucket, behind one mutex, hold every cached
// buffer; in front of them each thread keeps its own small cache of small buffers and of
// bookkeeping objects, so the steady-state step of a tiny network takes no lock and calls no
// malloc. A block may be freed on another thread than the one that took it (the DataLoader's
// prefetch thread, pool workers): it simply joins the freeing thread's cache.
#include "neurona/core/pool.hpp"

#include <sanitizer/asan_interface.h>  // no-op macros unless built with AddressSanitizer

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

namespace neurona {
namespace {

// Bucket b holds buffers of 2^b floats; requests round up to the next power of two (at least 16).
constexpr int kBuckets = 48;
constexpr int64_t kMaxCachedBytes = int64_t(4) << 30;
// Buffers of up to 2^14 floats (64 KiB) have a per-thread cache, of at most 4 MiB and 64 buffers
// per bucket, so a thread that only frees (the consumer of the DataLoader's prefetch thread)
// soon passes buffers on to the shared lists.
constexpr int kThreadBuckets = 15;
constexpr int64_t kThreadCacheBytes = int64_t(4) << 20;
constexpr int64_t kThreadBuffersPerBucket = 64;
// Small objects: classes in steps of 16 bytes up to 512, at most 4096 cached blocks per class.
constexpr size_t kObjectStep = 16, kMaxObjectBytes = 512;
constexpr int kObjectClasses = kMaxObjectBytes / kObjectStep;
constexpr int64_t kMaxObjectsPerClass = 4096;

int bucket_for(int64_t count) { return count <= 16 ? 4 : int(std::bit_width(uint64_t(count - 1))); }
int64_t bucket_bytes(int b) { return (int64_t(1) << b) * int64_t(sizeof(float)); }

// A stack of free blocks linked through their first bytes. Under AddressSanitizer a block is
// poisoned while it waits here, so a use after its release is reported — all but the link, which
// LeakSanitizer must be able to read to see that the blocks further down are still owned.
struct FreeList {
  static constexpr size_t kLink = 16;  // a multiple of ASan's 8-byte granule; every block is larger
  void* head = nullptr;
  int64_t count = 0;
  void push(void* p, size_t bytes) {
    *static_cast<void**>(p) = head;
    head = p;
    ++count;
    ASAN_POISON_MEMORY_REGION(static_cast<char*>(p) + kLink, bytes - kLink);
  }
  void* pop(size_t bytes) {
    void* p = head;
    if (!p) return nullptr;
    ASAN_UNPOISON_MEMORY_REGION(static_cast<char*>(p) + kLink, bytes - kLink);
    head = *static_cast<void**>(p);
    --count;
    return p;
  }
};

// Adds to a counter only its owning thread writes; pool_stats() reads it from any thread.
void bump(std::atomic<int64_t>& c, int64_t d) {
  c.store(c.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
}

struct ThreadCache {
  ThreadCache();
  ~ThreadCache();
  FreeList buffers[kThreadBuckets];
  int64_t buffer_bytes = 0;
  FreeList objects[kObjectClasses];
  std::atomic<int64_t> requests{0}, misses{0}, cached_bytes{0};
};

struct Pool {
  std::mutex mu;  // guards everything below
  FreeList free[kBuckets];
  int64_t cached_bytes = 0;          // in `free`
  int64_t requests = 0, misses = 0;  // of the shared path without a thread cache, and of exited threads
  std::vector<ThreadCache*> caches;  // of the live threads
};

// Never destroyed: buffers may be released by static destructors after main returns.
Pool& pool() {
  static Pool* p = new Pool;
  return *p;
}

ThreadCache::ThreadCache() {
  std::lock_guard<std::mutex> lock(pool().mu);
  pool().caches.push_back(this);
}

// The calling thread's cache: a plain pointer, so the hot path reads it without the init check
// that a thread_local object with a constructor costs on every access.
thread_local ThreadCache* t_cache = nullptr;
thread_local bool t_cache_gone = false;  // set when the thread exits and its cache is destroyed

[[gnu::noinline]] ThreadCache* make_thread_cache() {
  if (t_cache_gone) return nullptr;  // thread exit: later releases go to the shared lists
  thread_local ThreadCache cache;
  t_cache = &cache;
  return t_cache;
}

// The calling thread's cache, or null once the thread is exiting and its cache is gone.
inline ThreadCache* thread_cache() {
  ThreadCache* tc = t_cache;
  return tc ? tc : make_thread_cache();
}

// Thread exit: buffers move to the shared lists, objects go back to the heap, counters are kept.
ThreadCache::~ThreadCache() {
  t_cache = nullptr;
  t_cache_gone = true;
  Pool& P = pool();
  std::lock_guard<std::mutex> lock(P.mu);
  for (int b = 0; b < kThreadBuckets; ++b)
    while (void* p = buffers[b].pop(size_t(bucket_bytes(b)))) {
      if (P.cached_bytes + bucket_bytes(b) <= kMaxCachedBytes) {
        P.free[b].push(p, size_t(bucket_bytes(b)));
        P.cached_bytes += bucket_bytes(b);
      } else {
        std::free(p);
      }
    }
  for (int c = 0; c < kObjectClasses; ++c)
    while (void* p = objects[c].pop((c + 1) * kObjectStep)) ::operator delete(p);
  P.requests += requests.load(std::memory_order_relaxed);
  P.misses += misses.load(std::memory_order_relaxed);
  P.caches.erase(std::find(P.caches.begin(), P.caches.end(), this));
}

float* take(int b) {
  const size_t bytes = size_t(bucket_bytes(b));
  ThreadCache* tc = b < kThreadBuckets ? thread_cache() : nullptr;
  if (tc) {
    bump(tc->requests, 1);
    if (void* p = tc->buffers[b].pop(bytes)) {
      tc->buffer_bytes -= bucket_bytes(b);
      bump(tc->cached_bytes, -bucket_bytes(b));
      return static_cast<float*>(p);
    }
  }
  {
    Pool& P = pool();
    std::lock_guard<std::mutex> lock(P.mu);
    if (!tc) ++P.requests;
    if (void* p = P.free[b].pop(bytes)) {
      P.cached_bytes -= bucket_bytes(b);
      return static_cast<float*>(p);
    }
    if (tc)
      bump(tc->misses, 1);
    else
      ++P.misses;
  }
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw std::bad_alloc();
  return static_cast<float*>(p);
}

void give(float* p, int b) {
  ThreadCache* tc = b < kThreadBuckets ? thread_cache() : nullptr;
  if (tc && tc->buffers[b].count < kThreadBuffersPerBucket &&
      tc->buffer_bytes + bucket_bytes(b) <= kThreadCacheBytes) {
    tc->buffers[b].push(p, size_t(bucket_bytes(b)));
    tc->buffer_bytes += bucket_bytes(b);
    bump(tc->cached_bytes, bucket_bytes(b));
    return;
  }
  {
    Pool& P = pool();
    std::lock_guard<std::mutex> lock(P.mu);
    if (P.cached_bytes + bucket_bytes(b) <= kMaxCachedBytes) {
      P.free[b].push(p, size_t(bucket_bytes(b)));
      P.cached_bytes += bucket_bytes(b);
      return;
    }
  }
  std::free(p);
}

// Returns a buffer to the pool when the last shared_ptr to it dies.
struct GiveBack {
  int bucket;
  void operator()(float* p) const { give(p, bucket); }
};

}  // namespace

std::shared_ptr<float[]> pool_allocate(int64_t count) {
  const int b = bucket_for(count < 1 ? 1 : count);
  return std::shared_ptr<float[]>(take(b), GiveBack{b}, PoolAllocator<float>());
}

PoolStats pool_stats() {
  Pool& P = pool();
  std::lock_guard<std::mutex> lock(P.mu);
  PoolStats s{P.requests, P.misses, P.cached_bytes};
  for (const ThreadCache* tc : P.caches) {
    s.requests += tc->requests.load(std::memory_order_relaxed);
    s.misses += tc->misses.load(std::memory_order_relaxed);
    s.cached_bytes += tc->cached_bytes.load(std::memory_order_relaxed);
  }
  return s;
}

void pool_release_cached() {
  if (ThreadCache* tc = thread_cache()) {
    for (int b = 0; b < kThreadBuckets; ++b)
      while (void* p = tc->buffers[b].pop(size_t(bucket_bytes(b)))) std::free(p);
    tc->buffer_bytes = 0;
    tc->cached_bytes.store(0, std::memory_order_relaxed);
  }
  Pool& P = pool();
  std::lock_guard<std::mutex> lock(P.mu);
  for (int b = 0; b < kBuckets; ++b)
    while (void* p = P.free[b].pop(size_t(bucket_bytes(b)))) std::free(p);
  P.cached_bytes = 0;
}

void* pool_object_allocate(size_t bytes) {
  if (bytes == 0 || bytes > kMaxObjectBytes) return ::operator new(std::max<size_t>(bytes, 1));
  const size_t c = (bytes - 1) / kObjectStep;
  if (ThreadCache* tc = thread_cache())
    if (void* p = tc->objects[c].pop((c + 1) * kObjectStep)) return p;
  return ::operator new((c + 1) * kObjectStep);
}

void pool_object_free(void* p, size_t bytes) {
  if (bytes > 0 && bytes <= kMaxObjectBytes) {
    const size_t c = (bytes - 1) / kObjectStep;
    ThreadCache* tc = thread_cache();
    if (tc && tc->objects[c].count < kMaxObjectsPerClass) {
      tc->objects[c].push(p, (c + 1) * kObjectStep);
      return;
    }
  }
  ::operator delete(p);
}

}  // namespace neurona
