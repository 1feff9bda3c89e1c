// Inverted dropout: survivors are scaled by 1/(1-p) so eval mode needs no rescaling.
#include "../detail.hpp"
#include "neurona/autograd/node.hpp"
#include "neurona/core/random.hpp"

namespace neurona::nn::functional {

Tensor dropout(const Tensor& x, float p, bool training, Generator* gen) {
  check(p >= 0.f && p <= 1.f, "dropout: probability ", p, " is not in [0, 1]");
  if (!training || p == 0.f) return x;
  Generator& rng = gen ? *gen : default_generator();
  // mask holds 0 or 1/(1-p); p = 1 drops everything.
  Tensor mask = Tensor::empty(x.shape());
  const float keep_scale = p < 1.f ? 1.f / (1.f - p) : 0.f;
  float* m = mask.data();
  for (int64_t i = 0; i < x.numel(); ++i) m[i] = rng.uniform() < p ? 0.f : keep_scale;
  Tensor y = Tensor::empty(x.shape());
  const float* xp = x.data();
  float* yp = y.data();
  for (int64_t i = 0; i < x.numel(); ++i) yp[i] = xp[i] * m[i];
  return autograd::record(y, "dropout", {x}, [mask](const Tensor& g, autograd::Grads& gr) {
    Tensor gx = Tensor::empty(g.shape());
    const float *gp = g.data(), *mp = mask.data();
    float* o = gx.data();
    for (int64_t i = 0; i < g.numel(); ++i) o[i] = gp[i] * mp[i];
    gr[0] = gx;
  });
}

}  // namespace neurona::nn::functional
