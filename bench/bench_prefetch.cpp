// Measures what handing a batch to the DataLoader's prefetch thread and back costs, against
// building it inline, on Playground-sized batches (10 rows of 2 features, as W4). The figure sets
// data::kPrefetchMinMicros. A dataset whose first gathers sleep makes the loader start its worker;
// the later, instant batches then go through the worker's queue.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "neurona/neurona.hpp"

using namespace neurona;
using Clock = std::chrono::steady_clock;

namespace {
struct SlowStart : data::TensorDataset {
  using TensorDataset::TensorDataset;
  mutable std::atomic<int> calls{0};
  void gather(const int64_t* idx, int64_t count, float* x, float* y, float* w) const override {
    if (calls++ < 8) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    TensorDataset::gather(idx, count, x, y, w);
  }
};

// Microseconds per batch over `epochs` passes, best of 5 runs.
double per_batch(data::DataLoader& loader, int epochs) {
  double best = 1e30;
  for (int run = 0; run < 5; ++run) {
    const auto t0 = Clock::now();
    int64_t batches = 0;
    for (int e = 0; e < epochs; ++e)
      for (const data::Batch& b : loader) batches += b.size() > 0;
    best = std::min(best,
                    std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / double(batches));
  }
  return best;
}
}  // namespace

int main() {
  Generator g(1);
  Tensor x = Tensor::uniform({500, 2}, -1.f, 1.f, &g), y = Tensor::zeros({500, 1});
  data::DataLoader inline_loader(std::make_shared<data::TensorDataset>(x, y), {10, true, false, 0, false});
  data::DataLoader worker_loader(std::make_shared<SlowStart>(x, y), {10, true, false, 0, true});
  per_batch(worker_loader, 1);  // the sleeping batches: the worker starts
  if (!worker_loader.prefetching()) fail("bench_prefetch: the loader did not start its worker");
  const double t_inline = per_batch(inline_loader, 40), t_worker = per_batch(worker_loader, 40);
  std::printf("batch 10 x 2, built inline:          %6.2f us/batch\n", t_inline);
  std::printf("batch 10 x 2, through the worker:    %6.2f us/batch\n", t_worker);
  std::printf("hand-off cost:                       %6.2f us/batch\n", t_worker - t_inline);
  return 0;
}
