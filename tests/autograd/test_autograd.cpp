#include <cmath>

#include "test_util.hpp"

using namespace neurona;
using namespace neurona::testing;

TEST(Autograd, PerceptronWorkedExampleOfTheCourse) {
  // Seed 004: w0 = 1, W = [3, -2], x = [-1, 2]; z = 1 + (3·-1) + (-2·2) = -6; sigmoid(-6) ≈ 0.00247.
  Tensor x = Tensor::from({-1, 2}, {1, 2});
  Tensor W = Tensor::from({3, -2}, {2, 1});
  Tensor w0 = Tensor::scalar(1.f);
  Tensor z = matmul(x, W) + w0;
  Tensor y = 1.f / (1.f + exp(-z));
  EXPECT_FLOAT_EQ(z.item(), -6.f);
  EXPECT_NEAR(y.item(), 0.0024726f, 1e-6f);
}

TEST(Autograd, ChainRuleByHand) {
  // f = sum((a*b + a)^2): df/da = 2(ab+a)(b+1), df/db = 2(ab+a)a
  Tensor a = Tensor::from({1, 2}).requires_grad_();
  Tensor b = Tensor::from({3, -1}).requires_grad_();
  Tensor f = sum(pow(a * b + a, 2.f));
  f.backward();
  expect_values(a.grad(), {2 * 4 * 4, 2 * 0 * 0});
  expect_values(b.grad(), {2 * 4 * 1, 2 * 0 * 2});
}

TEST(Autograd, GradientsAccumulateUntilCleared) {
  Tensor w = Tensor::from({1, 2}).requires_grad_();
  sum(w * 3.f).backward();
  sum(w * 3.f).backward();
  expect_values(w.grad(), {6, 6});
  w.zero_grad();
  EXPECT_FALSE(w.grad().defined());
  sum(w * w).backward();
  expect_values(w.grad(), {2, 4});
}

TEST(Autograd, SharedInputAndPassThroughGradientsDoNotAlias) {
  // y = x + x: both slots of add receive the same gradient buffer; each leaf must own its own.
  Tensor x = Tensor::from({1, 2}).requires_grad_();
  Tensor u = Tensor::from({5, 5}).requires_grad_();
  (x + u).backward(Tensor::ones({2}));
  x.grad().data()[0] = 100.f;
  EXPECT_FLOAT_EQ(u.grad().data()[0], 1.f);
  Tensor v = Tensor::from({1, 2}).requires_grad_();
  sum(v + v).backward();
  expect_values(v.grad(), {2, 2});
}

TEST(Autograd, ExplicitUpstreamGradient) {
  Tensor x = Tensor::from({1, 2, 3}).requires_grad_();
  Tensor y = x * x;
  y.backward(Tensor::from({1, 0.5, 0}));
  expect_values(x.grad(), {2, 2, 0});
  EXPECT_ERROR_CONTAINS(y.backward(), "not a single value");
  EXPECT_ERROR_CONTAINS(y.backward(Tensor::ones({2})), "gradient of shape [2] for an output of shape [3]");
}

TEST(Autograd, NoGradAndDetachStopRecording) {
  Tensor x = Tensor::from({1, 2}).requires_grad_();
  {
    NoGradGuard guard;
    Tensor y = x * 2.f;
    EXPECT_FALSE(y.requires_grad());
  }
  Tensor d = (x * 2.f).detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE((x * 2.f).requires_grad());
  EXPECT_ERROR_CONTAINS(sum(d).backward(), "does not require a gradient");
  Tensor y = x * 2.f;
  EXPECT_ERROR_CONTAINS(y.requires_grad_(false), "only leaf tensors");
}

TEST(Autograd, DiamondGraphRunsEachNodeOnce) {
  // a -> b = 2a; c = b*b; d = b*3; f = sum(c + d) => df/da = 2*(2b + 3) = 8a + 6
  Tensor a = Tensor::from({1, -2}).requires_grad_();
  Tensor b = a * 2.f;
  Tensor f = sum(b * b + b * 3.f);
  f.backward();
  expect_values(a.grad(), {14, -10});
}

TEST(Autograd, XorWithPlainGradientDescent) {
  // A 2-2-1 network (sigmoid hidden and output, MSE) trained with plain full-batch gradient
  // descent on core + autograd alone.
  Tensor X = Tensor::from({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  Tensor Y = Tensor::from({0, 1, 1, 0}, {4, 1});
  Generator g(1);
  Tensor W1 = Tensor::uniform({2, 2}, -1, 1, &g).requires_grad_();
  Tensor b1 = Tensor::zeros({2}).requires_grad_();
  Tensor W2 = Tensor::uniform({2, 1}, -1, 1, &g).requires_grad_();
  Tensor b2 = Tensor::zeros({1}).requires_grad_();
  auto sigmoid = [](const Tensor& z) { return 1.f / (1.f + exp(-z)); };
  float loss_value = 1.f;
  for (int step = 0; step < 20000 && loss_value >= 0.01f; ++step) {
    Tensor h = sigmoid(matmul(X, W1) + b1);
    Tensor out = sigmoid(matmul(h, W2) + b2);
    Tensor loss = mean(pow(out - Y, 2.f));
    loss_value = loss.item();
    for (Tensor* p : {&W1, &b1, &W2, &b2}) p->zero_grad();
    loss.backward();
    for (Tensor* p : {&W1, &b1, &W2, &b2}) {
      float* w = p->data();
      const float* gw = p->grad().data();
      for (int64_t i = 0; i < p->numel(); ++i) w[i] -= 2.0f * gw[i];
    }
  }
  EXPECT_LT(loss_value, 0.01f);
  NoGradGuard no_grad;
  Tensor pred = sigmoid(matmul(sigmoid(matmul(X, W1) + b1), W2) + b2);
  expect_values(gt(pred, Tensor::scalar(0.5f)), {0, 1, 1, 0});
}

TEST(Autograd, RepeatedTrainingStepAllocatesNoNewBuffers) {
  Generator g(3);
  Tensor X = Tensor::uniform({64, 11}, -1, 1, &g);
  Tensor Y = Tensor::uniform({64, 1}, -1, 1, &g);
  Tensor W1 = Tensor::uniform({11, 32}, -0.3f, 0.3f, &g).requires_grad_();
  Tensor b1 = Tensor::zeros({32}).requires_grad_();
  Tensor W2 = Tensor::uniform({32, 1}, -0.3f, 0.3f, &g).requires_grad_();
  auto step = [&] {
    Tensor h = maximum(matmul(X, W1) + b1, Tensor::scalar(0.f));
    Tensor loss = mean(abs(matmul(h, W2) - Y));
    for (Tensor* p : {&W1, &b1, &W2}) p->zero_grad();
    loss.backward();
    NoGradGuard no_grad;
    for (Tensor* p : {&W1, &b1, &W2}) {
      float* w = p->data();
      const float* gw = p->grad().data();
      for (int64_t i = 0; i < p->numel(); ++i) w[i] -= 0.01f * gw[i];
    }
  };
  step();  // warm-up fills the pool
  step();
  const PoolStats before = pool_stats();
  step();
  step();
  const PoolStats after = pool_stats();
  EXPECT_GT(after.requests, before.requests);
  EXPECT_EQ(after.misses, before.misses);
}

TEST(Examples, PerceptronProgramPrintsTheCourseNumbers) {
  ExampleRun r;
  ASSERT_TRUE(run_example("perceptron", "", r)) << "the example was not built";
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("z = w0 + x·W = -6"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("y = sigmoid(z) = 0.00247"), std::string::npos) << r.output;
  // ŷ(1-ŷ) = 0.0024665…: times x = [-1, 2]
  EXPECT_NE(r.output.find("dy/dW = [-0.002467, 0.004933], dy/dw0 = 0.002467"), std::string::npos) << r.output;
}
