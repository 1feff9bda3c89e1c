// Losses. Each is one op: the forward writes per-element losses and reduces them, the backward
// writes the closed-form derivative (softmax − target for cross-entropy) scaled by the reduction.
#include <cmath>
#include <limits>

#include "../detail.hpp"
#include "core/map.hpp"
#include "neurona/autograd/node.hpp"

namespace neurona::nn {

Reduction reduction_from_name(const std::string& name) {
  if (name == "mean") return Reduction::Mean;
  if (name == "sum") return Reduction::Sum;
  if (name == "none") return Reduction::None;
  fail("reduction '", name, "' is not one of mean, sum, none");
}

namespace detail {

int64_t class_index(float v, const char* op) {
  check(std::isfinite(v) && v == std::floor(v), op, ": class target ", v, " is not a whole number");
  return static_cast<int64_t>(v);
}

}  // namespace detail

namespace functional {

using autograd::Grads;
using autograd::record;

namespace {

// Reduces per-element losses `l` (double precision sum) and records a backward that scales the
// local derivatives dl/dx (and dl/dy when `target_grad`) by the reduction's factor.
// loss(i) and dloss(i) read the captured inputs by flat index.
template <class L, class D>
Tensor elementwise_loss(const char* name, const Tensor& x, const Tensor& y, Reduction r, bool target_grad,
                        autograd::Inputs keep, L loss, D dloss) {
  check(x.shape() == y.shape(), name, ": input ", x.shape(), " and target ", y.shape(),
        " must have the same shape");
  const int64_t n = x.numel();
  double total = 0;
  Tensor out;
  if (r == Reduction::None) {
    out = Tensor::empty(x.shape());
    float* per = out.data();
    for (int64_t i = 0; i < n; ++i) per[i] = static_cast<float>(loss(i));
  } else {
    for (int64_t i = 0; i < n; ++i) total += loss(i);
    out = Tensor::scalar(static_cast<float>(r == Reduction::Sum ? total : total / static_cast<double>(n)));
  }
  autograd::Inputs inputs{x};
  if (target_grad) inputs.push_back(y);
  return record(out, name, std::move(inputs), [=](const Tensor& g, Grads& gr) {
    (void)keep;  // keeps the tensors that loss/dloss read through raw pointers alive
    Tensor gx = Tensor::empty(gr.input(0).shape());
    const float scale =
        r == Reduction::None ? 1.f : (r == Reduction::Sum ? g.item() : g.item() / static_cast<float>(n));
    const float* gp = r == Reduction::None ? g.data() : nullptr;
    float* gxp = gx.data();
    for (int64_t i = 0; i < n; ++i) gxp[i] = dloss(i) * (gp ? gp[i] : scale);
    if (target_grad && gr.needs(1)) gr[1] = neg(gx);
    if (gr.needs(0)) gr[0] = std::move(gx);
  });
}

// Expands `w` to `like`'s shape by broadcasting (error naming `op` when impossible).
Tensor expand_to(const Tensor& w, const Tensor& like, const char* op, const char* what) {
  Tensor out = map_binary(w, like, op, [](float a, float) { return a; });
  check(out.shape() == like.shape(), op, ": ", what, " ", w.shape(), " does not broadcast to input ",
        like.shape());
  return out;
}

}  // namespace

Tensor mse_loss(const Tensor& x, const Tensor& y, Reduction r) {
  const float *a = x.data(), *b = y.data();
  return elementwise_loss(
      "mse_loss", x, y, r, true, {x, y},
      [=](int64_t i) {
        double d = a[i] - b[i];
        return d * d;
      },
      [=](int64_t i) { return 2.f * (a[i] - b[i]); });
}

Tensor l1_loss(const Tensor& x, const Tensor& y, Reduction r) {
  const float *a = x.data(), *b = y.data();
  return elementwise_loss(
      "l1_loss", x, y, r, true, {x, y}, [=](int64_t i) { return std::abs(static_cast<double>(a[i]) - b[i]); },
      [=](int64_t i) {
        float d = a[i] - b[i];
        return d > 0.f ? 1.f : (d < 0.f ? -1.f : 0.f);
      });
}

Tensor huber_loss(const Tensor& x, const Tensor& y, Reduction r, float delta) {
  check(delta > 0.f, "huber_loss: delta must be positive, got ", delta);
  const float *a = x.data(), *b = y.data();
  return elementwise_loss(
      "huber_loss", x, y, r, true, {x, y},
      [=](int64_t i) {
        const double d = std::abs(static_cast<double>(a[i]) - b[i]);
        return d < delta ? 0.5 * d * d : delta * (d - 0.5 * delta);
      },
      [=](int64_t i) {
        const float d = a[i] - b[i];
        return std::abs(d) < delta ? d : (d > 0.f ? delta : -delta);
      });
}

Tensor smooth_l1_loss(const Tensor& x, const Tensor& y, Reduction r, float beta) {
  check(beta >= 0.f, "smooth_l1_loss: beta must be non-negative, got ", beta);
  const float *a = x.data(), *b = y.data();
  return elementwise_loss(
      "smooth_l1_loss", x, y, r, true, {x, y},
      [=](int64_t i) {
        const double d = std::abs(static_cast<double>(a[i]) - b[i]);
        return d < beta ? 0.5 * d * d / beta : d - 0.5 * beta;
      },
      [=](int64_t i) {
        const float d = a[i] - b[i];
        if (std::abs(d) < beta) return d / beta;
        return d > 0.f ? 1.f : (d < 0.f ? -1.f : 0.f);
      });
}

Tensor binary_cross_entropy(const Tensor& x, const Tensor& y, Reduction r, const Tensor& weight) {
  check(x.shape() == y.shape(), "binary_cross_entropy: input ", x.shape(), " and target ", y.shape(),
        " must have the same shape");
  for (int64_t i = 0; i < x.numel(); ++i)
    check(x.data()[i] >= 0.f && x.data()[i] <= 1.f,
          "binary_cross_entropy: input must hold probabilities in [0, 1], found ", x.data()[i],
          " at element ", i, " (use binary_cross_entropy_with_logits for logits)");
  Tensor w = weight.defined() ? expand_to(weight, x, "binary_cross_entropy", "weight") : Tensor();
  const float *p = x.data(), *t = y.data(), *wp = w.defined() ? w.data() : nullptr;
  return elementwise_loss(
      "binary_cross_entropy", x, y, r, false, {x, y, w},
      [=](int64_t i) {
        const double lp = std::max(std::log(static_cast<double>(p[i])), -100.0);
        const double lq = std::max(std::log1p(-static_cast<double>(p[i])), -100.0);
        return -(wp ? wp[i] : 1.f) * (t[i] * lp + (1.0 - t[i]) * lq);
      },
      [=](int64_t i) {
        // PyTorch's form: w (x − y) / max(x (1 − x), 1e-12)
        const float denom = std::max((1.f - p[i]) * p[i], 1e-12f);
        return (wp ? wp[i] : 1.f) * (p[i] - t[i]) / denom;
      });
}

Tensor binary_cross_entropy_with_logits(const Tensor& x, const Tensor& y, Reduction r, const Tensor& weight,
                                        const Tensor& pos_weight) {
  Tensor w = weight.defined() ? expand_to(weight, x, "binary_cross_entropy_with_logits", "weight") : Tensor();
  Tensor pw = pos_weight.defined()
                  ? expand_to(pos_weight, x, "binary_cross_entropy_with_logits", "pos_weight")
                  : Tensor();
  const float *z = x.data(), *t = y.data();
  const float *wp = w.defined() ? w.data() : nullptr, *pp = pw.defined() ? pw.data() : nullptr;
  return elementwise_loss(
      "binary_cross_entropy_with_logits", x, y, r, false, {x, y, w, pw},
      [=](int64_t i) {
        // (1−y)x + (1+(p−1)y)(log(1+e^{−|x|}) + max(−x, 0))
        const double zi = z[i], ti = t[i], pi = pp ? pp[i] : 1.0;
        const double sp = std::log1p(std::exp(-std::abs(zi))) + std::max(-zi, 0.0);
        return (wp ? wp[i] : 1.0) * ((1.0 - ti) * zi + (1.0 + (pi - 1.0) * ti) * sp);
      },
      [=](int64_t i) {
        const float zi = z[i], ti = t[i], pi = pp ? pp[i] : 1.f;
        const float sig_neg = 1.f / (1.f + std::exp(zi));  // σ(−x)
        return (wp ? wp[i] : 1.f) * ((1.f - ti) - (1.f + (pi - 1.f) * ti) * sig_neg);
      });
}

namespace {

// [N, C] or [C] seen as `outer` rows of `n` classes.
Around logits_rows(const Tensor& x, const char* op) {
  check(x.dim() == 1 || x.dim() == 2, op, ": expected input [N, C] or [C], got ", x.shape());
  return x.shape().around(-1);
}

// Per-row class index (or ignore_index) from a float target tensor.
std::vector<int64_t> class_targets(const Tensor& target, Around rows, int64_t ignore_index, const char* op,
                                   const Shape& input_shape) {
  check(target.numel() == rows.outer && target.dim() <= 1, op, ": class-index target ", target.shape(),
        " does not match input ", input_shape, " (expected [", rows.outer,
        "] or a target of the input's shape)");
  std::vector<int64_t> out(rows.outer);
  for (int64_t i = 0; i < rows.outer; ++i) {
    out[i] = detail::class_index(target.data()[i], op);
    check(out[i] == ignore_index || (out[i] >= 0 && out[i] < rows.n), op, ": target ", out[i],
          " is out of range for ", rows.n, " classes (sample ", i, ")");
  }
  return out;
}

std::vector<float> class_weights(const Tensor& w, int64_t c, const char* op) {
  if (!w.defined()) return std::vector<float>(c, 1.f);
  check(w.dim() == 1 && w.size(0) == c, op, ": weight ", w.shape(), " must have one value per class (", c,
        ")");
  return w.to_vector();
}

// Finishes a per-row loss: shape [N] (or [] for a 1-D input) for None, else a scalar.
Tensor reduce_rows(const std::vector<double>& per, double divisor, Reduction r, bool one_row) {
  if (r == Reduction::None) {
    std::vector<float> v(per.begin(), per.end());
    return one_row ? Tensor::scalar(v[0]) : Tensor::from(v, Shape{static_cast<int64_t>(v.size())});
  }
  double s = 0;
  for (double v : per) s += v;
  return Tensor::scalar(static_cast<float>(r == Reduction::Sum ? s : s / divisor));
}

// Multiplies each row of the per-row gradient `gl` [N, C] by the incoming gradient.
void scale_rows(Tensor& gx, const Tensor& g, Reduction r, double divisor, Around rows) {
  float* o = gx.data();
  for (int64_t i = 0; i < rows.outer; ++i) {
    float s;
    if (r == Reduction::None)
      s = g.data()[g.numel() == 1 ? 0 : i];
    else if (r == Reduction::Sum)
      s = g.item();
    else
      s = static_cast<float>(g.item() / divisor);
    for (int64_t k = 0; k < rows.n; ++k) o[i * rows.n + k] *= s;
  }
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& o) {
  const char* op = "cross_entropy";
  const Around rows = logits_rows(logits, op);
  const int64_t n = rows.outer, c = rows.n;
  check(o.label_smoothing >= 0.f && o.label_smoothing <= 1.f, op, ": label_smoothing ", o.label_smoothing,
        " is not in [0, 1]");
  const std::vector<float> w = class_weights(o.weight, c, op);
  const double eps = o.label_smoothing;
  const bool soft = target.shape() == logits.shape() && !(logits.dim() == 1 && target.numel() == 1);

  // Softmax probabilities and log-probabilities per row.
  std::vector<float> prob(n * c);
  std::vector<double> logp(n * c);
  const float* x = logits.data();
  for (int64_t i = 0; i < n; ++i) {
    float m = -INFINITY;
    for (int64_t k = 0; k < c; ++k) m = std::max(m, x[i * c + k]);
    double s = 0;
    for (int64_t k = 0; k < c; ++k) s += std::exp(static_cast<double>(x[i * c + k]) - m);
    const double lse = m + std::log(s);
    for (int64_t k = 0; k < c; ++k) {
      logp[i * c + k] = x[i * c + k] - lse;
      prob[i * c + k] = static_cast<float>(std::exp(logp[i * c + k]));
    }
  }

  std::vector<double> per(n, 0.0);
  Tensor grad_rows = Tensor::empty({n, c});  // d l_n / d x_n before the reduction factor
  float* gl = grad_rows.data();
  double divisor = 0;
  if (soft) {
    const float* t = target.data();
    for (int64_t i = 0; i < n; ++i) {
      double s = 0;  // Σ_k w_k t'_k
      for (int64_t k = 0; k < c; ++k) {
        const double tk = (1.0 - eps) * t[i * c + k] + eps / c;
        per[i] -= w[k] * tk * logp[i * c + k];
        s += w[k] * tk;
      }
      for (int64_t k = 0; k < c; ++k) {
        const double tk = (1.0 - eps) * t[i * c + k] + eps / c;
        gl[i * c + k] = static_cast<float>(prob[i * c + k] * s - w[k] * tk);
      }
    }
    divisor = static_cast<double>(n);
  } else {
    const std::vector<int64_t> y = class_targets(target, rows, o.ignore_index, op, logits.shape());
    double wsum = 0;
    for (float v : w) wsum += v;
    for (int64_t i = 0; i < n; ++i) {
      if (y[i] == o.ignore_index) {
        for (int64_t k = 0; k < c; ++k) gl[i * c + k] = 0.f;
        continue;
      }
      const double wy = w[y[i]];
      double smooth = 0;
      for (int64_t k = 0; k < c; ++k) smooth -= w[k] * logp[i * c + k];
      per[i] = (1.0 - eps) * (-wy * logp[i * c + y[i]]) + eps / c * smooth;
      const double a = (1.0 - eps) * wy + eps / c * wsum;
      for (int64_t k = 0; k < c; ++k)
        gl[i * c + k] =
            static_cast<float>(prob[i * c + k] * a - eps / c * w[k] - (k == y[i] ? (1.0 - eps) * wy : 0.0));
      divisor += wy;
    }
  }
  Tensor out = reduce_rows(per, divisor, o.reduction, logits.dim() == 1);
  const Reduction r = o.reduction;
  return record(out, "cross_entropy", {logits}, [=](const Tensor& g, Grads& gr) {
    Tensor gx = grad_rows.clone();
    scale_rows(gx, g, r, divisor, rows);
    gr[0] = gx.reshape(logits.shape());
  });
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const CrossEntropyOptions& o) {
  const char* op = "nll_loss";
  const Around rows = logits_rows(log_probs, op);
  const std::vector<float> w = class_weights(o.weight, rows.n, op);
  const std::vector<int64_t> y = class_targets(target, rows, o.ignore_index, op, log_probs.shape());
  std::vector<double> per(rows.outer, 0.0);
  Tensor grad_rows = Tensor::zeros({rows.outer, rows.n});
  double divisor = 0;
  for (int64_t i = 0; i < rows.outer; ++i) {
    if (y[i] == o.ignore_index) continue;
    per[i] = -static_cast<double>(w[y[i]]) * log_probs.data()[i * rows.n + y[i]];
    grad_rows.data()[i * rows.n + y[i]] = -w[y[i]];
    divisor += w[y[i]];
  }
  Tensor out = reduce_rows(per, divisor, o.reduction, log_probs.dim() == 1);
  const Reduction r = o.reduction;
  return record(out, "nll_loss", {log_probs}, [=](const Tensor& g, Grads& gr) {
    Tensor gx = grad_rows.clone();
    scale_rows(gx, g, r, divisor, rows);
    gr[0] = gx.reshape(log_probs.shape());
  });
}

}  // namespace functional
}  // namespace neurona::nn
