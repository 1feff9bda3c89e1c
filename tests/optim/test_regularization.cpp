// L1/L2 penalties and gradient clipping, with values worked out by hand.
#include <cmath>

#include "test_util.hpp"

namespace neurona::optim {
namespace {

using neurona::testing::expect_values;

TEST(Regularizer, PenaltyValueAndGradient) {
  Tensor w = Tensor::from({1.f, -2.f, 0.5f, -0.25f}).requires_grad_();
  Regularizer reg{.l1 = 0.1, .l2 = 0.01};
  Tensor p = reg.penalty(w);
  // l1·Σ|w| = 0.1·3.75, l2·Σw² = 0.01·5.3125
  EXPECT_NEAR(p.item(), 0.375 + 0.053125, 1e-6);
  p.backward();
  // d/dw = l1·sign(w) + 2·l2·w
  expect_values(w.grad(), {0.1f + 0.02f, -0.1f - 0.04f, 0.1f + 0.01f, -0.1f - 0.005f}, 1e-6f);
}

TEST(Regularizer, SumOverLayersLeavesBiasesAlone) {
  Tensor w1 = Tensor::from({2.f, -1.f}).requires_grad_();
  Tensor w2 = Tensor::from({3.f}).requires_grad_();
  Tensor bias = Tensor::from({5.f}).requires_grad_();
  Tensor total = regularization_penalty({{w1, Regularizer{.l2 = 0.5}}, {w2, Regularizer{.l1 = 0.2}}});
  EXPECT_NEAR(total.item(), 0.5 * 5 + 0.2 * 3, 1e-6);
  (total + bias * 0.f).backward();
  expect_values(w1.grad(), {2.f, -1.f}, 1e-6f);
  expect_values(w2.grad(), {0.2f}, 1e-6f);
  expect_values(bias.grad(), {0.f});
  EXPECT_FLOAT_EQ(regularization_penalty({}).item(), 0.f);
  EXPECT_ERROR_CONTAINS(Regularizer{.l1 = -1}.penalty(w1), "Regularizer: l1 and l2 must be >= 0 (got l1 -1");
}

struct Grads {
  Tensor a = Tensor::from({1.f, 1.f}).requires_grad_();
  Tensor b = Tensor::from({1.f}).requires_grad_();
  Tensor none = Tensor::from({1.f}).requires_grad_();  // no gradient: ignored
  Grads() {
    a.set_grad(Tensor::from({3.f, 4.f}));
    b.set_grad(Tensor::from({-12.f}));
  }
  std::vector<Tensor> params() const { return {a, b, none}; }
};

TEST(ClipGradNorm, ScalesByMaxNormOverTotal) {
  Grads g;
  EXPECT_NEAR(clip_grad_norm(g.params(), 6.5), 13.0, 1e-9);  // √(9 + 16 + 144)
  const float c = float(6.5 / (13.0 + 1e-6));
  expect_values(g.a.grad(), {3 * c, 4 * c}, 1e-7f);
  expect_values(g.b.grad(), {-12 * c}, 1e-7f);
  EXPECT_FALSE(g.none.grad().defined());

  Grads h;
  EXPECT_NEAR(clip_grad_norm(h.params(), 20.0), 13.0, 1e-9);  // coefficient > 1: untouched
  expect_values(h.a.grad(), {3.f, 4.f}, 0.f);

  Grads one;
  EXPECT_NEAR(clip_grad_norm(one.params(), 9.5, 1.0), 19.0, 1e-9);
  expect_values(one.b.grad(), {float(-12 * 9.5 / (19 + 1e-6))}, 1e-7f);

  Grads inf;
  EXPECT_NEAR(clip_grad_norm(inf.params(), 6.0, INFINITY), 12.0, 1e-9);
  expect_values(inf.a.grad(), {float(3 * 6 / (12 + 1e-6)), float(4 * 6 / (12 + 1e-6))}, 1e-7f);
  EXPECT_ERROR_CONTAINS(clip_grad_norm(inf.params(), 1.0, 0.0), "clip_grad_norm: norm_type must be > 0");
}

TEST(ClipGradValue, ClampsEachElement) {
  Grads g;
  clip_grad_value(g.params(), 3.5);
  expect_values(g.a.grad(), {3.f, 3.5f}, 0.f);
  expect_values(g.b.grad(), {-3.5f}, 0.f);
  EXPECT_ERROR_CONTAINS(clip_grad_value(g.params(), -1), "clip_grad_value: clip_value must be >= 0 (got -1)");
}

}  // namespace
}  // namespace neurona::optim
