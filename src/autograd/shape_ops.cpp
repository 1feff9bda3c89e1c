// Shape ops: views (reshape, flatten, slice) share storage; transpose, permute, index_select,
// cat and clone copy. Each forward sits beside its backward.
#include <cstring>

#include "neurona/autograd/node.hpp"
#include "neurona/core/error.hpp"

namespace neurona {

using autograd::Grads;
using autograd::record;

namespace {

Tensor share_storage(const Tensor& src, const Shape& shape, int64_t extra_offset) {
  auto impl = make_tensor_impl();
  impl->shape = shape;
  impl->storage = src.impl()->storage;
  impl->offset = src.impl()->offset + extra_offset;
  return Tensor(std::move(impl));
}

}  // namespace

Tensor Tensor::reshape(const Shape& shape_in) const {
  std::vector<int64_t> dims = shape_in.dims();
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1) {
      check(infer < 0, "reshape: more than one -1 in ", shape_in);
      infer = static_cast<int64_t>(i);
    } else {
      check(dims[i] >= 0, "reshape: negative dimension in ", shape_in);
      known *= dims[i];
    }
  }
  if (infer >= 0) {
    check(known > 0 && numel() % known == 0, "reshape: cannot reshape ", shape(), " into ", shape_in);
    dims[infer] = numel() / known;
  }
  const Shape target(std::move(dims));
  check(target.numel() == numel(), "reshape: cannot reshape ", shape(), " (", numel(), " elements) into ",
        target, " (", target.numel(), " elements)");
  Tensor out = share_storage(*this, target, 0);
  return record(out, "reshape", {*this},
                [from = shape()](const Tensor& g, Grads& gr) { gr[0] = g.reshape(from); });
}

Tensor Tensor::flatten(int64_t start_dim) const {
  const Shape& s = shape();
  if (s.rank() == 0) return reshape(Shape{1});
  const int64_t start = s.normalize(start_dim, "flatten");
  std::vector<int64_t> dims(s.dims().begin(), s.dims().begin() + start);
  int64_t rest = 1;
  for (int64_t d = start; d < s.rank(); ++d) rest *= s.dims()[d];
  dims.push_back(rest);
  return reshape(Shape(std::move(dims)));
}

Tensor Tensor::permute(const std::vector<int64_t>& order_in) const {
  const Shape& s = shape();
  const int64_t r = s.rank();
  check(static_cast<int64_t>(order_in.size()) == r, "permute: ", order_in.size(),
        " dimensions given for shape ", s);
  std::vector<int64_t> order(order_in.size());
  std::vector<bool> used(static_cast<size_t>(r), false);
  for (int64_t i = 0; i < r; ++i) {
    order[i] = s.normalize(order_in[i], "permute");
    check(!used[order[i]], "permute: dimension ", order[i], " repeated");
    used[order[i]] = true;
  }
  std::vector<int64_t> out_dims(static_cast<size_t>(r));
  for (int64_t i = 0; i < r; ++i) out_dims[i] = s.dims()[order[i]];
  Tensor out = Tensor::empty(Shape(out_dims));
  const auto in_strides = s.strides();
  const float* x = data();
  float* y = out.data();
  std::vector<int64_t> idx(static_cast<size_t>(r), 0);
  for (int64_t flat = 0, n = numel(); flat < n; ++flat) {
    int64_t off = 0;
    for (int64_t i = 0; i < r; ++i) off += idx[i] * in_strides[order[i]];
    y[flat] = x[off];
    for (int64_t i = r - 1; i >= 0; --i) {
      if (++idx[i] < out_dims[i]) break;
      idx[i] = 0;
    }
  }
  std::vector<int64_t> inverse(static_cast<size_t>(r));
  for (int64_t i = 0; i < r; ++i) inverse[order[i]] = i;
  return record(out, "permute", {*this},
                [inverse](const Tensor& g, Grads& gr) { gr[0] = g.permute(inverse); });
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  const Shape& s = shape();
  std::vector<int64_t> order(static_cast<size_t>(s.rank()));
  for (int64_t i = 0; i < s.rank(); ++i) order[i] = i;
  std::swap(order[s.normalize(d0, "transpose")], order[s.normalize(d1, "transpose")]);
  return permute(order);
}

Tensor Tensor::slice(int64_t start, int64_t end) const {
  check(dim() >= 1, "slice: tensor of shape ", shape(), " has no dimension 0");
  const int64_t n = size(0);
  check(0 <= start && start <= end && end <= n, "slice: rows [", start, ", ", end,
        ") out of range for shape ", shape());
  std::vector<int64_t> dims = shape().dims();
  dims[0] = end - start;
  const int64_t row = n == 0 ? 0 : numel() / n;
  Tensor out = share_storage(*this, Shape(dims), start * row);
  return record(out, "slice", {*this}, [full = shape(), start, row](const Tensor& g, Grads& gr) {
    Tensor ga = Tensor::zeros(full);
    std::memcpy(ga.data() + start * row, g.data(), static_cast<size_t>(g.numel()) * sizeof(float));
    gr[0] = ga;
  });
}

Tensor Tensor::index_select(const std::vector<int64_t>& rows) const {
  check(dim() >= 1, "index_select: tensor of shape ", shape(), " has no dimension 0");
  const int64_t n = size(0);
  const int64_t row = n == 0 ? 0 : numel() / n;
  std::vector<int64_t> dims = shape().dims();
  dims[0] = static_cast<int64_t>(rows.size());
  Tensor out = Tensor::empty(Shape(dims));
  for (size_t i = 0; i < rows.size(); ++i) {
    check(rows[i] >= 0 && rows[i] < n, "index_select: row ", rows[i], " out of range for shape ", shape());
    std::memcpy(out.data() + i * row, data() + rows[i] * row, static_cast<size_t>(row) * sizeof(float));
  }
  return record(out, "index_select", {*this}, [full = shape(), rows, row](const Tensor& g, Grads& gr) {
    Tensor ga = Tensor::zeros(full);
    for (size_t i = 0; i < rows.size(); ++i) {
      float* dst = ga.data() + rows[i] * row;
      const float* src = g.data() + i * row;
      for (int64_t j = 0; j < row; ++j) dst[j] += src[j];
    }
    gr[0] = ga;
  });
}

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim_in) {
  check(!tensors.empty(), "cat: no tensors given");
  const Shape& first = tensors[0].shape();
  check(first.rank() >= 1, "cat: tensor 0 of shape ", first, " has no dimension to join along");
  const int64_t d = first.normalize(dim_in, "cat");
  if (tensors.size() > autograd::Inputs::kMax) {  // a node records at most kMax inputs: join in parts
    const auto mid = tensors.begin() + static_cast<std::ptrdiff_t>(autograd::Inputs::kMax - 1);
    return cat(
        {cat(std::vector<Tensor>(tensors.begin(), mid), d), cat(std::vector<Tensor>(mid, tensors.end()), d)},
        d);
  }
  std::vector<int64_t> dims = first.dims();
  dims[d] = 0;
  // Each tensor is `outer` blocks of widths[i] = size(d) * inner floats; the output interleaves them.
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < d; ++i) outer *= first.dims()[i];
  for (int64_t i = d + 1; i < first.rank(); ++i) inner *= first.dims()[i];
  std::vector<int64_t> widths;
  for (size_t t = 0; t < tensors.size(); ++t) {
    const Shape& s = tensors[t].shape();
    bool fits = s.rank() == first.rank();
    for (int64_t i = 0; fits && i < s.rank(); ++i) fits = i == d || s.dims()[i] == first.dims()[i];
    check(fits, "cat: tensor ", t, " has shape ", s, ", which cannot join tensor 0's ", first,
          " along dimension ", d);
    dims[d] += s.dims()[d];
    widths.push_back(s.dims()[d] * inner);
  }
  Tensor out = Tensor::empty(Shape(dims));
  const int64_t row = dims[d] * inner;
  for (int64_t o = 0, col = 0; o < outer; ++o, col = 0)
    for (size_t t = 0; t < tensors.size(); col += widths[t], ++t)
      std::memcpy(out.data() + o * row + col, tensors[t].data() + o * widths[t],
                  static_cast<size_t>(widths[t]) * sizeof(float));
  return record(out, "cat", tensors, [widths, outer, row](const Tensor& g, Grads& gr) {
    for (size_t t = 0, col = 0; t < widths.size(); col += static_cast<size_t>(widths[t]), ++t) {
      if (!gr.needs(static_cast<int>(t))) continue;
      Tensor part = Tensor::empty(gr.input(static_cast<int>(t)).shape());
      for (int64_t o = 0; o < outer; ++o)
        std::memcpy(part.data() + o * widths[t], g.data() + o * row + static_cast<int64_t>(col),
                    static_cast<size_t>(widths[t]) * sizeof(float));
      gr[static_cast<int>(t)] = part;
    }
  });
}

Tensor Tensor::clone() const {
  Tensor out = Tensor::empty(shape());
  if (numel() > 0) std::memcpy(out.data(), data(), static_cast<size_t>(numel()) * sizeof(float));
  return record(out, "clone", {*this}, [](const Tensor& g, Grads& gr) { gr[0] = g; });
}

}  // namespace neurona
