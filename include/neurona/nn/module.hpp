#pragma once
// Module: the base of every layer and model (PyTorch's nn.Module). A module owns named parameters
// (trainable tensors), named buffers (state such as BatchNorm running statistics) and named child
// modules; their dotted paths ("encoder.fc1.bias", "0.weight") are the state_dict keys.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "neurona/core/tensor.hpp"

namespace neurona::nn {

// Named tensors in registration order (PyTorch's OrderedDict of a state_dict).
class StateDict {
 public:
  using Item = std::pair<std::string, Tensor>;
  void insert(const std::string& name, const Tensor& t);  // replaces an existing key
  const Tensor* find(const std::string& name) const;      // nullptr when absent
  const Tensor& at(const std::string& name) const;        // throws naming the key
  bool contains(const std::string& name) const { return find(name) != nullptr; }
  size_t size() const { return items_.size(); }
  std::vector<Item>::const_iterator begin() const { return items_.begin(); }
  std::vector<Item>::const_iterator end() const { return items_.end(); }
  std::vector<std::string> keys() const;
  // Integer-valued entries (BatchNorm's num_batches_tracked): files store them as I64, as PyTorch does.
  void mark_integer(const std::string& name) { integer_.insert(name); }
  bool is_integer(const std::string& name) const { return integer_.count(name) != 0; }

 private:
  std::vector<Item> items_;
  std::set<std::string> integer_;
};

class Module : public std::enable_shared_from_this<Module> {
 public:
  Module() = default;
  virtual ~Module() = default;

  // The computation. Call modules through operator() so summary() can see each layer's output.
  virtual Tensor forward(const Tensor& input);
  Tensor operator()(const Tensor& input);

  // Class name shown by summary() and error messages ("Linear", "BatchNorm1d").
  virtual std::string type_name() const { return "Module"; }
  // Constructor arguments shown in str(), e.g. "in_features=3, out_features=1, bias=true".
  virtual std::string extra_repr() const { return ""; }
  std::string str() const;  // PyTorch-style nested description

  // The row of nn::layers() that builds this module ("dense", "batchnorm", "relu", …; "" for
  // containers and user modules) and its options in that row's words, so that
  // nn::layers().get(kind()) with option_values() builds the same layer again (the layers'
  // options() return their typed options struct). With named_modules()
  // and named_parameters(false) / named_buffers(false) this is the whole tree for export (ONNX),
  // summaries and freezing, with nothing hidden in lambdas.
  virtual std::string kind() const { return ""; }
  virtual std::map<std::string, std::string> option_values() const { return {}; }

  // --- registration (call from the constructor) -----------------------------------------------
  // Stores `value` as a leaf requiring a gradient and returns the stored handle.
  Tensor register_parameter(const std::string& name, Tensor value, bool requires_grad = true);
  // `integer`: the buffer holds a count (float32 inside Neurona) that files store as I64.
  Tensor register_buffer(const std::string& name, Tensor value, bool integer = false);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

  // --- access ---------------------------------------------------------------------------------
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
  std::vector<std::shared_ptr<Module>> children() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
    return children_;
  }
  // This module ("" ) and every descendant with its dotted path, depth first.
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_modules();
  Tensor parameter(const std::string& name) const;  // own parameter by name; throws if absent
  Tensor buffer(const std::string& name) const;
  int64_t num_parameters(bool trainable_only = false) const;

  // --- state ----------------------------------------------------------------------------------
  // The tensors under their dotted names in PyTorch's order: each module's parameters, then its
  // buffers, then its children's, depth first. They share storage with the module (PyTorch
  // semantics); clone() them to keep a snapshot.
  StateDict state_dict() const;
  // Copies values in place. Shapes must match; with `strict`, missing and unexpected keys are
  // errors too (all of them listed in the message).
  void load_state_dict(const StateDict& state, bool strict = true);

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();
  // Freezes (false) or unfreezes every parameter of this module and its descendants.
  void requires_grad(bool on);

  // Deep copy: new parameters and buffers with the same values, same train/freeze flags.
  // Built-in layers support it; user modules get it by deriving from Cloneable<Self>.
  virtual std::shared_ptr<Module> clone() const;

 protected:
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  // Forgets every parameter, buffer and child (used by Cloneable before re-building).
  void clear_registrations();
  // Copies values, training flags and requires_grad flags from `source` (same structure).
  void copy_state_from(const Module& source);
  static void collect_modules(Module* m, std::vector<Module*>& out);  // pre-order
  static void mark_integers(const Module& m, const std::string& prefix, StateDict& out);

  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::set<std::string> integer_buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// Deep copy for a module whose parameters and children are all created in reset():
// clone() copy-constructs, re-runs reset() to make fresh tensors and children, then copies the
// values across. Derive as `struct Net : nn::Cloneable<Net>` and call reset() from the constructor.
template <class Derived>
class Cloneable : public Module {
 public:
  virtual void reset() = 0;
  std::shared_ptr<Module> clone() const override {
    auto copy = std::make_shared<Derived>(static_cast<const Derived&>(*this));
    copy->clear_registrations();
    copy->reset();
    copy->copy_state_from(*this);
    return copy;
  }
};

// Typed clone: auto b = nn::clone(a) keeps a's static type.
template <class M>
std::shared_ptr<M> clone(const std::shared_ptr<M>& module) {
  return std::static_pointer_cast<M>(module->clone());
}

// Runs `module` in eval mode (restoring the previous mode when it goes out of scope).
class EvalGuard {
 public:
  explicit EvalGuard(Module& m);
  ~EvalGuard();
  EvalGuard(const EvalGuard&) = delete;
  EvalGuard& operator=(const EvalGuard&) = delete;

 private:
  std::vector<std::pair<Module*, bool>> saved_;
};

}  // namespace neurona::nn
