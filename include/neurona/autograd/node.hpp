#pragma once
// Node: one recorded operation in the define-by-run graph. An op computes its result, then calls
// record() with its inputs and a backward function that turns the gradient of the result into
// gradients of the inputs. backward() walks the nodes in reverse topological order.
#include <initializer_list>
#include <utility>
#include <vector>

#include "neurona/core/pool.hpp"
#include "neurona/core/tensor.hpp"

namespace neurona::autograd {

// A node's inputs, held inline: no op records more than kMax, so a node needs no extra allocation.
class Inputs {
 public:
  static constexpr size_t kMax = 4;
  Inputs() = default;
  Inputs(std::initializer_list<Tensor> inputs) {
    for (const Tensor& t : inputs) push_back(t);
  }
  Inputs(const std::vector<Tensor>& inputs) {  // implicit: some ops build their list as a vector
    for (const Tensor& t : inputs) push_back(t);
  }
  void push_back(Tensor t) {
    if (n_ == kMax) too_many();
    items_[n_++] = std::move(t);
  }
  size_t size() const { return n_; }
  const Tensor& operator[](size_t i) const { return items_[i]; }
  const Tensor* begin() const { return items_; }
  const Tensor* end() const { return items_ + n_; }

 private:
  [[noreturn]] static void too_many();
  Tensor items_[kMax];
  size_t n_ = 0;
};

// What an op's backward works with: its inputs as recorded, and one gradient slot per input;
// needs(i) says whether input i wants one.
class Grads {
 public:
  Grads(const Inputs& inputs, Tensor* slots, const char* needs)
      : inputs_(inputs), slots_(slots), needs_(needs) {}
  bool needs(int i) const { return needs_[i] != 0; }
  Tensor& operator[](int i) { return slots_[i]; }
  // Input i of the op (the node keeps it alive, so a backward need not capture it).
  const Tensor& input(int i) const { return inputs_[static_cast<size_t>(i)]; }

 private:
  const Inputs& inputs_;
  Tensor* slots_;
  const char* needs_;
};

struct Node {
  virtual ~Node() = default;
  virtual void backward(const Tensor& grad_output, Grads& grads) = 0;
  const char* name = "op";
  Inputs inputs;
  Tensor grad;              // gradient of this node's output, accumulated during a backward pass
  uint64_t visit_mark = 0;  // the backward pass that last reached this node
};

template <class F>
struct FunctionNode final : Node {
  explicit FunctionNode(F f) : fn(std::move(f)) {}
  void backward(const Tensor& grad_output, Grads& grads) override { fn(grad_output, grads); }
  F fn;
};

bool grad_enabled();
void set_grad_enabled(bool on);

// Disables recording for its lifetime (PyTorch's torch.no_grad()).
class NoGradGuard {
 public:
  NoGradGuard() : previous_(grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// True when recording is on and any of `inputs` requires a gradient.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);

// Attaches a node to `out` when any input requires a gradient (and recording is on).
// `fn(const Tensor& grad_out, Grads& grads)` must fill grads[i] with a tensor of inputs[i]'s shape
// for each i where grads.needs(i); grads.input(i) gives the inputs back.
template <class F>
Tensor record(Tensor out, const char* name, Inputs inputs, F fn) {
  if (!grad_enabled()) return out;
  bool any = false;
  for (const Tensor& t : inputs) any = any || (t.defined() && t.requires_grad());
  if (!any) return out;
  auto node = std::allocate_shared<FunctionNode<F>>(PoolAllocator<FunctionNode<F>>(), std::move(fn));
  node->name = name;
  node->inputs = std::move(inputs);
  out.impl()->requires_grad = true;
  out.impl()->grad_fn = std::move(node);
  return out;
}

// Runs the backward pass from `root` seeded with `grad_root` (same shape as root).
void run_backward(const Tensor& root, const Tensor& grad_root);

}  // namespace neurona::autograd

namespace neurona {
using autograd::NoGradGuard;
}
