// Module bookkeeping: registration, recursive access, state_dict, modes, freezing, copies.
#include "neurona/nn/module.hpp"

#include <cstring>
#include <sstream>

#include "detail.hpp"
#include "neurona/autograd/node.hpp"
#include "neurona/core/error.hpp"

namespace neurona::nn {

// --- StateDict ------------------------------------------------------------------------------------

void StateDict::insert(const std::string& name, const Tensor& t) {
  for (auto& [k, v] : items_)
    if (k == name) {
      v = t;
      return;
    }
  items_.emplace_back(name, t);
}

const Tensor* StateDict::find(const std::string& name) const {
  for (const auto& [k, v] : items_)
    if (k == name) return &v;
  return nullptr;
}

const Tensor& StateDict::at(const std::string& name) const {
  const Tensor* t = find(name);
  if (!t) fail("state_dict: no key '", name, "'");
  return *t;
}

std::vector<std::string> StateDict::keys() const {
  std::vector<std::string> out;
  for (const auto& item : items_) out.push_back(item.first);
  return out;
}

// --- Module -------------------------------------------------------------------------------------

Tensor Module::forward(const Tensor&) {
  fail(type_name(), ": forward() is not implemented; override Tensor forward(const Tensor&)");
}

Tensor Module::operator()(const Tensor& input) {
  Tensor out = forward(input);
  if (detail::SummaryRecorder* rec = detail::summary_recorder()) rec->record(this, out);
  return out;
}

namespace {

void check_name(const Module& m, const std::string& what, const std::string& name) {
  check(!name.empty() && name.find('.') == std::string::npos, m.type_name(), ": ", what, " name '", name,
        "' must be non-empty and contain no '.'");
}

template <class V>
bool has_key(const std::vector<std::pair<std::string, V>>& items, const std::string& name) {
  for (const auto& item : items)
    if (item.first == name) return true;
  return false;
}

}  // namespace

Tensor Module::register_parameter(const std::string& name, Tensor value, bool requires_grad) {
  check_name(*this, "parameter", name);
  check(!has_key(params_, name) && !has_key(buffers_, name) && !has_key(children_, name), type_name(), ": '",
        name, "' is already registered");
  check(value.defined(), type_name(), ": parameter '", name, "' is undefined");
  if (!value.is_leaf()) value = value.detach();
  value.requires_grad_(requires_grad);
  params_.emplace_back(name, value);
  return value;
}

Tensor Module::register_buffer(const std::string& name, Tensor value, bool integer) {
  check_name(*this, "buffer", name);
  check(!has_key(params_, name) && !has_key(buffers_, name) && !has_key(children_, name), type_name(), ": '",
        name, "' is already registered");
  buffers_.emplace_back(name, value);
  if (integer) integer_buffers_.insert(name);
  return value;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_name(*this, "submodule", name);
  check(module != nullptr, type_name(), ": submodule '", name, "' is null");
  check(!has_key(params_, name) && !has_key(buffers_, name) && !has_key(children_, name), type_name(), ": '",
        name, "' is already registered");
  children_.emplace_back(name, std::move(module));
}

void Module::clear_registrations() {
  params_.clear();
  buffers_.clear();
  integer_buffers_.clear();
  children_.clear();
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out = params_;
  if (recurse)
    for (const auto& [cname, child] : children_)
      for (auto& [n, t] : child->named_parameters(true)) out.emplace_back(cname + "." + n, t);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& item : named_parameters(recurse)) out.push_back(item.second);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out = buffers_;
  if (recurse)
    for (const auto& [cname, child] : children_)
      for (auto& [n, t] : child->named_buffers(true)) out.emplace_back(cname + "." + n, t);
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& item : named_buffers(recurse)) out.push_back(item.second);
  return out;
}

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& item : children_) out.push_back(item.second);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_modules() {
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out;
  // A module built on the stack has no owner; it still appears (without extending its life).
  std::shared_ptr<Module> self = weak_from_this().lock();
  if (!self) self = std::shared_ptr<Module>(std::shared_ptr<Module>{}, this);
  out.emplace_back("", self);
  for (const auto& [cname, child] : children_)
    for (auto& [n, m] : child->named_modules()) out.emplace_back(n.empty() ? cname : cname + "." + n, m);
  return out;
}

Tensor Module::parameter(const std::string& name) const {
  for (const auto& [n, t] : params_)
    if (n == name) return t;
  fail(type_name(), ": no parameter '", name, "'");
}

Tensor Module::buffer(const std::string& name) const {
  for (const auto& [n, t] : buffers_)
    if (n == name) return t;
  fail(type_name(), ": no buffer '", name, "'");
}

int64_t Module::num_parameters(bool trainable_only) const {
  int64_t n = 0;
  for (const auto& p : parameters())
    if (!trainable_only || p.requires_grad()) n += p.numel();
  return n;
}

void Module::mark_integers(const Module& m, const std::string& prefix, StateDict& out) {
  for (const auto& n : m.integer_buffers_) out.mark_integer(prefix + n);
  for (const auto& [cname, child] : m.children_) mark_integers(*child, prefix + cname + ".", out);
}

StateDict Module::state_dict() const {
  StateDict out;
  auto add = [&out](const Module& m, const std::string& prefix, const auto& self) -> void {
    for (const auto& [n, t] : m.params_) out.insert(prefix + n, t.detach());
    for (const auto& [n, t] : m.buffers_) out.insert(prefix + n, t.detach());
    for (const auto& [c, child] : m.children_) self(*child, prefix + c + ".", self);
  };
  add(*this, "", add);
  mark_integers(*this, "", out);
  return out;
}

void Module::load_state_dict(const StateDict& state, bool strict) {
  std::vector<std::pair<std::string, Tensor>> mine = named_parameters();
  for (auto& item : named_buffers()) mine.push_back(item);

  std::vector<std::string> missing, unexpected, mismatched;
  for (const auto& [n, t] : mine) {
    const Tensor* src = state.find(n);
    if (!src) {
      missing.push_back(n);
    } else if (src->shape() != t.shape() && !(t.dim() == 0 && src->shape() == Shape({1}))) {
      // A one-element [1] tensor loads into a 0-d one, as PyTorch's load_state_dict allows.
      mismatched.push_back(n + " (expected " + t.shape().str() + ", got " + src->shape().str() + ")");
    }
  }
  for (const auto& [n, t] : state)
    if (!has_key(mine, n)) unexpected.push_back(n);

  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  std::string problems;
  if (!mismatched.empty()) problems += " shape mismatch: " + join(mismatched) + ";";
  if (strict && !missing.empty()) problems += " missing keys: " + join(missing) + ";";
  if (strict && !unexpected.empty()) problems += " unexpected keys: " + join(unexpected) + ";";
  check(problems.empty(), type_name(), ".load_state_dict:", problems);

  NoGradGuard no_grad;
  for (auto& [n, t] : mine)
    if (const Tensor* src = state.find(n))
      std::memcpy(t.data(), src->data(), sizeof(float) * static_cast<size_t>(t.numel()));
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (auto& p : parameters()) p.zero_grad();
}

void Module::requires_grad(bool on) {
  for (auto& p : parameters()) p.requires_grad_(on);
}

std::shared_ptr<Module> Module::clone() const {
  fail(type_name(), ": clone() is not available; derive from nn::Cloneable<", type_name(),
       "> and create parameters and submodules in reset()");
}

void Module::copy_state_from(const Module& source) {
  load_state_dict(source.state_dict(), true);
  auto mine = named_parameters();
  auto theirs = source.named_parameters();
  for (size_t i = 0; i < mine.size() && i < theirs.size(); ++i)
    mine[i].second.requires_grad_(theirs[i].second.requires_grad());
  // Training flags module by module (a frozen BatchNorm may sit in eval inside a training model).
  std::vector<Module*> dst, src;
  collect_modules(this, dst);
  collect_modules(const_cast<Module*>(&source), src);
  for (size_t i = 0; i < dst.size() && i < src.size(); ++i) dst[i]->training_ = src[i]->training_;
}

void Module::collect_modules(Module* m, std::vector<Module*>& out) {
  out.push_back(m);
  for (auto& item : m->children_) collect_modules(item.second.get(), out);
}

std::string Module::str() const {
  std::ostringstream os;
  os << type_name() << "(" << extra_repr();
  if (!children_.empty()) {
    os << "\n";
    for (const auto& [n, child] : children_) {
      std::string inner = child->str();
      std::string indented;
      for (char c : inner) {
        indented += c;
        if (c == '\n') indented += "  ";
      }
      os << "  (" << n << "): " << indented << "\n";
    }
  }
  os << ")";
  return os.str();
}

EvalGuard::EvalGuard(Module& m) {
  for (auto& [n, mod] : m.named_modules()) saved_.emplace_back(mod.get(), mod->is_training());
  m.eval();
}

EvalGuard::~EvalGuard() {
  // Pre-order: a parent's train() resets its subtree, then each child restores its own flag.
  for (auto& [m, was] : saved_) m->train(was);
}

}  // namespace neurona::nn
