// Optimizers against PyTorch: the appendix golden vectors (float64 reference, fixed gradients) and
// 50-step trajectories of a small MLP made offline by tests/fixtures/optim/make_optim_fixtures.py.
#include <cmath>
#include <functional>
#include <map>
#include <memory>

#include "test_util.hpp"

namespace neurona::optim {
namespace {

#include "fixtures/optim/optim_trajectories.inc"

// ---- Appendix A golden vectors -------------------------------------------------------------------

using Factory = std::function<std::unique_ptr<Optimizer>(std::vector<Tensor>)>;

template <class Opt>
Factory make(typename Opt::Options o) {
  return [o](std::vector<Tensor> p) { return std::make_unique<Opt>(std::move(p), o); };
}

std::vector<float> run_golden(const Factory& factory) {
  Tensor theta = Tensor::from({1.0f, -2.0f, 0.5f}).requires_grad_();
  auto opt = factory({theta});
  const std::vector<std::vector<float>> grads = {
      {0.5f, -1.0f, 2.0f}, {0.1f, 0.3f, -0.2f}, {-0.4f, 0.8f, 0.05f}, {1.0f, -0.5f, 0.3f}};
  for (const auto& g : grads) {
    theta.set_grad(Tensor::from(g, Shape({3})));
    opt->step();
  }
  return theta.to_vector();
}

struct Golden {
  const char* name;
  Factory factory;
  std::vector<float> expected;
};

TEST(OptimGolden, AppendixVectors) {
  const std::vector<Golden> cases = {
      {"SGD lr=0.1", make<SGD>({.lr = 0.1}), {0.880000000f, -1.960000000f, 0.285000000f}},
      {"SGD momentum dampening wd",
       make<SGD>({.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01}),
       {0.773988502f, -1.804773140f, -0.177241014f}},
      {"SGD nesterov",
       make<SGD>({.lr = 0.1, .momentum = 0.9, .nesterov = true}),
       {0.679255000f, -1.815460000f, -0.320790000f}},
      {"SGD maximize", make<SGD>({.lr = 0.1, .maximize = true}), {1.120000000f, -2.040000000f, 0.715000000f}},
      {"Adagrad",
       make<Adagrad>({.lr = 0.1, .lr_decay = 0.1, .weight_decay = 0.01, .initial_accumulator_value = 0.1}),
       {0.881225013f, -1.948128042f, 0.396407215f}},
      {"RMSprop", make<RMSprop>({}), {0.858199054f, -1.954180943f, 0.392512286f}},
      {"RMSprop centered",
       make<RMSprop>({.lr = 0.01, .weight_decay = 0.01, .momentum = 0.9, .centered = true}),
       {0.627363276f, -1.803422908f, 0.160741298f}},
      {"Adadelta", make<Adadelta>({}), {0.994306494f, -1.999046297f, 0.496449246f}},
      {"Adam", make<Adam>({}), {0.997573718f, -1.998588543f, 0.497463676f}},
      {"Adam wd amsgrad",
       make<Adam>({.weight_decay = 0.1, .amsgrad = true}),
       {0.997157828f, -1.997894567f, 0.497375762f}},
      {"AdamW", make<AdamW>({}), {0.997533766f, -1.998508582f, 0.497443723f}},
      {"NAdam", make<NAdam>({}), {0.996532527f, -1.998824361f, 0.497309993f}},
      {"RAdam", make<RAdam>({}), {0.998859827f, -1.998702803f, 0.496130906f}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto got = run_golden(c.factory);
    for (size_t i = 0; i < 3; ++i)
      EXPECT_NEAR(got[i], c.expected[i], 2e-6 * std::abs(c.expected[i]) + 1e-7) << i;
  }
}

// ---- 50-step MLP trajectories against torch 1.13 -------------------------------------------------

struct Mlp {
  Tensor x = Tensor::from(kFixX, Shape({kFixN, kFixD}));
  Tensor y = Tensor::from(kFixY, Shape({kFixN, kFixO}));
  Tensor W1 = Tensor::from(kFixInit_W1, Shape({kFixD, kFixH})).requires_grad_();
  Tensor b1 = Tensor::from(kFixInit_b1, Shape({kFixH})).requires_grad_();
  Tensor W2 = Tensor::from(kFixInit_W2, Shape({kFixH, kFixO})).requires_grad_();
  Tensor b2 = Tensor::from(kFixInit_b2, Shape({kFixO})).requires_grad_();
  std::vector<Tensor> params() const { return {W1, b1, W2, b2}; }
  Tensor loss() const {
    Tensor h = maximum(matmul(x, W1) + b1, Tensor::scalar(0.f));
    Tensor d = matmul(h, W2) + b2 - y;
    return mean(d * d);
  }
  std::vector<float> flat() const {
    std::vector<float> out;
    for (const auto& p : params()) {
      auto v = p.to_vector();
      out.insert(out.end(), v.begin(), v.end());
    }
    return out;
  }
};

// The optimizer of each fixture, given the MLP's layer-1 and layer-2 parameters.
using GroupFactory = std::function<std::unique_ptr<Optimizer>(std::vector<Tensor>, std::vector<Tensor>)>;

template <class Opt>
GroupFactory one(typename Opt::Options o) {
  return [o](std::vector<Tensor> a, std::vector<Tensor> b) {
    a.insert(a.end(), b.begin(), b.end());
    return std::make_unique<Opt>(std::move(a), o);
  };
}

const std::map<std::string, GroupFactory>& fixture_optimizers() {
  static const std::map<std::string, GroupFactory> m = {
      {"sgd", one<SGD>({.lr = 0.1})},
      {"sgd_momentum_dampening_wd",
       one<SGD>({.lr = 0.05, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01})},
      {"sgd_nesterov", one<SGD>({.lr = 0.05, .momentum = 0.9, .nesterov = true})},
      {"sgd_groups",
       [](std::vector<Tensor> a, std::vector<Tensor> b) {
         return std::make_unique<SGD>(
             std::vector<SGD::Group>{{a, {.lr = 0.01}}, {b, {.lr = 0.1, .momentum = 0.5}}});
       }},
      {"adagrad", one<Adagrad>({.lr = 0.1})},
      {"adagrad_decay_init_wd",
       one<Adagrad>({.lr = 0.1, .lr_decay = 0.01, .weight_decay = 0.01, .initial_accumulator_value = 0.1})},
      {"rmsprop", one<RMSprop>({.lr = 0.01})},
      {"rmsprop_centered_momentum_wd",
       one<RMSprop>({.lr = 0.005, .weight_decay = 0.01, .momentum = 0.9, .centered = true})},
      {"adadelta", one<Adadelta>({})},
      {"adadelta_rho_eps_wd", one<Adadelta>({.lr = 0.5, .rho = 0.95, .eps = 1e-5, .weight_decay = 0.01})},
      {"adam", one<Adam>({.lr = 0.01})},
      {"adam_amsgrad_wd_betas",
       one<Adam>({.lr = 0.01, .betas = {0.8, 0.99}, .weight_decay = 0.1, .amsgrad = true})},
      {"adamw", one<AdamW>({.lr = 0.01})},
      {"adamw_wd_amsgrad", one<AdamW>({.lr = 0.01, .weight_decay = 0.1, .amsgrad = true})},
      {"nadam", one<NAdam>({.lr = 0.01})},
      {"nadam_wd_momentum_decay", one<NAdam>({.lr = 0.01, .weight_decay = 0.01, .momentum_decay = 0.01})},
      {"radam", one<RAdam>({.lr = 0.01})},
      {"radam_wd_betas", one<RAdam>({.lr = 0.01, .betas = {0.9, 0.99}, .weight_decay = 0.01})},
  };
  return m;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, const std::string& where) {
  ASSERT_EQ(got.size(), want.size()) << where;
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 1e-5 * std::abs(want[i]) + 2e-6) << where << " element " << i;
}

TEST(OptimTrajectories, MatchTorchOver50Steps) {
  ASSERT_EQ(kOptimFixtures.size(), fixture_optimizers().size());
  for (const auto& fix : kOptimFixtures) {
    SCOPED_TRACE(fix.name);
    auto it = fixture_optimizers().find(fix.name);
    ASSERT_NE(it, fixture_optimizers().end());
    Mlp mlp;
    auto opt = it->second({mlp.W1, mlp.b1}, {mlp.W2, mlp.b2});
    const std::vector<float> initial = mlp.flat();
    size_t snap = 0;
    for (int step = 1; step <= 50; ++step) {
      opt->zero_grad();
      mlp.loss().backward();
      opt->step();
      if (snap < fix.snapshots.size() && kFixSnapshots[snap] == step)
        expect_close(mlp.flat(), fix.snapshots[snap++],
                     std::string(fix.name) + " step " + std::to_string(step));
    }
    EXPECT_EQ(snap, fix.snapshots.size());
    EXPECT_NE(initial, mlp.flat());  // the run really moved the weights
  }
}

// ---- groups, frozen, missing gradients -------------------------------------------------------

TEST(Optimizer, FrozenGroupAndMissingGradientsAreSkipped) {
  Tensor a = Tensor::from({1.f, 2.f}).requires_grad_();
  Tensor b = Tensor::from({3.f}).requires_grad_();
  Tensor c = Tensor::from({4.f}).requires_grad_();
  SGD sgd(std::vector<SGD::Group>{{{a}, {.lr = 0.5}, true}, {{b, c}, {.lr = 0.1, .momentum = 0.9}}});
  a.set_grad(Tensor::from({1.f, 1.f}));
  b.set_grad(Tensor::from({2.f}));
  sgd.step();  // c has no gradient, a's group is frozen
  EXPECT_EQ(a.to_vector(), (std::vector<float>{1.f, 2.f}));
  EXPECT_FLOAT_EQ(b.item(), 3.f - 0.1f * 2.f);
  EXPECT_FLOAT_EQ(c.item(), 4.f);
  EXPECT_EQ(sgd.state(1, 1).step, 0);
  EXPECT_EQ(sgd.state(1, 0).step, 1);
  sgd.set_frozen(0, false);
  sgd.step();
  EXPECT_FLOAT_EQ(a.to_vector()[0], 0.5f);
  // second momentum step: buf = 0.9·2 + 2 = 3.8
  EXPECT_NEAR(b.item(), 2.8f - 0.1f * 3.8f, 1e-6);
  sgd.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  EXPECT_DOUBLE_EQ(sgd.lr(0), 0.5);
  sgd.set_lr(1, 0.25);
  EXPECT_DOUBLE_EQ(sgd.lr(1), 0.25);
  EXPECT_DOUBLE_EQ(sgd.get(1, "momentum"), 0.9);
}

TEST(Optimizer, ValidatesOptions) {
  Tensor p = Tensor::from({1.f}).requires_grad_();
  EXPECT_ERROR_CONTAINS(SGD({p}, {.lr = -0.1}), "SGD: invalid lr -0.1");
  EXPECT_ERROR_CONTAINS(SGD({p}, {.lr = 0.1, .nesterov = true}), "nesterov needs momentum > 0");
  EXPECT_ERROR_CONTAINS(SGD({p}, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}),
                        "dampening 0.1");
  EXPECT_ERROR_CONTAINS(Adam({p}, {.betas = {0.9, 1.0}}), "Adam: invalid betas[1] 1");
  EXPECT_ERROR_CONTAINS(AdamW({p}, {.betas = {-0.1, 0.9}}), "AdamW: invalid betas[0] -0.1");
  EXPECT_ERROR_CONTAINS(Adam({p}, {.eps = -1}), "invalid eps");
  EXPECT_ERROR_CONTAINS(RMSprop({p}, {.alpha = -0.5}), "RMSprop: invalid alpha -0.5");
  EXPECT_ERROR_CONTAINS(Adadelta({p}, {.rho = 1.5}), "Adadelta: invalid rho 1.5");
  EXPECT_ERROR_CONTAINS(Adagrad({p}, {.lr_decay = -1}), "Adagrad: invalid lr_decay -1");
  EXPECT_ERROR_CONTAINS(NAdam({p}, {.momentum_decay = -1}), "NAdam: invalid momentum_decay -1");
  EXPECT_ERROR_CONTAINS(RAdam({p}, {.weight_decay = -1}), "RAdam: invalid weight_decay -1");
  EXPECT_ERROR_CONTAINS(SGD(std::vector<Tensor>{}), "SGD: parameter group 0 is empty");
  EXPECT_ERROR_CONTAINS(SGD(std::vector<SGD::Group>{{{p}}, {{p}}}), "more than one group");
  SGD ok({p}, {.lr = 0.1});
  EXPECT_ERROR_CONTAINS(ok.set_lr(0, -1.0), "SGD: invalid lr -1");
  EXPECT_DOUBLE_EQ(ok.lr(), 0.1);  // a rejected value leaves the old one
  EXPECT_ERROR_CONTAINS(ok.get(0, "beta1"), "SGD has no hyper-parameter 'beta1'");
  EXPECT_ERROR_CONTAINS(ok.lr(3), "no parameter group 3");
}

TEST(Optimizer, Defaults) {
  Tensor p = Tensor::from({1.f}).requires_grad_();
  EXPECT_DOUBLE_EQ(SGD({p}).lr(), 1e-3);
  EXPECT_DOUBLE_EQ(Adagrad({p}).lr(), 1e-2);
  EXPECT_DOUBLE_EQ(RMSprop({p}).get(0, "alpha"), 0.99);
  EXPECT_DOUBLE_EQ(Adadelta({p}).lr(), 1.0);
  EXPECT_DOUBLE_EQ(Adam({p}).get(0, "weight_decay"), 0.0);
  EXPECT_DOUBLE_EQ(AdamW({p}).get(0, "weight_decay"), 0.01);
  EXPECT_DOUBLE_EQ(NAdam({p}).lr(), 2e-3);
  EXPECT_DOUBLE_EQ(RAdam({p}).get(0, "beta2"), 0.999);
}

// ---- checkpoint state ----------------------------------------------------------------------------

TEST(Optimizer, StateDictResumesExactly) {
  // 20 uninterrupted Adam steps equal 10 steps, a save, a fresh model + optimizer loaded, 10 more.
  Mlp straight;
  Adam a(straight.params(), {.lr = 0.01, .amsgrad = true});
  for (int i = 0; i < 20; ++i) {
    a.zero_grad();
    straight.loss().backward();
    a.step();
  }
  Mlp first;
  Adam b(first.params(), {.lr = 0.01, .amsgrad = true});
  for (int i = 0; i < 10; ++i) {
    b.zero_grad();
    first.loss().backward();
    b.step();
  }
  SavedState sd = b.state_dict();
  EXPECT_EQ(sd.scalars.at("state.0.step"), 10.0);
  EXPECT_EQ(sd.tensors.at("state.2.exp_avg").shape(), Shape({kFixH, kFixO}));
  EXPECT_TRUE(sd.tensors.count("state.3.max_exp_avg_sq"));
  EXPECT_DOUBLE_EQ(sd.scalars.at("param_groups.0.lr"), 0.01);
  Mlp second;
  {
    auto src = first.params(), dst = second.params();
    for (size_t i = 0; i < src.size(); ++i) {
      auto v = src[i].to_vector();
      std::copy(v.begin(), v.end(), dst[i].data());
    }
  }
  Adam c(second.params(), {.lr = 0.5});
  c.load_state_dict(sd);
  EXPECT_DOUBLE_EQ(c.lr(), 0.01);
  EXPECT_TRUE(c.options(0).amsgrad);
  for (int i = 0; i < 10; ++i) {
    c.zero_grad();
    second.loss().backward();
    c.step();
  }
  EXPECT_EQ(second.flat(), straight.flat());
}

TEST(Optimizer, LoadStateDictValidates) {
  Tensor p = Tensor::from({1.f, 2.f}).requires_grad_();
  Adam a({p});
  p.set_grad(Tensor::from({1.f, 1.f}));
  a.step();
  SavedState sd = a.state_dict();

  Tensor q = Tensor::from({1.f, 2.f, 3.f}).requires_grad_();
  Adam wrong_shape({q});
  EXPECT_ERROR_CONTAINS(wrong_shape.load_state_dict(sd), "state 'state.0.exp_avg' has shape");

  SavedState missing = sd;
  missing.tensors.erase("state.0.exp_avg_sq");
  Adam b({p});
  EXPECT_ERROR_CONTAINS(b.load_state_dict(missing), "Adam: state dict has no tensor 'state.0.exp_avg_sq'");

  SavedState extra = sd;
  extra.scalars["param_groups.0.momentum"] = 0.9;
  EXPECT_ERROR_CONTAINS(b.load_state_dict(extra), "unexpected state dict scalar 'param_groups.0.momentum'");

  SavedState bad_lr = sd;
  bad_lr.scalars["param_groups.0.lr"] = -1;
  EXPECT_ERROR_CONTAINS(b.load_state_dict(bad_lr), "Adam: invalid lr -1");
  EXPECT_DOUBLE_EQ(b.lr(), 1e-3);  // untouched after a failed load

  Tensor r = Tensor::from({0.f}).requires_grad_();
  Adam two_groups(std::vector<Adam::Group>{{{p}}, {{r}}});
  EXPECT_ERROR_CONTAINS(two_groups.load_state_dict(sd),
                        "state dict has 1 parameter groups but the optimizer has 2");
}

}  // namespace
}  // namespace neurona::optim
