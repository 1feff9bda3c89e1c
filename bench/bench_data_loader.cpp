// Compares one shuffled pass of a DataLoader over the 60,000 Fashion-MNIST training images
// (batch 128) with one training epoch of a 784-512-256-10 ReLU MLP built from core ops.
// Goal (issue 5): loading takes under 5 % of the epoch. Random data of the same shape stands in
// when Fashion-MNIST is not installed.
#include <chrono>
#include <cmath>
#include <cstdio>

#include "neurona/neurona.hpp"

using namespace neurona;
using Clock = std::chrono::steady_clock;

namespace {
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// One pass over the loader; the checksum keeps the copies from being optimised away.
double loader_epoch(data::DataLoader& loader, double& checksum) {
  const auto t0 = Clock::now();
  for (const data::Batch& b : loader) checksum += b.x.data()[0] + b.y.data()[b.size() - 1];
  return seconds_since(t0);
}

Tensor linear_weight(int64_t in, int64_t out, Generator& g) {
  const float bound = 1.f / std::sqrt(float(in));  // PyTorch's default Linear range
  return Tensor::uniform({in, out}, -bound, bound, &g).requires_grad_(true);
}
}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : data::fashion_mnist_default_dir();
  Tensor images, labels;
  const char* source;
  if (!dir.empty()) {
    auto set = data::load_fashion_mnist(dir, {.flatten = true});
    images = set.train.images;
    labels = set.train.labels;
    source = "Fashion-MNIST";
  } else {
    Generator g(1);
    images = Tensor::uniform({60000, 784}, 0.f, 1.f, &g);
    labels = Tensor::empty({60000});
    for (int64_t i = 0; i < 60000; ++i) labels.data()[i] = float(g.randint(10));
    source = "random data (Fashion-MNIST not installed)";
  }
  const int64_t n = images.size(0), batch = 128;
  std::printf("data: %s, %lld x %lld, %d threads\n", source, (long long)n, (long long)images.size(1),
              num_threads());

  auto dataset = std::make_shared<data::TensorDataset>(images, labels);
  double checksum = 0;
  data::DataLoader loader(dataset, {batch, true, false, 0, true});
  loader_epoch(loader, checksum);  // warm the buffer pool
  const double t_load = loader_epoch(loader, checksum);
  data::DataLoader serial(dataset, {batch, true, false, 0, false});
  loader_epoch(serial, checksum);
  const double t_load_serial = loader_epoch(serial, checksum);

  // The MLP: weights [in, out] so that x @ W + b needs no transpose.
  Generator g(2);
  Tensor w1 = linear_weight(784, 512, g), b1 = Tensor::zeros({512}).requires_grad_(true);
  Tensor w2 = linear_weight(512, 256, g), b2 = Tensor::zeros({256}).requires_grad_(true);
  Tensor w3 = linear_weight(256, 10, g), b3 = Tensor::zeros({10}).requires_grad_(true);
  std::vector<Tensor> params{w1, b1, w2, b2, w3, b3};
  const Tensor zero = Tensor::scalar(0.f);
  const float lr = 0.05f;
  double last_loss = 0;
  auto train_epoch = [&] {
    const auto t0 = Clock::now();
    for (int64_t start = 0; start < n; start += batch) {
      const int64_t end = std::min(n, start + batch), b = end - start;
      Tensor x = images.slice(start, end);
      Tensor onehot = data::one_hot(labels.slice(start, end), 10);
      Tensor h1 = maximum(add(matmul(x, w1), b1), zero);
      Tensor h2 = maximum(add(matmul(h1, w2), b2), zero);
      Tensor logits = add(matmul(h2, w3), b3);
      Tensor z = sub(logits, max(logits, 1, true).detach());
      Tensor logp = sub(z, log(sum(exp(z), 1, true)));
      Tensor loss = mul(sum(mul(onehot, logp)), -1.f / float(b));
      loss.backward();
      for (Tensor& p : params) {
        float* w = p.data();
        const float* gr = p.grad().data();
        for (int64_t i = 0, m = p.numel(); i < m; ++i) w[i] -= lr * gr[i];
        p.zero_grad();
      }
      last_loss = loss.item();
    }
    return seconds_since(t0);
  };
  train_epoch();  // warm-up epoch
  const double t_epoch = train_epoch();

  std::printf("loader, shuffled, batch %lld, prefetch:    %8.1f ms\n", (long long)batch, t_load * 1e3);
  std::printf("loader, shuffled, batch %lld, no prefetch: %8.1f ms\n", (long long)batch, t_load_serial * 1e3);
  std::printf("MLP 784-512-256-10 epoch, batch %lld:      %8.1f ms (final loss %.4f)\n", (long long)batch,
              t_epoch * 1e3, last_loss);
  std::printf("loading / epoch = %.2f %% (goal < 5 %%)   [checksum %.1f]\n", 100.0 * t_load / t_epoch,
              checksum);
  return 0;
}
