// Activations and Linear: values and input gradients against PyTorch, plus gradient checks.
#include "neurona/nn/layers.hpp"
#include "neurona/nn/registry.hpp"
#include "nn/fixture_util.hpp"

using namespace neurona;
using namespace neurona::testing;
namespace F = neurona::nn::functional;

namespace {

// Runs fn on the fixture input, compares output and the gradient of sum(out * G) with PyTorch.
void check_activation(const std::string& name, const std::function<Tensor(const Tensor&)>& fn) {
  SCOPED_TRACE(name);
  Tensor x = fixture_tensor("act.x", {2, 5}).requires_grad_(true);
  Tensor g = fixture_tensor("act.G", {2, 5});
  Tensor y = fn(x);
  expect_fixture(y, name + ".out");
  sum(y * g).backward();
  expect_fixture(x.grad(), name + ".g0");
  // Finite differences away from the kinks at 0.
  Tensor xs = Tensor::from({-1.3f, -0.4f, 0.2f, 0.7f, 1.9f, -2.2f}, {2, 3});
  expect_gradcheck([&](const std::vector<Tensor>& in) { return fn(in[0]); }, {xs});
}

}  // namespace

TEST(Activations, MatchPyTorch) {
  check_activation("relu", [](const Tensor& x) { return F::relu(x); });
  check_activation("leaky_relu", [](const Tensor& x) { return F::leaky_relu(x, 0.1f); });
  check_activation("elu", [](const Tensor& x) { return F::elu(x, 1.5f); });
  check_activation("selu", [](const Tensor& x) { return F::selu(x); });
  check_activation("gelu", [](const Tensor& x) { return F::gelu(x); });
  check_activation("sigmoid", [](const Tensor& x) { return F::sigmoid(x); });
  check_activation("tanh", [](const Tensor& x) { return F::tanh(x); });
  check_activation("softplus", [](const Tensor& x) { return F::softplus(x); });
  check_activation("softplus_beta2", [](const Tensor& x) { return F::softplus(x, 2.f, 5.f); });
  check_activation("softmax1", [](const Tensor& x) { return F::softmax(x, 1); });
  check_activation("softmax0", [](const Tensor& x) { return F::softmax(x, 0); });
  check_activation("log_softmax1", [](const Tensor& x) { return F::log_softmax(x, -1); });
}

TEST(Activations, ModulesMatchFunctions) {
  Tensor x = fixture_tensor("act.x", {2, 5});
  expect_fixture(nn::ReLU()(x), "relu.out");
  expect_fixture(nn::LeakyReLU(0.1f)(x), "leaky_relu.out");
  expect_fixture(nn::ELU(1.5f)(x), "elu.out");
  expect_fixture(nn::SELU()(x), "selu.out");
  expect_fixture(nn::GELU()(x), "gelu.out");
  expect_fixture(nn::Sigmoid()(x), "sigmoid.out");
  expect_fixture(nn::Tanh()(x), "tanh.out");
  expect_fixture(nn::Softplus()(x), "softplus.out");
  expect_fixture(nn::Softmax(1)(x), "softmax1.out");
  expect_fixture(nn::LogSoftmax(1)(x), "log_softmax1.out");
  expect_values(nn::Identity()(x), x.to_vector());
}

TEST(Activations, PReLUSharedAndPerChannel) {
  Tensor g = fixture_tensor("act.G", {2, 5});
  {
    nn::PReLU layer;  // one slope, 0.25
    Tensor x = fixture_tensor("act.x", {2, 5}).requires_grad_(true);
    Tensor y = layer(x);
    expect_fixture(y, "prelu1.out");
    sum(y * g).backward();
    expect_fixture(x.grad(), "prelu1.g0");
    expect_fixture(layer.weight.grad(), "prelu1.g1");
    EXPECT_EQ(layer.named_parameters()[0].first, "weight");
  }
  {
    Tensor x = fixture_tensor("act.x", {2, 5}).requires_grad_(true);
    Tensor w = Tensor::from({0.1f, 0.2f, 0.3f, 0.4f, 0.5f}).requires_grad_(true);
    Tensor y = F::prelu(x, w);
    expect_fixture(y, "prelu5.out");
    sum(y * g).backward();
    expect_fixture(x.grad(), "prelu5.g0");
    expect_fixture(w.grad(), "prelu5.g1");
  }
  expect_gradcheck(
      [](const std::vector<Tensor>& in) { return F::prelu(in[0], in[1]); },
      {Tensor::from({-1.3f, -0.4f, 0.2f, 0.7f, 1.9f, -2.2f}, {3, 2}), Tensor::from({0.3f, -0.2f})});
  EXPECT_ERROR_CONTAINS(F::prelu(Tensor::zeros({2, 4}), Tensor::ones({3})), "prelu");
}

TEST(Linear, FusedActivationsMatchPyTorch) {
  const std::pair<const char*, nn::Activation> acts[] = {{"identity", nn::Activation::Identity},
                                                         {"relu", nn::Activation::ReLU},
                                                         {"tanh", nn::Activation::Tanh},
                                                         {"sigmoid", nn::Activation::Sigmoid}};
  for (auto [name, act] : acts) {
    SCOPED_TRACE(name);
    Tensor x = fixture_tensor("linear.x", {3, 4}).requires_grad_(true);
    Tensor w = fixture_tensor("linear.w", {2, 4}).requires_grad_(true);
    Tensor b = fixture_tensor("linear.b", {2}).requires_grad_(true);
    Tensor y = F::linear(x, w, b, act);
    const std::string key = std::string("linear_") + name;
    expect_fixture(y, key + ".out");
    sum(y * fixture_tensor("linear.G", {3, 2})).backward();
    expect_fixture(x.grad(), key + ".g0");
    expect_fixture(w.grad(), key + ".g1");
    expect_fixture(b.grad(), key + ".g2");
    expect_gradcheck([a = act](const std::vector<Tensor>& in) { return F::linear(in[0], in[1], in[2], a); },
                     {fixture_tensor("linear.x", {3, 4}), fixture_tensor("linear.w", {2, 4}),
                      fixture_tensor("linear.b", {2})});
  }
  // No bias, and a 3-D input treated as rows.
  expect_gradcheck([](const std::vector<Tensor>& in) { return F::linear(in[0], in[1]); },
                   {Tensor::from({0.1f, -0.2f, 0.3f, 0.4f, 0.5f, -0.6f, 0.7f, 0.8f}, {2, 2, 2}),
                    Tensor::from({0.5f, -1.f, 0.25f, 2.f, 1.5f, -0.5f}, {3, 2})});
}

TEST(Linear, ModuleLayoutInitAndErrors) {
  manual_seed(7);
  nn::Linear fc(100, 10);
  EXPECT_EQ(fc.weight.shape(), (Shape{10, 100}));
  EXPECT_EQ(fc.bias.shape(), (Shape{10}));
  float wmax = 0, bmax = 0;
  for (float v : fc.weight.to_vector()) wmax = std::max(wmax, std::abs(v));
  for (float v : fc.bias.to_vector()) bmax = std::max(bmax, std::abs(v));
  EXPECT_LE(wmax, 0.1f);
  EXPECT_GT(wmax, 0.09f);  // U(±1/√100) fills its range
  EXPECT_LE(bmax, 0.1f);
  auto names = fc.named_parameters();
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0].first, "weight");
  EXPECT_EQ(names[1].first, "bias");
  EXPECT_EQ(nn::Linear(3, 2, false).parameters().size(), 1u);
  EXPECT_ERROR_CONTAINS(fc(Tensor::zeros({4, 99})), "Linear(100 -> 10): input [4,99]");
  EXPECT_ERROR_CONTAINS(nn::Dense(3, 1, "swish"),
                        "unknown activation 'swish' (valid: linear, identity, relu");
  // Module forward equals the formula.
  nn::Linear small(2, 1);
  Tensor x = Tensor::from({1.f, 2.f}, {1, 2});
  const float expect = small.weight.at({0, 0}) + 2 * small.weight.at({0, 1}) + small.bias.at({0});
  EXPECT_NEAR(small(x).item(), expect, 1e-6);
}

TEST(Dropout, InvertedScalingAndEval) {
  Generator gen(3);
  nn::Dropout drop(0.25f, &gen);
  Tensor x = Tensor::ones({1000});
  Tensor y = drop(x);
  int zeros = 0;
  for (float v : y.to_vector()) {
    if (v == 0.f)
      ++zeros;
    else
      EXPECT_NEAR(v, 1.f / 0.75f, 1e-6);
  }
  EXPECT_GT(zeros, 200);
  EXPECT_LT(zeros, 300);
  // Gradient uses the same mask.
  Tensor xr = Tensor::ones({50}).requires_grad_(true);
  Generator g2(5);
  Tensor yr = F::dropout(xr, 0.5f, true, &g2);
  sum(yr).backward();
  expect_values(xr.grad(), yr.to_vector());
  // Same seed, same mask.
  Generator a(11), b(11);
  expect_values(F::dropout(x, 0.3f, true, &a), F::dropout(x, 0.3f, true, &b).to_vector());
  drop.eval();
  expect_values(drop(x), x.to_vector());
  EXPECT_ERROR_CONTAINS(nn::Dropout(1.5f), "Dropout: probability 1.5");
}

TEST(Flatten, MergesTrailingDimensions) {
  nn::Flatten f;
  EXPECT_EQ(f(Tensor::zeros({4, 2, 3})).shape(), (Shape{4, 6}));
}

// PyTorch's ReLU6 (torch 1.13): values min(max(0, x), 6) and gradient 0 at both bounds.
TEST(Activations, ReLU6MatchesPyTorch) {
  Tensor x = Tensor::from({-1.f, 0.f, 3.f, 6.f, 7.5f}).requires_grad_(true);
  nn::ReLU6 act;
  Tensor y = act.forward(x);
  const std::vector<float> want = {0.f, 0.f, 3.f, 6.f, 6.f}, grad = {0.f, 0.f, 3.f, 0.f, 0.f};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(y.data()[i], want[i]) << i;
  sum(y * Tensor::from({1.f, 2.f, 3.f, 4.f, 5.f})).backward();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(x.grad().data()[i], grad[i]) << i;
  EXPECT_EQ(nn::layers().get("relu6").make({}, {})->kind(), "relu6");
}
