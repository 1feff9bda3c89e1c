// Learning-rate schedules against torch 1.13 sequences (100 steps, base lr 0.1) made offline by
// tests/fixtures/optim/make_schedule_fixtures.py, plus the reference table's short sequences.
#include <cmath>
#include <functional>
#include <map>
#include <memory>

#include "test_util.hpp"

namespace neurona::optim {
namespace {

#include "fixtures/optim/schedule_sequences.inc"

double plateau_metric(int t) {
  if (t < 20) return 1.0 / (1 + t);
  if (t < 70) return 0.05 + 0.001 * std::sin(double(t));
  return 0.04;
}

struct Sched {
  std::unique_ptr<Optimizer> opt;
  std::shared_ptr<LRScheduler> sched;
};
using Maker = std::function<Sched()>;

Tensor param() { return Tensor::zeros(Shape({1})).requires_grad_(); }
std::unique_ptr<Optimizer> sgd(double momentum = 0) {
  return std::make_unique<SGD>(std::vector<Tensor>{param()}, SGDOptions{.lr = 0.1, .momentum = momentum});
}

template <class S, class... Args>
Maker with_sgd(Args... args) {
  return [=] {
    Sched r{sgd(), nullptr};
    r.sched = std::make_shared<S>(*r.opt, args...);
    return r;
  };
}

const std::map<std::string, Maker>& makers() {
  static const std::map<std::string, Maker> m = {
      {"step_lr", with_sgd<StepLR>(StepLROptions{.step_size = 7, .gamma = 0.5})},
      {"multi_step_lr",
       with_sgd<MultiStepLR>(MultiStepLROptions{.milestones = {10, 30, 30, 75}, .gamma = 0.3})},
      {"exponential_lr", with_sgd<ExponentialLR>(0.97)},
      {"cosine_annealing_lr",
       with_sgd<CosineAnnealingLR>(CosineAnnealingLROptions{.T_max = 30, .eta_min = 0.002})},
      {"cosine_warm_restarts", with_sgd<CosineAnnealingWarmRestarts>(CosineAnnealingWarmRestartsOptions{
                                   .T_0 = 5, .T_mult = 2, .eta_min = 0.001})},
      {"cosine_warm_restarts_mult1",
       with_sgd<CosineAnnealingWarmRestarts>(CosineAnnealingWarmRestartsOptions{.T_0 = 12})},
      {"cosine_warm_restarts_fractional",
       with_sgd<CosineAnnealingWarmRestarts>(
           CosineAnnealingWarmRestartsOptions{.T_0 = 3, .T_mult = 2, .eta_min = 0.01})},
      {"linear_lr",
       with_sgd<LinearLR>(LinearLROptions{.start_factor = 0.05, .end_factor = 0.8, .total_iters = 40})},
      {"lambda_lr", with_sgd<LambdaLR>(std::function<double(int64_t)>([](int64_t t) {
         return std::min(1.0, double(t + 1) / 10) * 0.5 * (1 + std::cos(M_PI * double(t) / 100));
       }))},
      {"one_cycle_cos_sgd",
       [] {
         Sched r{sgd(0.9), nullptr};
         r.sched = std::make_shared<OneCycleLR>(*r.opt, OneCycleLROptions{.max_lr = 0.5, .total_steps = 100});
         return r;
       }},
      {"one_cycle_linear_three_phase_adam",
       [] {
         Sched r{std::make_unique<Adam>(std::vector<Tensor>{param()}, AdamOptions{.lr = 0.1}), nullptr};
         r.sched = std::make_shared<OneCycleLR>(*r.opt, OneCycleLROptions{.max_lr = 0.01,
                                                                          .epochs = 10,
                                                                          .steps_per_epoch = 10,
                                                                          .pct_start = 0.25,
                                                                          .anneal_strategy = "linear",
                                                                          .base_momentum = 0.8,
                                                                          .max_momentum = 0.9,
                                                                          .div_factor = 10,
                                                                          .final_div_factor = 100,
                                                                          .three_phase = true});
         return r;
       }},
      {"reduce_on_plateau_rel", with_sgd<ReduceLROnPlateau>(ReduceLROnPlateauOptions{
                                    .factor = 0.5, .patience = 3, .cooldown = 2, .min_lr = 0.004})},
      {"reduce_on_plateau_abs_max",
       with_sgd<ReduceLROnPlateau>(ReduceLROnPlateauOptions{
           .mode = "max", .factor = 0.3, .patience = 5, .threshold = 0.01, .threshold_mode = "abs"})},
      {"sequential_warmup_cosine",
       [] {
         Sched r{sgd(), nullptr};
         auto warm = std::make_shared<LinearLR>(
             *r.opt, LinearLROptions{.start_factor = 0.1, .end_factor = 1.0, .total_iters = 10});
         auto cos = std::make_shared<CosineAnnealingLR>(
             *r.opt, CosineAnnealingLROptions{.T_max = 90, .eta_min = 0.001});
         r.sched = std::make_shared<SequentialLR>(
             *r.opt, std::vector<std::shared_ptr<LRScheduler>>{warm, cos}, std::vector<int64_t>{10});
         return r;
       }},
      {"sequential_three",
       [] {
         Sched r{sgd(), nullptr};
         auto a = std::make_shared<LinearLR>(
             *r.opt, LinearLROptions{.start_factor = 0.5, .end_factor = 0.5, .total_iters = 5});
         auto b = std::make_shared<ExponentialLR>(*r.opt, 0.95);
         auto c = std::make_shared<StepLR>(*r.opt, StepLROptions{.step_size = 7, .gamma = 0.5});
         r.sched = std::make_shared<SequentialLR>(*r.opt, std::vector<std::shared_ptr<LRScheduler>>{a, b, c},
                                                  std::vector<int64_t>{5, 40});
         return r;
       }},
      {"polynomial_lr_default", with_sgd<PolynomialLR>(PolynomialLROptions{})},
      {"polynomial_lr_squared", with_sgd<PolynomialLR>(PolynomialLROptions{.total_iters = 40, .power = 2.0})},
      {"constant_lr_default", with_sgd<ConstantLR>(ConstantLROptions{})},
      {"constant_lr_half", with_sgd<ConstantLR>(ConstantLROptions{.factor = 0.5, .total_iters = 30})},
      {"sequential_config_example",
       [] {
         Sched r{sgd(), nullptr};
         auto warm =
             std::make_shared<LinearLR>(*r.opt, LinearLROptions{.start_factor = 0.1, .total_iters = 5});
         auto cos = std::make_shared<CosineAnnealingLR>(*r.opt, CosineAnnealingLROptions{.T_max = 20});
         r.sched = std::make_shared<SequentialLR>(
             *r.opt, std::vector<std::shared_ptr<LRScheduler>>{warm, cos}, std::vector<int64_t>{5});
         return r;
       }},
      {"sequential_poly_constant",
       [] {
         Sched r{sgd(), nullptr};
         auto a =
             std::make_shared<PolynomialLR>(*r.opt, PolynomialLROptions{.total_iters = 20, .power = 2.0});
         auto b = std::make_shared<ConstantLR>(*r.opt, ConstantLROptions{.factor = 0.25, .total_iters = 10});
         auto c = std::make_shared<ExponentialLR>(*r.opt, 0.9);
         r.sched = std::make_shared<SequentialLR>(*r.opt, std::vector<std::shared_ptr<LRScheduler>>{a, b, c},
                                                  std::vector<int64_t>{15, 40});
         return r;
       }},
  };
  return m;
}

TEST(Schedules, MatchTorchOver100Steps) {
  ASSERT_EQ(kScheduleFixtures.size(), makers().size());
  for (const auto& fix : kScheduleFixtures) {
    SCOPED_TRACE(fix.name);
    auto it = makers().find(fix.name);
    ASSERT_NE(it, makers().end());
    Sched r = it->second();
    const std::string name = fix.name;
    const bool plateau = name.rfind("reduce_on_plateau", 0) == 0;
    auto* cycle = dynamic_cast<OneCycleLR*>(r.sched.get());
    ASSERT_EQ(fix.lrs.size(), 100u);
    for (int t = 0; t < 100; ++t) {
      EXPECT_NEAR(r.opt->lr(), fix.lrs[t], 1e-7 * std::abs(fix.lrs[t]) + 1e-12) << "step " << t;
      if (!fix.momentum.empty()) {
        ASSERT_NE(cycle, nullptr);
        EXPECT_NEAR(cycle->get_last_momentum()[0], fix.momentum[t], 1e-9) << "momentum, step " << t;
      }
      if (name == "cosine_warm_restarts_fractional")
        dynamic_cast<CosineAnnealingWarmRestarts&>(*r.sched).step_to((t + 1) / 4.0);
      else if (plateau)
        r.sched->step(name == "reduce_on_plateau_rel" ? plateau_metric(t) : -plateau_metric(t));
      else if (!(cycle && t == 99))
        r.sched->step();
    }
  }
}

std::vector<double> sequence(LRScheduler& s, int n) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(s.optimizer().lr());
    s.step();
  }
  return out;
}

void expect_seq(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "step " << i;
}

// The worked sequences of training_frameworks.md §2 (rounded to 4 digits there).
TEST(Schedules, ReferenceTableSequences) {
  {
    auto opt = sgd();
    CosineAnnealingLR s(*opt, {.T_max = 4});
    expect_seq(sequence(s, 9), {0.1, 0.0854, 0.05, 0.0146, 0.0, 0.0146, 0.05, 0.0854, 0.1}, 1e-4);
  }
  {
    auto opt = sgd();
    CosineAnnealingWarmRestarts s(*opt, {.T_0 = 3, .T_mult = 2});
    expect_seq(sequence(s, 10), {0.1, 0.075, 0.025, 0.1, 0.0933, 0.075, 0.05, 0.025, 0.0067, 0.1}, 1e-4);
  }
  {
    auto opt = sgd();
    auto a = std::make_shared<LinearLR>(
        *opt, LinearLROptions{.start_factor = 0.1, .end_factor = 1.0, .total_iters = 3});
    auto b = std::make_shared<CosineAnnealingLR>(*opt, CosineAnnealingLROptions{.T_max = 5});
    SequentialLR s(*opt, {a, b}, {3});
    expect_seq(sequence(s, 10), {0.01, 0.04, 0.07, 0.1, 0.0905, 0.0655, 0.0345, 0.0095, 0.0, 0.0095}, 1e-4);
  }
  {
    auto opt = sgd();
    OneCycleLR s(*opt, {.max_lr = 1.0, .total_steps = 10, .three_phase = true});
    expect_seq(sequence(s, 9), {0.04, 0.52, 1.0, 0.52, 0.04, 0.0362, 0.0262, 0.0138, 0.0038}, 1e-4);
    s.step();  // epoch 10 = total_steps is still allowed, as in PyTorch
    EXPECT_ERROR_CONTAINS(s.step(), "OneCycleLR: tried to step 11 times but total_steps is 10");
  }
}

TEST(Schedules, PlateauConventions) {
  // PyTorch: patience 2, factor 0.5 on 1.0, 0.9, 0.9, … → 0.5 from the 5th call (bad epochs > 2).
  auto run = [](ReduceLROnPlateauOptions::Convention c) {
    auto opt = sgd();
    opt->set_lr(1.0);
    ReduceLROnPlateau s(*opt, {.factor = 0.5, .patience = 2, .convention = c});
    std::vector<double> lrs;
    for (double m : {1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9}) {
      s.step(m);
      lrs.push_back(opt->lr());
    }
    return lrs;
  };
  expect_seq(run(ReduceLROnPlateauOptions::Convention::pytorch), {1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25}, 0);
  // Keras: reduce when wait >= patience, one epoch earlier.
  expect_seq(run(ReduceLROnPlateauOptions::Convention::keras), {1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.125}, 0);

  // With cooldown 1: PyTorch zeroes the bad count in the cooldown epoch; Keras leaves cooldown
  // first and counts that epoch (Keras's ReduceLROnPlateau.on_epoch_end order).
  auto cool = [](ReduceLROnPlateauOptions::Convention c) {
    auto opt = sgd();
    opt->set_lr(1.0);
    ReduceLROnPlateau s(*opt, {.factor = 0.5, .patience = 2, .cooldown = 1, .convention = c});
    std::vector<double> lrs;
    for (int i = 0; i < 9; ++i) {
      s.step(i == 0 ? 1.0 : 2.0);
      lrs.push_back(opt->lr());
    }
    return lrs;
  };
  // PyTorch: reduce at the 4th call (3 bad > 2), cooldown eats call 5, reduce again at call 8.
  expect_seq(cool(ReduceLROnPlateauOptions::Convention::pytorch), {1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25},
             0);
  // Keras: reduce at the 3rd call (2 bad >= 2); call 4 leaves cooldown and counts, reduce at call 5.
  expect_seq(cool(ReduceLROnPlateauOptions::Convention::keras),
             {1, 1, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.0625}, 0);
}

TEST(Schedules, StateDictResumes) {
  auto opt = sgd();
  auto a = std::make_shared<LinearLR>(*opt, LinearLROptions{.start_factor = 0.1, .total_iters = 4});
  auto b = std::make_shared<CosineAnnealingWarmRestarts>(
      *opt, CosineAnnealingWarmRestartsOptions{.T_0 = 3, .T_mult = 2});
  SequentialLR s(*opt, {a, b}, {4});
  for (int i = 0; i < 9; ++i) s.step();
  SavedState sd = s.state_dict();
  SavedState osd = opt->state_dict();
  const auto expected = sequence(s, 10);

  auto opt2 = sgd();
  auto a2 = std::make_shared<LinearLR>(*opt2, LinearLROptions{.start_factor = 0.1, .total_iters = 4});
  auto b2 = std::make_shared<CosineAnnealingWarmRestarts>(
      *opt2, CosineAnnealingWarmRestartsOptions{.T_0 = 3, .T_mult = 2});
  SequentialLR s2(*opt2, {a2, b2}, {4});
  opt2->load_state_dict(osd);
  s2.load_state_dict(sd);
  expect_seq(sequence(s2, 10), expected, 1e-15);
  EXPECT_EQ(s2.last_epoch(), 19);

  auto opt3 = sgd();
  ReduceLROnPlateau p(*opt3, {.patience = 1});
  EXPECT_ERROR_CONTAINS(p.load_state_dict(sd), "ReduceLROnPlateau: state dict has no scalar 'best'");
}

TEST(Schedules, ValidatesOptions) {
  auto opt = sgd();
  EXPECT_ERROR_CONTAINS(StepLR(*opt, {.step_size = 0}), "StepLR: step_size must be > 0 (got 0)");
  EXPECT_ERROR_CONTAINS(CosineAnnealingLR(*opt, {.T_max = 0}), "CosineAnnealingLR: T_max must be > 0");
  EXPECT_ERROR_CONTAINS(LinearLR(*opt, {.start_factor = 0}),
                        "LinearLR: start_factor must be in (0, 1] (got 0)");
  EXPECT_ERROR_CONTAINS(PolynomialLR(*opt, {.total_iters = 0}),
                        "PolynomialLR: total_iters must be > 0 (got 0)");
  EXPECT_ERROR_CONTAINS(ConstantLR(*opt, {.factor = 1.5}), "ConstantLR: factor must be in (0, 1] (got 1.5)");
  EXPECT_ERROR_CONTAINS(OneCycleLR(*opt, {.max_lr = 1}),
                        "OneCycleLR: give total_steps, or epochs and steps_per_epoch");
  EXPECT_ERROR_CONTAINS(OneCycleLR(*opt, {.max_lr = 1, .total_steps = 5, .anneal_strategy = "cosine"}),
                        "anneal_strategy must be 'cos' or 'linear' (got 'cosine')");
  EXPECT_ERROR_CONTAINS(ReduceLROnPlateau(*opt, {.factor = 1.0}),
                        "ReduceLROnPlateau: factor must be in [0, 1) (got 1)");
  EXPECT_ERROR_CONTAINS(ReduceLROnPlateau(*opt, {.mode = "lowest"}),
                        "mode must be 'min' or 'max' (got 'lowest')");
  ReduceLROnPlateau p(*opt);
  EXPECT_ERROR_CONTAINS(p.step(), "needs the monitored metric");
  Adagrad ada({param()});
  EXPECT_ERROR_CONTAINS(
      OneCycleLR(ada, {.max_lr = 1, .total_steps = 5}),
      "OneCycleLR: cycle_momentum needs an optimizer with momentum or betas (Adagrad has neither)");
  auto other = sgd();
  auto foreign = std::make_shared<StepLR>(*other, StepLROptions{});
  EXPECT_ERROR_CONTAINS(SequentialLR(*opt, {foreign}, {}),
                        "scheduler 0 (StepLR) belongs to another optimizer");
  auto mine = std::make_shared<StepLR>(*opt, StepLROptions{});
  EXPECT_ERROR_CONTAINS(SequentialLR(*opt, {mine}, {3}),
                        "SequentialLR: expected 0 milestones for 1 schedulers, got 1");
}

}  // namespace
}  // namespace neurona::optim
