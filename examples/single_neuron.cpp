// Seed 000: the simplest model, one neuron on 3 features — Keras `layers.Dense(units=1,
// input_shape=[3])`. It computes y = w·x + b with PyTorch's default random init.
#include <cmath>
#include <cstdio>

#include "neurona/neurona.hpp"

using namespace neurona;

int main() {
  manual_seed(0);
  auto neuron = nn::Dense(3, 1);  // 3 inputs, 1 unit, linear activation
  std::printf("%s\n", neuron->str().c_str());
  const float* w = neuron->weight.data();
  const float b = neuron->bias.item();
  std::printf("weights w = [%.6f, %.6f, %.6f], bias b = %.6f\n", w[0], w[1], w[2], b);

  Tensor x = Tensor::from({2.f, -1.f, 0.5f}, {1, 3});  // one sample, 3 features
  const float y = (*neuron)(x).item();
  const float by_hand = w[0] * 2.f + w[1] * -1.f + w[2] * 0.5f + b;
  std::printf("x = [2, -1, 0.5]: y = %.6f, w·x + b = %.6f\n", y, by_hand);
  std::printf("%s", nn::summary(*neuron, Shape{3}, "single_neuron").c_str());
  const bool ok = std::abs(y - by_hand) < 1e-6f;
  std::printf(ok ? "matches the math\n" : "MISMATCH\n");
  return ok ? 0 : 1;
}
