#include "neurona/autograd/gradcheck.hpp"

#include <cmath>
#include <sstream>

#include "neurona/autograd/node.hpp"
#include "neurona/core/error.hpp"
#include "neurona/core/random.hpp"

namespace neurona::autograd {
namespace {

double weighted_sum(const Tensor& out, const std::vector<double>& r) {
  double s = 0.0;
  const float* p = out.data();
  for (int64_t i = 0, n = out.numel(); i < n; ++i) s += r[i] * p[i];
  return s;
}

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          std::vector<Tensor> inputs, const GradcheckOptions& opt) {
  for (size_t i = 0; i < inputs.size(); ++i)
    check(inputs[i].is_leaf() && inputs[i].requires_grad(), "gradcheck: input ", i,
          " must be a leaf that requires a gradient");

  // Analytic gradients of sum(out * R).
  Tensor out = fn(inputs);
  Generator gen(opt.seed);
  std::vector<double> r(static_cast<size_t>(out.numel()));
  std::vector<float> rf(r.size());
  for (size_t i = 0; i < r.size(); ++i) rf[i] = static_cast<float>(r[i] = gen.uniform(-1.f, 1.f));
  for (auto& t : inputs) t.zero_grad();
  out.backward(Tensor::from(rf, out.shape()));

  GradcheckResult result;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor analytic = inputs[i].grad();
    float* x = inputs[i].data();
    for (int64_t j = 0, n = inputs[i].numel(); j < n; ++j) {
      const float saved = x[j];
      double plus, minus;
      {
        NoGradGuard no_grad;
        x[j] = static_cast<float>(saved + opt.eps);
        plus = weighted_sum(fn(inputs), r);
        x[j] = static_cast<float>(saved - opt.eps);
        minus = weighted_sum(fn(inputs), r);
        x[j] = saved;
      }
      const double numeric = (plus - minus) / (2.0 * opt.eps);
      const double got = analytic.defined() ? analytic.data()[j] : 0.0;
      const double err = std::fabs(got - numeric);
      result.max_abs_error = std::max(result.max_abs_error, err);
      if (result.ok && !(err <= opt.atol + opt.rtol * std::fabs(numeric))) {
        std::ostringstream os;
        os << "input " << i << " element " << j << ": autograd " << got << ", finite difference " << numeric;
        result.ok = false;
        result.message = os.str();
      }
    }
  }
  return result;
}

}  // namespace neurona::autograd
