// optim::optimizers() and optim::schedules(): lookup by the words users type, defaults equal to
// PyTorch's, the objects the factories build, and docs/config.md kept in step with both tables.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "neurona/app/config.hpp"
#include "neurona/neurona.hpp"
#include "neurona/optim/registry.hpp"
#include "test_util.hpp"

using namespace neurona;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The rows of the docs/config.md table whose header line is `header`.
std::vector<std::string> table_after(const std::string& doc, const std::string& header) {
  std::vector<std::string> rows;
  std::istringstream in(doc);
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line == header)
      inside = true;
    else if (inside && line.rfind("| ---", 0) == 0)
      continue;
    else if (inside && line.rfind("| `", 0) == 0)
      rows.push_back(line);
    else if (inside)
      break;
  }
  return rows;
}

std::string first_cell(const std::string& row) { return row.substr(0, row.find('|', 1)); }

std::string row_naming(const std::vector<std::string>& rows, const std::string& word) {
  for (const auto& r : rows)
    if (first_cell(r).find("`" + word + "`") != std::string::npos) return r;
  return "";
}

// Every entry, alias and option is in its table, each default after its option's name: "`eps`
// (1e-8)", "`betas` ([0.9, 0.999])" or "default `cos`"; every row of the table names an entry.
template <class E>
void expect_documented(const Registry<E>& reg, const std::string& header) {
  const std::string doc = read_file(std::string(NEURONA_SOURCE_DIR) + "/docs/config.md");
  const auto rows = table_after(doc, header);
  ASSERT_FALSE(rows.empty()) << "no table headed '" << header << "' in docs/config.md";
  for (const auto& e : reg.entries()) {
    SCOPED_TRACE(e.name);
    const std::string row = row_naming(rows, e.name);
    ASSERT_FALSE(row.empty()) << "docs/config.md has no row for " << reg.kind() << " '" << e.name << "'";
    for (const auto& a : e.aliases)
      EXPECT_NE(first_cell(row).find("`" + a + "`"), std::string::npos) << "alias " << a << ": " << row;
    for (const auto& o : e.options) {
      const size_t at = row.find("`" + o.name + "`");
      EXPECT_NE(at, std::string::npos) << "option " << o.name << ": " << row;
      if (at == std::string::npos || o.default_value.empty()) continue;
      const std::string after = row.substr(at, 60);
      EXPECT_TRUE(after.find("(" + o.default_value + ")") != std::string::npos ||
                  after.find("(" + o.default_value + ",") != std::string::npos ||
                  after.find("default `" + o.default_value + "`") != std::string::npos)
          << "default of " << o.name << " (" << o.default_value << ") is not in: " << row;
    }
  }
  for (const auto& r : rows) {
    const std::string cell = first_cell(r);
    const size_t a = cell.find('`'), b = cell.find('`', a + 1);
    EXPECT_NE(reg.find(cell.substr(a + 1, b - a - 1)), nullptr)
        << "the docs list a " << reg.kind() << " the registry lacks: " << r;
  }
}

// One parameter with a gradient, for the optimizers to hold.
std::vector<Tensor> one_param() {
  Tensor w = Tensor::from({1.f, -2.f}, {2}).requires_grad_(true);
  return {w};
}

}  // namespace

TEST(OptimizerRegistry, FindsOptimizersByTheirNamesInAnyCase) {
  const auto& r = optim::optimizers();
  EXPECT_EQ(r.get("Adam").name, "adam");
  EXPECT_EQ(r.get("AdamW").name, "adamw");
  EXPECT_EQ(r.get("RMSprop").name, "rmsprop");
  EXPECT_EQ(r.get("SGD").name, "sgd");
  EXPECT_EQ(r.get("Nadam").name, "nadam");  // Keras's spelling
  EXPECT_EQ(r.find("lbfgs"), nullptr);
  EXPECT_ERROR_CONTAINS(r.get("adma"), "unknown optimizer 'adma' (did you mean 'adam'?)");
  EXPECT_EQ(r.names(), (std::vector<std::string>{"sgd", "adagrad", "rmsprop", "adadelta", "adam", "adamw",
                                                 "nadam", "radam"}));
}

TEST(ScheduleRegistry, FindsSchedulesByTheirNamesAndPyTorchClassNames) {
  const auto& r = optim::schedules();
  EXPECT_EQ(r.get("StepLR").name, "step");
  EXPECT_EQ(r.get("MultiStepLR").name, "multistep");
  EXPECT_EQ(r.get("multi_step").name, "multistep");
  EXPECT_EQ(r.get("ExponentialLR").name, "exponential");
  EXPECT_EQ(r.get("CosineAnnealingLR").name, "cosine");
  EXPECT_EQ(r.get("SGDR").name, "cosine_warm_restarts");
  EXPECT_EQ(r.get("warmup").name, "linear");
  EXPECT_EQ(r.get("PolynomialLR").name, "polynomial");
  EXPECT_EQ(r.get("ConstantLR").name, "constant");
  EXPECT_EQ(r.get("SequentialLR").name, "sequential");
  EXPECT_TRUE(r.get("sequential").list);
  EXPECT_EQ(r.get("OneCycleLR").name, "onecycle");
  EXPECT_EQ(r.get("ReduceLROnPlateau").name, "reduce_on_plateau");
  EXPECT_EQ(r.get("plateau").name, "reduce_on_plateau");
  EXPECT_EQ(r.get("exponential").main_key, "gamma");
  EXPECT_EQ(r.get("constant").main_key, "factor");
  EXPECT_ERROR_CONTAINS(r.get("cosin"), "unknown schedule 'cosin' (did you mean 'cosine'?)");
}

TEST(OptimizerRegistry, DefaultsArePyTorchs) {
  // torch.optim's signatures (PyTorch 2.x; SGD's lr=1e-3 is 2.x's default, 1.13 required it).
  const std::map<std::string, std::map<std::string, double>> torch = {
      {"sgd", {{"lr", 1e-3}, {"momentum", 0}, {"dampening", 0}, {"weight_decay", 0}}},
      {"adagrad",
       {{"lr", 1e-2},
        {"lr_decay", 0},
        {"weight_decay", 0},
        {"initial_accumulator_value", 0},
        {"eps", 1e-10}}},
      {"rmsprop", {{"lr", 1e-2}, {"alpha", 0.99}, {"eps", 1e-8}, {"weight_decay", 0}, {"momentum", 0}}},
      {"adadelta", {{"lr", 1.0}, {"rho", 0.9}, {"eps", 1e-6}, {"weight_decay", 0}}},
      {"adam", {{"lr", 1e-3}, {"eps", 1e-8}, {"weight_decay", 0}}},
      {"adamw", {{"lr", 1e-3}, {"eps", 1e-8}, {"weight_decay", 1e-2}}},
      {"nadam", {{"lr", 2e-3}, {"eps", 1e-8}, {"weight_decay", 0}, {"momentum_decay", 4e-3}}},
      {"radam", {{"lr", 1e-3}, {"eps", 1e-8}, {"weight_decay", 0}}},
  };
  for (const auto& e : optim::optimizers().entries()) {
    SCOPED_TRACE(e.name);
    const Options o = e.options_from({});
    ASSERT_TRUE(torch.count(e.name));
    size_t numbers = 0;
    for (const auto& spec : e.options) {
      if (spec.type == OptionType::Bool) {
        EXPECT_FALSE(o.flag(spec.name)) << spec.name;  // nesterov, amsgrad, centered, maximize
      } else if (spec.name == "betas") {
        EXPECT_EQ(spec.default_value, "[0.9, 0.999]");
        EXPECT_EQ(o.numbers("betas"), (std::vector<double>{0.9, 0.999}));
      } else {
        ASSERT_TRUE(torch.at(e.name).count(spec.name)) << spec.name;
        EXPECT_EQ(o.number(spec.name), torch.at(e.name).at(spec.name)) << spec.name;
        ++numbers;
      }
    }
    EXPECT_EQ(numbers, torch.at(e.name).size());
  }
  // The options are PyTorch's argument names, in its order.
  EXPECT_EQ(optim::optimizers().get("adam").option_names(),
            (std::vector<std::string>{"lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"}));
  EXPECT_EQ(
      optim::optimizers().get("sgd").option_names(),
      (std::vector<std::string>{"lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"}));
}

TEST(ScheduleRegistry, DefaultsArePyTorchs) {
  // torch.optim.lr_scheduler's signatures; "" where PyTorch requires the value and Neurona takes
  // it from the run (t_max, total_steps) or the optimizer (max_lr).
  const std::map<std::string, std::map<std::string, std::string>> torch = {
      {"step", {{"step_size", "1"}, {"gamma", "0.1"}}},  // step_size: required in PyTorch
      {"multistep", {{"milestones", ""}, {"gamma", "0.1"}}},
      {"exponential", {{"gamma", "0.1"}}},  // gamma: required in PyTorch
      {"cosine", {{"t_max", ""}, {"eta_min", "0"}}},
      {"cosine_warm_restarts",
       {{"t_0", "1"}, {"t_mult", "1"}, {"eta_min", "0"}}},  // T_0: required in PyTorch
      {"linear", {{"start_factor", "1/3"}, {"end_factor", "1"}, {"total_iters", "5"}}},
      {"polynomial", {{"total_iters", "5"}, {"power", "1"}}},
      {"constant", {{"factor", "1/3"}, {"total_iters", "5"}}},
      {"sequential", {{"milestones", ""}}},
      {"onecycle",
       {{"max_lr", ""},
        {"total_steps", ""},
        {"pct_start", "0.3"},
        {"anneal_strategy", "cos"},
        {"cycle_momentum", "true"},
        {"base_momentum", "0.85"},
        {"max_momentum", "0.95"},
        {"div_factor", "25"},
        {"final_div_factor", "10000"},
        {"three_phase", "false"}}},
      {"reduce_on_plateau",
       {{"mode", "min"},
        {"factor", "0.1"},
        {"patience", "10"},
        {"threshold", "0.0001"},
        {"threshold_mode", "rel"},
        {"cooldown", "0"},
        {"min_lr", "0"},
        {"eps", "1e-8"}}},
  };
  for (const auto& e : optim::schedules().entries()) {
    SCOPED_TRACE(e.name);
    ASSERT_TRUE(torch.count(e.name));
    std::map<std::string, std::string> got;
    for (const auto& spec : e.options) got[spec.name] = spec.default_value;
    EXPECT_EQ(got, torch.at(e.name));
  }
  // The texts read back as the LibTorch-style structs' values, 1/3 exactly.
  EXPECT_EQ(optim::schedules().get("linear").options_from({}).number("start_factor"),
            optim::LinearLROptions{}.start_factor);
  EXPECT_EQ(optim::schedules().get("reduce_on_plateau").options_from({}).number("threshold"), 1e-4);
  EXPECT_EQ(optim::schedules().get("reduce_on_plateau").options_from({}).number("eps"), 1e-8);
}

TEST(OptimizerRegistry, DefaultTextIsShortAndReadsBack) {
  EXPECT_EQ(format_default(0.001), "0.001");
  EXPECT_EQ(format_default(1e-8), "1e-8");
  EXPECT_EQ(format_default(1e-10), "1e-10");
  EXPECT_EQ(format_default(0.0001), "0.0001");
  EXPECT_EQ(format_default(0.004), "0.004");
  EXPECT_EQ(format_default(1.0 / 3.0), "1/3");
  EXPECT_EQ(format_default(10000), "10000");
  EXPECT_EQ(format_default(25), "25");
  EXPECT_EQ(format_default(0), "0");
  EXPECT_EQ(format_default(0.999), "0.999");
  EXPECT_EQ(format_default(1e20), "1e20");
  EXPECT_EQ(format_default(1e-20), "1e-20");
}

TEST(OptimizerRegistry, FactoriesBuildTheClassWithTheWrittenOptions) {
  const auto& adamw = optim::optimizers().get("adamw");
  auto opt = adamw.make(adamw.options_from({{"lr", "0.01"}, {"betas", "0.8,0.99"}, {"amsgrad", "true"}}),
                        one_param());
  auto* a = dynamic_cast<optim::AdamW*>(opt.get());
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->options(0).lr, 0.01);
  EXPECT_EQ(a->options(0).betas[0], 0.8);
  EXPECT_EQ(a->options(0).betas[1], 0.99);
  EXPECT_TRUE(a->options(0).amsgrad);
  EXPECT_EQ(a->options(0).weight_decay, 0.01);  // not written: AdamW's default
  EXPECT_EQ(a->options(0).eps, 1e-8);

  const auto& sgd = optim::optimizers().get("SGD");
  auto s = std::dynamic_pointer_cast<optim::SGD>(
      sgd.make(sgd.options_from({{"lr", "0.1"}, {"momentum", "0.9"}, {"nesterov", "true"}}), one_param()));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->options(0).momentum, 0.9);
  EXPECT_TRUE(s->options(0).nesterov);
  EXPECT_FALSE(s->options(0).maximize);

  // Every row builds its own class with its defaults.
  const std::map<std::string, std::string> classes = {
      {"sgd", "SGD"},   {"adagrad", "Adagrad"}, {"rmsprop", "RMSprop"}, {"adadelta", "Adadelta"},
      {"adam", "Adam"}, {"adamw", "AdamW"},     {"nadam", "NAdam"},     {"radam", "RAdam"}};
  for (const auto& e : optim::optimizers().entries()) {
    auto o = e.make(e.options_from({}), one_param());
    EXPECT_EQ(std::string(o->type_name()), classes.at(e.name));
    EXPECT_EQ(o->lr(0), e.options_from({}).number("lr")) << e.name;
  }

  // PyTorch's betas is two numbers; the class still checks each one's range.
  const auto& adam = optim::optimizers().get("adam");
  EXPECT_ERROR_CONTAINS(adam.make(adam.options_from({{"betas", "0.9"}}), one_param()),
                        "betas: expected two numbers [beta1, beta2]");
  EXPECT_ERROR_CONTAINS(adam.make(adam.options_from({{"betas", "0.9,1"}}), one_param()),
                        "Adam: invalid betas[1] 1");
}

TEST(ScheduleRegistry, FactoriesBuildTheClassWithTheWrittenOptionsAndTheRun) {
  optim::SGD opt(one_param(), {.lr = 0.1});
  const auto& r = optim::schedules();

  // cosine without t_max anneals over the run's epochs: eta_min at epoch 10.
  auto cos = r.get("cosine").make(r.get("cosine").options_from({}), opt, {.epochs = 10});
  ASSERT_TRUE(dynamic_cast<optim::CosineAnnealingLR*>(cos.get()));
  for (int i = 0; i < 5; ++i) cos->step();
  EXPECT_NEAR(opt.lr(0), 0.05, 1e-12);  // 0.1 · (1 + cos(π/2)) / 2
  for (int i = 0; i < 5; ++i) cos->step();
  EXPECT_NEAR(opt.lr(0), 0.0, 1e-12);

  // onecycle: max_lr is the optimizer's lr, the length epochs × steps per epoch; it starts at
  // max_lr / div_factor.
  optim::SGD opt2(one_param(), {.lr = 0.1, .momentum = 0.9});
  auto one =
      r.get("onecycle").make(r.get("onecycle").options_from({}), opt2, {.epochs = 2, .steps_per_epoch = 5});
  ASSERT_TRUE(dynamic_cast<optim::OneCycleLR*>(one.get()));
  EXPECT_NEAR(opt2.lr(0), 0.1 / 25, 1e-12);
  for (int i = 0; i < 9; ++i) one->step();  // the last of 10 steps: max_lr / (div_factor · final_div_factor)
  EXPECT_NEAR(opt2.lr(0), 0.1 / 25 / 1e4, 1e-12);

  // Written options: StepLR(step_size=2, gamma=0.5).
  optim::SGD opt3(one_param(), {.lr = 1.0});
  auto step =
      r.get("StepLR").make(r.get("step").options_from({{"step_size", "2"}, {"gamma", "0.5"}}), opt3, {});
  step->step(), step->step();
  EXPECT_EQ(opt3.lr(0), 0.5);

  // sequential: LinearLR(start_factor=0.1) then ExponentialLR(0.5) from milestone 2, built from
  // its items.
  optim::SGD opt4(one_param(), {.lr = 1.0});
  optim::ScheduleContext ctx{.epochs = 5};
  ctx.items.push_back(r.get("linear").make(
      r.get("linear").options_from({{"start_factor", "0.1"}, {"total_iters", "2"}}), opt4, ctx));
  ctx.items.push_back(
      r.get("exponential").make(r.get("exponential").options_from({{"gamma", "0.5"}}), opt4, ctx));
  auto seq = r.get("sequential").make(r.get("sequential").options_from({{"milestones", "2"}}), opt4, ctx);
  ASSERT_TRUE(dynamic_cast<optim::SequentialLR*>(seq.get()));
  EXPECT_NEAR(opt4.lr(0), 0.1, 1e-12);
  seq->step();
  EXPECT_NEAR(opt4.lr(0), 0.55, 1e-12);
  seq->step();  // milestone: the exponential schedule starts at its epoch 0
  EXPECT_NEAR(opt4.lr(0), 1.0, 1e-12);
  seq->step();
  EXPECT_NEAR(opt4.lr(0), 0.5, 1e-12);

  // reduce_on_plateau with Text options.
  optim::SGD opt5(one_param(), {.lr = 1.0});
  auto plateau =
      r.get("plateau").make(r.get("plateau").options_from({{"mode", "max"}, {"patience", "0"}}), opt5, {});
  plateau->step(1.0);
  plateau->step(0.5);  // worse for mode max, patience 0: reduce by factor 0.1
  EXPECT_NEAR(opt5.lr(0), 0.1, 1e-12);

  // Every row builds its class.
  const std::map<std::string, std::string> classes = {{"step", "StepLR"},
                                                      {"multistep", "MultiStepLR"},
                                                      {"exponential", "ExponentialLR"},
                                                      {"cosine", "CosineAnnealingLR"},
                                                      {"cosine_warm_restarts", "CosineAnnealingWarmRestarts"},
                                                      {"linear", "LinearLR"},
                                                      {"polynomial", "PolynomialLR"},
                                                      {"constant", "ConstantLR"},
                                                      {"sequential", "SequentialLR"},
                                                      {"onecycle", "OneCycleLR"},
                                                      {"reduce_on_plateau", "ReduceLROnPlateau"}};
  for (const auto& e : r.entries()) {
    optim::SGD o(one_param(), {.lr = 0.1, .momentum = 0.9});
    optim::ScheduleContext c{.epochs = 3, .steps_per_epoch = 4};
    std::map<std::string, std::string> values;
    if (e.name == "sequential") {
      for (int i = 0; i < 2; ++i)
        c.items.push_back(r.get("constant").make(r.get("constant").options_from({}), o, c));
      values["milestones"] = "2";
    }
    auto s = e.make(e.options_from(values), o, c);
    EXPECT_EQ(std::string(s->type_name()), classes.at(e.name));
  }
}

TEST(OptimizerRegistry, DocsListEveryOptimizerOptionAndDefault) {
  expect_documented(optim::optimizers(), "| optimizer | options |");
}

TEST(ScheduleRegistry, DocsListEveryScheduleOptionAndDefault) {
  expect_documented(optim::schedules(), "| schedule | options |");
}

// A config's optimizer and schedule are the registries' rows: PyTorch's words, written options,
// defaults for the rest, and a wrong `betas` named by its key.
TEST(OptimizerRegistry, ConfigOptimizerAndScheduleAreBuiltFromTheRegistries) {
  const std::string base = R"(data: {synthetic: {kind: xor, n: 20}}
model: {layers: [{dense: 1}]}
compile:
  loss: mse
)";
  const app::Config c = app::parse_config(base +
                                              "  optimizer: {AdamW: {lr: 0.01, betas: [0.8, 0.99]}}\n  "
                                              "schedule: {CosineAnnealingLR: {eta_min: 0.001}}\n"
                                              "fit: {epochs: 4}\n",
                                          "t");
  EXPECT_EQ(c.compile.optimizer.kind, "adamw");
  EXPECT_EQ(c.compile.schedule->kind, "cosine");
  const train::CompileOptions o = app::compile_options(c);
  auto opt = o.optimizer(one_param());
  auto* a = dynamic_cast<optim::AdamW*>(opt.get());
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->options(0).lr, 0.01);
  EXPECT_EQ(a->options(0).betas[0], 0.8);
  EXPECT_EQ(a->options(0).betas[1], 0.99);
  EXPECT_EQ(a->options(0).weight_decay, 0.01);
  auto sched = o.schedule(*opt, 10);
  ASSERT_TRUE(dynamic_cast<optim::CosineAnnealingLR*>(sched.get()));
  for (int i = 0; i < 4; ++i) sched->step();  // t_max is fit.epochs: eta_min at epoch 4
  EXPECT_NEAR(opt->lr(0), 0.001, 1e-10);

  const app::Config bad = app::parse_config(base + "  optimizer: {adam: {betas: [0.9]}}\n", "t");
  EXPECT_ERROR_CONTAINS(app::compile_options(bad).optimizer(one_param()),
                        "compile.optimizer.betas: expected two numbers [beta1, beta2]");
}
