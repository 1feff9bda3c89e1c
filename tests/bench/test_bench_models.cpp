// The benchmark models (bench/workloads.hpp) compute PyTorch's losses: same formula-made weights
// and batch on both sides, fixtures from tests/fixtures/bench/make_bench_fixtures.py. Checks the
// training-mode loss, the loss after one optimizer step and the eval-mode loss; the bf16 matmul
// mode is checked against the same numbers with a bf16-sized tolerance.
#include <gtest/gtest.h>

#include <cmath>

#include "../../bench/workloads.hpp"
#include "fixtures/bench/bench_fixtures.inc"

using namespace neurona;

namespace {

double value(int64_t a, int64_t b, int64_t c, double scale) {
  return double((a * 31 + b * 17 + c * 7) % 23 - 11) / 11.0 * scale;
}

void fill(nn::Module& model) {
  int64_t li = 0;
  for (auto& [name, p] : model.named_parameters()) {
    float* d = p.data();
    if (p.dim() >= 2) {  // a matrix, or a convolution's weight as [out, in * kh * kw]
      const int64_t cols = p.numel() / p.size(0);
      const double scale = 1.0 / std::sqrt(double(cols));
      for (int64_t i = 0; i < p.size(0); ++i)
        for (int64_t j = 0; j < cols; ++j) d[i * cols + j] = float(value(i, j, li, scale));
    } else {
      const bool gamma = name.size() >= 6 && name.substr(name.size() - 6) == "weight";
      for (int64_t i = 0; i < p.size(0); ++i) d[i] = float(value(i, 0, li, 0.1) + (gamma ? 1.0 : 0.0));
    }
    ++li;
  }
}

struct Losses {
  double loss0, loss1, eval;
};

Losses run(const std::string& name) {
  manual_seed(0);
  bench::Workload w = bench::make_model(name);
  for (size_t i = 0; i < w.model->size(); ++i)
    if (auto d = std::dynamic_pointer_cast<nn::Dropout>((*w.model)[i])) d->options().p = 0.f;
  fill(*w.model);
  auto opt = bench::make_optimizer(w);
  // The CNNs take 8 images [C, H, W], each image's values by the formula in (C, H, W) order.
  const bool images = !w.image.empty();
  const int64_t rows = name == "W4" ? 10
                       : images     ? 8
                                    : 16,
                cols = images ? w.image[0] * w.image[1] * w.image[2] : w.widths.front();
  Tensor x = images ? Tensor::empty({rows, w.image[0], w.image[1], w.image[2]}) : Tensor::empty({rows, cols}),
         y;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) x.data()[i * cols + j] = float(value(i, j, 99, 1.0));
  if (w.classification) {
    y = Tensor::empty({rows});
    for (int64_t i = 0; i < rows; ++i) y.data()[i] = float((i * 7) % 10);
  } else {
    y = Tensor::empty({rows, 1});
    for (int64_t i = 0; i < rows; ++i) y.data()[i] = float(value(i, 0, 98, 1.0));
  }
  Losses out{};
  w.model->train();
  opt->zero_grad();
  Tensor loss = (*w.loss)((*w.model)(x), y);
  loss.backward();
  opt->step();
  out.loss0 = loss.item();
  NoGradGuard no_grad;
  out.loss1 = (*w.loss)((*w.model)(x), y).item();
  w.model->eval();
  out.eval = (*w.loss)((*w.model)(x), y).item();
  return out;
}

void expect_losses(const std::string& name, double rel) {
  SCOPED_TRACE(name + " (" + matmul_precision() + ")");
  const Losses l = run(name);
  const auto& f = bench_fixtures();
  EXPECT_NEAR(l.loss0, f.at(name + ".loss0"), rel * std::abs(f.at(name + ".loss0")));
  EXPECT_NEAR(l.loss1, f.at(name + ".loss1"), rel * std::abs(f.at(name + ".loss1")));
  EXPECT_NEAR(l.eval, f.at(name + ".eval"), rel * std::abs(f.at(name + ".eval")));
}

}  // namespace

TEST(BenchModels, SameLossesAsPyTorch) {
  for (const char* name : {"W1", "W1b", "W2", "W4"}) expect_losses(name, 2e-5);
}

TEST(BenchModels, ImageWorkloadsSameLossesAsPyTorch) {
  for (const char* name : {"W3", "W3b", "W6"}) expect_losses(name, 2e-5);
}

TEST(BenchModels, Bf16MatmulsStayCloseToPyTorchFp32) {
  if (!set_matmul_precision("bf16")) GTEST_SKIP() << "no AVX-512 BF16 on this CPU";
  for (const char* name : {"W1", "W1b", "W2", "W4"}) expect_losses(name, 2e-2);
  set_matmul_precision("fp32");
}
