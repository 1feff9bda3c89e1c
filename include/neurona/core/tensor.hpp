#pragma once
// Tensor: an n-dimensional float32 array with contiguous row-major storage, and the handle through
// which autograd records the operations applied to it.
//
// Storage model: every tensor is contiguous. reshape/view, flatten and slice (rows along dim 0)
// share storage with their source; transpose/permute, index_select and clone copy. Buffers come
// from a size-bucketed pool (core/pool.hpp) and return to it when the last tensor using them dies.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "neurona/core/shape.hpp"

namespace neurona {

class Generator;
namespace autograd {
struct Node;
}

struct TensorImpl {
  Shape shape;
  std::shared_ptr<float[]> storage;  // pooled buffer, possibly shared with views
  int64_t offset = 0;                // first element inside storage
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;         // accumulated gradient (leaves)
  std::shared_ptr<autograd::Node> grad_fn;  // the op that produced this tensor, if recorded
};

// A new, empty TensorImpl; it and its shared_ptr control block come from the pool's object cache.
std::shared_ptr<TensorImpl> make_tensor_impl();

class Tensor {
 public:
  Tensor() = default;  // undefined tensor (no storage)
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // --- creation -------------------------------------------------------------------------------
  static Tensor empty(const Shape& shape);  // uninitialised values
  static Tensor zeros(const Shape& shape);
  static Tensor ones(const Shape& shape);
  static Tensor full(const Shape& shape, float value);
  static Tensor scalar(float value);  // shape []
  // Copies `values` into a tensor of `shape`; their counts must agree.
  static Tensor from(const std::vector<float>& values, const Shape& shape);
  static Tensor from(std::initializer_list<float> values);  // 1-D
  static Tensor arange(int64_t n);                          // 0, 1, …, n-1
  // Seeded random fills; the default generator is used when none is given.
  static Tensor uniform(const Shape& shape, float low = 0.f, float high = 1.f, Generator* gen = nullptr);
  static Tensor normal(const Shape& shape, float mean = 0.f, float std = 1.f, Generator* gen = nullptr);
  static Tensor bernoulli(const Shape& shape, float p, Generator* gen = nullptr);  // 1 with prob. p

  // --- inspection -----------------------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int64_t dim() const { return shape().rank(); }
  int64_t size(int64_t d) const { return shape()[d]; }
  int64_t numel() const { return shape().numel(); }
  float* data();
  const float* data() const;
  float item() const;                                    // the single value of a one-element tensor
  float at(std::initializer_list<int64_t> index) const;  // one element, bounds-checked
  std::vector<float> to_vector() const;
  std::string str() const;  // values and shape, abbreviated when large

  // --- autograd -------------------------------------------------------------------------------
  bool requires_grad() const;
  Tensor& requires_grad_(bool on = true);  // only on leaves
  bool is_leaf() const;
  Tensor grad() const;             // accumulated gradient, undefined until backward() reaches it
  void set_grad(const Tensor& g);  // replaces the gradient (undefined clears it)
  void zero_grad();                // clears the gradient (PyTorch's set_to_none)
  Tensor detach() const;           // same storage, cut from the graph
  void backward() const;           // from a one-element tensor
  void backward(const Tensor& grad_output) const;

  // --- shape ----------------------------------------------------------------------------------
  Tensor reshape(const Shape& shape) const;  // view; one dimension may be -1
  Tensor view(const Shape& shape) const { return reshape(shape); }
  Tensor flatten(int64_t start_dim = 1) const;     // [N, a, b] -> [N, a*b] (view)
  Tensor transpose(int64_t d0, int64_t d1) const;  // copy
  Tensor t() const { return transpose(0, 1); }
  Tensor permute(const std::vector<int64_t>& dims) const;       // copy
  Tensor slice(int64_t start, int64_t end) const;               // rows [start, end) along dim 0 (view)
  Tensor index_select(const std::vector<int64_t>& rows) const;  // rows along dim 0 (copy)
  Tensor clone() const;                                         // deep copy, differentiable

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  // True when both handles refer to the same tensor object.
  bool same(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// --- elementwise (broadcasting), see src/autograd/elementwise.cpp ------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, float b);
Tensor mul(const Tensor& a, float b);
Tensor neg(const Tensor& a);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor pow(const Tensor& a, float exponent);
Tensor abs(const Tensor& a);
Tensor clamp(const Tensor& a, float low, float high);  // use ±infinity for one-sided
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
// Comparisons give masks of 0/1 and are not differentiable.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
// mask ? a : b elementwise (mask nonzero = true), broadcasting all three.
Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b);
// torch.cat: the tensors joined along `dim` (a copy); every other dimension must agree.
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& a) { return neg(a); }
inline Tensor operator+(const Tensor& a, float b) { return add(a, b); }
inline Tensor operator+(float a, const Tensor& b) { return add(b, a); }
inline Tensor operator-(const Tensor& a, float b) { return add(a, -b); }
inline Tensor operator-(float a, const Tensor& b) { return add(neg(b), a); }
inline Tensor operator*(const Tensor& a, float b) { return mul(a, b); }
inline Tensor operator*(float a, const Tensor& b) { return mul(b, a); }
inline Tensor operator/(const Tensor& a, float b) { return mul(a, 1.0f / b); }
inline Tensor operator/(float a, const Tensor& b) { return mul(pow(b, -1.0f), a); }

// --- reductions, see src/autograd/reduction.cpp -------------------------------------------------
Tensor sum(const Tensor& a);  // all elements -> shape []
Tensor sum(const Tensor& a, int64_t dim, bool keepdim = false);
Tensor mean(const Tensor& a);
Tensor mean(const Tensor& a, int64_t dim, bool keepdim = false);
Tensor max(const Tensor& a);  // gradient flows to the first maximum
Tensor max(const Tensor& a, int64_t dim, bool keepdim = false);
Tensor min(const Tensor& a);
Tensor min(const Tensor& a, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& a);  // flat index as a float, shape []
Tensor argmax(const Tensor& a, int64_t dim, bool keepdim = false);
// Sums `a` down to `shape` (the inverse of broadcasting `shape` up to a's shape).
Tensor sum_to(const Tensor& a, const Shape& shape);

// --- linear algebra, see src/autograd/matmul.cpp -------------------------------------------------
// [n,k] x [k,m] -> [n,m]; [b,n,k] x [b,k,m] -> [b,n,m]; [b,n,k] x [k,m] -> [b,n,m].
Tensor matmul(const Tensor& a, const Tensor& b);

}  // namespace neurona
