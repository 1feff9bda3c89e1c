// Pooling, BatchNorm over [N, C, H, W] and dropout2d against PyTorch (fixtures from
// tests/fixtures/nn/make_conv_fixtures.py), finite differences and PyTorch's edge rules.
#include <cmath>
#include <limits>

#include "nn/conv_fixture_util.hpp"

using namespace neurona;
using namespace neurona::testing;
namespace F = neurona::nn::functional;

namespace {

const Shape kPoolShape{2, 3, 7, 8};

// Runs `op` on the pooling input, checks its output and input gradient against fixture `key`.
template <class Op>
void check_pool(const std::string& key, Op op, const Shape& in = kPoolShape) {
  SCOPED_TRACE(key);
  Tensor x = pattern(in, 4).requires_grad_(true);
  Tensor y = op(x);
  expect_conv_fixture(y, key + ".out");
  sum(y * fixture_grad_weights(y.shape())).backward();
  expect_conv_fixture(x.grad(), key + ".g0");
}

// Distinct values 0.05 apart in a fixed shuffled order, so a finite-difference step never changes
// which element is a window's maximum.
Tensor distinct(const Shape& shape) {
  Tensor t = Tensor::empty(shape);
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) t.data()[i] = 0.05f * static_cast<float>((i * 37) % n) - 1.f;
  return t;
}

}  // namespace

TEST(MaxPool2d, MatchesPyTorch) {
  struct Case {
    const char* name;
    F::Size2d k, s, p, d;
    bool ceil;
  };
  const Case cases[] = {
      {"max_k2", {2, 2}, {2, 2}, {0, 0}, {1, 1}, false},
      {"max_k3s2", {3, 3}, {2, 2}, {0, 0}, {1, 1}, false},
      {"max_k3s2_ceil", {3, 3}, {2, 2}, {0, 0}, {1, 1}, true},
      {"max_k2_pad1_ceil", {2, 2}, {2, 2}, {1, 1}, {1, 1}, true},
      {"max_k3_pad1", {3, 3}, {1, 2}, {1, 1}, {1, 1}, false},
      {"max_dil2", {3, 2}, {1, 1}, {1, 0}, {2, 2}, false},
      {"max_dil2_ceil", {2, 3}, {2, 2}, {1, 1}, {2, 1}, true},
  };
  for (const Case& c : cases)
    check_pool(c.name, [&c](const Tensor& x) {
      return F::max_pool2d(x, c.k, c.s, F::Pad2d::symmetric(c.p.h, c.p.w), c.d, c.ceil);
    });
}

TEST(MaxPool2d, OutputSizesAndCeilModeRule) {
  Tensor x = Tensor::zeros({1, 1, 7, 8});
  EXPECT_EQ(F::max_pool2d(x, {2, 2}).shape(), Shape({1, 1, 3, 4}));  // stride defaults to the kernel
  EXPECT_EQ(F::max_pool2d(x, {2, 2}, std::nullopt, {}, {}, true).shape(), Shape({1, 1, 4, 4}));
  // 5 wide, k2 s2 pad 1, ceil: ⌈(5 + 2 − 2)/2⌉ + 1 = 4, but the 4th window would start at 6 − 1 = 5,
  // in the right padding, so it is dropped: 3.
  EXPECT_EQ(
      F::max_pool2d(Tensor::zeros({1, 1, 5, 5}), {2, 2}, F::Size2d{2, 2}, F::Pad2d::all(1), {}, true).shape(),
      Shape({1, 1, 3, 3}));
}

TEST(MaxPool2d, FirstMaximumWinsAndNaNPropagates) {
  // Ties: the first in scan order (row by row) gets the gradient.
  Tensor x = Tensor::from({1, 3, 3, 0, 2, 3, 3, 1}, {1, 1, 2, 4}).requires_grad_(true);
  Tensor y = F::max_pool2d(x, {2, 2});
  expect_values(y, {3, 3});
  sum(y).backward();
  expect_values(x.grad(), {0, 1, 1, 0, 0, 0, 0, 0});
  // Overlapping windows (k2 s1) add their gradients: four windows hold the peak; the two all-zero
  // windows send theirs to their first element.
  Tensor p = Tensor::from({0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0}, {1, 1, 3, 4}).requires_grad_(true);
  sum(F::max_pool2d(p, {2, 2}, F::Size2d{1, 1})).backward();
  expect_values(p.grad(), {0, 0, 1, 0, 0, 4, 1, 0, 0, 0, 0, 0});
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor q = Tensor::from({1, nan, 5, 2}, {1, 1, 2, 2}).requires_grad_(true);
  Tensor yq = F::max_pool2d(q, {2, 2});
  EXPECT_TRUE(std::isnan(yq.item()));
  yq.backward(Tensor::ones({1, 1, 1, 1}));
  expect_values(q.grad(), {0, 1, 0, 0});
  // A window over padding only sees −∞ there.
  Tensor neg = Tensor::full({1, 1, 1, 1}, -5.f);
  expect_values(F::max_pool2d(neg, {2, 2}, F::Size2d{1, 1}, F::Pad2d::all(1)), {-5, -5, -5, -5});
}

// MaxPool2d(2) runs its own loops, 16 windows at a time: planes wider than 16 windows, with a
// leftover column and row, ties and NaNs, against the definition (first maximum in scan order).
TEST(MaxPool2d, TwoByTwoMatchesDefinitionOnWideOddPlanes) {
  const int64_t n = 2, c = 3, h = 9, w = 37, oh = 4, ow = 18;
  Tensor x = Tensor::empty({n, c, h, w});
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = i % 23 == 5 ? nan : float((i * i / 7) % 3);
  x.requires_grad_(true);
  Tensor y = F::max_pool2d(x, {2, 2});
  ASSERT_EQ(y.shape(), Shape({n, c, oh, ow}));
  Tensor gy = pattern(y.shape(), 8);
  sum(y * gy).backward();
  std::vector<float> want_gx(static_cast<size_t>(x.numel()), 0.f);
  for (int64_t p = 0; p < n * c; ++p)
    for (int64_t r = 0; r < oh; ++r)
      for (int64_t q = 0; q < ow; ++q) {
        int64_t at = -1;
        float best = 0.f;
        for (int64_t i = 0; i < 2; ++i)
          for (int64_t j = 0; j < 2; ++j) {
            const int64_t k = (p * h + 2 * r + i) * w + 2 * q + j;
            const float v = x.data()[k];
            if (at < 0 || v > best || std::isnan(v)) best = v, at = k;
          }
        const float got = y.data()[(p * oh + r) * ow + q];
        if (std::isnan(best))
          EXPECT_TRUE(std::isnan(got)) << p << " " << r << " " << q;
        else
          EXPECT_EQ(got, best) << p << " " << r << " " << q;
        want_gx[static_cast<size_t>(at)] += gy.data()[(p * oh + r) * ow + q];
      }
  for (int64_t i = 0; i < x.numel(); ++i) EXPECT_EQ(x.grad().data()[i], want_gx[static_cast<size_t>(i)]) << i;
}

TEST(MaxPool2d, Gradcheck) {
  expect_gradcheck(
      [](const std::vector<Tensor>& in) {
        return F::max_pool2d(in[0], {3, 3}, F::Size2d{2, 2}, F::Pad2d::all(1), {}, true);
      },
      {distinct({1, 2, 5, 6})});
  expect_gradcheck(
      [](const std::vector<Tensor>& in) {
        return F::max_pool2d(in[0], {2, 2}, F::Size2d{1, 2}, {}, {2, 1});
      },
      {distinct({2, 1, 5, 4})});
}

TEST(AvgPool2d, MatchesPyTorchDivisorRules) {
  struct Case {
    const char* name;
    F::Size2d k, s, p;
    bool ceil, include_pad;
    std::optional<int64_t> divisor;
  };
  const Case cases[] = {
      {"avg_k2", {2, 2}, {2, 2}, {0, 0}, false, true, std::nullopt},
      {"avg_k3s2_pad1_incl", {3, 3}, {2, 2}, {1, 1}, false, true, std::nullopt},
      {"avg_k3s2_pad1_excl", {3, 3}, {2, 2}, {1, 1}, false, false, std::nullopt},
      {"avg_k3s2_pad1_ceil_incl", {3, 3}, {2, 2}, {1, 1}, true, true, std::nullopt},
      {"avg_k3s2_pad1_ceil_excl", {3, 3}, {2, 2}, {1, 1}, true, false, std::nullopt},
      {"avg_k2_ceil", {2, 3}, {2, 3}, {0, 1}, true, true, std::nullopt},
      {"avg_k3_div5", {3, 3}, {2, 2}, {1, 1}, false, true, 5},
  };
  for (const Case& c : cases)
    check_pool(c.name, [&c](const Tensor& x) {
      return F::avg_pool2d(x, c.k, c.s, F::Pad2d::symmetric(c.p.h, c.p.w), c.ceil, c.include_pad, c.divisor);
    });
  // By hand: a 2x2 plane, k2 s1 pad 1: the corner window holds one value.
  Tensor x = Tensor::from({4, 8, 12, 16}, {1, 1, 2, 2});
  expect_values(F::avg_pool2d(x, {2, 2}, F::Size2d{1, 1}, F::Pad2d::all(1)).slice(0, 1).reshape({9}),
                {1, 3, 2, 4, 10, 6, 3, 7, 4});
  expect_values(F::avg_pool2d(x, {2, 2}, F::Size2d{1, 1}, F::Pad2d::all(1), false, false).reshape({9}),
                {4, 6, 8, 8, 10, 12, 12, 14, 16});
}

TEST(AvgPool2d, Gradcheck) {
  expect_gradcheck(
      [](const std::vector<Tensor>& in) {
        return F::avg_pool2d(in[0], {3, 2}, F::Size2d{2, 2}, {1, 0, 1, 1}, true, false);
      },
      {pattern({2, 2, 5, 5}, 3)});
}

TEST(AdaptiveAvgPool2d, MatchesPyTorchOnNonDividingSizes) {
  check_pool("adaptive_5to3",
             [](const Tensor& x) {
               return F::adaptive_avg_pool2d(x, {3, 3});
             },
             {2, 3, 5, 5});
  check_pool("adaptive_7x8to3x5", [](const Tensor& x) { return F::adaptive_avg_pool2d(x, {3, 5}); });
  check_pool("adaptive_up", [](const Tensor& x) { return F::adaptive_avg_pool2d(x, {4, 3}); }, {1, 2, 3, 2});
  check_pool("adaptive_global", [](const Tensor& x) { return F::adaptive_avg_pool2d(x, {1, 1}); });
  expect_gradcheck(
      [](const std::vector<Tensor>& in) {
        return F::adaptive_avg_pool2d(in[0], {3, 2});
      },
      {pattern({1, 2, 5, 3}, 6)});
}

TEST(GlobalPool2d, AverageAndMaximumPerPlane) {
  check_pool("adaptive_global", [](const Tensor& x) {
    Tensor y = F::global_avg_pool2d(x);
    EXPECT_EQ(y.shape(), Shape({2, 3}));
    return y;
  });
  check_pool("global_max", [](const Tensor& x) {
    Tensor y = F::global_max_pool2d(x);
    EXPECT_EQ(y.shape(), Shape({2, 3}));
    return y;
  });
  expect_gradcheck([](const std::vector<Tensor>& in) { return F::global_max_pool2d(in[0]); },
                   {distinct({2, 2, 3, 3})});
  expect_gradcheck([](const std::vector<Tensor>& in) { return F::global_avg_pool2d(in[0]); },
                   {pattern({2, 2, 3, 3}, 2)});
}

TEST(Pool2d, ErrorsNameTheOpAndShapes) {
  Tensor x = Tensor::zeros({1, 2, 4, 4});
  EXPECT_ERROR_CONTAINS(F::max_pool2d(Tensor::zeros({2, 4, 4}), {2, 2}),
                        "max_pool2d: expected input [N, C, H, W], got [2,4,4]");
  EXPECT_ERROR_CONTAINS(
      F::max_pool2d(x, {3, 3}, std::nullopt, F::Pad2d::all(2)),
      "max_pool2d: padding (top, bottom, left, right) = (2, 2, 2, 2) must be between 0 and half "
      "the kernel 3x3");
  EXPECT_ERROR_CONTAINS(F::avg_pool2d(x, {2, 2}, std::nullopt, {0, 0, 2, 0}), "avg_pool2d: padding");
  EXPECT_ERROR_CONTAINS(F::max_pool2d(x, {5, 5}), "max_pool2d: input [1,2,4,4] is too small for kernel 5x5");
  EXPECT_ERROR_CONTAINS(F::max_pool2d(x, {2, 2}, F::Size2d{0, 1}), "max_pool2d: stride must be at least 1");
  EXPECT_ERROR_CONTAINS(F::avg_pool2d(x, {2, 2}, std::nullopt, {}, false, true, 0),
                        "avg_pool2d: divisor_override must not be 0");
  EXPECT_ERROR_CONTAINS(F::adaptive_avg_pool2d(x, {0, 2}),
                        "adaptive_avg_pool2d: output size must be at least 1");
  EXPECT_ERROR_CONTAINS(F::global_avg_pool2d(Tensor::zeros({4, 4})), "global_avg_pool2d: expected input");
}

TEST(BatchNorm2d, TrainingStepMatchesPyTorch) {
  const Shape shape{3, 4, 3, 5};
  Tensor x = (pattern(shape, 5) * 2.f + 0.5f).detach().requires_grad_(true);
  Tensor w = (pattern({4}, 7) + 1.f).detach().requires_grad_(true);
  Tensor b = pattern({4}, 8).requires_grad_(true);
  Tensor rm = Tensor::zeros({4}), rv = Tensor::ones({4}), tracked = Tensor::zeros({1});
  Tensor y = F::batch_norm(x, rm, rv, w, b, true, {}, tracked);
  expect_conv_fixture(y, "bn2d_train.out");
  // running_var takes the unbiased variance over N·H·W = 45 values.
  expect_conv_fixture(rm, "bn2d_train.running_mean");
  expect_conv_fixture(rv, "bn2d_train.running_var");
  sum(y * fixture_grad_weights(shape)).backward();
  expect_conv_fixture(x.grad(), "bn2d_train.g0", 1e-4f);
  expect_conv_fixture(w.grad(), "bn2d_train.g1");
  expect_conv_fixture(b.grad(), "bn2d_train.g2");
  F::batch_norm(pattern(shape, 6), rm, rv, w.detach(), b.detach(), true, {}, tracked);
  expect_conv_fixture(rm, "bn2d_steps.running_mean");
  expect_conv_fixture(rv, "bn2d_steps.running_var");
  EXPECT_EQ(tracked.item(), 2.f);
  // Eval mode normalises with the running statistics.
  Tensor xe = (pattern(shape, 5) * 2.f + 0.5f).detach().requires_grad_(true);
  Tensor we = (pattern({4}, 7) + 1.f).detach().requires_grad_(true);
  Tensor be = pattern({4}, 8).requires_grad_(true);
  Tensor ye = F::batch_norm(xe, rm, rv, we, be, false);
  expect_conv_fixture(ye, "bn2d_eval.out");
  sum(ye * fixture_grad_weights(shape)).backward();
  expect_conv_fixture(xe.grad(), "bn2d_eval.g0");
  expect_conv_fixture(we.grad(), "bn2d_eval.g1");
  expect_conv_fixture(be.grad(), "bn2d_eval.g2");
}

TEST(BatchNorm2d, Gradcheck) {
  expect_gradcheck(
      [](const std::vector<Tensor>& in) {
        return F::batch_norm(in[0], Tensor(), Tensor(), in[1], in[2], true);
      },
      {pattern({2, 3, 2, 3}, 3), pattern({3}, 4), pattern({3}, 5)});
  EXPECT_ERROR_CONTAINS(
      F::batch_norm(Tensor::zeros({1, 2, 2, 2, 2}), Tensor(), Tensor(), Tensor(), Tensor(), true),
      "batch_norm: expected input [N, C], [N, C, L] or [N, C, H, W], got [1,2,2,2,2]");
}

TEST(Dropout2d, ZeroesWholeChannelsWithProbabilityP) {
  Generator gen(7);
  const float p = 0.3f;
  Tensor x = Tensor::ones({64, 50, 3, 2}).requires_grad_(true);
  Tensor y = F::dropout2d(x, p, true, &gen);
  int64_t dropped = 0;
  const float keep = 1.f / (1.f - p);
  for (int64_t plane = 0; plane < 64 * 50; ++plane) {
    const float* v = y.data() + plane * 6;
    ASSERT_TRUE(v[0] == 0.f || v[0] == keep) << v[0];
    for (int j = 1; j < 6; ++j)
      ASSERT_EQ(v[j], v[0]) << "plane " << plane << " is not all kept or all dropped";
    dropped += v[0] == 0.f;
  }
  // 3200 Bernoulli(0.3) planes: standard deviation 0.0081 of the fraction.
  EXPECT_NEAR(static_cast<double>(dropped) / 3200.0, 0.3, 0.03);
  // The gradient is the same mask.
  Tensor g = pattern(x.shape(), 3);
  y.backward(g);
  for (int64_t i = 0; i < x.numel(); ++i) ASSERT_EQ(x.grad().data()[i], g.data()[i] * y.data()[i]) << i;
  // Same seed, same mask; eval and p = 0 are the identity; p = 1 drops everything.
  Generator again(7);
  EXPECT_TRUE(same_bits(F::dropout2d(x.detach(), p, true, &again), y.detach()));
  Tensor z = pattern({2, 3, 4, 4}, 1);
  EXPECT_TRUE(F::dropout2d(z, p, false).same(z));
  EXPECT_TRUE(F::dropout2d(z, 0.f, true).same(z));
  EXPECT_EQ(sum(abs(F::dropout2d(z, 1.f, true, &gen))).item(), 0.f);
  EXPECT_ERROR_CONTAINS(F::dropout2d(z, 1.5f), "dropout2d: probability 1.5 is not in [0, 1]");
  EXPECT_ERROR_CONTAINS(F::dropout2d(Tensor::ones({4, 4}), 0.5f),
                        "dropout2d: expected input [N, C, H, W] or [N, C, L]");
}

TEST(Dropout2d, ThreeDimensionalInputIsNCL) {
  // [N, C, L]: whole rows x[n, c, :] are kept or dropped (PyTorch's reading of 3-D input).
  Generator gen(3);
  Tensor y = F::dropout2d(Tensor::ones({40, 30, 5}), 0.5f, true, &gen);
  int64_t dropped = 0;
  for (int64_t r = 0; r < 40 * 30; ++r) {
    const float* v = y.data() + r * 5;
    for (int j = 1; j < 5; ++j) ASSERT_EQ(v[j], v[0]);
    dropped += v[0] == 0.f;
  }
  EXPECT_NEAR(static_cast<double>(dropped) / 1200.0, 0.5, 0.05);
  expect_gradcheck(
      [](const std::vector<Tensor>& in) {
        Generator fixed(11);
        return F::dropout2d(in[0], 0.4f, true, &fixed);
      },
      {pattern({3, 4, 2, 2}, 8)});
}
