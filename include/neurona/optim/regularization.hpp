#pragma once
// Regularisation added to the loss (Keras kernel_regularizer style, for weights only) and
// gradient clipping applied between backward() and step().
#include <utility>
#include <vector>

#include "neurona/core/tensor.hpp"

namespace neurona::optim {

// penalty(w) = l1·Σ|w| + l2·Σw², a differentiable scalar to add to the loss.
struct Regularizer {
  double l1 = 0;
  double l2 = 0;
  Tensor penalty(const Tensor& weight) const;
};

// Sum of the penalties of (weight, regularizer) pairs; a scalar 0 when the list is empty.
Tensor regularization_penalty(const std::vector<std::pair<Tensor, Regularizer>>& weights);

// Scales all gradients together so their global norm is at most max_norm (PyTorch's
// clip_grad_norm_: coefficient max_norm / (total + 1e-6), applied only when below 1). norm_type
// may be infinity. Returns the total norm before clipping. Parameters without a gradient are skipped.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0);

// Clamps every gradient element to [-clip_value, clip_value].
void clip_grad_value(const std::vector<Tensor>& params, double clip_value);

}  // namespace neurona::optim
