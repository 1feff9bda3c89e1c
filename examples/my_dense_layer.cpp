// Seed 004: a dense layer written by hand (the course's MyDenseLayer) and the gradient-descent
// loop of the course, with no optimizer object:
//
//   z = x·W + b,  output = sigmoid(z)          W [input_dim, output_dim], b [1, output_dim]
//   repeat: loss = J(W); gradient = dJ/dW; W <- W - lr · gradient
//
// The data is the course's "will I pass this class?" set (lectures attended, hours on the final
// project -> pass), scaled to mean 0 and standard deviation 1.
//
// usage: my_dense_layer [steps]
#include <cstdio>
#include <cstdlib>

#include "neurona/neurona.hpp"

using namespace neurona;

class MyDenseLayer : public nn::Module {
 public:
  MyDenseLayer(int64_t input_dim, int64_t output_dim) {
    // Initialise the weights at random ~ N(0, 1) and the bias at zero.
    W = register_parameter("W", Tensor::normal({input_dim, output_dim}));
    b = register_parameter("b", Tensor::zeros({1, output_dim}));
  }
  Tensor forward(const Tensor& inputs) override {
    Tensor z = matmul(inputs, W) + b;  // forward propagate the inputs
    return nn::F::sigmoid(z);          // feed through a non-linear activation
  }
  std::string type_name() const override { return "MyDenseLayer"; }
  Tensor W, b;
};

int main(int argc, char** argv) {
  try {
    const int steps = argc > 1 ? std::atoi(argv[1]) : 1000;
    const float lr = 0.5f;
    manual_seed(0);
    const data::Points points = data::pass_the_class(200, 0.5f, /*seed=*/0);
    data::StandardScaler scaler;
    const Tensor x = scaler.fit_transform(points.x);
    const Tensor& y = points.y;

    MyDenseLayer layer(2, 1);
    for (int step = 0; step <= steps; ++step) {
      Tensor loss = nn::F::binary_cross_entropy(layer(x), y);
      if (step % (steps / 10 > 0 ? steps / 10 : 1) == 0)
        std::printf("step %4d  loss %.4f\n", step, loss.item());
      if (step == steps) break;
      layer.zero_grad();
      loss.backward();  // the gradient dJ/dW (and dJ/db)
      for (Tensor* p : {&layer.W, &layer.b}) {
        float* w = p->data();
        const Tensor g = p->grad();
        for (int64_t i = 0; i < p->numel(); ++i) w[i] -= lr * g.data()[i];  // W <- W - lr * gradient
      }
    }
    NoGradGuard no_grad;
    const Tensor p = layer(x);
    int correct = 0;
    for (int64_t i = 0; i < p.numel(); ++i) correct += (p.data()[i] > 0.5f) == (y.data()[i] > 0.5f);
    std::printf("W = [%.4f, %.4f]  b = %.4f\n", layer.W.data()[0], layer.W.data()[1], layer.b.data()[0]);
    std::printf("training accuracy: %.3f (%d of %lld)\n", double(correct) / double(p.numel()), correct,
                static_cast<long long>(p.numel()));
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "my_dense_layer: error: %s\n", e.what());
    return 1;
  }
}
