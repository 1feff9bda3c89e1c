// Neurona's side of the side-by-side benchmark (bench/run.sh starts it and bench/torch_workloads.py
// with the same arguments). One training step = zero_grad + forward + loss + backward + optimizer
// step, through the public API. Prints one JSON object per line.
//
//   bench_workloads --workload W1 --batch 256 --threads 2 [--seconds 0.3] [--repeats 5] [--precision bf16]
//                   [--fp32-gemm openblas]        fp32 products on OpenBLAS instead of Neurona's AVX-512
//                   kernel
//                   [--conv im2col]               stride-1 convolutions by im2col + GEMM instead of the
//                                                 direct kernel
//                   [--inference]                 eval-mode forward passes without gradients instead of
//                                                 training steps
//   bench_workloads --gemm --threads 2        fp32 GEMM ceiling, FMA peak, W1's and conv-like GEMMs
//                                             through Neurona (its AVX-512 kernel and OpenBLAS)
//   bench_workloads --accuracy [--epochs 100] [--data data/winequality-red.csv]
//                                             W1b validation loss on wine, fp32 vs bf16-mixed
#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fma_peak.hpp"
#include "neurona/core/kernels.hpp"
#include "neurona/nn/functional.hpp"
#include "workloads.hpp"

using namespace neurona;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Data {
  Tensor x, y;
  int64_t rows;
};

// In-memory data of each workload's size and kind (values do not affect the timing). The image
// workloads take 1,024 images (16 batches of 64).
Data make_data(const bench::Workload& w, Generator& g) {
  const int64_t rows = w.name == "W4"                        ? 500
                       : (w.name == "W1" || w.name == "W1b") ? 1119
                       : !w.image.empty()                    ? 1024
                                                             : 60000;
  Shape shape = {rows, w.widths.front()};
  if (!w.image.empty()) shape = {rows, w.image[0], w.image[1], w.image[2]};
  Data d{Tensor::uniform(shape, 0.f, 1.f, &g), Tensor(), rows};
  if (w.name == "W4") {
    d.x = Tensor::uniform({rows, 2}, -6.f, 6.f, &g);
    d.y = Tensor::empty({rows, 1});
    for (int64_t i = 0; i < rows; ++i) d.y.data()[i] = g.uniform() > 0.5 ? 1.f : -1.f;
  } else if (w.classification) {
    d.y = Tensor::empty({rows});
    for (int64_t i = 0; i < rows; ++i) d.y.data()[i] = float(g.randint(10));
  } else {
    d.y = Tensor::uniform({rows, 1}, 0.f, 1.f, &g);
  }
  return d;
}

struct Args {
  std::string workload, precision = "fp32", data = "data/winequality-red.csv";
  int64_t batch = 0;
  int threads = 1, repeats = 5, epochs = 100;
  double seconds = 0.3;
  bool gemm = false, accuracy = false, inference = false;
  bool im2col = false;    // --conv im2col: stride-1 convolutions by im2col + GEMM, not the direct kernel
  bool openblas = false;  // --fp32-gemm openblas: fp32 products go to OpenBLAS, not the AVX-512 kernel
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> std::string {
      check(i + 1 < argc, "bench_workloads: ", k, " needs a value");
      return argv[++i];
    };
    if (k == "--workload")
      a.workload = next();
    else if (k == "--batch")
      a.batch = std::stoll(next());
    else if (k == "--threads")
      a.threads = std::stoi(next());
    else if (k == "--repeats")
      a.repeats = std::stoi(next());
    else if (k == "--seconds")
      a.seconds = std::stod(next());
    else if (k == "--precision")
      a.precision = next();
    else if (k == "--epochs")
      a.epochs = std::stoi(next());
    else if (k == "--data")
      a.data = next();
    else if (k == "--gemm")
      a.gemm = true;
    else if (k == "--fp32-gemm") {
      const std::string v = next();
      check(v == "openblas" || v == "avx512", "bench_workloads: --fp32-gemm takes openblas or avx512, got '",
            v, "'");
      a.openblas = v == "openblas";
    } else if (k == "--conv") {
      const std::string v = next();
      check(v == "direct" || v == "im2col", "bench_workloads: --conv takes direct or im2col, got '", v, "'");
      a.im2col = v == "im2col";
    } else if (k == "--accuracy")
      a.accuracy = true;
    else if (k == "--inference")
      a.inference = true;
    else
      fail("bench_workloads: unknown argument '", k, "'");
  }
  return a;
}

int run_workload(const Args& a) {
  set_num_threads(a.threads);
  const bool avx512 = kernels::use_avx512_gemm(!a.openblas);
  const bool direct = nn::F::use_direct_conv(!a.im2col);
  set_matmul_precision(a.precision);
  manual_seed(0);
  bench::Workload w = bench::make_model(a.workload);
  auto opt = bench::make_optimizer(w);
  Generator g(1);
  Data d = make_data(w, g);
  w.model->train();
  const int64_t batch = a.batch, starts = std::max<int64_t>(1, d.rows / batch);
  int64_t i = 0;
  // Inference: eval mode (BatchNorm's running statistics, no dropout), no graph recorded.
  std::optional<NoGradGuard> no_grad;
  if (a.inference) {
    w.model->eval();
    no_grad.emplace();
  }
  auto step = [&] {
    const int64_t s = (i++ % starts) * batch;
    if (a.inference) {
      Tensor out = (*w.model)(d.x.slice(s, s + batch));
      return;
    }
    opt->zero_grad();
    Tensor loss = (*w.loss)((*w.model)(d.x.slice(s, s + batch)), d.y.slice(s, s + batch));
    loss.backward();
    opt->step();
  };
  // Warm-up (fills the buffer pool and optimizer state), also sizing a repetition to ~`seconds`.
  const int warm = std::clamp<int64_t>(starts, 5, 200);
  auto t0 = Clock::now();
  for (int k = 0; k < warm; ++k) step();
  const double per_step = seconds_since(t0) / warm;
  const int64_t steps = std::clamp<int64_t>(int64_t(a.seconds / per_step), 3, 200000);
  std::vector<double> us;
  for (int r = 0; r < a.repeats; ++r) {
    t0 = Clock::now();
    for (int64_t k = 0; k < steps; ++k) step();
    us.push_back(seconds_since(t0) / double(steps) * 1e6);
  }
  std::printf(
      "{\"impl\": \"neurona\", \"workload\": \"%s\", \"batch\": %lld, \"threads\": %d, \"precision\": "
      "\"%s\", "
      "\"steps\": %lld, \"us_min\": %.3f, \"us_median\": %.3f, \"gflop_per_step\": %.6f, \"fp32_gemm\": "
      "\"%s\", \"conv\": \"%s\", \"mode\": \"%s\"}\n",
      a.workload.c_str(), (long long)batch, a.threads, matmul_precision().c_str(), (long long)steps,
      *std::min_element(us.begin(), us.end()), median(us),
      (a.inference ? bench::forward_flops(w, batch) : bench::step_flops(w, batch)) * 1e-9,
      avx512 ? "avx512" : "openblas", direct ? "direct" : "im2col", a.inference ? "inference" : "train");
  return 0;
}

// Best of several calls of fn, in seconds.
template <class F>
double best_time(F fn, int calls) {
  fn();
  double best = 1e30;
  for (int c = 0; c < calls; ++c) {
    const auto t0 = Clock::now();
    fn();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

struct GemmShape {
  const char* name;
  bool ta, tb;
  int64_t M, N, K;
};

// GFLOP/s of kernels::gemm on one shape (best of several calls).
double gemm_rate(const GemmShape& s) {
  const int64_t lda = s.ta ? s.M : s.K, ldb = s.tb ? s.K : s.N;
  std::vector<float> A(s.M * s.K, 0.5f), B(s.K * s.N, 0.25f), C(s.M * s.N);
  const double flops = 2.0 * s.M * s.N * s.K;
  const int calls = int(std::clamp(2e9 / flops, 5.0, 2000.0));
  const double t = best_time(
      [&] {
        kernels::gemm(s.ta, s.tb, s.M, s.N, s.K, 1.f, A.data(), lda, B.data(), ldb, 0.f, C.data(), s.N);
      },
      calls);
  return flops / t * 1e-9;
}

// The three GEMMs of one W1 hidden layer (256x512x512: forward, input gradient, weight gradient)
// through Neurona's kernels::gemm, the library's real path, with Neurona's AVX-512 kernel and
// with OpenBLAS (split over the same pool); each W1 GEMM and some convolution-like shapes alone;
// the measured FMA peak; then the fp32 ceiling: OpenBLAS on a large square product with its own
// threads. The ceiling goes last because OpenBLAS's threads keep spinning for a while after a
// threaded call and would take a core from Neurona's pool.
int run_gemm(const Args& a) {
  set_num_threads(a.threads);
  const int64_t M = 256, N = 512, K = 512;
  std::vector<float> x(M * K, 0.5f), wt(N * K, 0.25f), y(M * N), gx(M * K), gw(N * K);
  std::vector<std::pair<std::string, double>> layer;  // precision (and library), GFLOP/s
  // OpenBLAS starts its own threads when the library loads, and they spin for ≈ 0.1 s before
  // sleeping: let them settle before timing Neurona's path.
  for (const auto t0 = Clock::now(); seconds_since(t0) < 0.3;)
    kernels::gemm(false, true, M, N, K, 1.f, x.data(), K, wt.data(), K, 0.f, y.data(), N);
  auto w1_layer = [&] {
    return 3 * 2.0 * M * N * K /
           best_time(
               [&] {
                 kernels::gemm(false, true, M, N, K, 1.f, x.data(), K, wt.data(), K, 0.f, y.data(), N);
                 kernels::gemm(false, false, M, K, N, 1.f, y.data(), N, wt.data(), K, 0.f, gx.data(), K);
                 kernels::gemm(true, false, N, K, M, 1.f, y.data(), N, x.data(), K, 0.f, gw.data(), K);
               },
               20) *
           1e-9;
  };
  for (const char* prec : {"fp32", "bf16"}) {
    if (std::string(prec) == "bf16" && !set_matmul_precision("bf16")) continue;
    layer.emplace_back(prec, w1_layer());
    set_matmul_precision("fp32");
  }
  const GemmShape shapes[] = {
      {"W1 hidden forward", false, true, 256, 512, 512},
      {"W1 hidden input gradient", false, false, 256, 512, 512},
      {"W1 hidden weight gradient", true, false, 512, 512, 256},
      {"conv-like", false, false, 64, 196, 288},
      {"conv-like", false, false, 32, 784, 9},
      {"conv-like", false, false, 12544, 64, 288},
  };
  std::vector<std::pair<double, double>> rates;  // (Neurona, OpenBLAS) per shape
  double w1_openblas = 0;
  for (bool own : {true, false}) {
    kernels::use_avx512_gemm(own);
    if (!own) w1_openblas = w1_layer();
    for (size_t i = 0; i < std::size(shapes); ++i) {
      if (own)
        rates.emplace_back(gemm_rate(shapes[i]), 0.0);
      else
        rates[i].second = gemm_rate(shapes[i]);
    }
  }
  const bool own = kernels::use_avx512_gemm(true);
  const double peak = bench::fma_peak(a.threads);
  const int n = 1024;
  std::vector<float> A(n * n, 0.5f), B(n * n, 0.25f), C(n * n);
  openblas_set_num_threads(a.threads);
  const double t_ceiling = best_time(
      [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.f, A.data(), n, B.data(), n, 0.f,
                    C.data(), n);
      },
      10);
  set_num_threads(a.threads);  // restores Neurona's own GEMM threading
  for (const auto& [prec, gflops] : layer)
    std::printf(
        "{\"impl\": \"gemm\", \"threads\": %d, \"precision\": \"%s\", \"ceiling_gflops\": %.2f, "
        "\"w1_layer_gflops\": %.2f, \"w1_layer_openblas_gflops\": %.2f, \"fma_peak_gflops\": %.2f, "
        "\"kernel\": \"%s\"}\n",
        a.threads, prec.c_str(), 2.0 * n * n * n / t_ceiling * 1e-9, gflops, w1_openblas, peak,
        prec == "bf16" ? "bf16"
        : own          ? "avx512"
                       : "openblas");
  for (size_t i = 0; i < std::size(shapes); ++i)
    std::printf(
        "{\"impl\": \"gemm_shape\", \"threads\": %d, \"shape\": \"%s\", \"ta\": %d, \"tb\": %d, "
        "\"M\": %lld, \"N\": %lld, \"K\": %lld, \"neurona_gflops\": %.2f, \"openblas_gflops\": %.2f, "
        "\"fma_peak_gflops\": %.2f}\n",
        a.threads, shapes[i].name, shapes[i].ta, shapes[i].tb, (long long)shapes[i].M, (long long)shapes[i].N,
        (long long)shapes[i].K, rates[i].first, rates[i].second, peak);
  return 0;
}

// W1b (the lesson 5.5 model) trained on the red wine data as in the course (70/30 shuffled split,
// min-max scaling, batch 256, Adam 1e-3, MAE) with fp32 and with bf16-mixed from the same initial
// weights and dropout stream. The "final validation loss" is the mean of the last 10 epochs'
// validation MAE, which smooths the epoch-to-epoch jitter that dropout and BatchNorm cause.
int run_accuracy(const Args& a) {
  set_num_threads(a.threads);
  data::CsvOptions co;
  co.target = {"quality"};
  const data::CsvData wine = data::read_csv(a.data, co);
  const auto split = data::shuffled_split(wine.x.size(0), 0.3, /*seed=*/0);
  data::MinMaxScaler fx, fy;
  Tensor x = fx.fit_transform(wine.x.index_select(split.train));
  Tensor y = fy.fit_transform(wine.y.index_select(split.train));
  Tensor xv = fx.transform(wine.x.index_select(split.val));
  Tensor yv = fy.transform(wine.y.index_select(split.val));
  const int64_t rows = x.size(0);
  std::vector<double> final_loss;
  for (const char* prec : {"fp32", "bf16"}) {
    set_matmul_precision(prec);
    manual_seed(0);
    bench::Workload w = bench::make_model("W1b");
    auto opt = bench::make_optimizer(w);
    double tail = 0;
    for (int e = 0; e < a.epochs; ++e) {
      w.model->train();
      for (int64_t s = 0; s < rows; s += 256) {
        const int64_t end = std::min(rows, s + 256);
        if (end - s < 2) break;  // BatchNorm needs two rows
        opt->zero_grad();
        Tensor loss = (*w.loss)((*w.model)(x.slice(s, end)), y.slice(s, end));
        loss.backward();
        opt->step();
      }
      w.model->eval();
      NoGradGuard no_grad;
      const double val = (*w.loss)((*w.model)(xv), yv).item();
      if (e >= a.epochs - 10) tail += val / 10;
    }
    final_loss.push_back(tail);
  }
  set_matmul_precision("fp32");
  std::printf(
      "{\"impl\": \"accuracy\", \"workload\": \"W1b\", \"epochs\": %d, \"val_loss_fp32\": %.6f, "
      "\"val_loss_bf16\": %.6f, \"relative_difference\": %.6f}\n",
      a.epochs, final_loss[0], final_loss[1], std::abs(final_loss[1] - final_loss[0]) / final_loss[0]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    if (a.gemm) return run_gemm(a);
    if (a.accuracy) return run_accuracy(a);
    check(!a.workload.empty() && a.batch > 0, "bench_workloads: give --workload and --batch");
    return run_workload(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_workloads: %s\n", e.what());
    return 1;
  }
}
