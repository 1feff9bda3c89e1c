// Neurona's side of the image-op timing (bench/conv_ops.py starts it beside PyTorch): forward and
// forward + backward (input, weight and bias gradients) of single ops on fixed shapes, min of
// --repeats runs after one warm-up, as wall time and as the thread's CPU time (on a loaded machine
// the CPU time is the steadier figure at 1 thread). Prints one JSON object per line, times in ms.
//
//   bench_conv_ops [--threads 1] [--repeats 5] [--only SUBSTRING]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>

#include "neurona/neurona.hpp"

using namespace neurona;
namespace F = neurona::nn::functional;
using Clock = std::chrono::steady_clock;

namespace {

std::string g_only;  // --only: run the ops whose name contains it

struct Times {
  double wall_ms, cpu_ms;  // minima over the repeats
};

double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

// Wall time and the calling thread's CPU time (the robust figure on a loaded machine at 1 thread).
Times min_ms(int repeats, const std::function<void()>& fn) {
  fn();  // warm-up: the pool's buffers, OpenBLAS's first call
  Times best{1e30, 1e30};
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = Clock::now();
    const double c0 = thread_cpu_ms();
    fn();
    best.cpu_ms = std::min(best.cpu_ms, thread_cpu_ms() - c0);
    best.wall_ms =
        std::min(best.wall_ms, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return best;
}

// Times op(x, params...) forward alone (no recording) and forward + backward of sum(y · G).
void time_op(const char* name, int repeats, std::vector<Tensor> inputs,
             const std::function<Tensor(const std::vector<Tensor>&)>& op) {
  if (std::string(name).find(g_only) == std::string::npos) return;
  for (auto& t : inputs) t.requires_grad_(true);
  Tensor probe;
  {
    NoGradGuard ng;
    probe = op(inputs);
  }
  const Tensor g = Tensor::uniform(probe.shape(), -1.f, 1.f);
  const Times fwd = min_ms(repeats, [&] {
    NoGradGuard ng;
    op(inputs);
  });
  const Times both = min_ms(repeats, [&] {
    for (auto& t : inputs) t.zero_grad();
    op(inputs).backward(g);
  });
  std::printf(
      "{\"op\": \"%s\", \"threads\": %d, \"forward_ms\": %.3f, \"forward_backward_ms\": %.3f, "
      "\"forward_cpu_ms\": %.3f, \"forward_backward_cpu_ms\": %.3f}\n",
      name, num_threads(), fwd.wall_ms, both.wall_ms, fwd.cpu_ms, both.cpu_ms);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, repeats = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (a == "--repeats")
      repeats = std::atoi(argv[i + 1]);
    else if (a == "--only")
      g_only = argv[i + 1];
  }
  set_num_threads(threads);
  Generator gen(1);
  time_op("conv 32->64 3x3 pad1 @14x14 b64", repeats,
          {Tensor::uniform({64, 32, 14, 14}, -1, 1, &gen), Tensor::uniform({64, 32, 3, 3}, -0.1f, 0.1f, &gen),
           Tensor::uniform({64}, -0.1f, 0.1f, &gen)},
          [](const std::vector<Tensor>& in) { return F::conv2d(in[0], in[1], in[2], {}, F::Pad2d::all(1)); });
  time_op("conv 1->32 3x3 pad1 @28x28 b64", repeats,
          {Tensor::uniform({64, 1, 28, 28}, -1, 1, &gen), Tensor::uniform({32, 1, 3, 3}, -0.3f, 0.3f, &gen),
           Tensor::uniform({32}, -0.1f, 0.1f, &gen)},
          [](const std::vector<Tensor>& in) { return F::conv2d(in[0], in[1], in[2], {}, F::Pad2d::all(1)); });
  time_op("maxpool2 64x32x28x28", repeats, {Tensor::uniform({64, 32, 28, 28}, -1, 1, &gen)},
          [](const std::vector<Tensor>& in) {
            return F::max_pool2d(in[0], {2, 2});
          });
  time_op("batchnorm2d train 64x32x28x28", repeats,
          {Tensor::uniform({64, 32, 28, 28}, -1, 1, &gen), Tensor::ones({32}), Tensor::zeros({32})},
          [](const std::vector<Tensor>& in) {
            return F::batch_norm(in[0], Tensor(), Tensor(), in[1], in[2], true);
          });
  return 0;
}
