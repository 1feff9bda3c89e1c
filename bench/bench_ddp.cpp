// Data-parallel training's costs (bench/ddp.sh runs it; README "Several processes"):
//   bench_ddp train W BATCH STEPS   one training step of workload W (bench/workloads.hpp) at a
//                                   global batch BATCH, split over the ranks of the launch: µs per
//                                   step, samples/s, and the gradient allreduce's µs and bytes
//   bench_ddp allreduce [GRAD_BYTES...]
//                                   the ring allreduce's time from 4 B to 16 MiB, the latency and
//                                   bandwidth fitted to it, and the ring model's projection to 8,
//                                   64 and 512 processes for buffers of GRAD_BYTES
// Alone it runs as one rank; under mpirun, on every rank (rank 0 prints). Times are the minimum
// over rounds; the machine may be shared, so they are upper bounds on the costs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "neurona/neurona.hpp"
#include "workloads.hpp"

using namespace neurona;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int train_workload(const std::string& name, int64_t batch, int64_t steps) {
  dist::Communicator& c = dist::Communicator::world();
  check(batch % c.size() == 0, "bench_ddp: batch ", batch, " does not split over ", c.size(), " ranks");
  const int64_t local = batch / c.size();
  manual_seed(0);
  bench::Workload w = bench::make_model(name);
  auto opt = bench::make_optimizer(w);
  dist::broadcast_module(c, *w.model);
  dist::GradientReducer reducer(c);
  Generator g(1 + static_cast<uint64_t>(c.rank()));
  Shape shape = {local, w.widths.front()};
  if (!w.image.empty()) shape = {local, w.image[0], w.image[1], w.image[2]};
  Tensor x = Tensor::uniform(shape, 0.f, 1.f, &g);
  Tensor y = w.classification ? Tensor::empty({local}) : Tensor::uniform({local, 1}, 0.f, 1.f, &g);
  if (w.classification)
    for (int64_t i = 0; i < local; ++i) y.data()[i] = float(g.randint(10));
  w.model->train();
  const auto params = opt->all_params();
  std::vector<float> flags{1, 0};
  auto step = [&] {
    opt->zero_grad();
    Tensor loss = (*w.loss)((*w.model)(x), y);
    loss.backward();
    reducer.average(params, flags);
    opt->step();
  };
  for (int k = 0; k < 5; ++k) step();
  double best = 1e30, best_comm = 0;
  int64_t bytes = 0;
  for (int round = 0; round < 3; ++round) {
    c.barrier();
    c.reset_stats();
    const auto t0 = Clock::now();
    for (int64_t k = 0; k < steps; ++k) step();
    double took = seconds_since(t0), comm = c.stats().allreduce_seconds;
    c.allreduce_sum(&took, 1);  // the ranks' mean
    c.allreduce_sum(&comm, 1);
    took /= c.size(), comm /= c.size();
    if (took < best) best = took, best_comm = comm, bytes = c.stats().allreduce_bytes;
  }
  if (c.is_root()) {
    const double us = best / double(steps) * 1e6;
    std::printf(
        "%s batch %lld: %d rank(s) x %d thread(s), %lld per rank: %.0f us/step, %.0f samples/s; "
        "allreduce %.0f us/step (%.1f %%), %.2f MB/step in %lld bucket(s)\n",
        name.c_str(), static_cast<long long>(batch), c.size(), num_threads(), static_cast<long long>(local),
        us, double(batch) / (us * 1e-6), best_comm / double(steps) * 1e6, 100 * best_comm / best,
        double(bytes) / double(steps) / 1e6, static_cast<long long>(reducer.buckets_last_step()));
  }
  return 0;
}

int allreduce(const std::vector<double>& projected_bytes) {
  dist::Communicator& c = dist::Communicator::world();
  const int N = c.size();
  check(N >= 2, "bench_ddp allreduce: run it under mpirun with 2 or more ranks");
  std::vector<int64_t> sizes = {1, 16, 256, 4096, 65536, 1 << 20, 4 << 20};  // floats
  std::vector<double> times;
  std::vector<float> buf(static_cast<size_t>(sizes.back()), 1.0f);
  if (c.is_root()) std::printf("ring allreduce on %d ranks (min of 5 rounds):\n", N);
  for (int64_t n : sizes) {
    const int reps = n >= (1 << 20) ? 5 : 50;
    double best = 1e30;
    for (int round = 0; round < 5; ++round) {
      c.barrier();
      const auto t0 = Clock::now();
      for (int k = 0; k < reps; ++k) c.allreduce_sum(buf.data(), n);
      double took = seconds_since(t0) / reps;
      c.allreduce_sum(&took, 1);
      best = std::min(best, took / N);
    }
    times.push_back(best);
    if (c.is_root())
      std::printf("  %10lld bytes: %9.1f us  (%.2f GB/s of buffer)\n", static_cast<long long>(n * 4),
                  best * 1e6, double(n * 4) / best / 1e9);
  }
  // The ring's model: 2(N-1) steps of latency alpha, and 2(N-1)/N of the buffer through each link
  // at bandwidth B. The smallest buffer gives alpha; the largest, B.
  const double alpha = times.front() / (2.0 * (N - 1));
  const double big = double(sizes.back()) * 4;
  const double bw = (2.0 * (N - 1) / N) * big / std::max(1e-12, times.back() - times.front());
  auto ring = [](int n, double bytes, double a, double b) {
    return 2.0 * (n - 1) * a + 2.0 * (n - 1) / n * bytes / b;
  };
  if (c.is_root()) {
    std::printf(
        "fitted: latency alpha = %.1f us per ring step, bandwidth B = %.2f GB/s per link (loopback)\n",
        alpha * 1e6, bw / 1e9);
    std::printf("ring model t(N) = 2(N-1) alpha + 2(N-1)/N bytes / B:\n");
    struct Net {
      const char* name;
      double a, b;
    };
    const Net nets[] = {{"this machine's loopback (measured)", alpha, bw},
                        {"10 GbE (assumed: 25 us, 1.1 GB/s)", 25e-6, 1.1e9},
                        {"100 Gb/s InfiniBand (assumed: 2 us, 11 GB/s)", 2e-6, 11e9}};
    for (double bytes : projected_bytes)
      for (const Net& net : nets) {
        std::printf("  %.2f MB over %s:", bytes / 1e6, net.name);
        for (int n : {2, 8, 64, 512}) std::printf("  N=%d %.2f ms", n, ring(n, bytes, net.a, net.b) * 1e3);
        std::printf("\n");
      }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "train" && argc == 5)
      return train_workload(argv[2], std::atoll(argv[3]), std::atoll(argv[4]));
    if (mode == "allreduce") {
      std::vector<double> bytes;
      for (int i = 2; i < argc; ++i) bytes.push_back(std::atof(argv[i]));
      if (bytes.empty()) bytes = {2.13e6};  // W1's gradients
      return allreduce(bytes);
    }
    std::fprintf(stderr, "usage: bench_ddp train W BATCH STEPS | allreduce [GRAD_BYTES...]\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_ddp: %s\n", e.what());
    return 1;
  }
}
