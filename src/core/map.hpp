#pragma once
// Elementwise map kernels: apply a function to every element (unary) or to broadcast pairs
// (binary), producing a new tensor. Large maps are split across the thread pool.
#include "neurona/core/error.hpp"
#include "neurona/core/tensor.hpp"
#include "neurona/core/threads.hpp"

namespace neurona {

template <class F>
Tensor map_unary(const Tensor& a, F f) {
  Tensor out = Tensor::empty(a.shape());
  const float* x = a.data();
  float* y = out.data();
  parallel_for(0, a.numel(), kParallelGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) y[i] = f(x[i]);
  });
  return out;
}

// Writes f(a, b) over the broadcast of a and b's shapes into `out` (already of that shape).
template <class F>
void map_binary_into(const Tensor& a, const Tensor& b, Tensor& out, F f) {
  const float* x = a.data();
  const float* y = b.data();
  float* z = out.data();
  const int64_t n = out.numel();
  if (a.shape() == b.shape()) {
    parallel_for(0, n, kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) z[i] = f(x[i], y[i]);
    });
    return;
  }
  if (b.numel() == 1) {
    const float s = y[0];
    parallel_for(0, n, kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) z[i] = f(x[i], s);
    });
    return;
  }
  if (a.numel() == 1) {
    const float s = x[0];
    parallel_for(0, n, kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) z[i] = f(s, y[i]);
    });
    return;
  }
  // General case: walk the output row by row (last dimension), with each input's strides set to
  // 0 along the dimensions it is broadcast over.
  const Shape& os = out.shape();
  const int64_t r = os.rank();
  std::vector<int64_t> sa(r, 0), sb(r, 0);
  {
    const auto as = a.shape().strides(), bs = b.shape().strides();
    for (int64_t d = 0; d < r; ++d) {
      const int64_t da = d - (r - a.dim()), db = d - (r - b.dim());
      if (da >= 0 && a.shape().dims()[da] != 1) sa[d] = as[da];
      if (db >= 0 && b.shape().dims()[db] != 1) sb[d] = bs[db];
    }
  }
  const int64_t inner = os.dims()[r - 1];
  const int64_t rows = inner == 0 ? 0 : n / inner;
  const int64_t ia = sa[r - 1], ib = sb[r - 1];
  parallel_for(0, rows, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(inner, 1)),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t row = lo; row < hi; ++row) {
                   int64_t rem = row, offa = 0, offb = 0;
                   for (int64_t d = r - 2; d >= 0; --d) {
                     const int64_t idx = rem % os.dims()[d];
                     rem /= os.dims()[d];
                     offa += idx * sa[d];
                     offb += idx * sb[d];
                   }
                   float* zr = z + row * inner;
                   const float* xr = x + offa;
                   const float* yr = y + offb;
                   for (int64_t j = 0; j < inner; ++j) zr[j] = f(xr[j * ia], yr[j * ib]);
                 }
               });
}

template <class F>
Tensor map_binary(const Tensor& a, const Tensor& b, const char* op, F f) {
  Tensor out = Tensor::empty(broadcast_shapes(a.shape(), b.shape(), op));
  if (out.numel() > 0) map_binary_into(a, b, out, f);
  return out;
}

}  // namespace neurona
