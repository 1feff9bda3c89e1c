// BatchNorm1d and LayerNorm against PyTorch and the reference's golden running statistics.
#include "nn/fixture_util.hpp"

using namespace neurona;
using namespace neurona::testing;
namespace F = neurona::nn::functional;

TEST(BatchNorm1d, TrainingForwardAndGradientsMatchPyTorch) {
  nn::BatchNorm1d bn(3);
  {
    NoGradGuard ng;
    std::memcpy(bn.weight.data(), fixture_tensor("bn.w", {3}).data(), 3 * sizeof(float));
    std::memcpy(bn.bias.data(), fixture_tensor("bn.b", {3}).data(), 3 * sizeof(float));
  }
  Tensor x = fixture_tensor("bn.x", {4, 3}).requires_grad_(true);
  Tensor y = bn(x);
  expect_fixture(y, "bn_train.out");
  sum(y * fixture_tensor("bn.G", {4, 3})).backward();
  expect_fixture(x.grad(), "bn_train.g0", 1e-4f);
  expect_fixture(bn.weight.grad(), "bn_train.g1");
  expect_fixture(bn.bias.grad(), "bn_train.g2");
  expect_gradcheck(
      [](const std::vector<Tensor>& in) {
        return F::batch_norm(in[0], Tensor(), Tensor(), in[1], in[2], true);
      },
      {fixture_tensor("bn.x", {4, 3}), fixture_tensor("bn.w", {3}), fixture_tensor("bn.b", {3})});
}

TEST(BatchNorm1d, ThreeDimensionalInput) {
  Tensor x = fixture_tensor("bn3.x", {3, 2, 2}).requires_grad_(true);
  Tensor w = Tensor::from({1.2f, 0.8f}).requires_grad_(true);
  Tensor b = Tensor::from({0.f, 0.5f}).requires_grad_(true);
  Tensor y = F::batch_norm(x, Tensor(), Tensor(), w, b, true);
  expect_fixture(y, "bn3_train.out");
  sum(y * fixture_tensor("bn3.G", {3, 2, 2})).backward();
  expect_fixture(x.grad(), "bn3_train.g0", 1e-4f);
  expect_fixture(w.grad(), "bn3_train.g1");
  expect_fixture(b.grad(), "bn3_train.g2");
}

TEST(BatchNorm1d, GoldenRunningStatsAfterOneStep) {
  nn::BatchNorm1d bn(2);
  bn(Tensor::from({1, 2, 3, 6, 5, 10}, {3, 2}));
  expect_values(bn.running_mean, {0.3f, 0.6f});
  expect_values(bn.running_var, {1.3f, 2.5f});
  EXPECT_EQ(bn.num_batches_tracked.item(), 1.f);
}

TEST(BatchNorm1d, RunningStatsAfterThreeStepsAndEvalMode) {
  nn::BatchNorm1d bn(3);
  bn(fixture_tensor("bn_steps.batch0", {4, 3}));
  bn(fixture_tensor("bn_steps.batch1", {4, 3}));
  bn(fixture_tensor("bn_steps.batch2", {3, 3}));
  expect_fixture(bn.running_mean, "bn_steps.running_mean");
  expect_fixture(bn.running_var, "bn_steps.running_var");
  EXPECT_EQ(bn.num_batches_tracked.item(), 3.f);
  bn.eval();
  Tensor before = bn.running_mean.clone();
  Tensor x = fixture_tensor("bn.x", {4, 3}).requires_grad_(true);
  expect_fixture(bn(x), "bn_steps.eval_out");
  expect_values(bn.running_mean, before.to_vector(), 0.f);  // eval leaves the statistics alone
  // Eval gradient: γ / √(running_var + ε), checked numerically.
  expect_gradcheck([&](const std::vector<Tensor>& in) { return bn(in[0]); },
                   {fixture_tensor("bn.x", {4, 3})});
  // Batch of one is fine in eval, an error in training.
  EXPECT_EQ(bn(Tensor::ones({1, 3})).shape(), (Shape{1, 3}));
  bn.train();
  EXPECT_ERROR_CONTAINS(bn(Tensor::ones({1, 3})), "more than 1 value per channel");
  EXPECT_ERROR_CONTAINS(bn(Tensor::ones({4, 5})), "BatchNorm1d(3)");
}

TEST(BatchNorm1d, KerasConvention) {
  auto bn = nn::BatchNormalization(2);  // momentum 0.99 (old value), eps 1e-3, biased moving var
  Tensor x = Tensor::from({1, 2, 3, 6, 5, 10}, {3, 2});
  Tensor y = (*bn)(x);
  // batch mean [3, 6], biased var [8/3, 32/3]
  expect_values(bn->running_mean, {0.01f * 3.f, 0.01f * 6.f});
  expect_values(bn->running_var, {0.99f + 0.01f * 8.f / 3.f, 0.99f + 0.01f * 32.f / 3.f});
  EXPECT_NEAR(y.at({0, 0}), (1.f - 3.f) / std::sqrt(8.f / 3.f + 1e-3f), 1e-5);
}

TEST(BatchNorm1d, StateDictNames) {
  nn::BatchNorm1d bn(4);
  EXPECT_EQ(bn.state_dict().keys(), (std::vector<std::string>{"weight", "bias", "running_mean", "running_var",
                                                              "num_batches_tracked"}));
  EXPECT_EQ(bn.num_parameters(), 8);
}

TEST(LayerNorm, MatchesPyTorch) {
  nn::LayerNorm ln({4});
  {
    NoGradGuard ng;
    std::vector<float> w{1.f, 0.5f, -1.f, 2.f}, b{0.f, 0.1f, 0.2f, 0.3f};
    std::memcpy(ln.weight.data(), w.data(), 16);
    std::memcpy(ln.bias.data(), b.data(), 16);
  }
  Tensor x = fixture_tensor("linear.x", {3, 4}).requires_grad_(true);
  Tensor y = ln(x);
  expect_fixture(y, "layer_norm.out");
  Tensor g =
      Tensor::from({0.3f, -0.2f, 0.5f, 1.0f, 0.1f, 0.2f, 0.3f, 0.4f, -1.0f, 0.5f, 0.25f, -0.5f}, {3, 4});
  sum(y * g).backward();
  expect_fixture(x.grad(), "layer_norm.g0", 1e-4f);
  expect_fixture(ln.weight.grad(), "layer_norm.g1");
  expect_fixture(ln.bias.grad(), "layer_norm.g2");
  expect_gradcheck([](const std::vector<Tensor>& in) { return F::layer_norm(in[0], 1, in[1], in[2]); },
                   {fixture_tensor("linear.x", {3, 4}), Tensor::from({1.f, 0.5f, -1.f, 2.f}),
                    Tensor::from({0.f, 0.1f, 0.2f, 0.3f})});
  EXPECT_ERROR_CONTAINS(ln(Tensor::zeros({2, 3})), "LayerNorm([4])");
}
