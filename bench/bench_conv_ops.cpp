// Neurona's side of the image-op timing (bench/conv_ops.py starts it beside PyTorch): forward and
// forward + backward (input, weight and bias gradients) of single ops on fixed shapes, min of
// --repeats runs after one warm-up, as wall time and as the thread's CPU time (on a loaded machine
// the CPU time is the steadier figure at 1 thread). Then whole training steps of the Fashion-MNIST
// CNN W3 (conv32-relu-maxpool2-conv64-relu-maxpool2-dense128-relu-dense10, 'same' 3×3 convs, batch
// 64, cross entropy, SGD with momentum 0.9) and W3b (BatchNorm2d after each conv) built from the
// functional ops: forward, backward and optimizer step. Prints one JSON object per line, times in
// ms, and the conv GEMM rates beside the core's measured FMA peak.
//
//   bench_conv_ops [--threads 1] [--repeats 5] [--only SUBSTRING] [--conv direct|im2col]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "fma_peak.hpp"
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
// `flops` is the forward's floating-point operation count (0: not a GEMM-like op); the backward
// of a conv does twice as many (input and weight gradients).
void time_op(const char* name, int repeats, std::vector<Tensor> inputs,
             const std::function<Tensor(const std::vector<Tensor>&)>& op, double flops = 0) {
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
      "\"forward_cpu_ms\": %.3f, \"forward_backward_cpu_ms\": %.3f, \"forward_gflop\": %.4f}\n",
      name, num_threads(), fwd.wall_ms, both.wall_ms, fwd.cpu_ms, both.cpu_ms, flops * 1e-9);
  std::fflush(stdout);
}

// One W3 / W3b training step's tensors: the parameters (PyTorch's layer order and default init
// bounds) and BatchNorm's running statistics.
struct CnnStep {
  bool bn;
  Tensor x, target;
  std::vector<Tensor> params;  // conv1 w, b, [bn1 γ, β], conv2 w, b, [bn2 γ, β], fc1 w, b, fc2 w, b
  Tensor rm1, rv1, nt1, rm2, rv2, nt2;
  std::unique_ptr<optim::SGD> opt;

  explicit CnnStep(bool with_bn) : bn(with_bn) {
    Generator gen(7);
    x = Tensor::uniform({64, 1, 28, 28}, 0.f, 1.f, &gen);
    target = Tensor::empty({64});
    for (int64_t i = 0; i < 64; ++i) target.data()[i] = float((i * 7) % 10);
    auto param = [&](const Shape& s, int64_t fan_in) {
      const float bound = 1.f / std::sqrt(float(fan_in));
      params.push_back(Tensor::uniform(s, -bound, bound, &gen).requires_grad_(true));
    };
    auto bn_params = [&](int64_t c) {
      params.push_back(Tensor::ones({c}).requires_grad_(true));
      params.push_back(Tensor::zeros({c}).requires_grad_(true));
    };
    param({32, 1, 3, 3}, 9), param({32}, 9);
    if (bn) bn_params(32);
    param({64, 32, 3, 3}, 288), param({64}, 288);
    if (bn) bn_params(64);
    param({128, 3136}, 3136), param({128}, 3136), param({10, 128}, 128), param({10}, 128);
    rm1 = Tensor::zeros({32}), rv1 = Tensor::ones({32}), nt1 = Tensor::zeros({1});
    rm2 = Tensor::zeros({64}), rv2 = Tensor::ones({64}), nt2 = Tensor::zeros({1});
    opt = std::make_unique<optim::SGD>(params, optim::SGDOptions{.lr = 0.01, .momentum = 0.9});
  }

  // conv (+ BatchNorm) + relu; the relu is fused into the conv when there is no BatchNorm.
  Tensor block(const Tensor& h, size_t& p, Tensor& rm, Tensor& rv, Tensor& nt) {
    const Tensor &w = params[p], &b = params[p + 1];
    p += 2;
    if (!bn) return F::conv2d(h, w, b, {}, F::Pad2d::all(1), {}, 1, nn::Activation::ReLU);
    Tensor z = F::conv2d(h, w, b, {}, F::Pad2d::all(1));
    z = F::batch_norm(z, rm, rv, params[p], params[p + 1], true, {}, nt);
    p += 2;
    return F::relu(z);
  }

  void step() {
    opt->zero_grad();
    size_t p = 0;
    Tensor h = F::max_pool2d(block(x, p, rm1, rv1, nt1), {2, 2});
    h = F::max_pool2d(block(h, p, rm2, rv2, nt2), {2, 2});
    h = F::linear(h.reshape({64, 3136}), params[p], params[p + 1], nn::Activation::ReLU);
    Tensor logits = F::linear(h, params[p + 2], params[p + 3]);
    F::cross_entropy(logits, target).backward();
    opt->step();
  }
};

void time_step(const char* name, bool bn, int repeats) {
  if (std::string(name).find(g_only) == std::string::npos) return;
  CnnStep s(bn);
  s.step();
  const Times t = min_ms(repeats * 3, [&] { s.step(); });
  std::printf("{\"op\": \"%s\", \"threads\": %d, \"step_ms\": %.3f, \"step_cpu_ms\": %.3f}\n", name,
              num_threads(), t.wall_ms, t.cpu_ms);
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
    else if (a == "--conv")
      F::use_direct_conv(std::string(argv[i + 1]) != "im2col");
  }
  set_num_threads(threads);
  Generator gen(1);
  time_op(
      "conv 32->64 3x3 pad1 @14x14 b64", repeats,
      {Tensor::uniform({64, 32, 14, 14}, -1, 1, &gen), Tensor::uniform({64, 32, 3, 3}, -0.1f, 0.1f, &gen),
       Tensor::uniform({64}, -0.1f, 0.1f, &gen)},
      [](const std::vector<Tensor>& in) { return F::conv2d(in[0], in[1], in[2], {}, F::Pad2d::all(1)); },
      2.0 * 64 * 64 * 196 * 288);
  time_op(
      "conv 1->32 3x3 pad1 @28x28 b64", repeats,
      {Tensor::uniform({64, 1, 28, 28}, -1, 1, &gen), Tensor::uniform({32, 1, 3, 3}, -0.3f, 0.3f, &gen),
       Tensor::uniform({32}, -0.1f, 0.1f, &gen)},
      [](const std::vector<Tensor>& in) { return F::conv2d(in[0], in[1], in[2], {}, F::Pad2d::all(1)); },
      2.0 * 64 * 32 * 784 * 9);
  time_op("maxpool2 64x32x28x28", repeats, {Tensor::uniform({64, 32, 28, 28}, -1, 1, &gen)},
          [](const std::vector<Tensor>& in) {
            return F::max_pool2d(in[0], {2, 2});
          });
  time_op("batchnorm2d train 64x32x28x28", repeats,
          {Tensor::uniform({64, 32, 28, 28}, -1, 1, &gen), Tensor::ones({32}), Tensor::zeros({32})},
          [](const std::vector<Tensor>& in) {
            return F::batch_norm(in[0], Tensor(), Tensor(), in[1], in[2], true);
          });
  time_step("step W3", false, repeats);
  time_step("step W3b", true, repeats);
  if (g_only.empty())
    std::printf("{\"op\": \"fma peak\", \"threads\": %d, \"gflops\": %.1f}\n", threads,
                bench::fma_peak(threads));
  return 0;
}
