#pragma once
// Gradient checker: compares the gradients autograd computes with central finite differences.
// The function's output is reduced to a scalar as sum(output * R) in double precision with a fixed
// random R, so every output element is checked at once.
#include <functional>
#include <string>
#include <vector>

#include "neurona/core/tensor.hpp"

namespace neurona::autograd {

struct GradcheckOptions {
  double eps = 1e-3;   // finite-difference step
  double atol = 1e-3;  // |analytic - numeric| <= atol + rtol * |numeric|
  double rtol = 1e-2;
  uint64_t seed = 1234;  // for R
};

struct GradcheckResult {
  bool ok = true;
  std::string message;  // first mismatch: input index, element, both values
  double max_abs_error = 0.0;
};

// `inputs` are leaves that require a gradient; `fn` maps them to an output tensor.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          std::vector<Tensor> inputs, const GradcheckOptions& options = {});

}  // namespace neurona::autograd
