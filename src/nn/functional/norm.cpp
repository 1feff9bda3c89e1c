// Normalisation ops. Both compute x̂ = (x − μ)/√(σ² + ε) with the biased variance and write
// y = γ·x̂ + β; their backward is the closed form
//   dx = (1/√(σ²+ε)) · (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)),  dx̂ = dy·γ,
// with the means over the normalised elements (batch statistics only).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "../detail.hpp"
#include "neurona/autograd/node.hpp"
#include "neurona/core/threads.hpp"

namespace neurona::nn::functional {

using autograd::Grads;
using autograd::record;

namespace {

BatchStatsReducer& stats_reducer() {
  static BatchStatsReducer r;
  return r;
}

// batch_norm's kernels. x is [N, C, L] (L = 1 for [N, C], H·W for [N, C, H, W]), seen as
// Around{outer = N, n = C, inner = L}; each kernel handles the channels [c0, c1) and walks the
// rows in memory order, so the pool splits the work by blocks of channels and every channel adds
// its values in the same order whatever the split (results do not depend on the thread count).
// [N, C] has its own loops so they vectorise over channels. The kernels take scalars by value and
// write through plain pointers, so they vectorise when a pool worker calls them too.

// Eight floats and eight doubles as one value (GCC/Clang vector extension): one AVX-512 register
// of doubles, or several narrower ones elsewhere.
typedef float Float8 __attribute__((vector_size(32)));
typedef double Double8 __attribute__((vector_size(64)));

inline Double8 load8(const float* p) {
  Float8 v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_convertvector(v, Double8);
}
inline double lanes_sum(Double8 v) {
  return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

// Σ (v − shift) and Σ (v − shift)² over v[0..n), added into s1, s2 in double: 8 lanes at a time,
// the lanes added in a fixed order at the end.
void shifted_sums(const float* v, int64_t n, double shift, double& s1, double& s2) {
  Double8 l1 = {}, l2 = {};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const Double8 d = load8(v + j) - shift;
    l1 += d;
    l2 += d * d;
  }
  double a1 = lanes_sum(l1), a2 = lanes_sum(l2);
  for (; j < n; ++j) {
    const double d = v[j] - shift;
    a1 += d, a2 += d * d;
  }
  s1 += a1, s2 += a2;
}

// Σ g and Σ g·x̂ over [0..n) with x̂ = (x − mean)·invstd in float (forward's value), added into sg,
// sgh in double, vectorised like shifted_sums.
void grad_dot(const float* g, const float* x, int64_t n, float mean, float invstd, double& sg, double& sgh) {
  Double8 l1 = {}, l2 = {};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    Float8 xv;
    std::memcpy(&xv, x + j, sizeof xv);
    const Double8 h = __builtin_convertvector((xv - mean) * invstd, Double8), gv = load8(g + j);
    l1 += gv;
    l2 += gv * h;
  }
  double a1 = lanes_sum(l1), a2 = lanes_sum(l2);
  for (; j < n; ++j) {
    const float h = (x[j] - mean) * invstd;
    a1 += g[j], a2 += static_cast<double>(g[j]) * h;
  }
  sg += a1, sgh += a2;
}

// s[ch] = mean of the channel, ss[ch] = Σ (x − mean)², both in double. [N, C, L] takes one pass:
// the sums of x − x₀ and (x − x₀)² with x₀ the channel's first value (which keeps the difference
// Σ(x − x₀)² − (Σ(x − x₀))²/m well conditioned).
void channel_moments(const float* x, Around d, int64_t c0, int64_t c1, double* s, double* ss) {
  const int64_t m = d.outer * d.inner;
  for (int64_t ch = c0; ch < c1; ++ch) s[ch] = ss[ch] = 0.0;
  if (d.inner > 1) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      const double shift = x[ch * d.inner];
      double s1 = 0.0, s2 = 0.0;
      for (int64_t i = 0; i < d.outer; ++i)
        shifted_sums(x + (i * d.n + ch) * d.inner, d.inner, shift, s1, s2);
      s[ch] = shift + s1 / m;
      ss[ch] = std::max(0.0, s2 - s1 * s1 / m);
    }
    return;
  }
  for (int64_t i = 0; i < d.outer; ++i) {
    const float* row = x + i * d.n;
    for (int64_t ch = c0; ch < c1; ++ch) s[ch] += row[ch];
  }
  for (int64_t ch = c0; ch < c1; ++ch) s[ch] /= m;
  for (int64_t i = 0; i < d.outer; ++i) {
    const float* row = x + i * d.n;
    for (int64_t ch = c0; ch < c1; ++ch) {
      const double dev = row[ch] - s[ch];
      ss[ch] += dev * dev;
    }
  }
}

// y = γ·x̂ + β with x̂ = (x − mean)·invstd; scale = γ, shift = β (1 and 0 without affine).
void normalize(const float* x, Around d, int64_t c0, int64_t c1, const float* mean, const float* invstd,
               const float* scale, const float* shift, float* y) {
  for (int64_t i = 0; i < d.outer; ++i) {
    const int64_t row = i * d.n * d.inner;
    if (d.inner == 1) {
      for (int64_t ch = c0; ch < c1; ++ch) {
        const float h = (x[row + ch] - mean[ch]) * invstd[ch];
        y[row + ch] = scale[ch] * h + shift[ch];
      }
      continue;
    }
    for (int64_t ch = c0; ch < c1; ++ch)
      for (int64_t j = 0; j < d.inner; ++j) {
        const int64_t k = row + ch * d.inner + j;
        const float h = (x[k] - mean[ch]) * invstd[ch];
        y[k] = scale[ch] * h + shift[ch];
      }
  }
}

// sg[ch] = Σ g, sgh[ch] = Σ g·x̂ in double (x̂ recomputed from x, the same float as forward's).
void grad_sums(const float* g, const float* x, Around d, int64_t c0, int64_t c1, const float* mean,
               const float* invstd, double* sg, double* sgh) {
  for (int64_t ch = c0; ch < c1; ++ch) sg[ch] = sgh[ch] = 0.0;
  for (int64_t i = 0; i < d.outer; ++i) {
    const int64_t row = i * d.n * d.inner;
    if (d.inner == 1) {
      for (int64_t ch = c0; ch < c1; ++ch) {
        const float h = (x[row + ch] - mean[ch]) * invstd[ch];
        sg[ch] += g[row + ch];
        sgh[ch] += static_cast<double>(g[row + ch]) * h;
      }
      continue;
    }
    for (int64_t ch = c0; ch < c1; ++ch)
      grad_dot(g + row + ch * d.inner, x + row + ch * d.inner, d.inner, mean[ch], invstd[ch], sg[ch],
               sgh[ch]);
  }
}

// dx = scale·(g − mg − x̂·mgh) with scale = γ·invstd, mg = mean(g), mgh = mean(g·x̂).
void grad_input(const float* g, const float* x, Around d, int64_t c0, int64_t c1, const float* mean,
                const float* invstd, const float* scale, const float* mg, const float* mgh, float* dx) {
  for (int64_t i = 0; i < d.outer; ++i) {
    const int64_t row = i * d.n * d.inner;
    if (d.inner == 1) {
      for (int64_t ch = c0; ch < c1; ++ch) {
        const float h = (x[row + ch] - mean[ch]) * invstd[ch];
        dx[row + ch] = scale[ch] * (g[row + ch] - mg[ch] - h * mgh[ch]);
      }
      continue;
    }
    for (int64_t ch = c0; ch < c1; ++ch)
      for (int64_t j = 0; j < d.inner; ++j) {
        const int64_t k = row + ch * d.inner + j;
        const float h = (x[k] - mean[ch]) * invstd[ch];
        dx[k] = scale[ch] * (g[k] - mg[ch] - h * mgh[ch]);
      }
  }
}

// With running statistics x̂ is an affine map of x: dx = scale·g.
void grad_input_fixed(const float* g, Around d, int64_t c0, int64_t c1, const float* scale, float* dx) {
  for (int64_t i = 0; i < d.outer; ++i)
    for (int64_t ch = c0; ch < c1; ++ch)
      for (int64_t j = 0; j < d.inner; ++j) {
        const int64_t k = (i * d.n + ch) * d.inner + j;
        dx[k] = scale[ch] * g[k];
      }
}

// Channels per pool chunk: enough values to repay a split.
int64_t channel_grain(Around d) {
  return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(d.outer * d.inner, 1));
}

}  // namespace

void set_batch_stats_reducer(BatchStatsReducer reducer) { stats_reducer() = std::move(reducer); }

Tensor batch_norm(const Tensor& x, Tensor running_mean, Tensor running_var, const Tensor& weight,
                  const Tensor& bias, bool training, const BatchNormOptions& opt,
                  Tensor num_batches_tracked) {
  check(x.dim() >= 2 && x.dim() <= 4, "batch_norm: expected input [N, C], [N, C, L] or [N, C, H, W], got ",
        x.shape());
  const Around d = x.shape().around(1);          // [N, C, L]: outer = N, n = C, inner = L (or H·W)
  const int64_t c = d.n, m = d.outer * d.inner;  // values per channel
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
  // Statistics over every process's batch (sync_batchnorm); M is then the global count.
  const BatchStatsReducer reduce = use_batch && training ? stats_reducer() : BatchStatsReducer();
  const bool sync = static_cast<bool>(reduce);
  if (use_batch && !sync)
    check(m > 1, "batch_norm: expected more than 1 value per channel when training, got input ", x.shape());

  // Per channel: mean, invstd, γ, β (kept for backward).
  std::vector<float> stats(4 * c);
  float *mean = stats.data(), *invstd = mean + c, *scale = invstd + c, *shift = scale + c;
  for (int64_t ch = 0; ch < c; ++ch) {
    scale[ch] = weight.defined() ? weight.data()[ch] : 1.f;
    shift[ch] = bias.defined() ? bias.data()[ch] : 0.f;
  }
  float momentum = opt.momentum;
  if (opt.cumulative && num_batches_tracked.defined()) momentum = 1.f / (num_batches_tracked.data()[0] + 1.f);
  const bool update_running = training && running_mean.defined();
  float* rm = running_mean.defined() ? running_mean.data() : nullptr;
  float* rv = running_var.defined() ? running_var.data() : nullptr;
  std::vector<double> moments(use_batch ? 2 * c : 0);
  const float* xp = x.data();
  Tensor y = Tensor::empty(x.shape());
  float* yp = y.data();
  double M = static_cast<double>(m);  // values per channel over the processes
  if (sync) {
    // This process's moments; then the global mean from Σ m·μ_r, and Σ (x − μ)² from each
    // process's own spread plus m·(μ_r − μ)², which stays well conditioned.
    parallel_for(0, c, channel_grain(d), [&](int64_t c0, int64_t c1) {
      channel_moments(xp, d, c0, c1, moments.data(), moments.data() + c);
    });
    std::vector<double> buf(static_cast<size_t>(c) + 1);
    for (int64_t ch = 0; ch < c; ++ch) buf[ch] = m * moments[ch];
    buf[c] = static_cast<double>(m);
    reduce(buf.data(), c + 1);
    M = buf[c];
    check(M > 1, "batch_norm: expected more than 1 value per channel over the processes, got ", M);
    for (int64_t ch = 0; ch < c; ++ch) {
      const double mu = buf[ch] / M, dev = moments[ch] - mu;
      buf[ch] = moments[c + ch] + m * dev * dev;
      moments[ch] = mu;
    }
    reduce(buf.data(), c);
    for (int64_t ch = 0; ch < c; ++ch) moments[c + ch] = buf[ch];
  }
  parallel_for(0, c, channel_grain(d), [&](int64_t c0, int64_t c1) {
    if (use_batch) {
      double *s = moments.data(), *ss = s + c;
      if (!sync) channel_moments(xp, d, c0, c1, s, ss);
      for (int64_t ch = c0; ch < c1; ++ch) {
        const double mu = s[ch], var = ss[ch] / M;
        mean[ch] = static_cast<float>(mu);
        invstd[ch] = static_cast<float>(1.0 / std::sqrt(var + opt.eps));
        if (update_running) {
          const double fed_var = opt.unbiased_running_var ? ss[ch] / (M - 1) : var;
          rm[ch] = (1.f - momentum) * rm[ch] + momentum * static_cast<float>(mu);
          rv[ch] = (1.f - momentum) * rv[ch] + momentum * static_cast<float>(fed_var);
        }
      }
    } else {
      for (int64_t ch = c0; ch < c1; ++ch) {
        mean[ch] = rm[ch];
        invstd[ch] = 1.f / std::sqrt(rv[ch] + opt.eps);
      }
    }
    normalize(xp, d, c0, c1, mean, invstd, scale, shift, yp);
  });
  if (training && running_mean.defined() && num_batches_tracked.defined())
    num_batches_tracked.data()[0] += 1.f;

  std::vector<Tensor> inputs{x};
  const bool has_w = weight.defined(), has_b = bias.defined();
  if (has_w) inputs.push_back(weight);
  if (has_b) inputs.push_back(bias);
  return record(y, "batch_norm", std::move(inputs),
                [=, stats = std::move(stats)](const Tensor& g, Grads& gr) {
                  const float *gp = g.data(), *xp = x.data();
                  const float *mean = stats.data(), *invstd = mean + c, *gamma = invstd + c;
                  // sg, sgh, then the per-channel factors of dx: γ·invstd, mean(g), mean(g·x̂).
                  std::vector<double> sums(2 * c);
                  std::vector<float> factors(3 * c);
                  Tensor gx = gr.needs(0) ? Tensor::empty(x.shape()) : Tensor();
                  // Synchronised: dx needs the means of g and g·x̂ over every process's values; γ
                  // and β keep this process's sums.
                  std::vector<double> global;
                  if (sync && gx.defined()) {
                    parallel_for(0, c, channel_grain(d), [&](int64_t c0, int64_t c1) {
                      grad_sums(gp, xp, d, c0, c1, mean, invstd, sums.data(), sums.data() + c);
                    });
                    global = sums;
                    reduce(global.data(), 2 * c);
                  }
                  parallel_for(0, c, channel_grain(d), [&](int64_t c0, int64_t c1) {
                    double *sg = sums.data(), *sgh = sg + c;
                    if (!sync || !gx.defined()) grad_sums(gp, xp, d, c0, c1, mean, invstd, sg, sgh);
                    if (!gx.defined()) return;
                    if (sync) sg = global.data(), sgh = sg + c;
                    float *k_scale = factors.data(), *mg = k_scale + c, *mgh = mg + c;
                    for (int64_t ch = c0; ch < c1; ++ch) {
                      k_scale[ch] = gamma[ch] * invstd[ch];
                      mg[ch] = static_cast<float>(sg[ch] / M);
                      mgh[ch] = static_cast<float>(sgh[ch] / M);
                    }
                    if (use_batch)
                      grad_input(gp, xp, d, c0, c1, mean, invstd, k_scale, mg, mgh, gx.data());
                    else
                      grad_input_fixed(gp, d, c0, c1, k_scale, gx.data());
                  });
                  if (gx.defined()) gr[0] = gx;
                  int slot = 1;
                  if (has_w) {
                    if (gr.needs(slot)) {
                      Tensor gw = Tensor::empty(weight.shape());
                      for (int64_t ch = 0; ch < c; ++ch) gw.data()[ch] = static_cast<float>(sums[c + ch]);
                      gr[slot] = gw;
                    }
                    ++slot;
                  }
                  if (has_b && gr.needs(slot)) {
                    Tensor gb = Tensor::empty(bias.shape());
                    for (int64_t ch = 0; ch < c; ++ch) gb.data()[ch] = static_cast<float>(sums[ch]);
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
