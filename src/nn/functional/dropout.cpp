// Inverted dropout: survivors are scaled by 1/(1-p) so eval mode needs no rescaling. dropout()
// draws per element, dropout2d() per (n, c) channel.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../detail.hpp"
#include "neurona/autograd/node.hpp"
#include "neurona/core/random.hpp"
#include "neurona/core/threads.hpp"

namespace neurona::nn::functional {
namespace {

// A plain function over [lo, hi): scalars passed by value stay in registers and the loop
// vectorises, also when a pool worker calls it through std::function (a lambda's captured float
// would be reloaded after every store, which stops the vectoriser).
void dropout_range(uint64_t key, uint64_t drop_below, float keep_scale, const float* x, float* mask, float* y,
                   int64_t lo, int64_t hi) {
  for (int64_t i = lo; i < hi; ++i) {
    const float k = (splitmix64_at(key, static_cast<uint64_t>(i)) >> 11) < drop_below ? 0.f : keep_scale;
    mask[i] = k;
    y[i] = x[i] * k;
  }
}

}  // namespace

Tensor dropout(const Tensor& x, float p, bool training, Generator* gen) {
  check(p >= 0.f && p <= 1.f, "dropout: probability ", p, " is not in [0, 1]");
  if (!training || p == 0.f) return x;
  Generator& rng = gen ? *gen : default_generator();
  // One draw from the generator keys the call; element i uses value i of the SplitMix64 sequence
  // from that key, so the mask does not depend on how the range is split over threads and the
  // loop vectorises. Element i is dropped when its 53-bit fraction u·2⁻⁵³ < p, i.e. when the
  // integer u < ⌈p·2⁵³⌉ (exact in double). mask holds 0 or 1/(1-p); p = 1 drops everything.
  const uint64_t key = rng.next_u64();
  const uint64_t drop_below = static_cast<uint64_t>(std::ceil(static_cast<double>(p) * 0x1.0p53));
  const float keep_scale = p < 1.f ? 1.f / (1.f - p) : 0.f;
  const int64_t n = x.numel();
  Tensor mask = Tensor::empty(x.shape());
  Tensor y = Tensor::empty(x.shape());
  const float* xp = x.data();
  float *m = mask.data(), *yp = y.data();
  parallel_for(0, n, kParallelGrain, [&](int64_t lo, int64_t hi) {
    dropout_range(key, drop_below, keep_scale, xp, m, yp, lo, hi);
  });
  return autograd::record(y, "dropout", {x}, [mask, n](const Tensor& g, autograd::Grads& gr) {
    Tensor gx = Tensor::empty(g.shape());
    const float *gp = g.data(), *mp = mask.data();
    float* o = gx.data();
    parallel_for(0, n, kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) o[i] = gp[i] * mp[i];
    });
    gr[0] = gx;
  });
}

Tensor dropout2d(const Tensor& x, float p, bool training, Generator* gen) {
  check(x.defined() && (x.dim() == 3 || x.dim() == 4),
        "dropout2d: expected input [N, C, H, W] or [N, C, L], got ",
        x.defined() ? x.shape().str() : "an undefined tensor");
  check(p >= 0.f && p <= 1.f, "dropout2d: probability ", p, " is not in [0, 1]");
  if (!training || p == 0.f) return x;
  Generator& rng = gen ? *gen : default_generator();
  // One value per (n, c) plane, drawn as in dropout() (plane i uses value i of the key's sequence).
  const uint64_t key = rng.next_u64();
  const uint64_t drop_below = static_cast<uint64_t>(std::ceil(static_cast<double>(p) * 0x1.0p53));
  const float keep_scale = p < 1.f ? 1.f / (1.f - p) : 0.f;
  const int64_t planes = x.size(0) * x.size(1), plane = planes == 0 ? 0 : x.numel() / planes;
  std::vector<float> mask(static_cast<size_t>(planes));
  for (int64_t i = 0; i < planes; ++i)
    mask[static_cast<size_t>(i)] =
        (splitmix64_at(key, static_cast<uint64_t>(i)) >> 11) < drop_below ? 0.f : keep_scale;
  auto apply = [planes, plane](const float* m, const float* in, float* out) {
    parallel_for(0, planes, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(plane, 1)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t i = lo; i < hi; ++i)
                     for (int64_t j = 0; j < plane; ++j) out[i * plane + j] = in[i * plane + j] * m[i];
                 });
  };
  Tensor y = Tensor::empty(x.shape());
  apply(mask.data(), x.data(), y.data());
  return autograd::record(y, "dropout2d", {x},
                          [mask = std::move(mask), apply](const Tensor& g, autograd::Grads& gr) {
                            Tensor gx = Tensor::empty(g.shape());
                            apply(mask.data(), g.data(), gx.data());
                            gr[0] = gx;
                          });
}

}  // namespace neurona::nn::functional
