// The perceptron worked example of the course (seed 004): w0 = 1, W = [3, -2], x = [-1, 2].
// z = w0 + x·W = 1 + (3·-1) + (-2·2) = -6 and ŷ = sigmoid(z) ≈ 0.00247, so the neuron says "no".
// Then one backward pass shows how each weight moves ŷ.
#include <cstdio>

#include "neurona/neurona.hpp"

using namespace neurona;

int main() {
  Tensor x = Tensor::from({-1, 2}, {1, 2});
  Tensor W = Tensor::from({3, -2}, {2, 1}).requires_grad_();
  Tensor w0 = Tensor::scalar(1.f).requires_grad_();
  Tensor z = matmul(x, W) + w0;
  Tensor y = 1.f / (1.f + exp(-z));
  std::printf("z = w0 + x·W = %g\n", z.item());
  std::printf("y = sigmoid(z) = %.5f\n", y.item());
  y.backward();
  // dŷ/dW = ŷ(1-ŷ)·x and dŷ/dw0 = ŷ(1-ŷ)
  std::printf("dy/dW = [%.6f, %.6f], dy/dw0 = %.6f\n", W.grad().data()[0], W.grad().data()[1],
              w0.grad().item());
  return 0;
}
