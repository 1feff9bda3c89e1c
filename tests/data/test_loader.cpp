#include <algorithm>
#include <chrono>
#include <numeric>
#include <set>
#include <thread>

#include "data/data_test_util.hpp"
#include "test_util.hpp"

using namespace neurona;
using namespace neurona::data;
using neurona::testing::expect_values;

namespace {
// Features row i = (i, 10 i), target i = i % 3, weight i = i / 100.
std::shared_ptr<TensorDataset> numbered(int64_t n) {
  std::vector<float> x, y, w;
  for (int64_t i = 0; i < n; ++i) {
    x.push_back(float(i));
    x.push_back(float(10 * i));
    y.push_back(float(i % 3));
    w.push_back(float(i) / 100.f);
  }
  return std::make_shared<TensorDataset>(Tensor::from(x, {n, 2}), Tensor::from(y, {n}), Tensor::from(w, {n}));
}

std::vector<int64_t> epoch_rows(DataLoader& loader) {
  std::vector<int64_t> rows;
  for (const Batch& b : loader)
    for (int64_t i = 0; i < b.size(); ++i) rows.push_back(int64_t(b.x.data()[2 * i]));
  return rows;
}
}  // namespace

TEST(DataLoader, DefaultBatchSizeIsKeras32) { EXPECT_EQ(LoaderOptions{}.batch_size, 32); }

TEST(DataLoader, SequentialBatchesCopyRowsTargetsAndWeights) {
  DataLoader loader(numbered(10), {4, false, false, 0, true});
  EXPECT_EQ(loader.num_batches(), 3);
  std::vector<int64_t> sizes;
  Batch last;
  for (const Batch& b : loader) {
    sizes.push_back(b.size());
    last = b;
  }
  EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4, 2}));
  EXPECT_EQ(last.x.shape(), (Shape{2, 2}));
  EXPECT_EQ(last.y.shape(), (Shape{2}));
  expect_values(last.x, {8, 80, 9, 90});
  expect_values(last.y, {2, 0});
  expect_values(last.w, {0.08f, 0.09f});
  EXPECT_EQ(last.indices, (std::vector<int64_t>{8, 9}));
}

TEST(DataLoader, DropLastSkipsTheShortBatch) {
  DataLoader loader(numbered(10), {4, true, true, 1, true});
  EXPECT_EQ(loader.num_batches(), 2);
  EXPECT_EQ(loader.num_samples(), 8);
  EXPECT_EQ(epoch_rows(loader).size(), 8u);
}

TEST(DataLoader, ShuffleVisitsEverySampleOncePerEpochAndChangesEachEpoch) {
  DataLoader loader(numbered(100), {16, true, false, 42, true});
  auto e0 = epoch_rows(loader), e1 = epoch_rows(loader);
  EXPECT_EQ(loader.epoch(), 1);
  for (auto* e : {&e0, &e1}) {
    auto sorted = *e;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t i = 0; i < 100; ++i) ASSERT_EQ(sorted[i], i);
  }
  EXPECT_NE(e0, e1);
  std::vector<int64_t> identity(100);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_NE(e0, identity);
}

TEST(DataLoader, SameSeedSameShufflesDifferentSeedDifferent) {
  DataLoader a(numbered(50), {8, true, false, 7, true});
  DataLoader b(numbered(50), {8, true, false, 7, false});  // prefetch must not change anything
  DataLoader c(numbered(50), {8, true, false, 8, true});
  for (int e = 0; e < 3; ++e) {
    auto ra = epoch_rows(a), rb = epoch_rows(b), rc = epoch_rows(c);
    EXPECT_EQ(ra, rb) << "epoch " << e;
    EXPECT_NE(ra, rc) << "epoch " << e;
  }
}

TEST(DataLoader, SetEpochResumesTheSameOrder) {
  DataLoader a(numbered(30), {5, true, false, 3, true});
  epoch_rows(a);
  epoch_rows(a);
  auto third = epoch_rows(a);
  DataLoader b(numbered(30), {5, true, false, 3, true});
  b.set_epoch(2);
  EXPECT_EQ(epoch_rows(b), third);
}

TEST(DataLoader, NextAndResetWithoutRangeFor) {
  DataLoader loader(numbered(5), {2, false, false, 0, true});
  Batch b;
  EXPECT_ERROR_CONTAINS(loader.next(b), "reset()");
  loader.reset();
  int count = 0;
  while (loader.next(b)) ++count;
  EXPECT_EQ(count, 3);
  loader.reset();  // mid-epoch reset after a partial epoch discards the prefetched batch
  ASSERT_TRUE(loader.next(b));
  loader.reset();
  ASSERT_TRUE(loader.next(b));
  expect_values(b.x, {0, 0, 1, 10});
}

TEST(DataLoader, ImagesKeepTheirShape) {
  auto ds =
      std::make_shared<TensorDataset>(Tensor::arange(2 * 3 * 4 * 5).reshape({6, 4, 5}), Tensor::arange(6));
  DataLoader loader(ds, {4, false, false, 0, true});
  loader.reset();
  Batch b;
  ASSERT_TRUE(loader.next(b));
  EXPECT_EQ(b.x.shape(), (Shape{4, 4, 5}));
  EXPECT_FLOAT_EQ(b.x.at({3, 2, 1}), 3 * 20 + 2 * 5 + 1);
}

TEST(TensorDataset, RejectsMismatchedCounts) {
  EXPECT_ERROR_CONTAINS(TensorDataset(Tensor::zeros({4, 2}), Tensor::zeros({3})), "[3]");
  EXPECT_ERROR_CONTAINS(TensorDataset(Tensor::zeros({4, 2}), Tensor::zeros({4}), Tensor::zeros({5})),
                        "sample weights must be [4]");
}

TEST(TensorDataset, SubsetCopiesRowsInOrder) {
  auto sub = numbered(6)->subset({5, 1});
  expect_values(sub.features(), {5, 50, 1, 10});
  expect_values(sub.targets(), {2, 1});
  expect_values(sub.weights(), {0.05f, 0.01f});
}

namespace {
// A dataset whose samples take a millisecond each, as a decoded image file would.
struct SlowDataset : neurona::data::Dataset {
  std::shared_ptr<TensorDataset> inner = numbered(20);
  int64_t size() const override { return inner->size(); }
  Shape feature_shape() const override { return inner->feature_shape(); }
  Shape target_shape() const override { return inner->target_shape(); }
  bool has_targets() const override { return inner->has_targets(); }
  bool has_weights() const override { return inner->has_weights(); }
  void gather(const int64_t* idx, int64_t count, float* x, float* y, float* w) const override {
    std::this_thread::sleep_for(std::chrono::milliseconds(count));
    inner->gather(idx, count, x, y, w);
  }
};
}  // namespace

TEST(DataLoader, PrefetchesOnlyBatchesThatCostMoreThanTheHandOff) {
  DataLoader tiny(numbered(100), {10, true, false, 1, true});
  epoch_rows(tiny);
  EXPECT_FALSE(tiny.prefetching());  // ten in-memory rows: built inline, no thread
  DataLoader slow(std::make_shared<SlowDataset>(), {4, true, false, 1, true});
  auto first = epoch_rows(slow), second = epoch_rows(slow);
  EXPECT_TRUE(slow.prefetching());
  DataLoader inline_only(std::make_shared<SlowDataset>(), {4, true, false, 1, false});
  EXPECT_EQ(epoch_rows(inline_only), first);
  EXPECT_EQ(epoch_rows(inline_only), second);
}

// A (rank, world_size) shard is PyTorch's DistributedSampler split: without shuffling, 10 samples
// over 3 ranks give [0,3,6,9], [1,4,7,0], [2,5,8,1] (DistributedSampler(range(10), 3, r,
// shuffle=False)); 2 samples over 4 ranks repeat them. Shuffled, the ranks share one
// permutation per epoch, so together they cover every sample.
TEST(DataLoader, ShardsSplitLikeDistributedSampler) {
  const std::vector<std::vector<int64_t>> expected = {{0, 3, 6, 9}, {1, 4, 7, 0}, {2, 5, 8, 1}};
  for (int64_t r = 0; r < 3; ++r) {
    LoaderOptions o;
    o.batch_size = 3;
    o.rank = r;
    o.world_size = 3;
    DataLoader loader(numbered(10), o);
    EXPECT_EQ(loader.num_samples(), 4);
    EXPECT_EQ(loader.num_batches(), 2);
    EXPECT_EQ(epoch_rows(loader), expected[size_t(r)]) << "rank " << r;
  }
  for (int64_t r = 0; r < 4; ++r) {
    LoaderOptions o;
    o.rank = r;
    o.world_size = 4;
    DataLoader loader(numbered(2), o);
    EXPECT_EQ(epoch_rows(loader), (std::vector<int64_t>{r % 2})) << "rank " << r;
  }
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    std::vector<int64_t> all;
    for (int64_t r = 0; r < 2; ++r) {
      LoaderOptions o;
      o.batch_size = 4;
      o.shuffle = true;
      o.seed = 5;
      o.rank = r;
      o.world_size = 2;
      DataLoader loader(numbered(9), o);
      loader.set_epoch(epoch);
      const auto rows = epoch_rows(loader);
      EXPECT_EQ(rows.size(), 5u);
      all.insert(all.end(), rows.begin(), rows.end());
    }
    std::set<int64_t> distinct(all.begin(), all.end());
    EXPECT_EQ(distinct.size(), 9u) << "epoch " << epoch;  // 10 positions: one sample repeated
  }
  LoaderOptions bad;
  bad.rank = 2;
  bad.world_size = 2;
  EXPECT_ERROR_CONTAINS(DataLoader(numbered(4), bad),
                        "rank must be in [0, world_size), got rank 2 of world_size 2");
}

// Unpadded shards (validation): 10 samples over 3 ranks give [0,3,6,9], [1,4,7], [2,5,8], each
// sample once; set_shard turns a loader into its shard at the next epoch.
TEST(DataLoader, UnpaddedShardsSeeEverySampleOnce) {
  const std::vector<std::vector<int64_t>> expected = {{0, 3, 6, 9}, {1, 4, 7}, {2, 5, 8}};
  for (int64_t r = 0; r < 3; ++r) {
    LoaderOptions o;
    o.batch_size = 2;
    DataLoader loader(numbered(10), o);
    EXPECT_EQ(loader.num_samples(), 10);
    loader.set_shard(r, 3, false);
    EXPECT_EQ(loader.num_samples(), r == 0 ? 4 : 3);
    EXPECT_EQ(loader.num_batches(), 2);
    EXPECT_EQ(epoch_rows(loader), expected[size_t(r)]) << "rank " << r;
  }
  DataLoader few(numbered(2), {});
  few.set_shard(3, 4, false);
  EXPECT_EQ(few.num_batches(), 0);
  EXPECT_TRUE(epoch_rows(few).empty());
  EXPECT_ERROR_CONTAINS(few.set_shard(4, 4), "rank must be in [0, world_size), got rank 4 of world_size 4");
}
