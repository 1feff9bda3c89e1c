// The rows of optim::optimizers() and optim::schedules(): every optimizer and learning-rate
// schedule a user can name, with its options and defaults.
#include "neurona/optim/registry.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "neurona/core/error.hpp"
#include "neurona/core/format.hpp"
#include "neurona/optim/optimizers.hpp"

namespace neurona::optim {

namespace {

using T = OptionType;

// ---- optimizers -----------------------------------------------------------------------------

// An options struct's hyper-parameters as option specs, in visit() order, each with the struct's
// default; beta1 and beta2 become PyTorch's one `betas` list.
struct SpecCollector {
  std::vector<OptionSpec> specs;
  void operator()(const char* name, double& v) { specs.push_back({name, T::Number, format_default(v)}); }
  void operator()(const char* name, bool& v) { specs.push_back({name, T::Bool, v ? "true" : "false"}); }
  std::vector<OptionSpec> with_betas() const {
    std::vector<OptionSpec> out;
    for (size_t i = 0; i < specs.size(); ++i) {
      if (specs[i].name == "beta1" && i + 1 < specs.size() && specs[i + 1].name == "beta2") {
        std::string d = "[";
        d += specs[i].default_value;
        d += ", ";
        d += specs[i + 1].default_value;
        d += "]";
        out.push_back({"betas", T::List, d});
        ++i;
      } else {
        out.push_back(specs[i]);
      }
    }
    return out;
  }
};

// Sets an options struct from the written options; what is not written keeps the struct's default.
struct OptionReader {
  const neurona::Options& o;
  std::vector<double> betas;
  void operator()(const char* name, double& v) {
    const std::string n = name;
    if ((n == "beta1" || n == "beta2") && o.has("betas")) {
      if (betas.empty()) {
        betas = o.numbers("betas");
        check(betas.size() == 2, "betas: expected two numbers [beta1, beta2]");
      }
      v = betas[n == "beta2" ? 1 : 0];
    } else if (o.has(n)) {
      v = o.number(n);
    }
  }
  void operator()(const char* name, bool& v) {
    if (o.has(name)) v = o.flag(name);
  }
};

template <class Opt>
OptimizerEntry optimizer_row(std::string name, std::string summary) {
  typename Opt::Options defaults;
  SpecCollector c;
  defaults.visit(c);
  return make_entry<OptimizerEntry>(
      {std::move(name), {}, "", c.with_betas(), std::move(summary)},
      [](const neurona::Options& o, std::vector<Tensor> params) -> std::shared_ptr<Optimizer> {
        typename Opt::Options opts;
        OptionReader r{o, {}};
        opts.visit(r);
        return std::make_shared<Opt>(std::move(params), opts);
      });
}

// ---- schedules ------------------------------------------------------------------------------

using ScheduleMake =
    std::function<std::shared_ptr<LRScheduler>(const neurona::Options&, Optimizer&, const ScheduleContext&)>;

ScheduleEntry schedule_row(std::string name, std::vector<std::string> aliases, std::string main_key,
                           std::vector<OptionSpec> options, std::string summary, ScheduleMake make,
                           bool list = false) {
  return make_entry<ScheduleEntry>({std::move(name), std::move(aliases), std::move(main_key),
                                    std::move(options), std::move(summary), list},
                                   std::move(make));
}

std::string int_text(int64_t v) { return std::to_string(v); }

// Whole numbers from a list option; none when it is not written.
std::vector<int64_t> whole_numbers(const neurona::Options& o, const std::string& key) {
  std::vector<int64_t> v;
  if (o.has(key))
    for (double x : o.numbers(key)) v.push_back(static_cast<int64_t>(x));
  return v;
}

template <class S, class... A>
std::shared_ptr<LRScheduler> make(Optimizer& opt, A&&... args) {
  return std::make_shared<S>(opt, std::forward<A>(args)...);
}

std::vector<ScheduleEntry> schedule_rows() {
  const StepLROptions step;
  const MultiStepLROptions multistep;
  const CosineAnnealingLROptions cosine;
  const CosineAnnealingWarmRestartsOptions sgdr;
  const LinearLROptions linear;
  const PolynomialLROptions poly;
  const ConstantLROptions constant;
  const OneCycleLROptions one;
  const ReduceLROnPlateauOptions plateau;
  return {
      schedule_row(
          "step", {"steplr"}, "",
          {{"step_size", T::Int, int_text(step.step_size)}, {"gamma", T::Number, format_default(step.gamma)}},
          "PyTorch's StepLR: lr · gamma^⌊epoch / step_size⌋",
          [](const neurona::Options& o, Optimizer& opt, const ScheduleContext&) {
            return make<StepLR>(opt, StepLROptions{o.integer("step_size"), o.number("gamma")});
          }),
      schedule_row("multistep", {"multisteplr", "multi_step"}, "",
                   {{"milestones", T::List}, {"gamma", T::Number, format_default(multistep.gamma)}},
                   "PyTorch's MultiStepLR: lr · gamma at each milestone",
                   [](const neurona::Options& o, Optimizer& opt, const ScheduleContext&) {
                     return make<MultiStepLR>(
                         opt, MultiStepLROptions{whole_numbers(o, "milestones"), o.number("gamma")});
                   }),
      // PyTorch's ExponentialLR has no default gamma; a bare `exponential` has always meant 0.1.
      schedule_row("exponential", {"exponentiallr"}, "gamma", {{"gamma", T::Number, "0.1"}},
                   "PyTorch's ExponentialLR: lr · gamma^epoch",
                   [](const neurona::Options& o, Optimizer& opt, const ScheduleContext&) {
                     return make<ExponentialLR>(opt, o.number("gamma"));
                   }),
      schedule_row("cosine", {"cosineannealinglr", "cosine_annealing"}, "",
                   {{"t_max", T::Int}, {"eta_min", T::Number, format_default(cosine.eta_min)}},
                   "PyTorch's CosineAnnealingLR; t_max defaults to the run's epochs",
                   [](const neurona::Options& o, Optimizer& opt, const ScheduleContext& ctx) {
                     return make<CosineAnnealingLR>(
                         opt, CosineAnnealingLROptions{o.has("t_max") ? o.integer("t_max") : ctx.epochs,
                                                       o.number("eta_min")});
                   }),
      schedule_row("cosine_warm_restarts", {"cosineannealingwarmrestarts", "sgdr"}, "",
                   {{"t_0", T::Int, int_text(sgdr.T_0)},
                    {"t_mult", T::Int, int_text(sgdr.T_mult)},
                    {"eta_min", T::Number, format_default(sgdr.eta_min)}},
                   "PyTorch's CosineAnnealingWarmRestarts (SGDR)",
                   [](const neurona::Options& o, Optimizer& opt, const ScheduleContext&) {
                     return make<CosineAnnealingWarmRestarts>(
                         opt, CosineAnnealingWarmRestartsOptions{o.integer("t_0"), o.integer("t_mult"),
                                                                 o.number("eta_min")});
                   }),
      schedule_row("linear", {"linearlr", "warmup"}, "",
                   {{"start_factor", T::Number, format_default(linear.start_factor)},
                    {"end_factor", T::Number, format_default(linear.end_factor)},
                    {"total_iters", T::Int, int_text(linear.total_iters)}},
                   "PyTorch's LinearLR: a linear warmup of the factor",
                   [](const neurona::Options& o, Optimizer& opt, const ScheduleContext&) {
                     LinearLROptions lo;
                     lo.start_factor = o.number("start_factor");
                     lo.end_factor = o.number("end_factor");
                     lo.total_iters = o.integer("total_iters");
                     return make<LinearLR>(opt, lo);
                   }),
      schedule_row("polynomial", {"polynomiallr"}, "",
                   {{"total_iters", T::Int, int_text(poly.total_iters)},
                    {"power", T::Number, format_default(poly.power)}},
                   "PyTorch's PolynomialLR: decays to 0 at total_iters",
                   [](const neurona::Options& o, Optimizer& opt, const ScheduleContext&) {
                     PolynomialLROptions po;
                     po.total_iters = o.integer("total_iters");
                     po.power = o.number("power");
                     return make<PolynomialLR>(opt, po);
                   }),
      schedule_row("constant", {"constantlr"}, "factor",
                   {{"factor", T::Number, format_default(constant.factor)},
                    {"total_iters", T::Int, int_text(constant.total_iters)}},
                   "PyTorch's ConstantLR: lr · factor for the first total_iters epochs",
                   [](const neurona::Options& o, Optimizer& opt, const ScheduleContext&) {
                     ConstantLROptions co;
                     co.factor = o.number("factor");
                     co.total_iters = o.integer("total_iters");
                     return make<ConstantLR>(opt, co);
                   }),
      // The list's schedules come built (ScheduleContext::items): they must be made on the same
      // optimizer, in order, before SequentialLR, and Options hold text, not entries.
      schedule_row(
          "sequential", {"sequentiallr"}, "", {{"milestones", T::List}},
          "PyTorch's SequentialLR: the listed schedules one after another",
          [](const neurona::Options& o, Optimizer& opt, const ScheduleContext& ctx) {
            return make<SequentialLR>(opt, ctx.items, whole_numbers(o, "milestones"));
          },
          true),
      schedule_row("onecycle", {"onecyclelr", "one_cycle"}, "",
                   {{"max_lr", T::Number},
                    {"total_steps", T::Int},
                    {"pct_start", T::Number, format_default(one.pct_start)},
                    {"anneal_strategy", T::Text, one.anneal_strategy, {"cos", "linear"}},
                    {"cycle_momentum", T::Bool, one.cycle_momentum ? "true" : "false"},
                    {"base_momentum", T::Number, format_default(one.base_momentum)},
                    {"max_momentum", T::Number, format_default(one.max_momentum)},
                    {"div_factor", T::Number, format_default(one.div_factor)},
                    {"final_div_factor", T::Number, format_default(one.final_div_factor)},
                    {"three_phase", T::Bool, one.three_phase ? "true" : "false"}},
                   "PyTorch's OneCycleLR; max_lr defaults to the optimizer's lr, total_steps to epochs × "
                   "steps per epoch",
                   [](const neurona::Options& o, Optimizer& opt, const ScheduleContext& ctx) {
                     OneCycleLROptions oc;
                     oc.max_lr = o.has("max_lr") ? o.number("max_lr") : opt.lr(0);
                     oc.total_steps = o.has("total_steps") ? o.integer("total_steps") : 0;
                     if (oc.total_steps == 0)
                       oc.epochs = ctx.epochs, oc.steps_per_epoch = ctx.steps_per_epoch;
                     oc.pct_start = o.number("pct_start");
                     oc.anneal_strategy = o.text("anneal_strategy");
                     oc.cycle_momentum = o.flag("cycle_momentum");
                     oc.base_momentum = o.number("base_momentum");
                     oc.max_momentum = o.number("max_momentum");
                     oc.div_factor = o.number("div_factor");
                     oc.final_div_factor = o.number("final_div_factor");
                     oc.three_phase = o.flag("three_phase");
                     return make<OneCycleLR>(opt, oc);
                   }),
      schedule_row("reduce_on_plateau", {"reducelronplateau", "plateau"}, "",
                   {{"mode", T::Text, plateau.mode, {"min", "max"}},
                    {"factor", T::Number, format_default(plateau.factor)},
                    {"patience", T::Int, int_text(plateau.patience)},
                    {"threshold", T::Number, format_default(plateau.threshold)},
                    {"threshold_mode", T::Text, plateau.threshold_mode, {"rel", "abs"}},
                    {"cooldown", T::Int, int_text(plateau.cooldown)},
                    {"min_lr", T::Number, format_default(plateau.min_lr)},
                    {"eps", T::Number, format_default(plateau.eps)}},
                   "PyTorch's ReduceLROnPlateau: lowers the lr when the monitored metric stalls",
                   [](const neurona::Options& o, Optimizer& opt, const ScheduleContext&) {
                     ReduceLROnPlateauOptions ro;
                     ro.mode = o.text("mode");
                     ro.factor = o.number("factor");
                     ro.patience = o.integer("patience");
                     ro.threshold = o.number("threshold");
                     ro.threshold_mode = o.text("threshold_mode");
                     ro.cooldown = o.integer("cooldown");
                     ro.min_lr = o.number("min_lr");
                     ro.eps = o.number("eps");
                     return make<ReduceLROnPlateau>(opt, ro);
                   }),
  };
}

}  // namespace

const Registry<OptimizerEntry>& optimizers() {
  static const Registry<OptimizerEntry> r(
      "optimizer", {
                       optimizer_row<SGD>("sgd", "PyTorch's SGD: momentum, dampening, Nesterov"),
                       optimizer_row<Adagrad>("adagrad", "PyTorch's Adagrad"),
                       optimizer_row<RMSprop>("rmsprop", "PyTorch's RMSprop"),
                       optimizer_row<Adadelta>("adadelta", "PyTorch's Adadelta"),
                       optimizer_row<Adam>("adam", "PyTorch's Adam (L2 weight decay in the gradient)"),
                       optimizer_row<AdamW>("adamw", "PyTorch's AdamW (decoupled weight decay)"),
                       optimizer_row<NAdam>("nadam", "PyTorch's NAdam"),
                       optimizer_row<RAdam>("radam", "PyTorch's RAdam"),
                   });
  return r;
}

const Registry<ScheduleEntry>& schedules() {
  static const Registry<ScheduleEntry> r("schedule", schedule_rows());
  return r;
}

}  // namespace neurona::optim
