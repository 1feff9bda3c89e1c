// Losses: the golden values of training_frameworks.md §3, PyTorch fixtures and gradient checks.
#include "nn/fixture_util.hpp"

using namespace neurona;
using namespace neurona::testing;
namespace F = neurona::nn::functional;
using nn::Reduction;

TEST(Losses, GoldenCrossEntropy) {
  Tensor x = Tensor::from({1, 2, 3, 0.5f, 0, -1}, {2, 3});
  Tensor y = Tensor::from({2, 0});
  Tensor w = Tensor::from({1, 2, 0.5f});
  EXPECT_NEAR(F::cross_entropy(x, y).item(), 0.5058682849, 1e-6);
  EXPECT_NEAR(F::cross_entropy(x, y, {.weight = w}).item(), 0.5386223917, 1e-6);
  EXPECT_NEAR(F::cross_entropy(x, y, {.label_smoothing = 0.1f}).item(), 0.5892016182, 1e-6);
  EXPECT_NEAR(F::cross_entropy(x, y, {.weight = w, .label_smoothing = 0.1f}).item(), 0.6912285524, 1e-6);
  EXPECT_NEAR(F::cross_entropy(x, y, {.reduction = Reduction::Sum}).item(), 1.0117365698, 1e-6);
  EXPECT_NEAR(nn::CrossEntropyLoss()(x, y).item(), 0.5058682849, 1e-6);
  // All targets ignored: the mean is 0/0 like PyTorch.
  EXPECT_TRUE(std::isnan(F::cross_entropy(x, Tensor::from({-100, -100})).item()));
}

TEST(Losses, GoldenBinaryAndRegression) {
  EXPECT_NEAR(
      F::binary_cross_entropy(Tensor::from({0.9f, 0.2f, 0.f, 1.f}), Tensor::from({1, 0, 1, 1})).item(),
      25.0821260167, 1e-4);
  Tensor z = Tensor::from({2, -1, 0, -50}), t = Tensor::from({1, 0, 1, 1});
  EXPECT_NEAR(F::binary_cross_entropy_with_logits(z, t).item(), 12.7833342198, 1e-4);
  EXPECT_NEAR(F::binary_cross_entropy_with_logits(z, t, Reduction::Mean, {}, Tensor::from({2.f})).item(),
              25.4883530177, 1e-4);
  Tensor a = Tensor::from({0, 1, 3}), b = Tensor::from({0.5f, -1, 3.2f});
  EXPECT_NEAR(F::mse_loss(a, b).item(), 1.43, 1e-6);
  EXPECT_NEAR(F::l1_loss(a, b).item(), 0.9, 1e-6);
  EXPECT_NEAR(F::huber_loss(a, b).item(), 0.5483333, 1e-6);
  EXPECT_NEAR(F::huber_loss(a, b, Reduction::Mean, 0.5f).item(), 0.34, 1e-6);
  EXPECT_NEAR(F::smooth_l1_loss(a, b, Reduction::Mean, 0.5f).item(), 0.68, 1e-6);
  EXPECT_NEAR(nn::MeanSquaredError()(a, b).item(), 1.43, 1e-6);
  EXPECT_NEAR(nn::HuberLoss(0.5f)(a, b).item(), 0.34, 1e-6);
  EXPECT_NEAR(nn::SmoothL1Loss(0.5f)(a, b).item(), 0.68, 1e-6);
  EXPECT_NEAR(nn::L1Loss(Reduction::Sum)(a, b).item(), 2.7, 1e-6);
  expect_values(nn::MSELoss(Reduction::None)(a, b), {0.25f, 4.f, 0.04f});
}

namespace {
// Forward value and input gradient of a scalar loss against the fixture `key`.
void check_loss(const std::string& key, const std::function<Tensor(const Tensor&)>& fn, Tensor x,
                const Tensor& upstream = {}) {
  SCOPED_TRACE(key);
  x.requires_grad_(true);
  Tensor l = fn(x);
  expect_fixture(l, key + ".out");
  if (upstream.defined())
    sum(l * upstream).backward();
  else
    l.backward();
  expect_fixture(x.grad(), key + ".g0", 1e-4f);
  Tensor x2 = x.detach().clone();
  expect_gradcheck([&](const std::vector<Tensor>& in) { return fn(in[0]); }, {x2});
}
}  // namespace

TEST(Losses, RegressionMatchPyTorch) {
  Tensor a = fixture_tensor("reg.a", {5}), b = fixture_tensor("reg.b", {5});
  check_loss(
      "mse", [&](const Tensor& x) { return F::mse_loss(x, b); }, a.clone());
  check_loss(
      "mse_sum", [&](const Tensor& x) { return F::mse_loss(x, b, Reduction::Sum); }, a.clone());
  check_loss(
      "l1", [&](const Tensor& x) { return F::l1_loss(x, b); }, a.clone());
  check_loss(
      "huber", [&](const Tensor& x) { return F::huber_loss(x, b); }, a.clone());
  check_loss(
      "huber_d05", [&](const Tensor& x) { return F::huber_loss(x, b, Reduction::Mean, 0.5f); }, a.clone());
  check_loss(
      "smooth_l1_b05", [&](const Tensor& x) { return F::smooth_l1_loss(x, b, Reduction::Mean, 0.5f); },
      a.clone());
  check_loss(
      "huber_none", [&](const Tensor& x) { return F::huber_loss(x, b, Reduction::None); }, a.clone(),
      fixture_tensor("reg.G", {5}));
  // The target receives the opposite gradient.
  Tensor bt = b.clone().requires_grad_(true);
  F::mse_loss(a, bt).backward();
  expect_fixture(neg(bt.grad()), "mse.g0");
  EXPECT_ERROR_CONTAINS(F::mse_loss(a, Tensor::zeros({4})), "mse_loss: input [5] and target [4]");
}

TEST(Losses, BinaryMatchPyTorch) {
  Tensor y = fixture_tensor("bce.y", {2, 3}), w = fixture_tensor("bce.w", {3});
  check_loss(
      "bce", [&](const Tensor& p) { return F::binary_cross_entropy(p, y); }, fixture_tensor("bce.p", {2, 3}));
  check_loss(
      "bce_weight", [&](const Tensor& p) { return F::binary_cross_entropy(p, y, Reduction::Mean, w); },
      fixture_tensor("bce.p", {2, 3}));
  check_loss(
      "bcel", [&](const Tensor& z) { return F::binary_cross_entropy_with_logits(z, y); },
      fixture_tensor("bcel.z", {2, 3}));
  Tensor pw = Tensor::from({2.f, 0.5f, 3.f});
  check_loss(
      "bcel_pw", [&](const Tensor& z) { return nn::BCEWithLogitsLoss(Reduction::Mean, w, pw)(z, y); },
      fixture_tensor("bcel.z", {2, 3}));
  check_loss(
      "bcel_pos",
      [&](const Tensor& z) { return nn::BCEWithLogitsLoss(Reduction::Mean, {}, Tensor::from({3.f}))(z, y); },
      fixture_tensor("bcel.z", {2, 3}));
  check_loss(
      "bcel_pos_cols", [&](const Tensor& z) { return nn::BCEWithLogitsLoss(Reduction::Mean, {}, pw)(z, y); },
      fixture_tensor("bcel.z", {2, 3}));
  EXPECT_ERROR_CONTAINS(nn::BCEWithLogitsLoss(Reduction::Mean, {}, Tensor::from({2.f, 3.f}))(
                            fixture_tensor("bcel.z", {2, 3}), y),
                        "shapes [2] and [2,3] cannot be broadcast");
  EXPECT_ERROR_CONTAINS(F::binary_cross_entropy(Tensor::from({1.5f}), Tensor::from({1.f})), "probabilities");
  // Gradient stays finite at p = 0 with target 1 (log clamp).
  Tensor p0 = Tensor::from({0.f}).requires_grad_(true);
  F::binary_cross_entropy(p0, Tensor::from({1.f})).backward();
  EXPECT_TRUE(std::isfinite(p0.grad().item()));
}

TEST(Losses, CrossEntropyAndNLLMatchPyTorch) {
  Tensor y = fixture_tensor("ce.y", {4}), w = fixture_tensor("ce.w", {3});
  check_loss(
      "ce", [&](const Tensor& x) { return F::cross_entropy(x, y); }, fixture_tensor("ce.x", {4, 3}));
  check_loss(
      "ce_w", [&](const Tensor& x) { return nn::CrossEntropyLoss({.weight = w})(x, y); },
      fixture_tensor("ce.x", {4, 3}));
  check_loss(
      "ce_w_ls",
      [&](const Tensor& x) { return F::cross_entropy(x, y, {.weight = w, .label_smoothing = 0.2f}); },
      fixture_tensor("ce.x", {4, 3}));
  check_loss(
      "ce_none",
      [&](const Tensor& x) { return F::cross_entropy(x, y, {.weight = w, .reduction = Reduction::None}); },
      fixture_tensor("ce.x", {4, 3}), Tensor::from({1.f, -0.5f, 2.f, 3.f}));
  check_loss(
      "ce_prob",
      [&](const Tensor& x) {
        return F::cross_entropy(x, fixture_tensor("ce.p", {4, 3}), {.weight = w, .label_smoothing = 0.1f});
      },
      fixture_tensor("ce.x", {4, 3}));
  Tensor logp = F::log_softmax(fixture_tensor("ce.x", {4, 3}), 1);
  check_loss(
      "nll", [&](const Tensor& x) { return nn::NLLLoss({.weight = w})(x, y); }, logp.detach());
  EXPECT_ERROR_CONTAINS(F::cross_entropy(fixture_tensor("ce.x", {4, 3}), Tensor::from({0, 1, 3, 0})),
                        "target 3 is out of range for 3 classes");
  EXPECT_ERROR_CONTAINS(F::cross_entropy(fixture_tensor("ce.x", {4, 3}), Tensor::from({0, 1, 0.5f, 0})),
                        "not a whole number");
  EXPECT_ERROR_CONTAINS(F::cross_entropy(fixture_tensor("ce.x", {4, 3}), y, {.weight = Tensor::from({1, 2})}),
                        "cross_entropy: weight [2] must have one value per class (3)");
}

TEST(Losses, FusedCrossEntropyIsOneNode) {
  Tensor x = Tensor::from({1, 2, 3}, {1, 3}).requires_grad_(true);
  Tensor l = F::cross_entropy(x, Tensor::from({0}));
  ASSERT_TRUE(l.impl()->grad_fn);
  EXPECT_STREQ(l.impl()->grad_fn->name, "cross_entropy");
  EXPECT_TRUE(l.impl()->grad_fn->inputs[0].same(x));  // no separate log_softmax node
  l.backward();
  // softmax − onehot
  const double e1 = std::exp(1.0), e2 = std::exp(2.0), e3 = std::exp(3.0), s = e1 + e2 + e3;
  expect_values(x.grad(), {float(e1 / s - 1), float(e2 / s), float(e3 / s)});
}
