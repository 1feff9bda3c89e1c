// The backward pass: order the recorded nodes so each runs after every node that consumes its
// output, then hand each node its accumulated output gradient.
#include <atomic>

#include "neurona/autograd/node.hpp"
#include "neurona/core/error.hpp"

namespace neurona::autograd {
namespace {

thread_local bool t_grad_enabled = true;

// Adds `g` into a leaf's .grad. The leaf's gradient must own its buffer, because optimizers and
// gradient clipping change it in place.
void accumulate_leaf(TensorImpl* leaf, Tensor g) {
  if (!leaf->grad) {
    if (g.impl_ptr().use_count() > 1 || g.impl()->storage.use_count() > 1 || g.impl()->grad_fn)
      g = g.detach().clone();
    leaf->grad = g.impl_ptr();
    return;
  }
  float* dst = leaf->grad->storage.get() + leaf->grad->offset;
  const float* src = g.data();
  for (int64_t i = 0, n = g.numel(); i < n; ++i) dst[i] += src[i];
}

void accumulate(Tensor& slot, Tensor g) {
  if (!slot.defined()) {
    slot = std::move(g);
  } else {
    NoGradGuard no_grad;
    slot = add(slot, g);
  }
}

}  // namespace

void Inputs::too_many() { fail("autograd: an op recorded more than ", kMax, " inputs"); }

bool grad_enabled() { return t_grad_enabled; }
void set_grad_enabled(bool on) { t_grad_enabled = on; }

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!t_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

void run_backward(const Tensor& root, const Tensor& grad_root) {
  if (!root.requires_grad())
    fail("backward: the tensor does not require a gradient (no input of the ops that made it requires_grad)");
  NoGradGuard no_grad;  // backward formulas are not themselves recorded
  if (!root.impl()->grad_fn) {
    accumulate_leaf(root.impl(), grad_root);
    return;
  }

  // Iterative depth-first search giving a post-order; reversed, it is a topological order.
  // Nodes are marked with this pass's number instead of being kept in a set.
  static std::atomic<uint64_t> passes{0};
  const uint64_t mark = ++passes;
  thread_local std::vector<Node*> order;
  thread_local std::vector<std::pair<Node*, size_t>> stack;
  order.clear();
  stack.clear();
  stack.push_back({root.impl()->grad_fn.get(), 0});
  stack.back().first->visit_mark = mark;
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      const Tensor& input = node->inputs[next++];
      Node* child = input.defined() ? input.impl()->grad_fn.get() : nullptr;
      if (child && child->visit_mark != mark) {
        child->visit_mark = mark;
        stack.push_back({child, 0});
      }
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }

  root.impl()->grad_fn->grad = grad_root;
  thread_local std::vector<Tensor> slots;
  thread_local std::vector<char> needs;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    if (!node->grad.defined()) continue;
    const size_t n = node->inputs.size();
    slots.assign(n, Tensor());
    needs.assign(n, 0);
    for (size_t i = 0; i < n; ++i) needs[i] = node->inputs[i].requires_grad();
    Grads grads(node->inputs, slots.data(), needs.data());
    Tensor g = std::move(node->grad);
    node->grad = Tensor();
    node->backward(g, grads);
    for (size_t i = 0; i < n; ++i) {
      if (!needs[i] || !slots[i].defined()) continue;
      const Tensor& input = node->inputs[i];
      check(slots[i].shape() == input.shape(), "backward of ", node->name, ": gradient of shape ",
            slots[i].shape(), " for input ", i, " of shape ", input.shape());
      if (input.impl()->grad_fn)
        accumulate(input.impl()->grad_fn->grad, std::move(slots[i]));
      else
        accumulate_leaf(input.impl(), std::move(slots[i]));
    }
  }
  slots.clear();  // release gradient buffers no input wanted
}

}  // namespace neurona::autograd
