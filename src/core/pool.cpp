#include "neurona/core/pool.hpp"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

namespace neurona {
namespace {

// Bucket b holds buffers of 2^b floats; requests round up to the next power of two (at least 16).
constexpr int kBuckets = 48;
constexpr int64_t kMaxCachedBytes = int64_t(4) << 30;

int bucket_for(int64_t count) {
  int b = 4;
  while ((int64_t(1) << b) < count) ++b;
  return b;
}

class Pool {
public:
  float* take(int b) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++requests_;
      auto& list = free_[b];
      if (!list.empty()) {
        float* p = list.back();
        list.pop_back();
        cached_bytes_ -= bytes(b);
        return p;
      }
      ++misses_;
    }
    void* p = std::aligned_alloc(64, static_cast<size_t>(bytes(b)));
    if (!p) throw std::bad_alloc();
    return static_cast<float*>(p);
  }

  void give(float* p, int b) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cached_bytes_ + bytes(b) <= kMaxCachedBytes) {
        free_[b].push_back(p);
        cached_bytes_ += bytes(b);
        return;
      }
    }
    std::free(p);
  }

  PoolStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return {requests_, misses_, cached_bytes_};
  }

  void release() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& list : free_) {
      for (float* p : list) std::free(p);
      list.clear();
    }
    cached_bytes_ = 0;
  }

private:
  static int64_t bytes(int b) { return (int64_t(1) << b) * int64_t(sizeof(float)); }
  std::mutex mu_;
  std::vector<float*> free_[kBuckets];
  int64_t requests_ = 0, misses_ = 0, cached_bytes_ = 0;
};

// Never destroyed: buffers may be released by static destructors after main returns.
Pool& pool() {
  static Pool* p = new Pool;
  return *p;
}

}  // namespace

std::shared_ptr<float[]> pool_allocate(int64_t count) {
  const int b = bucket_for(count < 1 ? 1 : count);
  float* p = pool().take(b);
  return std::shared_ptr<float[]>(p, [b](float* q) { pool().give(q, b); });
}

PoolStats pool_stats() { return pool().stats(); }
void pool_release_cached() { pool().release(); }

}  // namespace neurona
