#pragma once
// Loss modules (PyTorch names, Keras aliases). Each wraps the function of the same name in
// nn/functional.hpp; call as loss(prediction, target).
#include <string>
#include <utility>

#include "neurona/nn/functional.hpp"

namespace neurona::nn {

class Loss {
 public:
  explicit Loss(Reduction reduction = Reduction::Mean) : reduction(reduction) {}
  virtual ~Loss() = default;
  virtual Tensor forward(const Tensor& input, const Tensor& target) const = 0;
  Tensor operator()(const Tensor& input, const Tensor& target) const { return forward(input, target); }
  virtual std::string type_name() const = 0;
  Reduction reduction;
};

class MSELoss : public Loss {
 public:
  using Loss::Loss;
  Tensor forward(const Tensor& x, const Tensor& y) const override { return F::mse_loss(x, y, reduction); }
  std::string type_name() const override { return "MSELoss"; }
};
class L1Loss : public Loss {
 public:
  using Loss::Loss;
  Tensor forward(const Tensor& x, const Tensor& y) const override { return F::l1_loss(x, y, reduction); }
  std::string type_name() const override { return "L1Loss"; }
};
class HuberLoss : public Loss {
 public:
  explicit HuberLoss(float delta = 1.f, Reduction r = Reduction::Mean) : Loss(r), delta(delta) {}
  Tensor forward(const Tensor& x, const Tensor& y) const override {
    return F::huber_loss(x, y, reduction, delta);
  }
  std::string type_name() const override { return "HuberLoss"; }
  float delta;
};
class SmoothL1Loss : public Loss {
 public:
  explicit SmoothL1Loss(float beta = 1.f, Reduction r = Reduction::Mean) : Loss(r), beta(beta) {}
  Tensor forward(const Tensor& x, const Tensor& y) const override {
    return F::smooth_l1_loss(x, y, reduction, beta);
  }
  std::string type_name() const override { return "SmoothL1Loss"; }
  float beta;
};
class BCELoss : public Loss {
 public:
  explicit BCELoss(Reduction r = Reduction::Mean, Tensor weight = {}) : Loss(r), weight(weight) {}
  Tensor forward(const Tensor& x, const Tensor& y) const override {
    return F::binary_cross_entropy(x, y, reduction, weight);
  }
  std::string type_name() const override { return "BCELoss"; }
  Tensor weight;
};
class BCEWithLogitsLoss : public Loss {
 public:
  explicit BCEWithLogitsLoss(Reduction r = Reduction::Mean, Tensor weight = {}, Tensor pos_weight = {})
      : Loss(r), weight(weight), pos_weight(pos_weight) {}
  Tensor forward(const Tensor& x, const Tensor& y) const override {
    return F::binary_cross_entropy_with_logits(x, y, reduction, weight, pos_weight);
  }
  std::string type_name() const override { return "BCEWithLogitsLoss"; }
  Tensor weight, pos_weight;
};
class CrossEntropyLoss : public Loss {
 public:
  explicit CrossEntropyLoss(F::CrossEntropyOptions o = {}) : Loss(o.reduction), options(o) {}
  Tensor forward(const Tensor& x, const Tensor& y) const override {
    F::CrossEntropyOptions o = options;
    o.reduction = reduction;
    return F::cross_entropy(x, y, o);
  }
  std::string type_name() const override { return "CrossEntropyLoss"; }
  F::CrossEntropyOptions options;
};
class NLLLoss : public Loss {
 public:
  explicit NLLLoss(F::CrossEntropyOptions o = {}) : Loss(o.reduction), options(o) {}
  Tensor forward(const Tensor& x, const Tensor& y) const override {
    F::CrossEntropyOptions o = options;
    o.reduction = reduction;
    return F::nll_loss(x, y, o);
  }
  std::string type_name() const override { return "NLLLoss"; }
  F::CrossEntropyOptions options;
};

// Keras's categorical cross-entropy on probabilities (from_logits=False, after a softmax output
// layer): nll_loss(log(clamp(p, 1e-7, 1)), y), with optional class weights. The metrics read its
// name (train::loss_task): the outputs are probabilities, not logits.
class ProbabilityCrossEntropyLoss : public Loss {
 public:
  explicit ProbabilityCrossEntropyLoss(Tensor weight = {}) : weight(std::move(weight)) {}
  Tensor forward(const Tensor& p, const Tensor& y) const override {
    return F::nll_loss(log(clamp(p, 1e-7f, 1.f)), y, {.weight = weight, .reduction = reduction});
  }
  std::string type_name() const override { return "cross_entropy_on_probabilities"; }
  Tensor weight;
};

// Keras-style aliases.
using MeanSquaredError = MSELoss;
using MeanAbsoluteError = L1Loss;

}  // namespace neurona::nn
