// A CNN built from a config's layer words trains as PyTorch does: from the same weights and data
// (formulas in tests/fixtures/nn/make_cnn_training_fixtures.py), five steps of each optimizer end
// within 1e-4 of PyTorch's parameters and BatchNorm2d buffers, under the same state_dict names.
#include <gtest/gtest.h>

#include <cmath>

#include "fixtures/nn/cnn_training_fixtures.inc"
#include "neurona/app/config.hpp"
#include "neurona/neurona.hpp"

using namespace neurona;

namespace {

const std::vector<double>& fixture(const std::string& key) {
  auto it = cnn_training_fixtures().find(key);
  if (it == cnn_training_fixtures().end()) throw std::runtime_error("no fixture " + key);
  return it->second;
}

Tensor formula(const Shape& shape, double k) {
  std::vector<float> v(static_cast<size_t>(shape.numel()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(0.3 * std::sin(0.37 * double(i) + k));
  return Tensor::from(v, shape);
}

// The fixture's model in a config's words: TensorFlow's 'same' at stride 2 is F.pad (0, 1, 0, 1).
const char* kModel = R"(
data: {csv: unused.csv, target: y}
model:
  layers:
    - {conv2d: 4, kernel_size: 3, padding: same, activation: relu}
    - batchnorm2d
    - {max_pool2d: 2}
    - {Conv2D: {filters: 6, kernel_size: 3, strides: 2, padding: same, activation: tanh}}
    - {zero_pad2d: 1}
    - flatten
    - {dense: 3}
compile: {optimizer: sgd, loss: cross_entropy}
)";

}  // namespace

TEST(CnnTraining, FiveStepsOfEachOptimizerEndAtPyTorchsWeights) {
  const Tensor x = formula({4, 2, 8, 8}, 11.0) * 3.f;
  const Tensor y = Tensor::from({0.f, 1.f, 2.f, 0.f}, {4});
  const std::map<std::string, std::map<std::string, std::string>> optimizers = {
      {"sgd", {{"lr", "0.05"}, {"momentum", "0.9"}, {"nesterov", "true"}}},
      {"adam", {{"lr", "0.01"}}},
      {"rmsprop", {{"lr", "0.01"}}}};
  for (const auto& [name, options] : optimizers) {
    SCOPED_TRACE(name);
    const app::Config c = app::parse_config(kModel, "cnn.yaml");
    auto net = app::build_model(c, Shape{2, 8, 8});
    // PyTorch's names and shapes, and its starting values.
    nn::StateDict init;
    for (const auto& [key, t] : net->state_dict()) {
      const auto& v = fixture("init." + key);
      ASSERT_EQ(static_cast<int64_t>(v.size()), t.numel()) << key << " " << t.shape();
      init.insert(key, Tensor::from(std::vector<float>(v.begin(), v.end()), t.shape()));
    }
    EXPECT_EQ(init.size(), net->state_dict().size());
    net->load_state_dict(init);
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
