#pragma once
// The pool: tensor storage is taken from size-bucketed free lists and given back when the last
// tensor using it dies, so a repeated training step allocates nothing from the heap. The small
// bookkeeping objects of every op (TensorImpl, shared_ptr control blocks, autograd nodes) are
// recycled the same way through PoolAllocator.
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
// Frees the cached buffers back to the system: the shared lists and the calling thread's cache
// (other threads' small caches stay with them).
void pool_release_cached();

// Memory for small objects (up to 512 bytes, 16-byte aligned) from the calling thread's free
// lists; a block may be freed on any thread. Larger sizes go to operator new.
void* pool_object_allocate(size_t bytes);
void pool_object_free(void* p, size_t bytes);

// std::allocator replacement over pool_object_allocate, for std::allocate_shared and the
// shared_ptr constructor taking an allocator (both put the control block there too).
template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) {}
  T* allocate(size_t n) {
    static_assert(alignof(T) <= 16, "pool objects are 16-byte aligned");
    return static_cast<T*>(pool_object_allocate(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) { pool_object_free(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const {
    return true;
  }
};

}  // namespace neurona
