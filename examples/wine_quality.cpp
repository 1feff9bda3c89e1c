// The default job: the course's early-stopping model (lesson 4.5) on the red wine quality data,
// 11 → 512 → 512 → 512 → 1 with ReLU, mean absolute error and Adam, written against Neurona's
// core tensors and autograd. Prints per-epoch progress and the final metrics.
//
// usage: wine_quality [path/to/winequality-red.csv] [epochs]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "neurona/neurona.hpp"

using namespace neurona;

namespace {

// Reads the `;`-separated wine file: 11 feature columns, then quality.
void read_wine(const std::string& path, std::vector<float>& x, std::vector<float>& y) {
  std::ifstream in(path);
  check(in.good(), path, ": cannot open the file");
  std::string line;
  std::getline(in, line);  // header
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    std::stringstream ss(line);
    std::string cell;
    std::vector<float> row;
    while (std::getline(ss, cell, ';')) {
      char* end = nullptr;
      row.push_back(std::strtof(cell.c_str(), &end));
      check(end != cell.c_str(), path, ":", line_no, ": '", cell, "' is not a number");
    }
    check(row.size() == 12, path, ":", line_no, ": expected 12 columns, found ", row.size());
    x.insert(x.end(), row.begin(), row.begin() + 11);
    y.push_back(row[11]);
  }
}

// Min-max scaling with the statistics of the first `n_fit` rows (the training split).
void minmax_scale(Tensor& t, int64_t n_fit) {
  const int64_t cols = t.size(1);
  for (int64_t c = 0; c < cols; ++c) {
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t r = 0; r < n_fit; ++r) {
      lo = std::min(lo, t.data()[r * cols + c]);
      hi = std::max(hi, t.data()[r * cols + c]);
    }
    const float span = hi > lo ? hi - lo : 1.f;
    for (int64_t r = 0; r < t.size(0); ++r) t.data()[r * cols + c] = (t.data()[r * cols + c] - lo) / span;
  }
}

struct Adam {
  float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
  int64_t step = 0;
  std::vector<Tensor> m, v;
  void update(std::vector<Tensor>& params) {
    if (m.empty())
      for (auto& p : params) {
        m.push_back(Tensor::zeros(p.shape()));
        v.push_back(Tensor::zeros(p.shape()));
      }
    ++step;
    const float c1 = 1.f - std::pow(b1, float(step)), c2 = 1.f - std::pow(b2, float(step));
    for (size_t i = 0; i < params.size(); ++i) {
      float* w = params[i].data();
      const float* g = params[i].grad().data();
      float* mi = m[i].data();
      float* vi = v[i].data();
      for (int64_t j = 0; j < params[i].numel(); ++j) {
        mi[j] = b1 * mi[j] + (1 - b1) * g[j];
        vi[j] = b2 * vi[j] + (1 - b2) * g[j] * g[j];
        w[j] -= lr * (mi[j] / c1) / (std::sqrt(vi[j] / c2) + eps);
      }
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string path = argc > 1 ? argv[1] : "data/winequality-red.csv";
    const int epochs = argc > 2 ? std::atoi(argv[2]) : 100;
    std::vector<float> xv, yv;
    read_wine(path, xv, yv);
    const int64_t n = static_cast<int64_t>(yv.size());

    // Shuffle once with a fixed seed, then 70 % train / 30 % validation.
    Generator gen(0);
    std::vector<int64_t> order(n);
    for (int64_t i = 0; i < n; ++i) order[i] = i;
    for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[gen.randint(i + 1)]);
    Tensor X = Tensor::from(xv, {n, 11}).index_select(order);
    Tensor Y = Tensor::from(yv, {n, 1}).index_select(order);
    const int64_t n_train = n * 7 / 10;
    minmax_scale(X, n_train);
    minmax_scale(Y, n_train);
    Tensor Xtr = X.slice(0, n_train), Ytr = Y.slice(0, n_train);
    Tensor Xva = X.slice(n_train, n), Yva = Y.slice(n_train, n);

    // PyTorch's default Linear initialisation: U(±1/√fan_in) for weight and bias.
    std::vector<Tensor> params;
    const int64_t widths[] = {11, 512, 512, 512, 1};
    for (int l = 0; l < 4; ++l) {
      const float bound = 1.f / std::sqrt(float(widths[l]));
      params.push_back(Tensor::uniform({widths[l], widths[l + 1]}, -bound, bound, &gen).requires_grad_());
      params.push_back(Tensor::uniform({widths[l + 1]}, -bound, bound, &gen).requires_grad_());
    }
    auto forward = [&](const Tensor& x) {
      Tensor h = x;
      for (int l = 0; l < 4; ++l) {
        h = matmul(h, params[2 * l]) + params[2 * l + 1];
        if (l < 3) h = maximum(h, Tensor::scalar(0.f));
      }
      return h;
    };
    auto mae = [](const Tensor& p, const Tensor& t) { return mean(abs(p - t)); };

    std::printf("wine quality: %lld training rows, %lld validation rows, 11-512-512-512-1 ReLU, MAE, Adam(1e-3), batch 256\n",
                (long long)n_train, (long long)(n - n_train));
    Adam adam;
    const int64_t batch = 256;
    float best_val = INFINITY;
    int best_epoch = 0;
    for (int epoch = 1; epoch <= epochs; ++epoch) {
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<int64_t> perm(n_train);
      for (int64_t i = 0; i < n_train; ++i) perm[i] = i;
      for (int64_t i = n_train - 1; i > 0; --i) std::swap(perm[i], perm[gen.randint(i + 1)]);
      double loss_sum = 0;
      for (int64_t s = 0; s < n_train; s += batch) {
        std::vector<int64_t> rows(perm.begin() + s, perm.begin() + std::min(n_train, s + batch));
        Tensor loss = mae(forward(Xtr.index_select(rows)), Ytr.index_select(rows));
        for (auto& p : params) p.zero_grad();
        loss.backward();
        adam.update(params);
        loss_sum += loss.item() * double(rows.size());
      }
      float val;
      {
        NoGradGuard no_grad;
        val = mae(forward(Xva), Yva).item();
      }
      if (val < best_val) {
        best_val = val;
        best_epoch = epoch;
      }
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      std::printf("Epoch %d/%d - %.0fms - loss: %.4f - val_loss: %.4f\n", epoch, epochs, ms,
                  loss_sum / double(n_train), val);
    }
    std::printf("best val_loss (MAE on min-max scaled quality): %.4f at epoch %d\n", best_val, best_epoch);
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "wine_quality: error: %s\n", e.what());
    return 1;
  }
}
