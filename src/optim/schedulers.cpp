#include "neurona/optim/schedulers.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "neurona/core/error.hpp"

namespace neurona::optim {

namespace {
constexpr double kPi = std::numbers::pi;
// Python's modulo: the result has the sign of the divisor.
int64_t py_mod(int64_t a, int64_t b) { return ((a % b) + b) % b; }
}  // namespace

// ---- base -----------------------------------------------------------------------------------

LRScheduler::LRScheduler(Optimizer& opt) : opt_(opt) {
  for (size_t g = 0; g < opt.num_groups(); ++g) {
    if (std::isnan(opt.initial_lr(g))) opt.set_initial_lr(g, opt.lr(g));
    base_lrs_.push_back(opt.initial_lr(g));
  }
}

void LRScheduler::initialize() {
  last_epoch_ = 0;
  apply(compute_lr());
}

void LRScheduler::step() {
  ++last_epoch_;
  apply(compute_lr());
}

void LRScheduler::step(double) { step(); }

void LRScheduler::apply(const std::vector<double>& lrs) {
  for (size_t g = 0; g < lrs.size(); ++g) opt_.set_lr(g, lrs[g]);
  last_lrs_ = lrs;
}

std::vector<double> LRScheduler::current_lrs() const {
  std::vector<double> lrs;
  for (size_t g = 0; g < opt_.num_groups(); ++g) lrs.push_back(opt_.lr(g));
  return lrs;
}

SavedState LRScheduler::state_dict() const {
  SavedState sd;
  sd.scalars["last_epoch"] = double(last_epoch_);
  for (size_t g = 0; g < base_lrs_.size(); ++g) {
    sd.scalars["base_lrs." + std::to_string(g)] = base_lrs_[g];
    sd.scalars["last_lrs." + std::to_string(g)] = g < last_lrs_.size() ? last_lrs_[g] : base_lrs_[g];
  }
  return sd;
}

void LRScheduler::load_state_dict(const SavedState& sd) {
  std::vector<double> base, last;
  for (size_t g = 0; g < base_lrs_.size(); ++g) {
    base.push_back(sd.scalar("base_lrs." + std::to_string(g), type_name()));
    last.push_back(sd.scalar("last_lrs." + std::to_string(g), type_name()));
  }
  check(!sd.scalars.count("base_lrs." + std::to_string(base_lrs_.size())), type_name(),
        ": state dict has more parameter groups than the optimizer (", base_lrs_.size(), ")");
  last_epoch_ = int64_t(sd.scalar("last_epoch", type_name()));
  base_lrs_ = base;
  last_lrs_ = last;
}

// ---- LambdaLR -------------------------------------------------------------------------------

LambdaLR::LambdaLR(Optimizer& opt, std::function<double(int64_t)> lr_lambda)
    : LRScheduler(opt), f_(std::move(lr_lambda)) {
  check(bool(f_), "LambdaLR: lr_lambda is empty");
  initialize();
}

std::vector<double> LambdaLR::compute_lr() {
  std::vector<double> lrs;
  for (double b : base_lrs_) lrs.push_back(b * f_(last_epoch_));
  return lrs;
}

// ---- StepLR, MultiStepLR, ExponentialLR ------------------------------------------------------

StepLR::StepLR(Optimizer& opt, StepLROptions o) : LRScheduler(opt), o_(o) {
  check(o.step_size > 0, "StepLR: step_size must be > 0 (got ", o.step_size, ")");
  check(o.gamma > 0, "StepLR: gamma must be > 0 (got ", o.gamma, ")");
  initialize();
}

std::vector<double> StepLR::compute_lr() {
  auto lrs = current_lrs();
  if (last_epoch_ == 0 || last_epoch_ % o_.step_size != 0) return lrs;
  for (double& lr : lrs) lr *= o_.gamma;
  return lrs;
}

MultiStepLR::MultiStepLR(Optimizer& opt, MultiStepLROptions o) : LRScheduler(opt), o_(std::move(o)) {
  check(std::is_sorted(o_.milestones.begin(), o_.milestones.end()),
        "MultiStepLR: milestones must be increasing");
  check(o_.gamma > 0, "MultiStepLR: gamma must be > 0 (got ", o_.gamma, ")");
  initialize();
}

std::vector<double> MultiStepLR::compute_lr() {
  auto lrs = current_lrs();
  const auto hits = std::count(o_.milestones.begin(), o_.milestones.end(), last_epoch_);
  if (hits == 0) return lrs;
  for (double& lr : lrs) lr *= std::pow(o_.gamma, double(hits));
  return lrs;
}

ExponentialLR::ExponentialLR(Optimizer& opt, double gamma) : LRScheduler(opt), gamma_(gamma) {
  check(gamma > 0, "ExponentialLR: gamma must be > 0 (got ", gamma, ")");
  initialize();
}

std::vector<double> ExponentialLR::compute_lr() {
  auto lrs = current_lrs();
  if (last_epoch_ == 0) return lrs;
  for (double& lr : lrs) lr *= gamma_;
  return lrs;
}

// ---- cosine ---------------------------------------------------------------------------------

CosineAnnealingLR::CosineAnnealingLR(Optimizer& opt, CosineAnnealingLROptions o) : LRScheduler(opt), o_(o) {
  check(o.T_max > 0, "CosineAnnealingLR: T_max must be > 0 (got ", o.T_max, ")");
  initialize();
}

std::vector<double> CosineAnnealingLR::compute_lr() {
  auto lrs = current_lrs();
  if (last_epoch_ == 0) return lrs;
  const double T = double(o_.T_max), e = double(last_epoch_), m = o_.eta_min;
  if (py_mod(last_epoch_ - 1 - o_.T_max, 2 * o_.T_max) == 0) {
    for (size_t g = 0; g < lrs.size(); ++g) lrs[g] += (base_lrs_[g] - m) * (1 - std::cos(kPi / T)) / 2;
    return lrs;
  }
  for (double& lr : lrs) lr = (1 + std::cos(kPi * e / T)) / (1 + std::cos(kPi * (e - 1) / T)) * (lr - m) + m;
  return lrs;
}

CosineAnnealingWarmRestarts::CosineAnnealingWarmRestarts(Optimizer& opt, CosineAnnealingWarmRestartsOptions o)
    : LRScheduler(opt), o_(o), T_i_(o.T_0) {
  check(o.T_0 > 0, "CosineAnnealingWarmRestarts: T_0 must be > 0 (got ", o.T_0, ")");
  check(o.T_mult >= 1, "CosineAnnealingWarmRestarts: T_mult must be >= 1 (got ", o.T_mult, ")");
  step_to(0);
}

void CosineAnnealingWarmRestarts::step() {
  if (last_epoch_ < 0) return step_to(0);
  T_cur_ += 1;
  if (T_cur_ >= double(T_i_)) {
    T_cur_ -= double(T_i_);
    T_i_ *= o_.T_mult;
  }
  ++last_epoch_;
  apply(compute_lr());
}

void CosineAnnealingWarmRestarts::step_to(double epoch) {
  check(epoch >= 0, "CosineAnnealingWarmRestarts: epoch must be >= 0 (got ", epoch, ")");
  const double T0 = double(o_.T_0), Tm = double(o_.T_mult);
  if (epoch >= T0) {
    if (o_.T_mult == 1) {
      T_cur_ = std::fmod(epoch, T0);
    } else {
      const int64_t n = int64_t(std::log(epoch / T0 * (Tm - 1) + 1) / std::log(Tm));
      T_cur_ = epoch - T0 * (std::pow(Tm, double(n)) - 1) / (Tm - 1);
      T_i_ = o_.T_0 * int64_t(std::llround(std::pow(Tm, double(n))));
    }
  } else {
    T_i_ = o_.T_0;
    T_cur_ = epoch;
  }
  last_epoch_ = int64_t(std::floor(epoch));
  apply(compute_lr());
}

std::vector<double> CosineAnnealingWarmRestarts::compute_lr() {
  std::vector<double> lrs;
  for (double b : base_lrs_)
    lrs.push_back(o_.eta_min + (b - o_.eta_min) * (1 + std::cos(kPi * T_cur_ / double(T_i_))) / 2);
  return lrs;
}

SavedState CosineAnnealingWarmRestarts::state_dict() const {
  SavedState sd = LRScheduler::state_dict();
  sd.scalars["T_cur"] = T_cur_;
  sd.scalars["T_i"] = double(T_i_);
  return sd;
}

void CosineAnnealingWarmRestarts::load_state_dict(const SavedState& sd) {
  const double T_cur = sd.scalar("T_cur", type_name()), T_i = sd.scalar("T_i", type_name());
  LRScheduler::load_state_dict(sd);
  T_cur_ = T_cur;
  T_i_ = int64_t(T_i);
}

// ---- LinearLR -------------------------------------------------------------------------------

LinearLR::LinearLR(Optimizer& opt, LinearLROptions o) : LRScheduler(opt), o_(o) {
  check(o.start_factor > 0 && o.start_factor <= 1, "LinearLR: start_factor must be in (0, 1] (got ",
        o.start_factor, ")");
  check(o.end_factor >= 0 && o.end_factor <= 1, "LinearLR: end_factor must be in [0, 1] (got ", o.end_factor,
        ")");
  check(o.total_iters > 0, "LinearLR: total_iters must be > 0 (got ", o.total_iters, ")");
  initialize();
}

std::vector<double> LinearLR::compute_lr() {
  auto lrs = current_lrs();
  const double s = o_.start_factor, e = o_.end_factor, T = double(o_.total_iters);
  if (last_epoch_ == 0) {
    for (double& lr : lrs) lr *= s;
  } else if (last_epoch_ <= o_.total_iters) {
    for (double& lr : lrs) lr *= 1.0 + (e - s) / (T * s + double(last_epoch_ - 1) * (e - s));
  }
  return lrs;
}

std::vector<double> LinearLR::restart_lr() {
  std::vector<double> lrs;
  for (double b : base_lrs_) lrs.push_back(b * o_.start_factor);
  return lrs;
}

// ---- PolynomialLR ---------------------------------------------------------------------------

PolynomialLR::PolynomialLR(Optimizer& opt, PolynomialLROptions o) : LRScheduler(opt), o_(o) {
  check(o.total_iters > 0, "PolynomialLR: total_iters must be > 0 (got ", o.total_iters, ")");
  check(o.power >= 0, "PolynomialLR: power must be >= 0 (got ", o.power, ")");
  initialize();
}

std::vector<double> PolynomialLR::compute_lr() {
  auto lrs = current_lrs();
  if (last_epoch_ == 0 || last_epoch_ > o_.total_iters) return lrs;
  const double T = double(o_.total_iters), t = double(last_epoch_);
  const double decay = std::pow((1.0 - t / T) / (1.0 - (t - 1) / T), o_.power);
  for (double& lr : lrs) lr *= decay;
  return lrs;
}

// ---- ConstantLR -----------------------------------------------------------------------------

ConstantLR::ConstantLR(Optimizer& opt, ConstantLROptions o) : LRScheduler(opt), o_(o) {
  // 0 would make the lr 0·(1/0) at total_iters; 0 iterations would never scale at all.
  check(o.factor > 0 && o.factor <= 1, "ConstantLR: factor must be in (0, 1] (got ", o.factor, ")");
  check(o.total_iters > 0, "ConstantLR: total_iters must be > 0 (got ", o.total_iters, ")");
  initialize();
}

std::vector<double> ConstantLR::compute_lr() {
  auto lrs = current_lrs();
  if (last_epoch_ == 0) {
    for (double& lr : lrs) lr *= o_.factor;
  } else if (last_epoch_ == o_.total_iters) {
    for (double& lr : lrs) lr *= 1.0 / o_.factor;
  }
  return lrs;
}

std::vector<double> ConstantLR::restart_lr() {
  std::vector<double> lrs;
  for (double b : base_lrs_) lrs.push_back(b * o_.factor);
  return lrs;
}

// ---- OneCycleLR -----------------------------------------------------------------------------

OneCycleLR::OneCycleLR(Optimizer& opt, OneCycleLROptions o) : LRScheduler(opt), o_(std::move(o)) {
  check(o_.max_lr > 0, "OneCycleLR: max_lr must be > 0 (got ", o_.max_lr, ")");
  if (o_.total_steps == 0) {
    check(o_.epochs > 0 && o_.steps_per_epoch > 0,
          "OneCycleLR: give total_steps, or epochs and steps_per_epoch (got epochs ", o_.epochs,
          ", steps_per_epoch ", o_.steps_per_epoch, ")");
    o_.total_steps = o_.epochs * o_.steps_per_epoch;
  }
  check(o_.total_steps > 0, "OneCycleLR: total_steps must be > 0 (got ", o_.total_steps, ")");
  check(o_.pct_start >= 0 && o_.pct_start <= 1, "OneCycleLR: pct_start must be in [0, 1] (got ", o_.pct_start,
        ")");
  check(o_.anneal_strategy == "cos" || o_.anneal_strategy == "linear",
        "OneCycleLR: anneal_strategy must be 'cos' or 'linear' (got '", o_.anneal_strategy, "')");
  check(o_.div_factor > 0 && o_.final_div_factor > 0,
        "OneCycleLR: div_factor and final_div_factor must be > 0");
  const double N = double(o_.total_steps), p = o_.pct_start;
  // lr endpoints: 0 initial, 1 max, 2 min; momentum endpoints: 0 max_momentum, 1 base_momentum.
  if (o_.three_phase)
    phases_ = {{p * N - 1, 0, 1, 0, 1}, {2 * p * N - 2, 1, 0, 1, 0}, {N - 1, 0, 2, 0, 0}};
  else
    phases_ = {{p * N - 1, 0, 1, 0, 1}, {N - 1, 1, 2, 1, 0}};
  const double initial = o_.max_lr / o_.div_factor;
  for (size_t g = 0; g < opt.num_groups(); ++g) {
    opt.set_initial_lr(g, initial);
    base_lrs_[g] = initial;
  }
  if (o_.cycle_momentum) {
    if (opt.hparam(0, "beta1"))
      momentum_name_ = "beta1";
    else if (opt.hparam(0, "momentum"))
      momentum_name_ = "momentum";
    else
      fail("OneCycleLR: cycle_momentum needs an optimizer with momentum or betas (", opt.type_name(),
           " has neither); set cycle_momentum = false");
    for (size_t g = 0; g < opt.num_groups(); ++g) opt.set(g, momentum_name_, o_.max_momentum);
  }
  initialize();
}

std::vector<double> OneCycleLR::compute_lr() {
  check(last_epoch_ <= o_.total_steps, "OneCycleLR: tried to step ", last_epoch_,
        " times but total_steps is ", o_.total_steps);
  const double initial = o_.max_lr / o_.div_factor;
  const double lr_at[3] = {initial, o_.max_lr, initial / o_.final_div_factor};
  const double mom_at[2] = {o_.max_momentum, o_.base_momentum};
  const bool cos = o_.anneal_strategy == "cos";
  auto anneal = [&](double a, double b, double pct) {
    return cos ? b + (a - b) / 2.0 * (std::cos(kPi * pct) + 1) : (b - a) * pct + a;
  };
  const double step = double(last_epoch_);
  double start = 0, lr = 0, mom = 0;
  for (size_t i = 0; i < phases_.size(); ++i) {
    const Phase& ph = phases_[i];
    if (step <= ph.end_step || i + 1 == phases_.size()) {
      const double pct = (step - start) / (ph.end_step - start);
      lr = anneal(lr_at[ph.start_lr], lr_at[ph.end_lr], pct);
      mom = anneal(mom_at[ph.start_mom], mom_at[ph.end_mom], pct);
      break;
    }
    start = ph.end_step;
  }
  if (momentum_name_)
    for (size_t g = 0; g < opt_.num_groups(); ++g) opt_.set(g, momentum_name_, mom);
  return std::vector<double>(opt_.num_groups(), lr);
}

std::vector<double> OneCycleLR::get_last_momentum() const {
  std::vector<double> m;
  if (momentum_name_)
    for (size_t g = 0; g < opt_.num_groups(); ++g) m.push_back(opt_.get(g, momentum_name_));
  return m;
}

// ---- ReduceLROnPlateau ----------------------------------------------------------------------

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& opt, ReduceLROnPlateauOptions o)
    : LRScheduler(opt), o_(std::move(o)) {
  check(o_.factor < 1.0 && o_.factor >= 0, "ReduceLROnPlateau: factor must be in [0, 1) (got ", o_.factor,
        ")");
  check(o_.mode == "min" || o_.mode == "max", "ReduceLROnPlateau: mode must be 'min' or 'max' (got '",
        o_.mode, "')");
  check(o_.threshold_mode == "rel" || o_.threshold_mode == "abs",
        "ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs' (got '", o_.threshold_mode, "')");
  check(o_.patience >= 0 && o_.cooldown >= 0, "ReduceLROnPlateau: patience and cooldown must be >= 0");
  best_ =
      o_.mode == "min" ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
  last_epoch_ = 0;
  last_lrs_ = current_lrs();
}

bool ReduceLROnPlateau::better(double a) const {
  const bool rel = o_.threshold_mode == "rel";
  if (o_.mode == "min") return rel ? a < best_ * (1 - o_.threshold) : a < best_ - o_.threshold;
  return rel ? a > best_ * (1 + o_.threshold) : a > best_ + o_.threshold;
}

void ReduceLROnPlateau::step() {
  fail("ReduceLROnPlateau: step() needs the monitored metric, call step(metric)");
}

void ReduceLROnPlateau::step(double metric) {
  ++last_epoch_;
  const bool keras = o_.convention == ReduceLROnPlateauOptions::Convention::keras;
  bool counted = false;  // Keras tests patience only on an epoch it counted as bad
  if (keras) {
    // Keras: leave cooldown first; bad epochs count only outside it.
    if (cooldown_counter_ > 0) {
      --cooldown_counter_;
      num_bad_ = 0;
    }
    if (better(metric)) {
      best_ = metric;
      num_bad_ = 0;
    } else if (cooldown_counter_ == 0) {
      ++num_bad_;
      counted = true;
    }
  } else {
    if (better(metric)) {
      best_ = metric;
      num_bad_ = 0;
    } else {
      ++num_bad_;
    }
    if (cooldown_counter_ > 0) {
      --cooldown_counter_;
      num_bad_ = 0;
    }
  }
  if (keras ? counted && num_bad_ >= o_.patience : num_bad_ > o_.patience) {
    for (size_t g = 0; g < opt_.num_groups(); ++g) {
      const double old_lr = opt_.lr(g), new_lr = std::max(old_lr * o_.factor, o_.min_lr);
      if (old_lr - new_lr > o_.eps) opt_.set_lr(g, new_lr);
    }
    cooldown_counter_ = o_.cooldown;
    num_bad_ = 0;
  }
  last_lrs_ = current_lrs();
}

SavedState ReduceLROnPlateau::state_dict() const {
  SavedState sd = LRScheduler::state_dict();
  sd.scalars["best"] = best_;
  sd.scalars["num_bad_epochs"] = double(num_bad_);
  sd.scalars["cooldown_counter"] = double(cooldown_counter_);
  return sd;
}

void ReduceLROnPlateau::load_state_dict(const SavedState& sd) {
  const double best = sd.scalar("best", type_name()), bad = sd.scalar("num_bad_epochs", type_name());
  const double cool = sd.scalar("cooldown_counter", type_name());
  LRScheduler::load_state_dict(sd);
  best_ = best;
  num_bad_ = int64_t(bad);
  cooldown_counter_ = int64_t(cool);
}

// ---- SequentialLR ---------------------------------------------------------------------------

SequentialLR::SequentialLR(Optimizer& opt, std::vector<std::shared_ptr<LRScheduler>> schedulers,
                           std::vector<int64_t> milestones)
    : LRScheduler(opt), schedulers_(std::move(schedulers)), milestones_(std::move(milestones)) {
  check(!schedulers_.empty(), "SequentialLR: no schedulers given");
  check(milestones_.size() + 1 == schedulers_.size(), "SequentialLR: expected ", schedulers_.size() - 1,
        " milestones for ", schedulers_.size(), " schedulers, got ", milestones_.size());
  check(std::is_sorted(milestones_.begin(), milestones_.end()),
        "SequentialLR: milestones must be increasing");
  for (size_t i = 0; i < schedulers_.size(); ++i) {
    check(schedulers_[i] != nullptr, "SequentialLR: scheduler ", i, " is null");
    check(&schedulers_[i]->opt_ == &opt, "SequentialLR: scheduler ", i, " (", schedulers_[i]->type_name(),
          ") belongs to another optimizer");
    check(dynamic_cast<ReduceLROnPlateau*>(schedulers_[i].get()) == nullptr,
          "SequentialLR: ReduceLROnPlateau cannot be sequenced");
  }
  // Undo the epoch-0 step each scheduler applied when built, then start the first one.
  for (size_t g = 0; g < opt.num_groups(); ++g) opt.set_lr(g, opt.initial_lr(g));
  for (auto& s : schedulers_) s->last_epoch_ -= 1;
  schedulers_[0]->step();
  last_epoch_ = 0;
  last_lrs_ = schedulers_[0]->get_last_lr();
}

void SequentialLR::step() {
  ++last_epoch_;
  const size_t idx =
      size_t(std::upper_bound(milestones_.begin(), milestones_.end(), last_epoch_) - milestones_.begin());
  LRScheduler& s = *schedulers_[idx];
  if (idx > 0 && milestones_[idx - 1] == last_epoch_) {
    s.last_epoch_ = 0;
    if (auto* w = dynamic_cast<CosineAnnealingWarmRestarts*>(&s))
      w->step_to(0);
    else
      s.apply(s.restart_lr());
  } else {
    s.step();
  }
  last_lrs_ = s.get_last_lr();
}

SavedState SequentialLR::state_dict() const {
  SavedState sd = LRScheduler::state_dict();
  for (size_t i = 0; i < schedulers_.size(); ++i) {
    const std::string prefix = "schedulers." + std::to_string(i) + ".";
    for (const auto& [k, v] : schedulers_[i]->state_dict().scalars) sd.scalars[prefix + k] = v;
  }
  return sd;
}

void SequentialLR::load_state_dict(const SavedState& sd) {
  std::vector<SavedState> subs(schedulers_.size());
  for (const auto& [k, v] : sd.scalars) {
    if (k.rfind("schedulers.", 0) != 0) continue;
    const size_t dot = k.find('.', 11);
    const size_t i = std::stoul(k.substr(11, dot - 11));
    check(i < schedulers_.size(), "SequentialLR: state dict has scheduler ", i, " but only ",
          schedulers_.size(), " are sequenced");
    subs[i].scalars[k.substr(dot + 1)] = v;
  }
  for (size_t i = 0; i < schedulers_.size(); ++i) schedulers_[i]->load_state_dict(subs[i]);
  LRScheduler::load_state_dict(sd);
}

}  // namespace neurona::optim
