#pragma once
// The buffer pool: tensor storage is taken from size-bucketed free lists and given back when the
// last tensor using it dies, so a repeated training step allocates nothing from the heap.
#include <cstddef>
#include <cstdint>
#include <memory>

namespace neurona {

struct PoolStats {
  int64_t requests = 0;  // buffers handed out
  int64_t misses = 0;    // requests the free lists could not serve (heap allocations)
  int64_t cached_bytes = 0;
};

// A buffer of at least `count` floats, 64-byte aligned, returned to the pool on release.
std::shared_ptr<float[]> pool_allocate(int64_t count);
PoolStats pool_stats();
void pool_release_cached();  // frees every cached buffer back to the system

}  // namespace neurona
