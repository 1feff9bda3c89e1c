#include "neurona/core/tensor.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "neurona/autograd/node.hpp"
#include "neurona/core/error.hpp"
#include "neurona/core/pool.hpp"
#include "neurona/core/random.hpp"

namespace neurona {
namespace {

void require_defined(const Tensor& t, const char* op) {
  check(t.defined(), op, ": the tensor is undefined (default-constructed or an empty gradient)");
}

}  // namespace

// --- creation ------------------------------------------------------------------------------------

std::shared_ptr<TensorImpl> make_tensor_impl() {
  return std::allocate_shared<TensorImpl>(PoolAllocator<TensorImpl>());
}

Tensor Tensor::empty(const Shape& shape) {
  for (int64_t d : shape.dims()) check(d >= 0, "empty: negative dimension in shape ", shape);
  auto impl = make_tensor_impl();
  impl->shape = shape;
  impl->storage = pool_allocate(shape.numel());
  return Tensor(std::move(impl));
}

Tensor Tensor::full(const Shape& shape, float value) {
  Tensor t = empty(shape);
  float* p = t.data();
  for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = value;
  return t;
}

Tensor Tensor::zeros(const Shape& shape) { return full(shape, 0.f); }
Tensor Tensor::ones(const Shape& shape) { return full(shape, 1.f); }
Tensor Tensor::scalar(float value) { return full(Shape{}, value); }

Tensor Tensor::from(const std::vector<float>& values, const Shape& shape) {
  check(static_cast<int64_t>(values.size()) == shape.numel(), "Tensor::from: ", values.size(),
        " values do not fill shape ", shape, " (", shape.numel(), " elements)");
  Tensor t = empty(shape);
  if (!values.empty()) std::memcpy(t.data(), values.data(), values.size() * sizeof(float));
  return t;
}

Tensor Tensor::from(std::initializer_list<float> values) {
  return from(std::vector<float>(values), Shape{static_cast<int64_t>(values.size())});
}

Tensor Tensor::arange(int64_t n) {
  Tensor t = empty(Shape{n});
  for (int64_t i = 0; i < n; ++i) t.data()[i] = static_cast<float>(i);
  return t;
}

Tensor Tensor::uniform(const Shape& shape, float low, float high, Generator* gen) {
  Generator& g = gen ? *gen : default_generator();
  Tensor t = empty(shape);
  for (int64_t i = 0, n = t.numel(); i < n; ++i) t.data()[i] = g.uniform(low, high);
  return t;
}

Tensor Tensor::normal(const Shape& shape, float mean, float std, Generator* gen) {
  Generator& g = gen ? *gen : default_generator();
  Tensor t = empty(shape);
  for (int64_t i = 0, n = t.numel(); i < n; ++i) t.data()[i] = g.normal(mean, std);
  return t;
}

Tensor Tensor::bernoulli(const Shape& shape, float p, Generator* gen) {
  check(p >= 0.f && p <= 1.f, "bernoulli: probability must be in [0, 1], got ", p);
  Generator& g = gen ? *gen : default_generator();
  Tensor t = empty(shape);
  for (int64_t i = 0, n = t.numel(); i < n; ++i) t.data()[i] = g.uniform() < p ? 1.f : 0.f;
  return t;
}

// --- inspection ----------------------------------------------------------------------------------

const Shape& Tensor::shape() const {
  require_defined(*this, "shape");
  return impl_->shape;
}

float* Tensor::data() {
  require_defined(*this, "data");
  return impl_->storage.get() + impl_->offset;
}

const float* Tensor::data() const {
  require_defined(*this, "data");
  return impl_->storage.get() + impl_->offset;
}

float Tensor::item() const {
  check(numel() == 1, "item: tensor of shape ", shape(), " has ", numel(),
        " elements; item() needs exactly one");
  return data()[0];
}

float Tensor::at(std::initializer_list<int64_t> index) const {
  const Shape& s = shape();
  check(static_cast<int64_t>(index.size()) == s.rank(), "at: ", index.size(),
        " indices given for a tensor of shape ", s);
  const auto strides = s.strides();
  int64_t flat = 0, d = 0;
  for (int64_t i : index) {
    check(i >= 0 && i < s.dims()[d], "at: index ", i, " is out of range for dimension ", d, " of shape ", s);
    flat += i * strides[d++];
  }
  return data()[flat];
}

std::vector<float> Tensor::to_vector() const { return std::vector<float>(data(), data() + numel()); }

namespace {

void print_values(std::ostringstream& os, const float* p, const Shape& s, int64_t dim,
                  const std::vector<int64_t>& strides, bool abbreviate, int indent) {
  const int64_t n = s.dims()[dim];
  const int64_t edge = 3;
  os << '[';
  for (int64_t i = 0; i < n; ++i) {
    if (abbreviate && n > 2 * edge && i == edge) {
      os << "...";
      i = n - edge - 1;
      os << (dim + 1 == s.rank() ? ", " : ",\n" + std::string(indent + 1, ' '));
      continue;
    }
    if (dim + 1 == s.rank()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.4f", p[i * strides[dim]]);
      os << buf;
    } else {
      print_values(os, p + i * strides[dim], s, dim + 1, strides, abbreviate, indent + 1);
    }
    if (i + 1 < n) os << (dim + 1 == s.rank() ? ", " : ",\n" + std::string(indent + 1, ' '));
  }
  os << ']';
}

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  std::ostringstream os;
  os << "tensor(";
  if (dim() == 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", data()[0]);
    os << buf;
  } else if (numel() == 0) {
    os << "[]";
  } else {
    print_values(os, data(), shape(), 0, shape().strides(), numel() > 1000, 7);
  }
  os << ", shape=" << shape();
  if (requires_grad()) os << ", requires_grad";
  os << ')';
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

// --- autograd ------------------------------------------------------------------------------------

bool Tensor::requires_grad() const { return impl_ && impl_->requires_grad; }

Tensor& Tensor::requires_grad_(bool on) {
  require_defined(*this, "requires_grad_");
  check(is_leaf(), "requires_grad_: only leaf tensors (not results of recorded ops) can change it");
  impl_->requires_grad = on;
  return *this;
}

bool Tensor::is_leaf() const { return impl_ && !impl_->grad_fn; }

Tensor Tensor::grad() const {
  require_defined(*this, "grad");
  return Tensor(impl_->grad);
}

void Tensor::set_grad(const Tensor& g) {
  require_defined(*this, "set_grad");
  if (g.defined())
    check(g.shape() == shape(), "set_grad: gradient of shape ", g.shape(), " for a tensor of shape ",
          shape());
  impl_->grad = g.impl_ptr();
}

void Tensor::zero_grad() {
  if (impl_) impl_->grad.reset();
}

Tensor Tensor::detach() const {
  require_defined(*this, "detach");
  auto impl = make_tensor_impl();
  impl->shape = impl_->shape;
  impl->storage = impl_->storage;
  impl->offset = impl_->offset;
  return Tensor(std::move(impl));
}

void Tensor::backward() const {
  require_defined(*this, "backward");
  check(numel() == 1, "backward: output of shape ", shape(),
        " is not a single value; pass a gradient of that shape to backward(grad)");
  autograd::run_backward(*this, Tensor::ones(shape()));
}

void Tensor::backward(const Tensor& grad_output) const {
  require_defined(*this, "backward");
  require_defined(grad_output, "backward");
  check(grad_output.shape() == shape(), "backward: gradient of shape ", grad_output.shape(),
        " for an output of shape ", shape());
  autograd::run_backward(*this, grad_output);
}

}  // namespace neurona
