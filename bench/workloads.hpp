#pragma once
// The benchmark workloads (README, "Benchmarks"), built through the public API a user would write
// (nn::Sequential of Linear/Dropout/BatchNorm1d, an nn loss, an optim optimizer). The PyTorch
// twin of each is in bench/torch_workloads.py; tests/bench/ checks both compute the same loss.
#include <memory>
#include <string>
#include <vector>

#include "neurona/neurona.hpp"

namespace neurona::bench {

struct Workload {
  std::string name;
  std::shared_ptr<nn::Sequential> model;
  std::shared_ptr<nn::Loss> loss;
  std::vector<int64_t> widths;  // layer widths, input first (for the FLOP count)
  bool classification = false;  // targets are class indices
};

// Dense(in, out) with the activation fused, as Keras's Dense(units, activation) builds it.
inline std::shared_ptr<nn::Linear> dense(int64_t in, int64_t out, nn::Activation act) {
  return std::make_shared<nn::Linear>(in, out, true, act);
}

inline Workload make_model(const std::string& name) {
  using nn::Activation;
  Workload w;
  w.name = name;
  w.model = std::make_shared<nn::Sequential>();
  auto mlp = [&](std::vector<int64_t> widths, Activation act) {
    for (size_t i = 0; i + 1 < widths.size(); ++i)
      w.model->add(dense(widths[i], widths[i + 1], i + 2 < widths.size() ? act : Activation::Identity));
    w.widths = widths;
  };
  if (name == "W1") {
    mlp({11, 512, 512, 512, 1}, Activation::ReLU);
    w.loss = std::make_shared<nn::L1Loss>();
  } else if (name == "W1b") {  // lesson 5.5: (Dense 1024 ReLU, Dropout 0.3, BatchNorm) x 3, Dense 1
    int64_t in = 11;
    for (int i = 0; i < 3; ++i) {
      w.model->add(dense(in, 1024, Activation::ReLU));
      w.model->add(std::make_shared<nn::Dropout>(0.3f));
      w.model->add(std::make_shared<nn::BatchNorm1d>(1024));
      in = 1024;
    }
    w.model->add(dense(1024, 1, Activation::Identity));
    w.widths = {11, 1024, 1024, 1024, 1};
    w.loss = std::make_shared<nn::L1Loss>();
  } else if (name == "W2" || name == "W5") {
    mlp({784, 512, 256, 10}, Activation::ReLU);
    w.loss = std::make_shared<nn::CrossEntropyLoss>();
    w.classification = true;
  } else if (name == "W4") {
    mlp({2, 8, 8, 1}, Activation::Tanh);
    w.loss = std::make_shared<nn::MSELoss>();
  } else {
    fail("bench: unknown workload '", name, "' (W1, W1b, W2, W4, W5)");
  }
  return w;
}

inline std::unique_ptr<optim::Optimizer> make_optimizer(const Workload& w) {
  if (w.name == "W4")
    return std::make_unique<optim::SGD>(w.model->parameters(), optim::SGDOptions{.lr = 0.03});
  return std::make_unique<optim::Adam>(w.model->parameters(), optim::AdamOptions{.lr = 1e-3});
}

// Multiply-adds ×2 of the matmuls in one training step: forward, plus input and weight
// gradients in backward (the first layer's input needs no gradient).
inline double step_flops(const Workload& w, int64_t batch) {
  double f = 0;
  for (size_t i = 0; i + 1 < w.widths.size(); ++i) f += 6.0 * double(batch) * w.widths[i] * w.widths[i + 1];
  return f - 2.0 * double(batch) * w.widths[0] * w.widths[1];
}

}  // namespace neurona::bench
