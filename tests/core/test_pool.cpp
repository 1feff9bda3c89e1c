// The pool's per-thread caches: buffers and tensors released on another thread than the one that
// took them, a thread exiting with cached buffers, and the statistics across both.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "neurona/neurona.hpp"

using namespace neurona;

namespace {
// 3000 floats round up to a bucket of 4096 (16 KiB), small enough for the per-thread caches.
constexpr int64_t kCount = 3000;
constexpr int64_t kBucketBytes = 4096 * 4;
}  // namespace

TEST(Pool, BufferFreedOnAnotherThreadComesBackAfterThatThreadExits) {
  pool_release_cached();
  const PoolStats s0 = pool_stats();
  std::shared_ptr<float[]> buf = pool_allocate(kCount);
  float* const p = buf.get();
  const PoolStats s1 = pool_stats();
  EXPECT_EQ(s1.requests - s0.requests, 1);
  EXPECT_EQ(s1.misses - s0.misses, 1);  // nothing cached yet
  // Released on a thread that then exits: the buffer moves from its cache to the shared lists.
  std::thread([&] { buf.reset(); }).join();
  const PoolStats s2 = pool_stats();
  EXPECT_EQ(s2.cached_bytes - s1.cached_bytes, kBucketBytes);
  std::shared_ptr<float[]> again = pool_allocate(kCount);
  const PoolStats s3 = pool_stats();
  EXPECT_EQ(again.get(), p);
  EXPECT_EQ(s3.requests - s2.requests, 1);
  EXPECT_EQ(s3.misses, s2.misses);
  EXPECT_EQ(s3.cached_bytes, s1.cached_bytes);
}

TEST(Pool, ThreadCacheServesRepeatedRequestsAndReleaseEmptiesIt) {
  pool_release_cached();
  { Tensor warm = Tensor::empty({kCount}); }  // one miss, then the buffer waits in this thread's cache
  const PoolStats s0 = pool_stats();
  EXPECT_GE(s0.cached_bytes, kBucketBytes);
  for (int i = 0; i < 100; ++i) {
    Tensor t = Tensor::full({kCount}, float(i));
    ASSERT_EQ(t.data()[kCount - 1], float(i));
  }
  const PoolStats s1 = pool_stats();
  EXPECT_EQ(s1.requests - s0.requests, 100);
  EXPECT_EQ(s1.misses, s0.misses);
  pool_release_cached();
  EXPECT_LE(pool_stats().cached_bytes, s1.cached_bytes - kBucketBytes);
}

TEST(Pool, TensorsHandedBetweenThreadsInBothDirections) {
  // Tensors (buffer, TensorImpl, control blocks, autograd nodes) made on one thread and destroyed
  // on the other, as with the DataLoader's prefetch thread; values must survive the hand-over.
  std::vector<Tensor> made_here, made_there;
  Tensor w = Tensor::full({8}, 2.f).requires_grad_();
  for (int i = 0; i < 200; ++i) made_here.push_back(mul(w, float(i)));  // recorded: owns a node
  std::thread worker([&] {
    for (int i = 0; i < 200; ++i) made_there.push_back(Tensor::full({5, int64_t(i % 7 + 1)}, float(i)));
    for (size_t i = 0; i < made_here.size(); ++i) ASSERT_EQ(made_here[i].data()[7], 2.f * float(i));
    made_here.clear();  // freed on the worker
  });
  worker.join();
  for (size_t i = 0; i < made_there.size(); ++i) ASSERT_EQ(made_there[i].data()[0], float(i));
  made_there.clear();  // freed here
  // The caches still hand out correct memory afterwards.
  Tensor loss = sum(mul(w, 3.f));
  loss.backward();
  for (float g : w.grad().to_vector()) EXPECT_EQ(g, 3.f);
}
