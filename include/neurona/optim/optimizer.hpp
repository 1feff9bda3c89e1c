#pragma once
// Optimizer: the shared base of every optimizer. It owns parameter groups (each with its own
// hyper-parameters and a frozen flag), the per-parameter state buffers, step()/zero_grad(), and
// state export/import for checkpoints. A concrete optimizer only supplies its update rule.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "neurona/core/tensor.hpp"

namespace neurona::optim {

// Named tensors and scalars: the checkpoint form of optimizer and schedule state.
struct SavedState {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, double> scalars;

  double scalar(const std::string& name, const char* owner) const;  // throws when missing
  const Tensor& tensor(const std::string& name, const char* owner) const;
};

// State kept for one parameter: the step count, the optimizer's buffers (named by
// buffer_names()) and extra scalars such as NAdam's mu_product.
struct ParamState {
  int64_t step = 0;
  std::vector<Tensor> buffers;
  std::vector<double> scalars;
  bool initialized() const { return step > 0 || !buffers.empty(); }
};

// Receives every hyper-parameter of a group by name; options structs call it from visit().
struct HparamVisitor {
  virtual ~HparamVisitor() = default;
  virtual void operator()(const char* name, double& value) = 0;
  virtual void operator()(const char* name, bool& value) = 0;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual const char* type_name() const = 0;

  // Applies one update to every parameter of every non-frozen group that has a gradient.
  void step();
  void zero_grad();  // clears every parameter's gradient (set_to_none)

  size_t num_groups() const { return groups_.size(); }
  const std::vector<Tensor>& params(size_t group) const;
  std::vector<Tensor> all_params() const;
  bool frozen(size_t group) const;
  void set_frozen(size_t group, bool frozen);
  // Adds a group with group 0's hyper-parameters (PyTorch's add_param_group with the defaults);
  // set() then changes its own.
  virtual void add_param_group(std::vector<Tensor> params) = 0;

  double lr(size_t group = 0) const;
  void set_lr(size_t group, double lr);
  void set_lr(double lr);  // every group
  // A named hyper-parameter of a group ("lr", "momentum", "beta1", "weight_decay", …), or
  // nullptr when this optimizer has none of that name.
  virtual double* hparam(size_t group, std::string_view name) = 0;
  double get(size_t group, std::string_view name) const;
  void set(size_t group, std::string_view name, double value);

  // Base lr remembered by the first schedule attached (PyTorch's group["initial_lr"]); NaN if none.
  double initial_lr(size_t group) const;
  void set_initial_lr(size_t group, double lr);

  // Names: "param_groups.<g>.<hyper>" (scalars), "state.<i>.step", "state.<i>.<buffer>" with i
  // the parameter's index counted across groups, as in PyTorch's optimizer state_dict.
  SavedState state_dict() const;               // buffers are copies
  void load_state_dict(const SavedState& sd);  // validates names, counts and shapes

  const ParamState& state(size_t group, size_t index) const;

 protected:
  struct Group {
    std::vector<Tensor> params;
    bool frozen = false;
    double initial_lr;
    std::vector<ParamState> state;
  };
  void add_group(std::vector<Tensor> params, bool frozen);
  virtual void validate(size_t group) const = 0;
  // Buffers this group's parameters keep, in the order update() reads them.
  virtual std::vector<std::string> buffer_names(size_t group) const = 0;
  virtual std::vector<std::string> scalar_names(size_t) const { return {}; }
  virtual void init_state(size_t group, ParamState& s, const Tensor& param) const;
  // Updates n floats of one parameter in place given its gradient; s.step is already incremented.
  virtual void update(size_t group, float* w, const float* g, int64_t n, ParamState& s) = 0;
  virtual void visit_hparams(size_t group, HparamVisitor& v) = 0;

  std::vector<Group> groups_;
};

// Options-typed groups: a concrete optimizer derives from OptimizerWith<ItsOptions>.
template <class Options>
struct ParamGroup {
  std::vector<Tensor> params;
  Options options{};
  bool frozen = false;
};

template <class Options>
class OptimizerWith : public Optimizer {
 public:
  using Group = ParamGroup<Options>;
  Options& options(size_t group) { return options_.at(group); }
  const Options& options(size_t group) const { return options_.at(group); }

  double* hparam(size_t group, std::string_view name) override {
    struct Find : HparamVisitor {
      std::string_view name;
      double* found = nullptr;
      void operator()(const char* n, double& v) override {
        if (name == n) found = &v;
      }
      void operator()(const char*, bool&) override {}
    } find;
    find.name = name;
    visit_hparams(group, find);
    return find.found;
  }
  void add_param_group(std::vector<Tensor> params) override {
    options_.push_back(options_.at(0));
    add_group(std::move(params), false);
    validate(options_.size() - 1);
  }

 protected:
  void init_groups(std::vector<Group> groups) {
    for (auto& g : groups) {
      options_.push_back(g.options);
      add_group(std::move(g.params), g.frozen);
      validate(options_.size() - 1);
    }
  }
  void visit_hparams(size_t group, HparamVisitor& v) override { options_.at(group).visit(v); }
  std::vector<Options> options_;
};

}  // namespace neurona::optim
