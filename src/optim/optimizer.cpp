#include "neurona/optim/optimizer.hpp"

#include <cmath>
#include <limits>
#include <set>

#include "neurona/autograd/node.hpp"
#include "neurona/core/error.hpp"

namespace neurona::optim {

double SavedState::scalar(const std::string& name, const char* owner) const {
  auto it = scalars.find(name);
  check(it != scalars.end(), owner, ": state dict has no scalar '", name, "'");
  return it->second;
}

const Tensor& SavedState::tensor(const std::string& name, const char* owner) const {
  auto it = tensors.find(name);
  check(it != tensors.end(), owner, ": state dict has no tensor '", name, "'");
  return it->second;
}

void Optimizer::add_group(std::vector<Tensor> params, bool frozen) {
  check(!params.empty(), type_name(), ": parameter group ", groups_.size(), " is empty");
  for (size_t i = 0; i < params.size(); ++i) {
    check(params[i].defined(), type_name(), ": parameter ", i, " of group ", groups_.size(), " is undefined");
    for (const auto& g : groups_)
      for (const auto& p : g.params)
        check(!p.same(params[i]), type_name(), ": a parameter appears in more than one group");
  }
  Group g;
  g.state.resize(params.size());
  g.params = std::move(params);
  g.frozen = frozen;
  g.initial_lr = std::numeric_limits<double>::quiet_NaN();
  groups_.push_back(std::move(g));
}

void Optimizer::step() {
  NoGradGuard no_grad;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    Group& group = groups_[gi];
    if (group.frozen) continue;
    for (size_t pi = 0; pi < group.params.size(); ++pi) {
      Tensor& p = group.params[pi];
      TensorImpl* impl = p.impl();
      if (!impl->grad) continue;  // no gradient reached this parameter: leave it and its state
      const Tensor grad(impl->grad);
      check(grad.numel() == p.numel(), type_name(), ": gradient of parameter ", pi, " in group ", gi,
            " has shape ", grad.shape(), " but the parameter has ", p.shape());
      ParamState& s = group.state[pi];
      if (!s.initialized()) init_state(gi, s, p);
      ++s.step;
      update(gi, p.data(), grad.data(), p.numel(), s);
    }
  }
}

void Optimizer::zero_grad() {
  for (auto& g : groups_)
    for (auto& p : g.params) p.zero_grad();
}

const std::vector<Tensor>& Optimizer::params(size_t group) const {
  check(group < groups_.size(), type_name(), ": no parameter group ", group, " (it has ", groups_.size(),
        ")");
  return groups_[group].params;
}

std::vector<Tensor> Optimizer::all_params() const {
  std::vector<Tensor> out;
  for (const auto& g : groups_) out.insert(out.end(), g.params.begin(), g.params.end());
  return out;
}

bool Optimizer::frozen(size_t group) const {
  params(group);
  return groups_[group].frozen;
}

void Optimizer::set_frozen(size_t group, bool frozen) {
  params(group);
  groups_[group].frozen = frozen;
}

double Optimizer::get(size_t group, std::string_view hparam_name) const {
  params(group);
  double* v = const_cast<Optimizer*>(this)->hparam(group, hparam_name);
  check(v != nullptr, type_name(), " has no hyper-parameter '", hparam_name, "'");
  return *v;
}

void Optimizer::set(size_t group, std::string_view hparam_name, double value) {
  params(group);
  double* v = hparam(group, hparam_name);
  check(v != nullptr, type_name(), " has no hyper-parameter '", hparam_name, "'");
  double old = *v;
  *v = value;
  try {
    validate(group);
  } catch (...) {
    *v = old;
    throw;
  }
}

double Optimizer::lr(size_t group) const { return get(group, "lr"); }
void Optimizer::set_lr(size_t group, double lr) { set(group, "lr", lr); }
void Optimizer::set_lr(double lr) {
  for (size_t g = 0; g < groups_.size(); ++g) set_lr(g, lr);
}

double Optimizer::initial_lr(size_t group) const {
  params(group);
  return groups_[group].initial_lr;
}
void Optimizer::set_initial_lr(size_t group, double lr) {
  params(group);
  groups_[group].initial_lr = lr;
}

const ParamState& Optimizer::state(size_t group, size_t index) const {
  check(index < params(group).size(), type_name(), ": group ", group, " has no parameter ", index);
  return groups_[group].state[index];
}

void Optimizer::init_state(size_t group, ParamState& s, const Tensor& param) const {
  for (size_t i = 0; i < buffer_names(group).size(); ++i) s.buffers.push_back(Tensor::zeros(param.shape()));
  s.scalars.assign(scalar_names(group).size(), 0.0);
}

namespace {
// Collects a group's hyper-parameters as scalars, or writes them back from a state dict.
struct HparamExport : HparamVisitor {
  std::string prefix;
  std::map<std::string, double>* out;
  void operator()(const char* n, double& v) override { (*out)[prefix + n] = v; }
  void operator()(const char* n, bool& v) override { (*out)[prefix + n] = v ? 1.0 : 0.0; }
};
struct HparamImport : HparamVisitor {
  std::string prefix;
  const SavedState* sd;
  const char* owner;
  std::set<std::string>* used;
  void operator()(const char* n, double& v) override { v = take(n); }
  void operator()(const char* n, bool& v) override { v = take(n) != 0.0; }
  double take(const char* n) {
    used->insert(prefix + n);
    return sd->scalar(prefix + n, owner);
  }
};
}  // namespace

SavedState Optimizer::state_dict() const {
  SavedState sd;
  auto* self = const_cast<Optimizer*>(this);
  size_t index = 0;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const Group& g = groups_[gi];
    std::string prefix = "param_groups." + std::to_string(gi) + ".";
    HparamExport ex;
    ex.prefix = prefix;
    ex.out = &sd.scalars;
    self->visit_hparams(gi, ex);
    sd.scalars[prefix + "frozen"] = g.frozen ? 1.0 : 0.0;
    sd.scalars[prefix + "num_params"] = static_cast<double>(g.params.size());
    if (!std::isnan(g.initial_lr)) sd.scalars[prefix + "initial_lr"] = g.initial_lr;
    const auto buffers = buffer_names(gi);
    const auto scalars = scalar_names(gi);
    for (size_t pi = 0; pi < g.params.size(); ++pi, ++index) {
      const ParamState& s = g.state[pi];
      if (!s.initialized()) continue;
      std::string sp = "state." + std::to_string(index) + ".";
      sd.scalars[sp + "step"] = static_cast<double>(s.step);
      for (size_t b = 0; b < buffers.size() && b < s.buffers.size(); ++b)
        sd.tensors[sp + buffers[b]] = s.buffers[b].detach().clone().reshape(g.params[pi].shape());
      for (size_t k = 0; k < scalars.size(); ++k) sd.scalars[sp + scalars[k]] = s.scalars[k];
    }
  }
  sd.scalars["param_groups.count"] = static_cast<double>(groups_.size());
  return sd;
}

void Optimizer::load_state_dict(const SavedState& sd) {
  const char* owner = type_name();
  const double count = sd.scalar("param_groups.count", owner);
  check(count == static_cast<double>(groups_.size()), owner, ": state dict has ", count,
        " parameter groups but the optimizer has ", groups_.size());
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const double n = sd.scalar("param_groups." + std::to_string(gi) + ".num_params", owner);
    check(n == static_cast<double>(groups_[gi].params.size()), owner, ": state dict group ", gi, " has ", n,
          " parameters but the optimizer's has ", groups_[gi].params.size());
  }
  // Hyper-parameters go first (they decide which buffers exist); on any error they are put back
  // and nothing else changes.
  SavedState saved_hparams;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    HparamExport ex;
    ex.prefix = "param_groups." + std::to_string(gi) + ".";
    ex.out = &saved_hparams.scalars;
    visit_hparams(gi, ex);
  }
  std::set<std::string> used{"param_groups.count"};
  std::vector<Group> next = groups_;
  try {
    size_t index = 0;
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      const std::string prefix = "param_groups." + std::to_string(gi) + ".";
      HparamImport im;
      im.prefix = prefix;
      im.sd = &sd;
      im.owner = owner;
      im.used = &used;
      visit_hparams(gi, im);
      validate(gi);

      Group& g = next[gi];
      g.frozen = sd.scalar(prefix + "frozen", owner) != 0.0;
      auto il = sd.scalars.find(prefix + "initial_lr");
      g.initial_lr = il == sd.scalars.end() ? std::numeric_limits<double>::quiet_NaN() : il->second;
      used.insert({prefix + "num_params", prefix + "frozen", prefix + "initial_lr"});
      const auto buffers = buffer_names(gi);
      const auto scalars = scalar_names(gi);
      for (size_t pi = 0; pi < g.params.size(); ++pi, ++index) {
        const std::string sp = "state." + std::to_string(index) + ".";
        ParamState s;
        if (sd.scalars.count(sp + "step")) {
          s.step = static_cast<int64_t>(sd.scalars.at(sp + "step"));
          used.insert(sp + "step");
          for (const auto& b : buffers) {
            const Tensor& t = sd.tensor(sp + b, owner);
            check(t.shape() == g.params[pi].shape(), owner, ": state '", sp + b, "' has shape ", t.shape(),
                  " but parameter ", index, " has shape ", g.params[pi].shape());
            s.buffers.push_back(t.detach().clone());
            used.insert(sp + b);
          }
          for (const auto& k : scalars) {
            s.scalars.push_back(sd.scalar(sp + k, owner));
            used.insert(sp + k);
          }
        }
        g.state[pi] = std::move(s);
      }
    }
    for (const auto& [k, v] : sd.scalars)
      check(used.count(k) > 0, owner, ": unexpected state dict scalar '", k, "'");
    for (const auto& [k, v] : sd.tensors)
      check(used.count(k) > 0, owner, ": unexpected state dict tensor '", k, "'");
  } catch (...) {
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      HparamImport im;
      im.prefix = "param_groups." + std::to_string(gi) + ".";
      im.sd = &saved_hparams;
      im.owner = owner;
      std::set<std::string> ignore;
      im.used = &ignore;
      visit_hparams(gi, im);
    }
    throw;
  }
  groups_ = std::move(next);
}

}  // namespace neurona::optim
