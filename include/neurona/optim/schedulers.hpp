#pragma once
// Learning-rate schedules with PyTorch's formulas (the recursive forms of torch 1.13, so the
// sequences match it exactly). Constructing one applies step 0 to the optimizer; then call
// step() once per epoch or once per batch, after optimizer.step():
//
//   optim::CosineAnnealingLR sched(opt, {.T_max = 100});
//   for (...) { opt.step(); sched.step(); }
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "neurona/optim/optimizer.hpp"

namespace neurona::optim {

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  virtual const char* type_name() const = 0;
  virtual void step();
  // Metric-driven schedules (ReduceLROnPlateau) use the metric; the others ignore it.
  virtual void step(double metric);
  const std::vector<double>& get_last_lr() const { return last_lrs_; }
  int64_t last_epoch() const { return last_epoch_; }
  Optimizer& optimizer() { return opt_; }

  // Scalars "last_epoch", "base_lrs.<g>", "last_lrs.<g>" plus each schedule's own counters.
  virtual SavedState state_dict() const;
  virtual void load_state_dict(const SavedState& sd);

 protected:
  explicit LRScheduler(Optimizer& opt);
  // Applies epoch 0; each concrete constructor calls it last (virtual calls need the full object).
  void initialize();
  virtual std::vector<double> compute_lr() = 0;  // lrs for last_epoch_
  // Lrs when (re)started at epoch 0 by SequentialLR (PyTorch's closed form at epoch 0).
  virtual std::vector<double> restart_lr() { return compute_lr(); }
  void apply(const std::vector<double>& lrs);
  std::vector<double> current_lrs() const;

  Optimizer& opt_;
  std::vector<double> base_lrs_;
  std::vector<double> last_lrs_;
  int64_t last_epoch_ = -1;
  friend class SequentialLR;
};

// lr = base · f(epoch), for any callable.
class LambdaLR : public LRScheduler {
 public:
  LambdaLR(Optimizer& opt, std::function<double(int64_t)> lr_lambda);
  const char* type_name() const override { return "LambdaLR"; }

 protected:
  std::vector<double> compute_lr() override;
  std::function<double(int64_t)> f_;
};

struct StepLROptions {
  int64_t step_size = 1;
  double gamma = 0.1;
};
// lr = base · gamma^⌊epoch / step_size⌋.
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& opt, StepLROptions o);
  const char* type_name() const override { return "StepLR"; }

 protected:
  std::vector<double> compute_lr() override;
  std::vector<double> restart_lr() override { return base_lrs_; }
  StepLROptions o_;
};

struct MultiStepLROptions {
  std::vector<int64_t> milestones;
  double gamma = 0.1;
};
// lr = base · gamma^(number of milestones ≤ epoch).
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& opt, MultiStepLROptions o);
  const char* type_name() const override { return "MultiStepLR"; }

 protected:
  std::vector<double> compute_lr() override;
  std::vector<double> restart_lr() override { return base_lrs_; }
  MultiStepLROptions o_;
};

// lr = base · gamma^epoch.
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& opt, double gamma);
  const char* type_name() const override { return "ExponentialLR"; }

 protected:
  std::vector<double> compute_lr() override;
  std::vector<double> restart_lr() override { return base_lrs_; }
  double gamma_;
};

struct CosineAnnealingLROptions {
  int64_t T_max = 1;
  double eta_min = 0;
};
// Cosine from base to eta_min over T_max steps; keeps going past T_max (period 2·T_max).
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& opt, CosineAnnealingLROptions o);
  const char* type_name() const override { return "CosineAnnealingLR"; }

 protected:
  std::vector<double> compute_lr() override;
  std::vector<double> restart_lr() override { return base_lrs_; }
  CosineAnnealingLROptions o_;
};

struct CosineAnnealingWarmRestartsOptions {
  int64_t T_0 = 1;
  int64_t T_mult = 1;
  double eta_min = 0;
};
// Cosine over T_i steps, then back to base with T_i ← T_i · T_mult (SGDR).
class CosineAnnealingWarmRestarts : public LRScheduler {
 public:
  CosineAnnealingWarmRestarts(Optimizer& opt, CosineAnnealingWarmRestartsOptions o);
  const char* type_name() const override { return "CosineAnnealingWarmRestarts"; }
  void step() override;
  void step_to(double epoch);  // fractional epochs, e.g. epoch + batch / batches_per_epoch
  SavedState state_dict() const override;
  void load_state_dict(const SavedState& sd) override;

 protected:
  std::vector<double> compute_lr() override;
  CosineAnnealingWarmRestartsOptions o_;
  double T_cur_ = -1;
  int64_t T_i_;
};

struct LinearLROptions {
  double start_factor = 1.0 / 3.0;
  double end_factor = 1.0;
  int64_t total_iters = 5;
};
// lr = base · (start + (end − start) · min(epoch, total_iters) / total_iters): linear warmup.
class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& opt, LinearLROptions o = {});
  const char* type_name() const override { return "LinearLR"; }

 protected:
  std::vector<double> compute_lr() override;
  std::vector<double> restart_lr() override;
  LinearLROptions o_;
};

struct PolynomialLROptions {
  int64_t total_iters = 5;
  double power = 1.0;
};
// lr = base · (1 − min(epoch, total_iters) / total_iters)^power: reaches 0 at total_iters.
class PolynomialLR : public LRScheduler {
 public:
  PolynomialLR(Optimizer& opt, PolynomialLROptions o = {});
  const char* type_name() const override { return "PolynomialLR"; }

 protected:
  std::vector<double> compute_lr() override;
  std::vector<double> restart_lr() override { return base_lrs_; }
  PolynomialLROptions o_;
};

struct ConstantLROptions {
  double factor = 1.0 / 3.0;
  int64_t total_iters = 5;
};
// lr = base · factor before total_iters, base from then on.
class ConstantLR : public LRScheduler {
 public:
  ConstantLR(Optimizer& opt, ConstantLROptions o = {});
  const char* type_name() const override { return "ConstantLR"; }

 protected:
  std::vector<double> compute_lr() override;
  std::vector<double> restart_lr() override;
  ConstantLROptions o_;
};

struct OneCycleLROptions {
  double max_lr = 0;        // required (> 0)
  int64_t total_steps = 0;  // or epochs × steps_per_epoch
  int64_t epochs = 0;
  int64_t steps_per_epoch = 0;
  double pct_start = 0.3;
  std::string anneal_strategy = "cos";  // "cos" or "linear"
  bool cycle_momentum = true;           // cycles SGD/RMSprop momentum or Adam-family beta1
  double base_momentum = 0.85;
  double max_momentum = 0.95;
  double div_factor = 25.0;
  double final_div_factor = 1e4;
  bool three_phase = false;
};
// The 1cycle policy (per batch): warm up to max_lr, then anneal far below the start; momentum
// moves the opposite way. Overwrites the optimizer's lr (and momentum) at construction.
class OneCycleLR : public LRScheduler {
 public:
  OneCycleLR(Optimizer& opt, OneCycleLROptions o);
  const char* type_name() const override { return "OneCycleLR"; }
  std::vector<double> get_last_momentum() const;

 protected:
  std::vector<double> compute_lr() override;
  struct Phase {
    double end_step;
    int start_lr, end_lr;    // 0 initial, 1 max, 2 min lr
    int start_mom, end_mom;  // 0 max_momentum, 1 base_momentum
  };
  OneCycleLROptions o_;
  std::vector<Phase> phases_;
  const char* momentum_name_ = nullptr;  // "momentum" or "beta1"
};

struct ReduceLROnPlateauOptions {
  enum class Convention { pytorch, keras };
  std::string mode = "min";  // "min" or "max"
  double factor = 0.1;       // < 1
  int64_t patience = 10;
  double threshold = 1e-4;
  std::string threshold_mode = "rel";  // "rel" or "abs" (Keras's min_delta is abs)
  int64_t cooldown = 0;
  double min_lr = 0;
  double eps = 1e-8;
  // pytorch: reduce when bad epochs > patience; keras: when bad epochs >= patience (one earlier).
  Convention convention = Convention::pytorch;
};
// Lowers the lr by `factor` when the monitored metric stops improving. Call step(metric).
class ReduceLROnPlateau : public LRScheduler {
 public:
  ReduceLROnPlateau(Optimizer& opt, ReduceLROnPlateauOptions o = {});
  const char* type_name() const override { return "ReduceLROnPlateau"; }
  void step() override;  // throws: the metric is needed
  void step(double metric) override;
  SavedState state_dict() const override;
  void load_state_dict(const SavedState& sd) override;
  int64_t num_bad_epochs() const { return num_bad_; }

 protected:
  std::vector<double> compute_lr() override { return current_lrs(); }
  bool better(double a) const;
  ReduceLROnPlateauOptions o_;
  double best_;
  int64_t num_bad_ = 0;
  int64_t cooldown_counter_ = 0;
};

// Runs schedulers one after another, handing over at each milestone (e.g. warmup then cosine).
// The schedulers must be built on the same optimizer, in order, before this one.
class SequentialLR : public LRScheduler {
 public:
  SequentialLR(Optimizer& opt, std::vector<std::shared_ptr<LRScheduler>> schedulers,
               std::vector<int64_t> milestones);
  const char* type_name() const override { return "SequentialLR"; }
  void step() override;
  SavedState state_dict() const override;  // sub-schedules under "schedulers.<i>."
  void load_state_dict(const SavedState& sd) override;

 protected:
  std::vector<double> compute_lr() override { return current_lrs(); }
  std::vector<std::shared_ptr<LRScheduler>> schedulers_;
  std::vector<int64_t> milestones_;
};

}  // namespace neurona::optim
