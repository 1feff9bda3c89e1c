// Inverted dropout: survivors are scaled by 1/(1-p) so eval mode needs no rescaling.
#include <cmath>

#include "../detail.hpp"
#include "neurona/autograd/node.hpp"
#include "neurona/core/random.hpp"

namespace neurona::nn::functional {

Tensor dropout(const Tensor& x, float p, bool training, Generator* gen) {
  check(p >= 0.f && p <= 1.f, "dropout: probability ", p, " is not in [0, 1]");
  if (!training || p == 0.f) return x;
  Generator& rng = gen ? *gen : default_generator();
  // mask holds 0 or 1/(1-p); p = 1 drops everything. An element is dropped when
  // rng.uniform() = (u >> 11)·2⁻⁵³ < p, i.e. when the integer u >> 11 < ⌈p·2⁵³⌉ (exact in double),
  // which keeps the same masks as comparing doubles while staying in integers.
  const uint64_t drop_below = static_cast<uint64_t>(std::ceil(static_cast<double>(p) * 0x1.0p53));
  const int64_t n = x.numel();
  Tensor mask = Tensor::empty(x.shape());
  const float keep_scale = p < 1.f ? 1.f / (1.f - p) : 0.f;
  float* m = mask.data();
  for (int64_t i = 0; i < n; ++i) m[i] = (rng.next_u64() >> 11) < drop_below ? 0.f : keep_scale;
  Tensor y = Tensor::empty(x.shape());
  const float* xp = x.data();
  float* yp = y.data();
  for (int64_t i = 0; i < n; ++i) yp[i] = xp[i] * m[i];
  return autograd::record(y, "dropout", {x}, [mask, n](const Tensor& g, autograd::Grads& gr) {
    Tensor gx = Tensor::empty(g.shape());
    const float *gp = g.data(), *mp = mask.data();
    float* o = gx.data();
    for (int64_t i = 0; i < n; ++i) o[i] = gp[i] * mp[i];
    gr[0] = gx;
  });
}

}  // namespace neurona::nn::functional
