// Normalisation ops. Both compute x̂ = (x − μ)/√(σ² + ε) with the biased variance and write
// y = γ·x̂ + β; their backward is the closed form
//   dx = (1/√(σ²+ε)) · (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)),  dx̂ = dy·γ,
// with the means over the normalised elements (batch statistics only).
#include <cmath>

#include "../detail.hpp"
#include "neurona/autograd/node.hpp"

namespace neurona::nn::functional {

using autograd::Grads;
using autograd::record;

Tensor batch_norm(const Tensor& x, Tensor running_mean, Tensor running_var, const Tensor& weight,
                  const Tensor& bias, bool training, const BatchNormOptions& opt,
                  Tensor num_batches_tracked) {
  check(x.dim() == 2 || x.dim() == 3, "batch_norm: expected input [N, C] or [N, C, L], got ", x.shape());
  const int64_t n = x.size(0), c = x.size(1), l = x.dim() == 3 ? x.size(2) : 1;
  const int64_t m = n * l;  // values per channel
  auto check_vec = [c](const Tensor& t, const char* what) {
    if (t.defined())
      check(t.numel() == c, "batch_norm: ", what, " has shape ", t.shape(), " but the input has ", c,
            " channels");
  };
  check_vec(running_mean, "running_mean");
  check_vec(running_var, "running_var");
  check_vec(weight, "weight");
  check_vec(bias, "bias");
  const bool use_batch = training || !running_mean.defined();
  if (use_batch)
    check(m > 1, "batch_norm: expected more than 1 value per channel when training, got input ", x.shape());

  std::vector<float> mean(c), invstd(c);
  const float* xp = x.data();
  auto at = [c, l](int64_t i, int64_t ch, int64_t j) { return (i * c + ch) * l + j; };
  if (use_batch) {
    // Per-channel sums in double, walking x in memory order (rows of channels) so the loops
    // vectorise over channels; each channel still adds its values in the same order.
    std::vector<double> s(c, 0.0), ss(c, 0.0);
    for (int64_t i = 0; i < n; ++i) {
      if (l == 1) {  // [N, C]: vectorises over channels
        for (int64_t ch = 0; ch < c; ++ch) s[ch] += xp[i * c + ch];
        continue;
      }
      for (int64_t ch = 0; ch < c; ++ch) {
        const float* xr = xp + at(i, ch, 0);
        double acc = s[ch];
        for (int64_t j = 0; j < l; ++j) acc += xr[j];
        s[ch] = acc;
      }
    }
    for (int64_t ch = 0; ch < c; ++ch) s[ch] /= m;  // now the means
    for (int64_t i = 0; i < n; ++i) {
      if (l == 1) {
        for (int64_t ch = 0; ch < c; ++ch) {
          const double d = xp[i * c + ch] - s[ch];
          ss[ch] += d * d;
        }
        continue;
      }
      for (int64_t ch = 0; ch < c; ++ch) {
        const float* xr = xp + at(i, ch, 0);
        double acc = ss[ch];
        for (int64_t j = 0; j < l; ++j) {
          const double d = xr[j] - s[ch];
          acc += d * d;
        }
        ss[ch] = acc;
      }
    }
    float momentum = opt.momentum;
    if (opt.cumulative && num_batches_tracked.defined()) momentum = 1.f / (num_batches_tracked.data()[0] + 1.f);
    const bool update_running = training && running_mean.defined();
    float* rm = update_running ? running_mean.data() : nullptr;
    float* rv = update_running ? running_var.data() : nullptr;
    for (int64_t ch = 0; ch < c; ++ch) {
      const double mu = s[ch], var = ss[ch] / m;
      mean[ch] = static_cast<float>(mu);
      invstd[ch] = static_cast<float>(1.0 / std::sqrt(var + opt.eps));
      if (update_running) {
        const double fed_var = opt.unbiased_running_var ? ss[ch] / (m - 1) : var;
        rm[ch] = (1.f - momentum) * rm[ch] + momentum * static_cast<float>(mu);
        rv[ch] = (1.f - momentum) * rv[ch] + momentum * static_cast<float>(fed_var);
      }
    }
  } else {
    for (int64_t ch = 0; ch < c; ++ch) {
      mean[ch] = running_mean.data()[ch];
      invstd[ch] = 1.f / std::sqrt(running_var.data()[ch] + opt.eps);
    }
  }
  if (training && running_mean.defined() && num_batches_tracked.defined())
    num_batches_tracked.data()[0] += 1.f;

  Tensor xhat = Tensor::empty(x.shape());
  Tensor y = Tensor::empty(x.shape());
  float *hp = xhat.data(), *yp = y.data();
  const float* wp = weight.defined() ? weight.data() : nullptr;
  const float* bp = bias.defined() ? bias.data() : nullptr;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch) {
      const float g = wp ? wp[ch] : 1.f;
      const float b = bp ? bp[ch] : 0.f;
      for (int64_t j = 0; j < l; ++j) {
        const int64_t k = at(i, ch, j);
        hp[k] = (xp[k] - mean[ch]) * invstd[ch];
        yp[k] = g * hp[k] + b;
      }
    }

  std::vector<Tensor> inputs{x};
  const bool has_w = weight.defined(), has_b = bias.defined();
  if (has_w) inputs.push_back(weight);
  if (has_b) inputs.push_back(bias);
  return record(y, "batch_norm", std::move(inputs), [=](const Tensor& g, Grads& gr) {
    const float *gp = g.data(), *hp = xhat.data();
    std::vector<double> sum_g(c, 0.0), sum_gh(c, 0.0);
    for (int64_t i = 0; i < n && l == 1; ++i)
      for (int64_t ch = 0; ch < c; ++ch) {
        sum_g[ch] += gp[i * c + ch];
        sum_gh[ch] += static_cast<double>(gp[i * c + ch]) * hp[i * c + ch];
      }
    for (int64_t i = 0; i < n && l != 1; ++i)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t j = 0; j < l; ++j) {
          const int64_t k = at(i, ch, j);
          sum_g[ch] += gp[k];
          sum_gh[ch] += static_cast<double>(gp[k]) * hp[k];
        }
    if (gr.needs(0)) {
      Tensor gx = Tensor::empty(x.shape());
      float* o = gx.data();
      // Per-channel factors first, so the pass over the batch is a plain multiply-add.
      std::vector<float> scale(c), mg(c), mgh(c);
      const float* wp = has_w ? weight.data() : nullptr;
      for (int64_t ch = 0; ch < c; ++ch) {
        scale[ch] = (wp ? wp[ch] : 1.f) * invstd[ch];
        mg[ch] = use_batch ? static_cast<float>(sum_g[ch] / m) : 0.f;
        mgh[ch] = use_batch ? static_cast<float>(sum_gh[ch] / m) : 0.f;
      }
      for (int64_t i = 0; i < n; ++i)
        for (int64_t ch = 0; ch < c; ++ch)
          for (int64_t j = 0; j < l; ++j) {
            const int64_t k = at(i, ch, j);
            o[k] = use_batch ? scale[ch] * (gp[k] - mg[ch] - hp[k] * mgh[ch]) : scale[ch] * gp[k];
          }
      gr[0] = gx;
    }
    int slot = 1;
    if (has_w) {
      if (gr.needs(slot)) {
        Tensor gw = Tensor::empty(weight.shape());
        for (int64_t ch = 0; ch < c; ++ch) gw.data()[ch] = static_cast<float>(sum_gh[ch]);
        gr[slot] = gw;
      }
      ++slot;
    }
    if (has_b && gr.needs(slot)) {
      Tensor gb = Tensor::empty(bias.shape());
      for (int64_t ch = 0; ch < c; ++ch) gb.data()[ch] = static_cast<float>(sum_g[ch]);
      gr[slot] = gb;
    }
  });
}

Tensor layer_norm(const Tensor& x, int64_t k, const Tensor& weight, const Tensor& bias, float eps) {
  check(k >= 1 && k <= x.dim(), "layer_norm: cannot normalise the last ", k, " dimensions of ", x.shape());
  int64_t d = 1;
  for (int64_t i = x.dim() - k; i < x.dim(); ++i) d *= x.size(i);
  if (weight.defined())
    check(weight.numel() == d, "layer_norm: weight ", weight.shape(), " does not match input ", x.shape());
  if (bias.defined())
    check(bias.numel() == d, "layer_norm: bias ", bias.shape(), " does not match input ", x.shape());
  const int64_t rows = d == 0 ? 0 : x.numel() / d;
  Tensor xhat = Tensor::empty(x.shape());
  Tensor y = Tensor::empty(x.shape());
  std::vector<float> invstd(rows);
  const float* xp = x.data();
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = xp + r * d;
    double s = 0;
    for (int64_t j = 0; j < d; ++j) s += xr[j];
    const double mu = s / d;
    double ss = 0;
    for (int64_t j = 0; j < d; ++j) ss += (xr[j] - mu) * (xr[j] - mu);
    invstd[r] = static_cast<float>(1.0 / std::sqrt(ss / d + eps));
    float *h = xhat.data() + r * d, *yr = y.data() + r * d;
    for (int64_t j = 0; j < d; ++j) {
      h[j] = static_cast<float>(xr[j] - mu) * invstd[r];
      yr[j] = (weight.defined() ? weight.data()[j] : 1.f) * h[j] + (bias.defined() ? bias.data()[j] : 0.f);
    }
  }
  std::vector<Tensor> inputs{x};
  const bool has_w = weight.defined(), has_b = bias.defined();
  if (has_w) inputs.push_back(weight);
  if (has_b) inputs.push_back(bias);
  return record(y, "layer_norm", std::move(inputs), [=](const Tensor& g, Grads& gr) {
    const float *gp = g.data(), *hp = xhat.data();
    if (gr.needs(0)) {
      Tensor gx = Tensor::empty(x.shape());
      for (int64_t r = 0; r < rows; ++r) {
        const float *gr_ = gp + r * d, *h = hp + r * d;
        double s1 = 0, s2 = 0;
        for (int64_t j = 0; j < d; ++j) {
          const double gh = gr_[j] * (has_w ? weight.data()[j] : 1.f);
          s1 += gh;
          s2 += gh * h[j];
        }
        float* o = gx.data() + r * d;
        for (int64_t j = 0; j < d; ++j) {
          const float gh = gr_[j] * (has_w ? weight.data()[j] : 1.f);
          o[j] = invstd[r] * (gh - static_cast<float>(s1 / d) - h[j] * static_cast<float>(s2 / d));
        }
      }
      gr[0] = gx;
    }
    int slot = 1;
    if (has_w) {
      if (gr.needs(slot)) {
        Tensor gw = Tensor::zeros(weight.shape());
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t j = 0; j < d; ++j) gw.data()[j] += gp[r * d + j] * hp[r * d + j];
        gr[slot] = gw;
      }
      ++slot;
    }
    if (has_b && gr.needs(slot)) {
      Tensor gb = Tensor::zeros(bias.shape());
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < d; ++j) gb.data()[j] += gp[r * d + j];
      gr[slot] = gb;
    }
  });
}

}  // namespace neurona::nn::functional
