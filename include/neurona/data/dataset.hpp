#pragma once
// Dataset, TensorDataset and DataLoader: samples held as tensors and handed out in shuffled,
// contiguous mini-batches (PyTorch's Dataset/DataLoader, Keras's batch_size).
#include <cstdint>
#include <memory>
#include <vector>

#include "neurona/core/random.hpp"
#include "neurona/core/tensor.hpp"

namespace neurona::data {

// A source of samples. Implementations copy the rows a loader asks for straight into its batch
// buffers, so assembling a batch allocates nothing per sample.
class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual Shape feature_shape() const = 0;  // one sample's features, without the batch dimension
  virtual Shape target_shape() const = 0;   // one sample's target; meaningless without targets
  virtual bool has_targets() const = 0;
  virtual bool has_weights() const = 0;
  // Copies samples indices[0..count) into x ([count, feature_shape...]), y and w ([count]);
  // y and w are null when the dataset has no targets / weights.
  virtual void gather(const int64_t* indices, int64_t count, float* x, float* y, float* w) const = 0;
};

// Features [N, ...], optional targets [N, ...] and optional per-sample weights [N].
class TensorDataset : public Dataset {
 public:
  TensorDataset(Tensor features, Tensor targets = {}, Tensor weights = {});

  int64_t size() const override { return features_.size(0); }
  Shape feature_shape() const override;
  Shape target_shape() const override;
  bool has_targets() const override { return targets_.defined(); }
  bool has_weights() const override { return weights_.defined(); }
  void gather(const int64_t* indices, int64_t count, float* x, float* y, float* w) const override;

  const Tensor& features() const { return features_; }
  const Tensor& targets() const { return targets_; }
  const Tensor& weights() const { return weights_; }
  // The samples at `indices`, copied, in that order.
  TensorDataset subset(const std::vector<int64_t>& indices) const;

 private:
  Tensor features_, targets_, weights_;
};

// One mini-batch: x [B, ...], y [B, ...] (undefined without targets), w [B] (undefined without
// weights), and the dataset rows it holds.
struct Batch {
  Tensor x, y, w;
  std::vector<int64_t> indices;
  int64_t size() const { return x.defined() ? x.size(0) : 0; }
};

// A change made to every batch after its samples are gathered: augmentation, normalisation
// (data::ImagePipeline). It may replace batch.x, with another sample shape (a crop).
class BatchTransform {
 public:
  virtual ~BatchTransform() = default;
  // One sample's features after the transform, from their shape before.
  virtual Shape output_shape(const Shape& sample) const { return sample; }
  // `gen` is seeded from the loader's seed, the epoch and the batch's number (and rank), so the
  // draws are the same whichever thread builds the batch, and a resumed run repeats them.
  virtual void apply(Batch& batch, Generator& gen) const = 0;
};

// A batch that builds faster than this is cheaper to build inline than to hand to the prefetch
// thread and back: bench/bench_prefetch measured that hand-off at ≈ 7 µs per batch (best of 5,
// 2026-12-02) on this project's 2-core machine, against 0.25 µs to build a W4 batch inline; 50 µs leaves room
// for the slower wake-ups of a busy machine (see ARCHITECTURE.md, Performance). The loader builds its first
// kPrefetchProbeBatches batches inline and starts the worker only if the fastest took longer.
inline constexpr double kPrefetchMinMicros = 50;
inline constexpr int kPrefetchProbeBatches = 3;

struct LoaderOptions {
  int64_t batch_size = 32;  // Keras's default (PyTorch's is 1)
  bool shuffle = false;     // a fresh permutation every epoch, drawn from (seed, epoch)
  bool drop_last = false;   // drop a final batch smaller than batch_size
  uint64_t seed = 0;
  bool prefetch = true;  // assemble the next batch on a worker thread while this one is used,
                         // when the first batches took longer to build than kPrefetchMinMicros
  // Data-parallel training: this process is `rank` of `world_size` and sees its share of every
  // epoch, as PyTorch's DistributedSampler splits it. All ranks draw the same order (same seed
  // and epoch), padded to a multiple of world_size by repeating its first samples; rank r takes
  // the samples at positions r, r + world_size, …, so each rank has ceil(n / world_size).
  int64_t rank = 0;
  int64_t world_size = 1;
  // false: no padding, so no sample is seen twice and the first n % world_size ranks have one
  // sample more (validation, whose values are then reduced across ranks exactly).
  bool pad_shards = true;
  // Applied to each batch once gathered, on whichever thread builds it (see BatchTransform).
  std::shared_ptr<const BatchTransform> transform = nullptr;
};

// Hands out the batches of one epoch at a time. reset() (or a range-for, which calls it) starts
// the next epoch; with shuffle on, epoch e uses the permutation drawn from (seed, e), so a run is
// reproducible and set_epoch() resumes it.
class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options = {});
  DataLoader(DataLoader&&) noexcept;
  DataLoader& operator=(DataLoader&&) noexcept;
  ~DataLoader();

  int64_t num_batches() const;  // batches per epoch (Keras's steps_per_epoch)
  int64_t num_samples() const;  // samples per epoch after drop_last
  const Dataset& dataset() const { return *dataset_; }
  const LoaderOptions& options() const { return options_; }
  int64_t epoch() const { return epoch_; }  // -1 before the first reset()

  void reset();               // starts the next epoch
  void set_epoch(int64_t e);  // the next reset() starts epoch e
  // Makes this loader rank `rank`'s share of `world_size` (LoaderOptions::rank, world_size and
  // pad_shards), as the Trainer does for data-parallel training. Takes effect at the next reset().
  void set_shard(int64_t rank, int64_t world_size, bool pad_shards = true);
  bool next(Batch& batch);  // false once the epoch is exhausted
  // Sample order of the current epoch (this rank's share of it).
  const std::vector<int64_t>& order() const { return order_; }
  // Whether batches are built on the worker thread (decided by timing the first ones).
  bool prefetching() const { return worker_ != nullptr; }

  class iterator {
   public:
    iterator(DataLoader* loader, bool end);
    const Batch& operator*() const { return batch_; }
    const Batch* operator->() const { return &batch_; }
    iterator& operator++();
    bool operator==(const iterator& o) const { return done_ == o.done_; }
    bool operator!=(const iterator& o) const { return !(*this == o); }

   private:
    DataLoader* loader_;
    Batch batch_;
    bool done_;
  };
  iterator begin();  // calls reset()
  iterator end();

 private:
  struct Worker;
  std::vector<int64_t> batch_indices(int64_t b) const;  // rows of batch b in this epoch
  uint64_t batch_seed(int64_t b) const;                 // seed of its transform's generator
  int64_t shard_size() const;                           // samples per epoch before drop_last

  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions options_;
  std::vector<int64_t> order_;
  int64_t epoch_ = -1;
  int64_t next_epoch_ = 0;
  int64_t cursor_ = 0;  // next batch to hand out
  int probed_ = 0;      // inline builds timed so far, up to kPrefetchProbeBatches
  double fastest_micros_ = 0;
  std::unique_ptr<Worker> worker_;
};

// Random permutation of 0..n-1 (Fisher–Yates) drawn from a generator seeded with `seed`.
std::vector<int64_t> permutation(int64_t n, uint64_t seed);

}  // namespace neurona::data
