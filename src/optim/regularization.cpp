#include "neurona/optim/regularization.hpp"

#include <algorithm>
#include <cmath>

#include "neurona/core/error.hpp"

namespace neurona::optim {

Tensor Regularizer::penalty(const Tensor& weight) const {
  check(l1 >= 0 && l2 >= 0, "Regularizer: l1 and l2 must be >= 0 (got l1 ", l1, ", l2 ", l2, ")");
  check(weight.defined(), "Regularizer: the weight tensor is undefined");
  Tensor total = Tensor::scalar(0.f);
  if (l1 != 0) total = total + sum(abs(weight)) * float(l1);
  if (l2 != 0) total = total + sum(weight * weight) * float(l2);
  return total;
}

Tensor regularization_penalty(const std::vector<std::pair<Tensor, Regularizer>>& weights) {
  Tensor total = Tensor::scalar(0.f);
  for (const auto& [w, reg] : weights) total = total + reg.penalty(w);
  return total;
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type) {
  check(max_norm >= 0, "clip_grad_norm: max_norm must be >= 0 (got ", max_norm, ")");
  check(norm_type > 0, "clip_grad_norm: norm_type must be > 0 or infinity (got ", norm_type, ")");
  const bool inf = std::isinf(norm_type);
  double acc = 0;
  for (const auto& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    const float* d = g.data();
    for (int64_t i = 0; i < g.numel(); ++i) {
      const double a = std::abs(double(d[i]));
      acc = inf ? std::max(acc, a) : acc + std::pow(a, norm_type);
    }
  }
  const double total = inf ? acc : std::pow(acc, 1.0 / norm_type);
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1.0) {
    for (const auto& p : params) {
      Tensor g = p.grad();
      if (!g.defined()) continue;
      float* d = g.data();
      const float c = float(coef);
      for (int64_t i = 0; i < g.numel(); ++i) d[i] *= c;
    }
  }
  return total;
}

void clip_grad_value(const std::vector<Tensor>& params, double clip_value) {
  check(clip_value >= 0, "clip_grad_value: clip_value must be >= 0 (got ", clip_value, ")");
  const float c = float(clip_value);
  for (const auto& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    float* d = g.data();
    for (int64_t i = 0; i < g.numel(); ++i) d[i] = std::clamp(d[i], -c, c);
  }
}

}  // namespace neurona::optim
