#include "neurona/data/dataset.hpp"

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>
#include <utility>

#include "neurona/core/error.hpp"
#include "neurona/core/random.hpp"

namespace neurona::data {
namespace {

Shape sample_shape(const Tensor& t) {
  std::vector<int64_t> dims(t.shape().dims().begin() + 1, t.shape().dims().end());
  return Shape(std::move(dims));
}

Shape batch_shape(int64_t n, const Shape& sample) {
  std::vector<int64_t> dims{n};
  dims.insert(dims.end(), sample.dims().begin(), sample.dims().end());
  return Shape(std::move(dims));
}

void copy_rows(const Tensor& src, const int64_t* indices, int64_t count, float* dst) {
  const int64_t n = src.size(0);
  const int64_t row = n == 0 ? 0 : src.numel() / n;
  const float* base = src.data();
  for (int64_t i = 0; i < count; ++i) {
    check(indices[i] >= 0 && indices[i] < n, "TensorDataset: sample index ", indices[i], " out of range for ",
          n, " samples");
    std::memcpy(dst + i * row, base + indices[i] * row, static_cast<size_t>(row) * sizeof(float));
  }
}

// What a batch needs besides its rows: the transform and the seed of its generator.
struct BatchJob {
  const BatchTransform* transform = nullptr;
  uint64_t seed = 0;
};

void assemble_batch(const Dataset& ds, std::vector<int64_t> indices, const BatchJob& job, Batch& out) {
  const auto count = static_cast<int64_t>(indices.size());
  out.x = Tensor::empty(batch_shape(count, ds.feature_shape()));
  out.y = ds.has_targets() ? Tensor::empty(batch_shape(count, ds.target_shape())) : Tensor();
  out.w = ds.has_weights() ? Tensor::empty(Shape{count}) : Tensor();
  ds.gather(indices.data(), count, out.x.data(), out.y.defined() ? out.y.data() : nullptr,
            out.w.defined() ? out.w.data() : nullptr);
  out.indices = std::move(indices);
  if (job.transform) {
    Generator gen(job.seed);
    job.transform->apply(out, gen);
  }
}

}  // namespace

// --- TensorDataset --------------------------------------------------------------------------------

TensorDataset::TensorDataset(Tensor features, Tensor targets, Tensor weights)
    : features_(std::move(features)), targets_(std::move(targets)), weights_(std::move(weights)) {
  check(features_.defined() && features_.dim() >= 1,
        "TensorDataset: features must be a tensor [N, ...], got ",
        features_.defined() ? features_.shape().str() : std::string("an undefined tensor"));
  const int64_t n = features_.size(0);
  if (targets_.defined())
    check(targets_.dim() >= 1 && targets_.size(0) == n, "TensorDataset: features ", features_.shape(),
          " and targets ", targets_.shape(), " disagree on the number of samples");
  if (weights_.defined())
    check(weights_.shape() == Shape{n}, "TensorDataset: sample weights must be [", n, "], got ",
          weights_.shape());
}

Shape TensorDataset::feature_shape() const { return sample_shape(features_); }
Shape TensorDataset::target_shape() const { return targets_.defined() ? sample_shape(targets_) : Shape{}; }

void TensorDataset::gather(const int64_t* indices, int64_t count, float* x, float* y, float* w) const {
  copy_rows(features_, indices, count, x);
  if (y) copy_rows(targets_, indices, count, y);
  if (w) copy_rows(weights_, indices, count, w);
}

TensorDataset TensorDataset::subset(const std::vector<int64_t>& indices) const {
  const auto count = static_cast<int64_t>(indices.size());
  Tensor x = Tensor::empty(batch_shape(count, feature_shape()));
  Tensor y = has_targets() ? Tensor::empty(batch_shape(count, target_shape())) : Tensor();
  Tensor w = has_weights() ? Tensor::empty(Shape{count}) : Tensor();
  gather(indices.data(), count, x.data(), y.defined() ? y.data() : nullptr, w.defined() ? w.data() : nullptr);
  return TensorDataset(x, y, w);
}

// --- permutation ----------------------------------------------------------------------------------

std::vector<int64_t> permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), int64_t{0});
  Generator g(seed);
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[g.randint(i + 1)]);
  return p;
}

// --- DataLoader -----------------------------------------------------------------------------------

// One background thread that assembles a single batch ahead of the consumer.
struct DataLoader::Worker {
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false, has_job = false, in_flight = false;
  std::shared_ptr<const Dataset> dataset;
  std::vector<int64_t> job;
  BatchJob job_info;
  int64_t job_batch = -1;
  Batch result;
  std::exception_ptr error;
  std::thread thread;

  explicit Worker(std::shared_ptr<const Dataset> ds) : dataset(std::move(ds)) {
    thread = std::thread([this] { run(); });
  }
  ~Worker() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    cv.notify_all();
    thread.join();
  }

  void run() {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return stop || has_job; });
      if (stop) return;
      std::vector<int64_t> indices = std::move(job);
      const BatchJob info = job_info;
      has_job = false;
      lock.unlock();
      Batch b;
      std::exception_ptr e;
      try {
        assemble_batch(*dataset, std::move(indices), info, b);
      } catch (...) {
        e = std::current_exception();
      }
      lock.lock();
      result = std::move(b);
      error = e;
      in_flight = false;
      cv.notify_all();
    }
  }

  void submit(int64_t batch, std::vector<int64_t> indices, const BatchJob& info) {
    {
      std::lock_guard<std::mutex> lock(mu);
      job = std::move(indices);
      job_info = info;
      job_batch = batch;
      has_job = in_flight = true;
    }
    cv.notify_all();
  }

  // Waits for the submitted batch; rethrows what assembling it threw.
  Batch take() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return !in_flight; });
    job_batch = -1;
    if (error) std::rethrow_exception(std::exchange(error, nullptr));
    return std::move(result);
  }

  void cancel() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return !in_flight; });
    job_batch = -1;
    error = nullptr;
    result = Batch{};
  }
};

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  check(dataset_ != nullptr, "DataLoader: no dataset");
  check(options_.batch_size >= 1, "DataLoader: batch_size must be at least 1, got ", options_.batch_size);
  check(options_.world_size >= 1 && options_.rank >= 0 && options_.rank < options_.world_size,
        "DataLoader: rank must be in [0, world_size), got rank ", options_.rank, " of world_size ",
        options_.world_size);
}

DataLoader::DataLoader(DataLoader&&) noexcept = default;
DataLoader& DataLoader::operator=(DataLoader&&) noexcept = default;
DataLoader::~DataLoader() = default;

// The samples this rank sees per epoch: all of them, or its ceil(n / world_size) share (without
// padding, the positions rank, rank + world_size, … below n).
int64_t DataLoader::shard_size() const {
  const int64_t n = dataset_->size(), w = options_.world_size, r = options_.rank;
  if (w == 1) return n;
  if (!options_.pad_shards) return r < n ? (n - r + w - 1) / w : 0;
  return (n + w - 1) / w;
}

void DataLoader::set_shard(int64_t rank, int64_t world_size, bool pad_shards) {
  check(world_size >= 1 && rank >= 0 && rank < world_size,
        "DataLoader: rank must be in [0, world_size), got rank ", rank, " of world_size ", world_size);
  if (worker_) worker_->cancel();
  options_.rank = rank;
  options_.world_size = world_size;
  options_.pad_shards = pad_shards;
}

int64_t DataLoader::num_batches() const {
  const int64_t n = shard_size(), bs = options_.batch_size;
  return options_.drop_last ? n / bs : (n + bs - 1) / bs;
}

int64_t DataLoader::num_samples() const {
  return options_.drop_last ? num_batches() * options_.batch_size : shard_size();
}

void DataLoader::set_epoch(int64_t e) { next_epoch_ = e; }

void DataLoader::reset() {
  if (worker_) worker_->cancel();
  epoch_ = next_epoch_++;
  const int64_t n = dataset_->size();
  if (options_.shuffle) {
    order_ = permutation(n, options_.seed ^ (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(epoch_ + 1)));
  } else {
    order_.resize(static_cast<size_t>(n));
    std::iota(order_.begin(), order_.end(), int64_t{0});
  }
  if (options_.world_size > 1 && n > 0) {
    const int64_t w = options_.world_size, total = options_.pad_shards ? ((n + w - 1) / w) * w : n;
    std::vector<int64_t> mine;
    mine.reserve(static_cast<size_t>(shard_size()));
    for (int64_t i = options_.rank; i < total; i += w) mine.push_back(order_[static_cast<size_t>(i % n)]);
    order_ = std::move(mine);
  }
  cursor_ = 0;
  if (worker_ && num_batches() > 0)
    worker_->submit(0, batch_indices(0), BatchJob{options_.transform.get(), batch_seed(0)});
}

uint64_t DataLoader::batch_seed(int64_t b) const {
  // Salted so the transform's draws are not the shuffle's; each rank draws its own.
  const uint64_t epoch_key =
      splitmix64_at(options_.seed ^ 0xa5a57e57da7a0001ULL, static_cast<uint64_t>(epoch_));
  return splitmix64_at(epoch_key, (static_cast<uint64_t>(options_.rank) << 40) ^ static_cast<uint64_t>(b));
}

std::vector<int64_t> DataLoader::batch_indices(int64_t b) const {
  const int64_t n = static_cast<int64_t>(order_.size()), bs = options_.batch_size;
  const int64_t begin = b * bs, end = std::min(n, begin + bs);
  return std::vector<int64_t>(order_.begin() + begin, order_.begin() + end);
}

bool DataLoader::next(Batch& batch) {
  check(epoch_ >= 0, "DataLoader::next: call reset() (or iterate with range-for) to start an epoch");
  if (cursor_ >= num_batches()) return false;
  const int64_t b = cursor_++;
  if (worker_ && worker_->job_batch == b) {
    batch = worker_->take();
  } else if (options_.prefetch && probed_ < kPrefetchProbeBatches) {
    // The fastest of the first few builds decides: one build can be slow because the thread was
    // preempted or the buffers were cold, which would start the worker for nothing.
    const auto t0 = std::chrono::steady_clock::now();
    assemble_batch(*dataset_, batch_indices(b), BatchJob{options_.transform.get(), batch_seed(b)}, batch);
    const double took =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    fastest_micros_ = probed_++ == 0 ? took : std::min(fastest_micros_, took);
    if (probed_ == kPrefetchProbeBatches && fastest_micros_ > kPrefetchMinMicros)
      worker_ = std::make_unique<Worker>(dataset_);
  } else {
    assemble_batch(*dataset_, batch_indices(b), BatchJob{options_.transform.get(), batch_seed(b)}, batch);
  }
  if (worker_ && cursor_ < num_batches())
    worker_->submit(cursor_, batch_indices(cursor_), BatchJob{options_.transform.get(), batch_seed(cursor_)});
  return true;
}

DataLoader::iterator::iterator(DataLoader* loader, bool end) : loader_(loader), done_(end) {
  if (!done_) done_ = !loader_->next(batch_);
}

DataLoader::iterator& DataLoader::iterator::operator++() {
  done_ = !loader_->next(batch_);
  return *this;
}

DataLoader::iterator DataLoader::begin() {
  reset();
  return iterator(this, false);
}

DataLoader::iterator DataLoader::end() { return iterator(this, true); }

}  // namespace neurona::data
