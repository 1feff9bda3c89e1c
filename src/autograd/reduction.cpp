// Reductions over all elements or one dimension, each forward beside its backward.
#include <cmath>
#include <limits>

#include "core/map.hpp"
#include "neurona/autograd/node.hpp"

namespace neurona {

using autograd::Grads;
using autograd::record;

namespace {

// Shape of a reduction over `dim`: the dimension removed, or kept as 1.
Shape reduced_shape(const Shape& s, int64_t dim, bool keepdim) {
  std::vector<int64_t> dims = s.dims();
  if (keepdim)
    dims[dim] = 1;
  else
    dims.erase(dims.begin() + dim);
  return Shape(std::move(dims));
}

// Broadcasts a reduced gradient (keepdim or not) back over `dim` of `full`.
Tensor expand_over(const Tensor& g, const Shape& full, int64_t dim) {
  Tensor gk = g.reshape(reduced_shape(full, dim, true));
  return map_binary(gk, Tensor::zeros(full), "reduction_backward", [](float x, float) { return x; });
}

// Index of the first maximum (or minimum) along `dim` for each [outer, inner] position.
std::vector<int64_t> arg_extreme(const Tensor& a, int64_t dim, bool want_max) {
  const Around ar = a.shape().around(dim);
  check(ar.n > 0, want_max ? "max" : "min", ": cannot reduce an empty dimension of shape ", a.shape());
  std::vector<int64_t> idx(static_cast<size_t>(ar.outer * ar.inner), 0);
  const float* x = a.data();
  for (int64_t o = 0; o < ar.outer; ++o)
    for (int64_t i = 0; i < ar.inner; ++i) {
      const float* p = x + o * ar.n * ar.inner + i;
      int64_t best = 0;
      float bv = p[0];
      for (int64_t k = 1; k < ar.n && !std::isnan(bv); ++k) {
        const float v = p[k * ar.inner];
        if (std::isnan(v) || (want_max ? v > bv : v < bv)) {
          bv = v;
          best = k;
        }
      }
      idx[o * ar.inner + i] = best;
    }
  return idx;
}

Tensor extreme_dim(const Tensor& a, int64_t dim_in, bool keepdim, bool want_max) {
  const char* op = want_max ? "max" : "min";
  const int64_t dim = a.shape().normalize(dim_in, op);
  const Around ar = a.shape().around(dim);
  auto idx = arg_extreme(a, dim, want_max);
  Tensor out = Tensor::empty(reduced_shape(a.shape(), dim, keepdim));
  for (int64_t o = 0; o < ar.outer; ++o)
    for (int64_t i = 0; i < ar.inner; ++i)
      out.data()[o * ar.inner + i] = a.data()[(o * ar.n + idx[o * ar.inner + i]) * ar.inner + i];
  return record(out, op, {a}, [idx = std::move(idx), ar, full = a.shape()](const Tensor& g, Grads& gr) {
    Tensor ga = Tensor::zeros(full);
    for (int64_t o = 0; o < ar.outer; ++o)
      for (int64_t i = 0; i < ar.inner; ++i)
        ga.data()[(o * ar.n + idx[o * ar.inner + i]) * ar.inner + i] = g.data()[o * ar.inner + i];
    gr[0] = ga;
  });
}

Tensor extreme_all(const Tensor& a, bool want_max) {
  return extreme_dim(a.reshape(Shape{a.numel()}), 0, false, want_max);
}

}  // namespace

Tensor sum_to(const Tensor& a, const Shape& shape) {
  if (a.shape() == shape) return a;
  const Shape& as = a.shape();
  const int64_t r = as.rank();
  check(shape.rank() <= r, "sum_to: cannot reduce shape ", as, " to ", shape);
  // Strides into the target, 0 along the dimensions being summed away.
  std::vector<int64_t> st(static_cast<size_t>(r), 0);
  const auto ts = shape.strides();
  for (int64_t d = 0; d < r; ++d) {
    const int64_t td = d - (r - shape.rank());
    if (td < 0) continue;
    const int64_t n = shape.dims()[td];
    check(n == as.dims()[d] || n == 1, "sum_to: cannot reduce shape ", as, " to ", shape);
    if (n != 1) st[d] = ts[td];
  }
  Tensor out = Tensor::zeros(shape);
  if (a.numel() == 0) return out;
  const float* x = a.data();
  float* y = out.data();
  const int64_t inner = as.dims()[r - 1];
  const int64_t rows = a.numel() / inner;
  const int64_t step = st[r - 1];
  for (int64_t row = 0; row < rows; ++row) {
    int64_t rem = row, off = 0;
    for (int64_t d = r - 2; d >= 0; --d) {
      off += (rem % as.dims()[d]) * st[d];
      rem /= as.dims()[d];
    }
    const float* xr = x + row * inner;
    if (step == 0) {
      float s = 0.f;
      for (int64_t j = 0; j < inner; ++j) s += xr[j];
      y[off] += s;
    } else {
      for (int64_t j = 0; j < inner; ++j) y[off + j] += xr[j];
    }
  }
  return out;
}

Tensor sum(const Tensor& a) {
  double s = 0.0;
  const float* x = a.data();
  for (int64_t i = 0, n = a.numel(); i < n; ++i) s += x[i];
  Tensor out = Tensor::scalar(static_cast<float>(s));
  return record(out, "sum", {a},
                [full = a.shape()](const Tensor& g, Grads& gr) { gr[0] = Tensor::full(full, g.item()); });
}

Tensor sum(const Tensor& a, int64_t dim_in, bool keepdim) {
  const int64_t dim = a.shape().normalize(dim_in, "sum");
  const Around ar = a.shape().around(dim);
  Tensor out = Tensor::zeros(reduced_shape(a.shape(), dim, keepdim));
  const float* x = a.data();
  float* y = out.data();
  for (int64_t o = 0; o < ar.outer; ++o)
    for (int64_t k = 0; k < ar.n; ++k) {
      const float* xr = x + (o * ar.n + k) * ar.inner;
      float* yr = y + o * ar.inner;
      for (int64_t i = 0; i < ar.inner; ++i) yr[i] += xr[i];
    }
  return record(out, "sum_dim", {a},
                [full = a.shape(), dim](const Tensor& g, Grads& gr) { gr[0] = expand_over(g, full, dim); });
}

Tensor mean(const Tensor& a) {
  check(a.numel() > 0, "mean: tensor of shape ", a.shape(), " is empty");
  return mul(sum(a), 1.0f / static_cast<float>(a.numel()));
}

Tensor mean(const Tensor& a, int64_t dim, bool keepdim) {
  const int64_t d = a.shape().normalize(dim, "mean");
  check(a.shape()[d] > 0, "mean: dimension ", d, " of shape ", a.shape(), " is empty");
  return mul(sum(a, d, keepdim), 1.0f / static_cast<float>(a.shape()[d]));
}

Tensor max(const Tensor& a) { return extreme_all(a, true); }
Tensor max(const Tensor& a, int64_t dim, bool keepdim) { return extreme_dim(a, dim, keepdim, true); }
Tensor min(const Tensor& a) { return extreme_all(a, false); }
Tensor min(const Tensor& a, int64_t dim, bool keepdim) { return extreme_dim(a, dim, keepdim, false); }

Tensor argmax(const Tensor& a) {
  check(a.numel() > 0, "argmax: tensor of shape ", a.shape(), " is empty");
  auto idx = arg_extreme(a.reshape(Shape{a.numel()}), 0, true);
  return Tensor::scalar(static_cast<float>(idx[0]));
}

Tensor argmax(const Tensor& a, int64_t dim_in, bool keepdim) {
  const int64_t dim = a.shape().normalize(dim_in, "argmax");
  auto idx = arg_extreme(a, dim, true);
  Tensor out = Tensor::empty(reduced_shape(a.shape(), dim, keepdim));
  for (size_t i = 0; i < idx.size(); ++i) out.data()[i] = static_cast<float>(idx[i]);
  return out;
}

}  // namespace neurona
