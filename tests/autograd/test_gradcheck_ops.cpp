// Finite-difference gradient checks for every differentiable core op, broadcasting included.
#include "test_util.hpp"

using namespace neurona;
using namespace neurona::testing;
using V = std::vector<Tensor>;

namespace {
Generator gen(2024);
Tensor rnd(const Shape& s, float lo = -1.f, float hi = 1.f) { return Tensor::uniform(s, lo, hi, &gen); }
}  // namespace

TEST(Gradcheck, AddSubMulDivSameShape) {
  expect_gradcheck([](const V& x) { return x[0] + x[1]; }, {rnd({3, 4}), rnd({3, 4})});
  expect_gradcheck([](const V& x) { return x[0] - x[1]; }, {rnd({3, 4}), rnd({3, 4})});
  expect_gradcheck([](const V& x) { return x[0] * x[1]; }, {rnd({3, 4}), rnd({3, 4})});
  expect_gradcheck([](const V& x) { return x[0] / x[1]; }, {rnd({3, 4}), rnd({3, 4}, 0.5f, 2.f)});
}

TEST(Gradcheck, BinaryOpsBroadcast) {
  // row vector, column vector, scalar and leading-dimension broadcasts
  expect_gradcheck([](const V& x) { return x[0] + x[1]; }, {rnd({3, 4}), rnd({4})});
  expect_gradcheck([](const V& x) { return x[0] - x[1]; }, {rnd({3, 1}), rnd({1, 4})});
  expect_gradcheck([](const V& x) { return x[0] * x[1]; }, {rnd({2, 3, 4}), rnd({3, 1})});
  expect_gradcheck([](const V& x) { return x[0] / x[1]; }, {rnd({2, 3}), rnd({}, 0.5f, 2.f)});
  expect_gradcheck([](const V& x) { return x[0] * x[1]; }, {rnd({}), rnd({2, 2})});
  expect_gradcheck([](const V& x) { return maximum(x[0], x[1]); }, {rnd({3, 4}), rnd({4})});
  expect_gradcheck([](const V& x) { return minimum(x[0], x[1]); }, {rnd({3, 1}), rnd({3, 4})});
}

TEST(Gradcheck, ScalarArithmetic) {
  expect_gradcheck([](const V& x) { return x[0] * 3.f + 2.f; }, {rnd({5})});
  expect_gradcheck([](const V& x) { return 1.f - x[0] / 4.f; }, {rnd({5})});
  expect_gradcheck([](const V& x) { return 2.f / x[0]; }, {rnd({5}, 0.5f, 2.f)});
  expect_gradcheck([](const V& x) { return -x[0]; }, {rnd({2, 2})});
}

TEST(Gradcheck, UnaryMath) {
  expect_gradcheck([](const V& x) { return exp(x[0]); }, {rnd({3, 3})});
  expect_gradcheck([](const V& x) { return log(x[0]); }, {rnd({3, 3}, 0.5f, 3.f)});
  expect_gradcheck([](const V& x) { return sqrt(x[0]); }, {rnd({3, 3}, 0.5f, 3.f)});
  expect_gradcheck([](const V& x) { return pow(x[0], 3.f); }, {rnd({3, 3})});
  expect_gradcheck([](const V& x) { return pow(x[0], -1.5f); }, {rnd({3, 3}, 0.5f, 2.f)});
  // away from the kinks, where finite differences are valid
  expect_gradcheck([](const V& x) { return abs(x[0]); }, {Tensor::from({-2.f, -0.5f, 0.7f, 1.5f})});
  expect_gradcheck([](const V& x) { return clamp(x[0], -0.5f, 0.5f); },
                   {Tensor::from({-0.9f, -0.2f, 0.3f, 0.8f})});
}

TEST(Gradcheck, Where) {
  Tensor mask = Tensor::from({1, 0, 1, 0, 0, 1}, {2, 3});
  expect_gradcheck([mask](const V& x) { return where(mask, x[0], x[1]); }, {rnd({2, 3}), rnd({3})});
}

TEST(Gradcheck, Reductions) {
  expect_gradcheck([](const V& x) { return sum(x[0]); }, {rnd({3, 4})});
  expect_gradcheck([](const V& x) { return mean(x[0]); }, {rnd({3, 4})});
  expect_gradcheck([](const V& x) { return sum(x[0], 0); }, {rnd({3, 4})});
  expect_gradcheck([](const V& x) { return sum(x[0], 1, true); }, {rnd({2, 3, 4})});
  expect_gradcheck([](const V& x) { return mean(x[0], -1); }, {rnd({2, 3, 4})});
  expect_gradcheck([](const V& x) { return max(x[0], 1); }, {Tensor::from({1, 5, 3, 4, 2, 6}, {2, 3})});
  expect_gradcheck([](const V& x) { return min(x[0], 0); }, {Tensor::from({1, 5, 3, 4, 2, 6}, {2, 3})});
  expect_gradcheck([](const V& x) { return max(x[0]); }, {Tensor::from({1, 5, 3, 4, 2, 6}, {2, 3})});
}

TEST(Gradcheck, Matmul) {
  expect_gradcheck([](const V& x) { return matmul(x[0], x[1]); }, {rnd({3, 4}), rnd({4, 5})});
  expect_gradcheck([](const V& x) { return matmul(x[0], x[1]); }, {rnd({2, 3, 4}), rnd({2, 4, 5})});
  expect_gradcheck([](const V& x) { return matmul(x[0], x[1]); }, {rnd({2, 3, 4}), rnd({4, 5})});
  // a shape large enough for the BLAS path
  expect_gradcheck([](const V& x) { return matmul(x[0], x[1]); }, {rnd({20, 30}), rnd({30, 10})});
}

TEST(Gradcheck, ShapeOps) {
  expect_gradcheck([](const V& x) { return x[0].reshape({4, 3}) * Tensor::arange(3); }, {rnd({2, 6})});
  expect_gradcheck([](const V& x) { return x[0].flatten(); }, {rnd({2, 3, 2})});
  expect_gradcheck([](const V& x) { return x[0].t(); }, {rnd({2, 3})});
  expect_gradcheck([](const V& x) { return x[0].permute({1, 2, 0}); }, {rnd({2, 3, 4})});
  expect_gradcheck([](const V& x) { return x[0].slice(1, 3); }, {rnd({4, 3})});
  expect_gradcheck([](const V& x) { return x[0].index_select({2, 0, 2}); }, {rnd({3, 2})});
  expect_gradcheck([](const V& x) { return x[0].clone(); }, {rnd({3})});
}

TEST(Gradcheck, DetectsAWrongGradient) {
  // A deliberately wrong backward must be caught, or the checker proves nothing.
  auto wrong = [](const V& x) {
    Tensor out = mul(x[0], 2.f).detach();
    return autograd::record(out, "wrong", {x[0]},
                            [](const Tensor& g, autograd::Grads& gr) { gr[0] = mul(g, 3.f); });
  };
  Tensor x = rnd({4});
  x.requires_grad_();
  EXPECT_FALSE(autograd::gradcheck(wrong, {x}).ok);
}
