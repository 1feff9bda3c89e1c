// Update rules of every optimizer, one block each: validation, state layout, update loop.
// Scalars are computed in double as PyTorch does in Python, elementwise work is float32.
#include "neurona/optim/optimizers.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "neurona/core/error.hpp"
#include "neurona/core/threads.hpp"

namespace neurona::optim {

namespace {

void check_min(const char* opt, const char* what, double v, double low) {
  check(v >= low && !std::isnan(v), opt, ": invalid ", what, " ", v, " (must be >= ", low, ")");
}
void check_unit(const char* opt, const char* what, double v) {
  check(v >= 0.0 && v < 1.0, opt, ": invalid ", what, " ", v, " (must be in [0, 1))");
}
// Gradient with maximize and coupled weight decay folded in: g' = ±g + wd·w.
inline float grad_at(const float* g, const float* w, int64_t i, float sign, float wd) {
  return sign * g[i] + wd * w[i];
}

}  // namespace

// ---- SGD ------------------------------------------------------------------------------------

const char* SGD::type_name() const { return "SGD"; }
void SGD::validate(size_t group) const {
  const auto& o = options_[group];
  check_min("SGD", "lr", o.lr, 0), check_min("SGD", "momentum", o.momentum, 0);
  check_min("SGD", "weight_decay", o.weight_decay, 0), check_min("SGD", "dampening", o.dampening, 0);
  check(!o.nesterov || (o.momentum > 0 && o.dampening == 0),
        "SGD: nesterov needs momentum > 0 and dampening 0 (got momentum ", o.momentum, ", dampening ",
        o.dampening, ")");
}
std::vector<std::string> SGD::buffer_names(size_t group) const {
  if (options_[group].momentum != 0) return {"momentum_buffer"};
  return {};
}
std::vector<std::string> SGD::scalar_names(size_t) const { return {}; }
// The momentum buffer is created from the first gradient (no dampening), as in PyTorch.
void SGD::init_state(size_t, ParamState&, const Tensor&) const {}

void SGD::update(size_t group, float* w, const float* g, int64_t n, ParamState& s) {
  const auto& o = options_[group];
  const float lr = float(o.lr), wd = float(o.weight_decay), mu = float(o.momentum);
  const float damp = float(1.0 - o.dampening), sign = o.maximize ? -1.f : 1.f;
  if (o.momentum == 0) {
    for (int64_t i = 0; i < n; ++i) w[i] -= lr * grad_at(g, w, i, sign, wd);
    return;
  }
  const bool first = s.buffers.empty();
  if (first) s.buffers.push_back(Tensor::empty(Shape({n})));
  float* b = s.buffers[0].data();
  for (int64_t i = 0; i < n; ++i) {
    float d = grad_at(g, w, i, sign, wd);
    b[i] = first ? d : mu * b[i] + damp * d;
    d = o.nesterov ? d + mu * b[i] : b[i];
    w[i] -= lr * d;
  }
}

// ---- Adagrad --------------------------------------------------------------------------------

const char* Adagrad::type_name() const { return "Adagrad"; }
void Adagrad::validate(size_t group) const {
  const auto& o = options_[group];
  check_min("Adagrad", "lr", o.lr, 0), check_min("Adagrad", "lr_decay", o.lr_decay, 0);
  check_min("Adagrad", "weight_decay", o.weight_decay, 0);
  check_min("Adagrad", "initial_accumulator_value", o.initial_accumulator_value, 0);
  check_min("Adagrad", "eps", o.eps, 0);
}
std::vector<std::string> Adagrad::buffer_names(size_t) const { return {"sum"}; }
std::vector<std::string> Adagrad::scalar_names(size_t) const { return {}; }
void Adagrad::init_state(size_t group, ParamState& s, const Tensor& param) const {
  s.buffers.push_back(Tensor::full(param.shape(), float(options_[group].initial_accumulator_value)));
}

void Adagrad::update(size_t group, float* w, const float* g, int64_t n, ParamState& s) {
  const auto& o = options_[group];
  const float clr = float(o.lr / (1.0 + double(s.step - 1) * o.lr_decay));
  const float wd = float(o.weight_decay), eps = float(o.eps), sign = o.maximize ? -1.f : 1.f;
  float* sum = s.buffers[0].data();
  for (int64_t i = 0; i < n; ++i) {
    const float d = grad_at(g, w, i, sign, wd);
    sum[i] += d * d;
    w[i] -= clr * (d / (std::sqrt(sum[i]) + eps));
  }
}

// ---- RMSprop --------------------------------------------------------------------------------

const char* RMSprop::type_name() const { return "RMSprop"; }
void RMSprop::validate(size_t group) const {
  const auto& o = options_[group];
  check_min("RMSprop", "lr", o.lr, 0), check_min("RMSprop", "alpha", o.alpha, 0);
  check_min("RMSprop", "eps", o.eps, 0), check_min("RMSprop", "momentum", o.momentum, 0);
  check_min("RMSprop", "weight_decay", o.weight_decay, 0);
}
std::vector<std::string> RMSprop::buffer_names(size_t group) const {
  const auto& o = options_[group];
  std::vector<std::string> names{"square_avg"};
  if (o.momentum > 0) names.push_back("momentum_buffer");
  if (o.centered) names.push_back("grad_avg");
  return names;
}
std::vector<std::string> RMSprop::scalar_names(size_t) const { return {}; }
void RMSprop::init_state(size_t group, ParamState& s, const Tensor& param) const {
  Optimizer::init_state(group, s, param);
}

void RMSprop::update(size_t group, float* w, const float* g, int64_t n, ParamState& s) {
  const auto& o = options_[group];
  check(s.buffers.size() == 1u + (o.momentum > 0) + o.centered,
        "RMSprop: momentum or centered changed after the first step");
  const float lr = float(o.lr), a = float(o.alpha), a1 = float(1.0 - o.alpha), eps = float(o.eps);
  const float wd = float(o.weight_decay), mu = float(o.momentum), sign = o.maximize ? -1.f : 1.f;
  float* sq = s.buffers[0].data();
  float* buf = o.momentum > 0 ? s.buffers[1].data() : nullptr;
  float* ga = o.centered ? s.buffers.back().data() : nullptr;
  for (int64_t i = 0; i < n; ++i) {
    const float d = grad_at(g, w, i, sign, wd);
    sq[i] = sq[i] * a + a1 * d * d;
    float avg;
    if (ga) {
      ga[i] = ga[i] * a + a1 * d;
      avg = std::sqrt(sq[i] - ga[i] * ga[i]) + eps;
    } else {
      avg = std::sqrt(sq[i]) + eps;
    }
    if (buf) {
      buf[i] = buf[i] * mu + d / avg;
      w[i] -= lr * buf[i];
    } else {
      w[i] -= lr * (d / avg);
    }
  }
}

// ---- Adadelta -------------------------------------------------------------------------------

const char* Adadelta::type_name() const { return "Adadelta"; }
void Adadelta::validate(size_t group) const {
  const auto& o = options_[group];
  check_min("Adadelta", "lr", o.lr, 0), check_min("Adadelta", "eps", o.eps, 0);
  check_min("Adadelta", "weight_decay", o.weight_decay, 0);
  check(o.rho >= 0 && o.rho <= 1, "Adadelta: invalid rho ", o.rho, " (must be in [0, 1])");
}
std::vector<std::string> Adadelta::buffer_names(size_t) const { return {"square_avg", "acc_delta"}; }
std::vector<std::string> Adadelta::scalar_names(size_t) const { return {}; }
void Adadelta::init_state(size_t group, ParamState& s, const Tensor& param) const {
  Optimizer::init_state(group, s, param);
}

void Adadelta::update(size_t group, float* w, const float* g, int64_t n, ParamState& s) {
  const auto& o = options_[group];
  const float lr = float(o.lr), rho = float(o.rho), rho1 = float(1.0 - o.rho), eps = float(o.eps);
  const float wd = float(o.weight_decay), sign = o.maximize ? -1.f : 1.f;
  float* sq = s.buffers[0].data();
  float* acc = s.buffers[1].data();
  for (int64_t i = 0; i < n; ++i) {
    const float d = grad_at(g, w, i, sign, wd);
    sq[i] = sq[i] * rho + rho1 * d * d;
    const float delta = std::sqrt(acc[i] + eps) / std::sqrt(sq[i] + eps) * d;
    acc[i] = acc[i] * rho + rho1 * delta * delta;
    w[i] -= lr * delta;
  }
}

// ---- Adam and AdamW -------------------------------------------------------------------------

namespace {
template <bool Decoupled>
void validate_adam(const char* opt, const AdamFamilyOptions<Decoupled>& o) {
  check_min(opt, "lr", o.lr, 0), check_min(opt, "eps", o.eps, 0);
  check_min(opt, "weight_decay", o.weight_decay, 0);
  check_unit(opt, "betas[0]", o.betas[0]), check_unit(opt, "betas[1]", o.betas[1]);
}

// The elementwise part of Adam over [lo, hi). A plain function with its scalars by value, so the
// loop vectorises also when a pool worker runs it through std::function.
struct AdamScalars {
  float step_size, bc2_sqrt, b1, b1c, b2, b2c, eps, sign, wd, keep;  // keep: decoupled decay factor
};
void adam_range(AdamScalars k, float* w, const float* g, float* m, float* v, float* vmax, int64_t lo,
                int64_t hi) {
  if (k.keep != 1.f)
    for (int64_t i = lo; i < hi; ++i) w[i] *= k.keep;
  if (!vmax) {  // the common case, kept free of branches so it vectorises
    for (int64_t i = lo; i < hi; ++i) {
      const float d = grad_at(g, w, i, k.sign, k.wd);
      m[i] = m[i] * k.b1 + k.b1c * d;
      v[i] = v[i] * k.b2 + k.b2c * d * d;
      w[i] -= k.step_size * (m[i] / (std::sqrt(v[i]) / k.bc2_sqrt + k.eps));
    }
    return;
  }
  for (int64_t i = lo; i < hi; ++i) {
    const float d = grad_at(g, w, i, k.sign, k.wd);
    m[i] = m[i] * k.b1 + k.b1c * d;
    v[i] = v[i] * k.b2 + k.b2c * d * d;
    const float vi = vmax[i] = std::max(vmax[i], v[i]);
    w[i] -= k.step_size * (m[i] / (std::sqrt(vi) / k.bc2_sqrt + k.eps));
  }
}

template <bool Decoupled>
void adam_update(const AdamFamilyOptions<Decoupled>& o, float* w, const float* g, int64_t n, ParamState& s) {
  const double b1 = o.betas[0], b2 = o.betas[1];
  const double bc1 = 1.0 - std::pow(b1, double(s.step)), bc2 = 1.0 - std::pow(b2, double(s.step));
  AdamScalars k;
  k.step_size = float(o.lr / bc1), k.bc2_sqrt = float(std::sqrt(bc2));
  k.b1 = float(b1), k.b1c = float(1.0 - b1), k.b2 = float(b2), k.b2c = float(1.0 - b2);
  k.eps = float(o.eps), k.sign = o.maximize ? -1.f : 1.f;
  k.wd = Decoupled ? 0.f : float(o.weight_decay);
  k.keep = Decoupled && o.weight_decay != 0 ? float(1.0 - o.lr * o.weight_decay) : 1.f;
  float* m = s.buffers[0].data();
  float* v = s.buffers[1].data();
  float* vmax = o.amsgrad ? s.buffers[2].data() : nullptr;
  // Elementwise, so splitting the buffer over the pool gives the same values.
  parallel_for(0, n, kParallelGrain,
               [&](int64_t lo, int64_t hi) { adam_range(k, w, g, m, v, vmax, lo, hi); });
}

std::vector<std::string> adam_buffers(bool amsgrad) {
  if (amsgrad) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  return {"exp_avg", "exp_avg_sq"};
}
}  // namespace

const char* Adam::type_name() const { return "Adam"; }
void Adam::validate(size_t group) const { validate_adam("Adam", options_[group]); }
std::vector<std::string> Adam::buffer_names(size_t group) const {
  return adam_buffers(options_[group].amsgrad);
}
std::vector<std::string> Adam::scalar_names(size_t) const { return {}; }
void Adam::init_state(size_t group, ParamState& s, const Tensor& param) const {
  Optimizer::init_state(group, s, param);
}
void Adam::update(size_t group, float* w, const float* g, int64_t n, ParamState& s) {
  check(s.buffers.size() == 2u + options_[group].amsgrad, "Adam: amsgrad changed after the first step");
  adam_update(options_[group], w, g, n, s);
}

const char* AdamW::type_name() const { return "AdamW"; }
void AdamW::validate(size_t group) const { validate_adam("AdamW", options_[group]); }
std::vector<std::string> AdamW::buffer_names(size_t group) const {
  return adam_buffers(options_[group].amsgrad);
}
std::vector<std::string> AdamW::scalar_names(size_t) const { return {}; }
void AdamW::init_state(size_t group, ParamState& s, const Tensor& param) const {
  Optimizer::init_state(group, s, param);
}
void AdamW::update(size_t group, float* w, const float* g, int64_t n, ParamState& s) {
  check(s.buffers.size() == 2u + options_[group].amsgrad, "AdamW: amsgrad changed after the first step");
  adam_update(options_[group], w, g, n, s);
}

// ---- NAdam (PyTorch 2.x rule: the next-step product is mu_product · mu_next) ------------------

const char* NAdam::type_name() const { return "NAdam"; }
void NAdam::validate(size_t group) const {
  const auto& o = options_[group];
  check_min("NAdam", "lr", o.lr, 0), check_min("NAdam", "eps", o.eps, 0);
  check_min("NAdam", "weight_decay", o.weight_decay, 0);
  check_min("NAdam", "momentum_decay", o.momentum_decay, 0);
  check_unit("NAdam", "betas[0]", o.betas[0]), check_unit("NAdam", "betas[1]", o.betas[1]);
}
std::vector<std::string> NAdam::buffer_names(size_t) const { return {"exp_avg", "exp_avg_sq"}; }
std::vector<std::string> NAdam::scalar_names(size_t) const { return {"mu_product"}; }
void NAdam::init_state(size_t group, ParamState& s, const Tensor& param) const {
  Optimizer::init_state(group, s, param);
  s.scalars[0] = 1.0;
}

void NAdam::update(size_t group, float* w, const float* g, int64_t n, ParamState& s) {
  const auto& o = options_[group];
  const double b1 = o.betas[0], b2 = o.betas[1], t = double(s.step);
  const double bc2 = 1.0 - std::pow(b2, t);
  const double mu = b1 * (1.0 - 0.5 * std::pow(0.96, t * o.momentum_decay));
  const double mu_next = b1 * (1.0 - 0.5 * std::pow(0.96, (t + 1.0) * o.momentum_decay));
  double& mu_product = s.scalars[0];
  mu_product *= mu;
  const float c_grad = float(o.lr * (1.0 - mu) / (1.0 - mu_product));
  const float c_avg = float(o.lr * mu_next / (1.0 - mu_product * mu_next));
  const float fb1 = float(b1), fb1c = float(1.0 - b1), fb2 = float(b2), fb2c = float(1.0 - b2);
  const float bc2_sqrt = float(std::sqrt(bc2)), eps = float(o.eps);
  const float wd = float(o.weight_decay), sign = o.maximize ? -1.f : 1.f;
  float* m = s.buffers[0].data();
  float* v = s.buffers[1].data();
  for (int64_t i = 0; i < n; ++i) {
    const float d = grad_at(g, w, i, sign, wd);
    m[i] = m[i] * fb1 + fb1c * d;
    v[i] = v[i] * fb2 + fb2c * d * d;
    const float denom = std::sqrt(v[i]) / bc2_sqrt + eps;
    w[i] -= c_grad * (d / denom);
    w[i] -= c_avg * (m[i] / denom);
  }
}

// ---- RAdam ----------------------------------------------------------------------------------

const char* RAdam::type_name() const { return "RAdam"; }
void RAdam::validate(size_t group) const {
  const auto& o = options_[group];
  check_min("RAdam", "lr", o.lr, 0), check_min("RAdam", "eps", o.eps, 0);
  check_min("RAdam", "weight_decay", o.weight_decay, 0);
  check_unit("RAdam", "betas[0]", o.betas[0]), check_unit("RAdam", "betas[1]", o.betas[1]);
}
std::vector<std::string> RAdam::buffer_names(size_t) const { return {"exp_avg", "exp_avg_sq"}; }
std::vector<std::string> RAdam::scalar_names(size_t) const { return {}; }
void RAdam::init_state(size_t group, ParamState& s, const Tensor& param) const {
  Optimizer::init_state(group, s, param);
}

void RAdam::update(size_t group, float* w, const float* g, int64_t n, ParamState& s) {
  const auto& o = options_[group];
  const double b1 = o.betas[0], b2 = o.betas[1], t = double(s.step);
  const double bc1 = 1.0 - std::pow(b1, t), bc2 = 1.0 - std::pow(b2, t);
  const double rho_inf = 2.0 / (1.0 - b2) - 1.0;
  const double rho_t = rho_inf - 2.0 * t * std::pow(b2, t) / bc2;
  const bool rectified = rho_t > 5.0;
  double rect = 0;
  if (rectified)
    rect = std::sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t));
  const float fb1 = float(b1), fb1c = float(1.0 - b1), fb2 = float(b2), fb2c = float(1.0 - b2);
  const float inv_bc1 = float(1.0 / bc1), lr = float(o.lr), eps = float(o.eps);
  const float rect_f = float(rect), bc2_sqrt = float(std::sqrt(bc2));
  const float wd = float(o.weight_decay), sign = o.maximize ? -1.f : 1.f;
  float* m = s.buffers[0].data();
  float* v = s.buffers[1].data();
  for (int64_t i = 0; i < n; ++i) {
    const float d = grad_at(g, w, i, sign, wd);
    m[i] = m[i] * fb1 + fb1c * d;
    v[i] = v[i] * fb2 + fb2c * d * d;
    const float mhat = m[i] * inv_bc1;
    if (rectified)
      w[i] -= mhat * lr * (bc2_sqrt / (std::sqrt(v[i]) + eps)) * rect_f;
    else
      w[i] -= mhat * lr;
  }
}

}  // namespace neurona::optim
