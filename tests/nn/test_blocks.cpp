// Residual and concat blocks: torch.cat's values and gradients, the config's nested list kinds with
// their state_dict names, five training steps ending at PyTorch's weights (formulas in
// tests/fixtures/nn/make_block_training_fixtures.py), and the errors a mismatched block gives.
#include <gtest/gtest.h>

#include <cmath>

#include "fixtures/nn/block_training_fixtures.inc"
#include "neurona/app/config.hpp"
#include "neurona/neurona.hpp"
#include "neurona/nn/blocks.hpp"
#include "test_util.hpp"

using namespace neurona;
using namespace neurona::testing;

namespace {

const std::vector<double>& fixture(const std::string& key) {
  auto it = block_training_fixtures().find(key);
  if (it == block_training_fixtures().end()) throw std::runtime_error("no fixture " + key);
  return it->second;
}

Tensor formula(const Shape& shape, double k) {
  std::vector<float> v(static_cast<size_t>(shape.numel()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(0.3 * std::sin(0.37 * double(i) + k));
  return Tensor::from(v, shape);
}

// The fixture script's model in a config's words.
const char* kModel = R"(
data: {csv: unused.csv, target: y}
model:
  layers:
    - {conv2d: 4, kernel_size: 3, padding: 1, activation: relu}
    - residual: [{conv2d: 4, kernel_size: 3, padding: 1, activation: relu}, {conv2d: 4, kernel_size: 3, padding: 1}]
      activation: relu
    - residual: [{conv2d: 6, kernel_size: 3, stride: 2, padding: 1, bias: false}, batchnorm2d]
      shortcut: projection
      activation: relu
    - concat: [{conv2d: 2, kernel_size: 1}, {sequential: [{conv2d: 3, kernel_size: 3, padding: 1, activation: tanh}]},
               {max_pool2d: {kernel_size: 3, stride: 1, padding: 1}}]
    - flatten
    - {dense: 3}
compile: {optimizer: sgd, loss: cross_entropy}
)";

std::shared_ptr<nn::Sequential> fixture_model() {
  const app::Config c = app::parse_config(kModel, "blocks.yaml");
  auto net = app::build_model(c, Shape{3, 8, 8});
  nn::StateDict init;
  for (const auto& [key, t] : net->state_dict()) {
    const auto& v = fixture("init." + key);
    EXPECT_EQ(static_cast<int64_t>(v.size()), t.numel()) << key << " " << t.shape();
    init.insert(key, Tensor::from(std::vector<float>(v.begin(), v.end()), t.shape()));
  }
  net->load_state_dict(init);
  return net;
}

Tensor rnd(const Shape& s, Generator& g) { return Tensor::uniform(s, -1.f, 1.f, &g); }

}  // namespace

TEST(Cat, JoinsAlongAnyDimensionAsTorchCat) {
  const Tensor a = Tensor::from({1, 2, 3, 4}, {2, 2});
  const Tensor b = Tensor::from({5, 6}, {2, 1});
  expect_values(cat({a, b}, 1), {1, 2, 5, 3, 4, 6});
  expect_values(cat({a, Tensor::from({7, 8}, {1, 2})}, 0), {1, 2, 3, 4, 7, 8});
  expect_values(cat({a, b}, -1), {1, 2, 5, 3, 4, 6});
  // More tensors than one autograd node records are joined in parts, with the same result.
  std::vector<Tensor> many;
  std::vector<float> want;
  for (int i = 0; i < 7; ++i) {
    many.push_back(Tensor::from({float(i), float(10 + i)}, {2, 1}));
  }
  for (int r = 0; r < 2; ++r)
    for (int i = 0; i < 7; ++i) want.push_back(float(r * 10 + i));
  expect_values(cat(many, 1), want);
  EXPECT_EQ(cat(many, 1).shape(), Shape({2, 7}));
}

TEST(Cat, GradientsReachEveryInput) {
  Generator g(3);
  expect_gradcheck(
      [](const std::vector<Tensor>& x) {
        return cat({x[0], x[1], x[2]}, 1) * cat({x[2], x[1], x[0]}, 1);
      },
      {rnd({2, 3, 2, 2}, g), rnd({2, 3, 2, 2}, g), rnd({2, 3, 2, 2}, g)});
  expect_gradcheck(
      [](const std::vector<Tensor>& x) {
        return cat({x[0], x[1]}, 0);
      },
      {rnd({1, 4}, g), rnd({3, 4}, g)});
  std::vector<Tensor> six;
  for (int i = 0; i < 6; ++i) six.push_back(rnd({2, i + 1}, g));
  expect_gradcheck([](const std::vector<Tensor>& x) { return exp(cat(x, 1)); }, six);
}

TEST(Cat, MismatchedShapesAreErrorsNamingThem) {
  EXPECT_ERROR_CONTAINS(cat({Tensor::zeros({2, 3}), Tensor::zeros({3, 3})}, 1), "tensor 1 has shape [3,3]");
  EXPECT_ERROR_CONTAINS(cat({}, 0), "no tensors");
  EXPECT_ERROR_CONTAINS(cat({Tensor::zeros({2, 3})}, 2), "cat");
}

TEST(Blocks, ConfigNamesFollowTheNestingAsPyTorchsModules) {
  auto net = fixture_model();
  std::vector<std::string> want;
  for (const auto& [key, v] : block_training_fixtures())
    if (key.rfind("init.", 0) == 0) want.push_back(key.substr(5));
  std::vector<std::string> got = net->state_dict().keys();
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
  // Eval-mode outputs are PyTorch's.
  const Tensor x = formula({4, 3, 8, 8}, 5.0) * 3.f;
  nn::EvalGuard eval(*net);
  const Tensor y = net->forward(x);
  const auto& ref = fixture("eval_output");
  ASSERT_EQ(static_cast<size_t>(y.numel()), ref.size());
  for (size_t i = 0; i < ref.size(); ++i)
    EXPECT_NEAR(y.data()[i], ref[i], 1e-5 * std::max(1.0, std::abs(ref[i])));
  // The residual and concat blocks clone deeply.
  auto copy = nn::clone(net);
  nn::EvalGuard eval_copy(*copy);
  expect_values(copy->forward(x), std::vector<float>(y.data(), y.data() + y.numel()), 1e-6f);
  (*copy)[1]->parameters()[0].data()[0] += 1.f;
  EXPECT_NE((*copy)[1]->parameters()[0].data()[0], (*net)[1]->parameters()[0].data()[0]);
}

TEST(Blocks, FiveStepsOfEachOptimizerEndAtPyTorchsWeights) {
  const Tensor x = formula({4, 3, 8, 8}, 5.0) * 3.f;
  const Tensor y = Tensor::from({0.f, 1.f, 2.f, 0.f}, {4});
  const std::map<std::string, std::map<std::string, std::string>> optimizers = {
      {"sgd", {{"lr", "0.05"}, {"momentum", "0.9"}}}, {"adam", {{"lr", "0.01"}}}};
  for (const auto& [name, options] : optimizers) {
    SCOPED_TRACE(name);
    auto net = fixture_model();
    const auto& entry = optim::optimizers().get(name);
    auto opt = entry.make(entry.options_from(options), net->parameters());
    const auto& losses = fixture(name + ".losses");
    for (int step = 0; step < 5; ++step) {
      opt->zero_grad();
      Tensor loss = nn::F::cross_entropy((*net)(x), y);
      EXPECT_NEAR(loss.item(), losses[step], 1e-4 * std::abs(losses[step])) << "step " << step;
      loss.backward();
      opt->step();
    }
    for (const auto& [key, t] : net->state_dict()) {
      const auto& v = fixture(name + "." + key);
      ASSERT_EQ(static_cast<int64_t>(v.size()), t.numel()) << key;
      double worst = 0;
      for (size_t i = 0; i < v.size(); ++i)
        worst = std::max(worst, std::abs(t.data()[i] - v[i]) / std::max(1e-2, std::abs(v[i])));
      EXPECT_LT(worst, 1e-4) << key;
    }
  }
}

TEST(Blocks, MismatchedBlocksAreErrorsNamingTheEntryAndShapes) {
  auto build = [](const std::string& layers) {
    const app::Config c = app::parse_config("data: {csv: unused.csv, target: y}\nmodel:\n  layers:\n" +
                                                layers + "compile: {optimizer: sgd, loss: mse}\n",
                                            "bad.yaml");
    return app::build_model(c, Shape{3, 8, 8});
  };
  // An identity shortcut cannot add a body that changes the shape.
  EXPECT_ERROR_CONTAINS(build("    - residual: [{conv2d: 5, kernel_size: 3, padding: 1}]\n"),
                        "model.layers[0]: Residual: the body gives [1,5,8,8] and the shortcut [1,3,8,8]");
  EXPECT_ERROR_CONTAINS(build("    - residual: [{conv2d: 5, kernel_size: 3, padding: 1}]\n"),
                        "shortcut: projection");
  // Branches whose sizes differ cannot be joined.
  EXPECT_ERROR_CONTAINS(build("    - concat: [{conv2d: 2, kernel_size: 3}, {conv2d: 2, kernel_size: 1}]\n"),
                        "model.layers[0]: Concat: the branches' outputs (0: [1,2,6,6], 1: [1,2,8,8])");
  // A bad entry inside a block is named by its own path.
  EXPECT_ERROR_CONTAINS(build("    - residual: [{conv2d: 3, kernel_size: 3, padding: 1}, {dense: 0}]\n"),
                        "model.layers[0].residual[1]");
  EXPECT_ERROR_CONTAINS(build("    - residual: []\n"), "model.layers[0].residual: expected a list of layers");
  EXPECT_ERROR_CONTAINS(build("    - residual: [relu]\n      shortcut: sideways\n"), "shortcut");
}

TEST(Blocks, RegularizersInsideBlocksApplyToTheirLayers) {
  const app::Config c = app::parse_config(R"(
data: {csv: unused.csv, target: y}
model:
  layers:
    - residual: [{dense: 4, activation: relu, kernel_regularizer: {l2: 0.01}}, {dense: 4}]
    - {dense: 1, kernel_regularizer: {l1: 0.1}}
compile: {optimizer: sgd, loss: mse}
)",
                                          "reg.yaml");
  auto net = app::build_model(c, Shape{4});
  const auto o = app::compile_options(c, net.get());
  ASSERT_EQ(o.regularizers.size(), 2u);
  const auto& body = dynamic_cast<nn::Residual&>(*(*net)[0]).body();
  EXPECT_TRUE(o.regularizers[0].first.same(body->at<nn::Linear>(0)->weight));
  EXPECT_DOUBLE_EQ(o.regularizers[0].second.l2, 0.01);
  EXPECT_TRUE(o.regularizers[1].first.same(net->at<nn::Linear>(1)->weight));
}
