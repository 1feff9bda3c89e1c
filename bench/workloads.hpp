#pragma once
// The benchmark workloads (README, "Benchmarks"), built through the public API a user would write
// (nn::Sequential of Linear/Dropout/BatchNorm1d, Conv2d/MaxPool2d/BatchNorm2d, an nn loss, an
// optim optimizer). The PyTorch
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
  // Image workloads: one sample's shape [C, H, W] and the multiply-adds of each convolution and
  // dense layer's forward pass for one sample, in order (for the FLOP count); empty for the MLPs.
  std::vector<int64_t> image;
  std::vector<double> macs;
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
  } else if (name == "W3" || name == "W3b" || name == "W6") {
    // W3: the course's first CNN on Fashion-MNIST (examples/fashion_mnist_cnn.yaml): 3x3 'same'
    // convolutions of 32 and 64 channels with ReLU, each followed by 2x2 max pooling, then Dense
    // 128 ReLU and Dense 10. W3b: the same with BatchNorm2d between each convolution (no bias) and
    // its ReLU. W6: CIFAR-size images [3, 32, 32] through two blocks of two (conv 3x3, BatchNorm2d,
    // ReLU) of 32 and then 64 channels, each block ending in 2x2 max pooling, then Dense 128 ReLU
    // and Dense 10.
    const bool bn = name != "W3";
    int64_t c = name == "W6" ? 3 : 1, side = name == "W6" ? 32 : 28;
    w.image = {c, side, side};
    auto conv = [&](int64_t out) {
      w.model->add(std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in_channels = c,
                                                                  .out_channels = out,
                                                                  .kernel_size = {3, 3},
                                                                  .padding = {.same = true},
                                                                  .bias = !bn,
                                                                  .activation = bn ? "linear" : "relu"}));
      if (bn) {
        w.model->add(std::make_shared<nn::BatchNorm2d>(out));
        w.model->add(std::make_shared<nn::ReLU>());
      }
      w.macs.push_back(double(side * side) * double(out) * double(c * 9));
      c = out;
    };
    auto pool = [&] {
      w.model->add(std::make_shared<nn::MaxPool2d>(nn::Pool2dOptions{.kernel_size = {2, 2}}));
      side /= 2;
    };
    for (int64_t out :
         name == "W6" ? std::vector<int64_t>{32, 32, 0, 64, 64, 0} : std::vector<int64_t>{32, 0, 64, 0})
      out ? conv(out) : pool();
    w.model->add(std::make_shared<nn::Flatten>());
    const int64_t flat = c * side * side;
    w.model->add(dense(flat, 128, Activation::ReLU));
    w.model->add(dense(128, 10, Activation::Identity));
    w.macs.push_back(double(flat) * 128);
    w.macs.push_back(128.0 * 10);
    w.widths = {flat, 128, 10};
    w.loss = std::make_shared<nn::CrossEntropyLoss>();
    w.classification = true;
  } else {
    fail("bench: unknown workload '", name, "' (W1, W1b, W2, W3, W3b, W4, W5, W6)");
  }
  return w;
}

inline std::unique_ptr<optim::Optimizer> make_optimizer(const Workload& w) {
  if (w.name == "W4")
    return std::make_unique<optim::SGD>(w.model->parameters(), optim::SGDOptions{.lr = 0.03});
  if (!w.image.empty())  // the CNNs: SGD with momentum, as the course trains them
    return std::make_unique<optim::SGD>(w.model->parameters(),
                                        optim::SGDOptions{.lr = 0.01, .momentum = 0.9});
  return std::make_unique<optim::Adam>(w.model->parameters(), optim::AdamOptions{.lr = 1e-3});
}

// Multiply-adds ×2 of the matmuls (and convolutions) in one training step: forward, plus input and
// weight gradients in backward (the first layer's input needs no gradient).
inline double step_flops(const Workload& w, int64_t batch) {
  std::vector<double> macs = w.macs;
  if (macs.empty())
    for (size_t i = 0; i + 1 < w.widths.size(); ++i)
      macs.push_back(double(w.widths[i]) * double(w.widths[i + 1]));
  double f = 0;
  for (double m : macs) f += 6.0 * double(batch) * m;
  return f - 2.0 * double(batch) * macs[0];
}
// The same for one forward pass (inference).
inline double forward_flops(const Workload& w, int64_t batch) {
  double f = 0;
  if (!w.macs.empty())
    for (double m : w.macs) f += 2.0 * double(batch) * m;
  else
    for (size_t i = 0; i + 1 < w.widths.size(); ++i) f += 2.0 * double(batch) * w.widths[i] * w.widths[i + 1];
  return f;
}

}  // namespace neurona::bench
