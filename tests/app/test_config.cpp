// app::parse_config and the config -> objects functions, through the library (no process).
#include <cmath>
#include <sstream>

#include "neurona/app/config.hpp"
#include "test_util.hpp"

namespace {

using namespace neurona;

const char* kTiny = R"(name: tiny
seed: 7
data:
  synthetic: {kind: xor, n: 40}
  split: {val: 0.25}
model:
  layers:
    - {dense: 4, activation: tanh}
    - {dropout: 0.1}
    - {batchnorm: {momentum: 0.2}}
    - {dense: 1, activation: sigmoid}
compile:
  optimizer: {sgd: {lr: 0.1, momentum: 0.9, nesterov: true}}
  loss: binary_crossentropy
  metrics: [accuracy]
  schedule: {step: {step_size: 2, gamma: 0.5}, interval: epoch}
fit: {batch_size: 8, epochs: 3}
callbacks:
  - {early_stopping: {patience: 2}}
)";

TEST(Config, ParsesEverySectionIntoNamedOptions) {
  const app::Config c = app::parse_config(kTiny, "tiny.yaml");
  EXPECT_EQ(c.name, "tiny");
  EXPECT_EQ(c.seed, 7u);
  EXPECT_EQ(c.data.source, "synthetic");
  EXPECT_EQ(c.data.synthetic.kind, "xor");
  EXPECT_EQ(c.data.synthetic.integer("seed", -1), 7);  // the top-level seed by default
  ASSERT_EQ(c.layers.size(), 4u);
  EXPECT_EQ(c.layers[0].integer("units", 0), 4);
  EXPECT_EQ(c.layers[0].text("activation", ""), "tanh");
  EXPECT_DOUBLE_EQ(c.layers[1].number("p", 0), 0.1);
  EXPECT_DOUBLE_EQ(c.layers[2].number("momentum", 0), 0.2);
  EXPECT_EQ(c.compile.optimizer.kind, "sgd");
  EXPECT_TRUE(c.compile.optimizer.flag("nesterov", false));
  EXPECT_EQ(c.compile.loss.kind, "bce");  // Keras's alias, canonical name
  ASSERT_TRUE(c.compile.schedule.has_value());
  EXPECT_EQ(c.compile.schedule->integer("step_size", 0), 2);
  EXPECT_EQ(c.callbacks[0].kind, "early_stopping");
  EXPECT_EQ(app::task_of(c), "binary");
  EXPECT_DOUBLE_EQ(c.hparams.at("compile.optimizer.sgd.lr").number(), 0.1);
  EXPECT_DOUBLE_EQ(c.hparams.at("fit.batch_size").number(), 8);
}

TEST(Config, BuildsTheObjectsItDescribes) {
  const app::Config c = app::parse_config(kTiny, "tiny.yaml");
  const app::PreparedData d = app::load_data(c);
  EXPECT_EQ(d.train.size(), 30);
  ASSERT_TRUE(d.val.has_value());
  EXPECT_EQ(d.val->size(), 10);
  auto net = app::build_model(c, d.input_shape);
  const auto sd = net->state_dict();
  EXPECT_EQ(sd.keys(),
            (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "2.running_mean",
                                      "2.running_var", "2.num_batches_tracked", "3.weight", "3.bias"}));
  EXPECT_EQ(net->at<nn::BatchNorm1d>(2)->options().momentum, 0.2f);
  train::Model model(net);
  model.compile(app::compile_options(c));
  train::FitOptions f = app::fit_options(c, d, *net);
  f.verbose = 0;
  ASSERT_EQ(f.callbacks.size(), 1u);
  const train::History h = model.fit(d.train, f);
  EXPECT_EQ(h.size(), 3u);
  // StepLR(step_size 2, gamma 0.5) on lr 0.1: 0.1, 0.1, 0.05 at the ends of epochs 0, 1, 2 (after stepping).
  EXPECT_NEAR(h["lr"][2], 0.05, 1e-12);
}

TEST(Config, KeyGivenTwiceIsAnErrorNamingBothLines) {
  // Without the check YAML keeps one of the two values and training runs on it silently.
  EXPECT_ERROR_CONTAINS(app::parse_config("name: a\nseed: 1\nseed: 2\n", "twice.yaml"),
                        "twice.yaml:3: key 'seed' is given twice (lines 2 and 3)");
  EXPECT_ERROR_CONTAINS(
      app::parse_config("compile:\n  optimizer: {sgd: {lr: 0.1, lr: 0.2}}\n", "nested.yaml"),
      "key 'lr' is given twice (lines 2 and 2)");
  EXPECT_ERROR_CONTAINS(app::parse_config("model:\n  layers:\n    - {dense: 4, dense: 8}\n", "l.yaml"),
                        "l.yaml:3: key 'dense' is given twice");
  EXPECT_ERROR_CONTAINS(app::parse_config("? [a, b]\n: 1\n", "k.yaml"),
                        "k.yaml:1: a key must be a single word");
}

TEST(Config, TextThatIsNotUtf8IsAnErrorBeforeTraining) {
  // A Latin-1 config used to train, then end in "internal error" writing the weights file's
  // JSON header (which holds the config text).
  EXPECT_ERROR_CONTAINS(app::parse_config("# \xe9pocas\nname: a\n", "latin1.yaml"),
                        "latin1.yaml, line 1, column 3 (byte 0xE9): not UTF-8 text (save the file as UTF-8)");
  // The same in UTF-8 reads on (to the next check: this config has no data).
  EXPECT_ERROR_CONTAINS(app::parse_config("# \xc3\xa9pocas\nname: a\n", "utf8.yaml"), "data: missing");
}

TEST(Config, EmptyOptionsMapIsAnError) {
  // Found by fuzzing: an empty map where a named thing was expected was read past its end.
  EXPECT_ERROR_CONTAINS(app::parse_config("data:\n  synthetic: {}\n", "e.yaml"),
                        "data.synthetic: empty; expected a data set name or {data set: options}");
}

TEST(Config, NonFiniteNumbersAreErrorsNotInternalOnes) {
  auto with_lr = [](const std::string& lr) {
    std::string s = kTiny;
    s.replace(s.find("lr: 0.1,"), 8, "lr: " + lr + ",");
    return s;
  };
  for (const std::string bad : {".nan", ".inf", "-.inf", ".NaN"})
    EXPECT_ERROR_CONTAINS(app::parse_config(with_lr(bad), "t"),
                          "compile.optimizer.sgd.lr: expected a finite number, got '" + bad + "'");
  EXPECT_ERROR_CONTAINS(app::parse_config(kTiny, "t", {"compile.optimizer.sgd.lr=.nan"}),
                        "compile.optimizer.sgd.lr: expected a finite number");
  app::Named n;
  n.path = "model.layers[0]";
  n.options["rate"] = "half";
  EXPECT_ERROR_CONTAINS(n.number("rate", 0), "model.layers[0].rate: expected a number, got 'half'");
  EXPECT_ERROR_CONTAINS(n.integer("rate", 0), "model.layers[0].rate: expected a whole number");
}

TEST(Config, ErrorsNameTheKeyPathAndSuggest) {
  auto with = [](const std::string& from, const std::string& to) {
    std::string s = kTiny;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  EXPECT_ERROR_CONTAINS(app::parse_config(with("{dense: 4, activation: tanh}", "{desne: 4}"), "t"),
                        "model.layers[0]: unknown layer 'desne' (did you mean 'dense'?)");
  EXPECT_ERROR_CONTAINS(app::parse_config(with("momentum: 0.2", "momentun: 0.2"), "t"),
                        "model.layers[2].batchnorm: unknown key 'momentun' (did you mean 'momentum'?)");
  EXPECT_ERROR_CONTAINS(app::parse_config(with("activation: tanh", "activation: tanhh"), "t"),
                        "model.layers[0].activation: unknown value 'tanhh' (did you mean 'tanh'?)");
  EXPECT_ERROR_CONTAINS(app::parse_config(with("{sgd:", "{sdg:"), "t"),
                        "compile.optimizer: unknown optimizer 'sdg' (did you mean 'sgd'?)");
  EXPECT_ERROR_CONTAINS(app::parse_config(with("lr: 0.1,", "lr: fast,"), "t"),
                        "compile.optimizer.sgd.lr: expected a number, got 'fast'");
  EXPECT_ERROR_CONTAINS(app::parse_config(with("early_stopping", "early_stoping"), "t"),
                        "callbacks[0]: unknown callback 'early_stoping' (did you mean 'early_stopping'?)");
  EXPECT_ERROR_CONTAINS(app::parse_config(with("step_size", "stepsize"), "t"),
                        "compile.schedule.step: unknown key 'stepsize' (did you mean 'step_size'?)");
  EXPECT_ERROR_CONTAINS(app::parse_config(with("seed: 7", "sed: 7"), "t"),
                        "unknown key 'sed' (did you mean 'seed'?)");
  EXPECT_ERROR_CONTAINS(app::parse_config(kTiny, "t", {"fit.epochs=zero"}),
                        "fit.epochs: expected a whole number");
  // A kind with no options (relu) lists none, rather than an empty "(valid: )".
  try {
    app::parse_config(with("{dropout: 0.1}", "{relu: {slope: 1}}"), "t");
    ADD_FAILURE() << "expected an error for relu's unknown key";
  } catch (const neurona::Error& e) {
    EXPECT_EQ(std::string(e.what()), "model.layers[1].relu: unknown key 'slope'");
  }
}

// `compile.schedule.sequential` parses into its chained schedules and builds a SequentialLR whose
// rates are torch 1.13's SequentialLR([LinearLR(start_factor=0.1, total_iters=5),
// CosineAnnealingLR(T_max=20)], milestones=[5]) on lr 0.1, across the milestone.
TEST(Config, SequentialScheduleParsesAndBuilds) {
  auto with = [](const std::string& schedule) {
    std::string s = kTiny;
    const std::string from = "{step: {step_size: 2, gamma: 0.5}, interval: epoch}";
    s.replace(s.find(from), from.size(), schedule);
    return s;
  };
  const app::Config c = app::parse_config(with("{sequential: [{linear: {start_factor: 0.1, total_iters: 5}}, "
                                               "{cosine: {t_max: 20}}], milestones: [5]}"),
                                          "t");
  ASSERT_TRUE(c.compile.schedule.has_value());
  const app::Named& s = *c.compile.schedule;
  EXPECT_EQ(s.kind, "sequential");
  ASSERT_EQ(s.items.size(), 2u);
  EXPECT_EQ(s.items[0].kind, "linear");
  EXPECT_EQ(s.items[0].path, "compile.schedule.sequential[0]");
  EXPECT_EQ(s.items[1].integer("t_max", 0), 20);
  EXPECT_EQ(s.numbers("milestones"), std::vector<double>{5});

  optim::SGD opt({Tensor::zeros(Shape({1})).requires_grad_()}, optim::SGDOptions{.lr = 0.1});
  const auto sched = app::compile_options(c).schedule(opt, 1);
  EXPECT_STREQ(sched->type_name(), "SequentialLR");
  const std::vector<double> torch = {
      0.010000000000000002, 0.028000000000000004, 0.046000000000000006, 0.064, 0.082, 0.1,
      0.0993844170297569,   0.09755282581475769,  0.0945503262094184};
  for (size_t t = 0; t < torch.size(); ++t) {
    EXPECT_NEAR(opt.lr(), torch[t], 1e-12) << "epoch " << t;
    sched->step();
  }

  const std::string two = "{sequential: [{linear: {total_iters: 5}}, {cosine: {t_max: 20}}], ";
  EXPECT_ERROR_CONTAINS(app::parse_config(with(two + "milestones: [5, 10]}"), "t"),
                        "compile.schedule.milestones: expected 1 milestone(s) for 2 schedules");
  EXPECT_ERROR_CONTAINS(
      app::parse_config(with("{sequential: [{linear: {total_iters: 5}}, {cosin: {t_max: 20}}], "
                             "milestones: [5]}"),
                        "t"),
      "compile.schedule.sequential[1]: unknown schedule 'cosin' (did you mean 'cosine'?)");
  EXPECT_ERROR_CONTAINS(
      app::parse_config(with("{sequential: {linear: {total_iters: 5}}, milestones: [5]}"), "t"),
      "compile.schedule.sequential: expected a list of schedules");
  EXPECT_ERROR_CONTAINS(
      app::parse_config(with("{sequential: [linear, reduce_on_plateau], milestones: [5]}"), "t"),
      "compile.schedule.sequential[1]: reduce_on_plateau cannot be chained in sequential");
  EXPECT_ERROR_CONTAINS(app::parse_config(with("{sequential: [linear, cosine], milestones: [2.5]}"), "t"),
                        "compile.schedule.milestones[0]: expected a whole number > 0, got 2.5");
}

// polynomial and constant read their options (PyTorch's PolynomialLR and ConstantLR defaults otherwise).
TEST(Config, PolynomialAndConstantSchedulesBuild) {
  auto lrs_of = [](const std::string& schedule) {
    std::string text = kTiny;
    const std::string from = "{step: {step_size: 2, gamma: 0.5}, interval: epoch}";
    text.replace(text.find(from), from.size(), schedule);
    optim::SGD opt({Tensor::zeros(Shape({1})).requires_grad_()}, optim::SGDOptions{.lr = 0.1});
    const auto sched = app::compile_options(app::parse_config(text, "t")).schedule(opt, 1);
    std::vector<double> lrs;
    for (int t = 0; t < 7; ++t, sched->step()) lrs.push_back(opt.lr());
    return lrs;
  };
  // 0.1 · (1 − t/4)²
  const auto poly = lrs_of("{polynomial: {total_iters: 4, power: 2}}");
  const std::vector<double> want_poly = {0.1, 0.05625, 0.025, 0.00625, 0, 0, 0};
  for (size_t t = 0; t < poly.size(); ++t) EXPECT_NEAR(poly[t], want_poly[t], 1e-12) << "epoch " << t;
  // default factor 1/3 for the first 5 epochs, then 0.1; a scalar is the factor.
  const auto constant = lrs_of("constant");
  const auto half = lrs_of("{constant: 0.5}");
  for (size_t t = 0; t < constant.size(); ++t) {
    EXPECT_NEAR(constant[t], t < 5 ? 0.1 / 3 : 0.1, 1e-12) << "epoch " << t;
    EXPECT_NEAR(half[t], t < 5 ? 0.05 : 0.1, 1e-12) << "epoch " << t;
  }
}

TEST(Config, SetReplacesAndAddsKeys) {
  const app::Config c = app::parse_config(kTiny, "t",
                                          {"compile.optimizer.sgd.lr=0.5", "model.layers[0].dense=6",
                                           "compile.loss={huber: {delta: 2}}", "logging.dir=/tmp/x"});
  EXPECT_DOUBLE_EQ(c.compile.optimizer.number("lr", 0), 0.5);
  EXPECT_EQ(c.layers[0].integer("units", 0), 6);
  EXPECT_EQ(c.compile.loss.kind, "huber");
  EXPECT_DOUBLE_EQ(c.compile.loss.number("delta", 0), 2);
  EXPECT_EQ(c.logging.dir, "/tmp/x");
  EXPECT_NE(c.text.find("0.5"), std::string::npos);  // the effective config travels with the run
  EXPECT_ERROR_CONTAINS(app::parse_config(kTiny, "t", {"model.layers[9].dense=6"}),
                        "index 9 is past the end");
}

// Class weights and pos_weight reach the loss the config builds; the numbers are PyTorch's
// (CrossEntropyLoss(weight=[1, 2, 0.5]), BCEWithLogitsLoss(pos_weight=2)), as in test_losses.cpp.
TEST(Config, LossWeightsParseAndReachTheLoss) {
  const Tensor x = Tensor::from({1, 2, 3, 0.5f, 0, -1}, {2, 3}), y = Tensor::from({2, 0});
  const app::Config ce =
      app::parse_config(kTiny, "t", {"compile.loss={cross_entropy: {weight: [1, 2, 0.5]}}"});
  EXPECT_EQ(ce.compile.loss.numbers("weight"), (std::vector<double>{1, 2, 0.5}));
  const auto ce_loss = app::compile_options(ce).loss_object;
  ASSERT_TRUE(ce_loss);
  EXPECT_NEAR((*ce_loss)(x, y).item(), 0.5386223917, 1e-6);
  const app::Config ls = app::parse_config(
      kTiny, "t", {"compile.loss={cross_entropy: {weight: [1, 2, 0.5], label_smoothing: 0.1}}"});
  EXPECT_NEAR((*app::compile_options(ls).loss_object)(x, y).item(), 0.6912285524, 1e-6);
  // A softmax output trains on probabilities: the same weighted mean.
  const app::Config soft = app::parse_config(kTiny, "t",
                                             {"model.layers[3]={dense: 3, activation: softmax}",
                                              "compile.loss={cross_entropy: {weight: [1, 2, 0.5]}}"});
  EXPECT_NEAR((*app::compile_options(soft).loss_object)(nn::F::softmax(x, 1), y).item(), 0.5386223917, 1e-5);
  // The list must have one value per class of the model's output.
  EXPECT_ERROR_CONTAINS((*ce_loss)(Tensor::zeros({2, 4}), y),
                        "compile.loss.cross_entropy.weight: 3 values for 4 classes");

  const Tensor z = Tensor::from({2, -1, 0, -50}, {4, 1}), t = Tensor::from({1, 0, 1, 1}, {4, 1});
  const app::Config bce = app::parse_config(kTiny, "t", {"compile.loss={bce_with_logits: {pos_weight: 2}}"});
  const auto bce_loss = app::compile_options(bce).loss_object;
  ASSERT_TRUE(bce_loss);
  EXPECT_NEAR((*bce_loss)(z, t).item(), 25.4883530177, 1e-4);
  EXPECT_EQ(bce_loss->type_name(), "bce_with_logits");  // metrics still see sigmoid(logits)
  // A list: one value per output column.
  const app::Config cols =
      app::parse_config(kTiny, "t", {"compile.loss={bce_with_logits: {pos_weight: [2, 0.5]}}"});
  const Tensor z2 = Tensor::from({2, -1, 0, -3}, {2, 2}), t2 = Tensor::from({1, 0, 1, 1}, {2, 2});
  EXPECT_NEAR(
      (*app::compile_options(cols).loss_object)(z2, t2).item(),
      nn::F::binary_cross_entropy_with_logits(z2, t2, nn::Reduction::Mean, {}, Tensor::from({2.f, 0.5f}))
          .item(),
      1e-6);
  EXPECT_ERROR_CONTAINS((*app::compile_options(cols).loss_object)(z, t),
                        "compile.loss.bce_with_logits.pos_weight: 2 values for 1 outputs");
  // Probability-form BCE has no pos_weight (as PyTorch's BCELoss).
  EXPECT_ERROR_CONTAINS(app::parse_config(kTiny, "t", {"compile.loss={bce: {pos_weight: 2}}"}),
                        "compile.loss.bce: unknown key 'pos_weight'");
}

// Keras's kernel_regularizer/bias_regularizer: the penalty joins the training loss (which `loss`
// reports) and is logged alone as regularization_loss. The numbers are PyTorch's: the same
// network and weights, SGD(lr=0.1) on mse_loss + 0.01·Σw0² + 0.1·Σ|b0| + 0.01·Σ|w1|, full batch.
TEST(Config, LayerRegularizersJoinTheTrainingLossAsInPyTorch) {
  const char* text = R"(name: reg
data: {synthetic: {kind: xor, n: 8}}
model:
  layers:
    - {dense: 2, activation: tanh, kernel_regularizer: {l2: 0.01}, bias_regularizer: {l1: 0.1}}
    - {dense: 1, kernel_regularizer: l1}
compile: {optimizer: {sgd: {lr: 0.1}}, loss: mse}
fit: {batch_size: 4, epochs: 3, shuffle: false, verbose: 0}
)";
  const app::Config c = app::parse_config(text, "reg.yaml");
  EXPECT_EQ(c.layers[0].numbers("kernel_regularizer"), (std::vector<double>{0, 0.01}));
  EXPECT_EQ(c.layers[1].numbers("kernel_regularizer"), (std::vector<double>{0.01, 0}));  // Keras's default
  auto net = app::build_model(c, Shape({3}));
  {
    NoGradGuard no_grad;
    int k = 0;
    for (auto& [name, p] : net->named_parameters()) {
      float* d = p.data();
      for (int64_t i = 0; i < p.numel(); ++i) d[i] = 0.3f * float(std::sin(1.7 * double(i + 1) + k));
      ++k;
    }
  }
  const Tensor x =
      Tensor::from({0.5f, -1.0f, 2.0f, 1.5f, 0.2f, -0.3f, -0.7f, 0.9f, 0.1f, 0.3f, 0.3f, -1.2f}, {4, 3});
  const Tensor y = Tensor::from({1.0f, -0.5f, 0.25f, 2.0f}, {4, 1});
  train::Model model(net);
  EXPECT_ERROR_CONTAINS(app::compile_options(c),
                        "model.layers[0].kernel_regularizer: compile_options needs the model");
  model.compile(app::compile_options(c, net.get()));
  train::FitOptions f = app::fit_options(c, app::PreparedData{}, *net);
  f.verbose = 0;
  const train::History h = model.fit(data::TensorDataset(x, y), f);
  const std::vector<double> loss = {1.8485131264, 1.4667650461, 1.2356878519};
  const std::vector<double> reg = {0.0482269078, 0.0471862033, 0.0469261296};
  for (size_t e = 0; e < 3; ++e) {
    EXPECT_NEAR(h["loss"][e], loss[e], 1e-6) << "epoch " << e;
    EXPECT_NEAR(h["regularization_loss"][e], reg[e], 1e-6) << "epoch " << e;
  }
  const std::vector<float> w0 = {0.2872987687587738f, -0.07374368607997894f, -0.27229464054107666f,
                                 0.1392693668603897f, 0.22415098547935486f,  -0.14792591333389282f};
  const auto sd = net->state_dict();
  for (size_t i = 0; i < w0.size(); ++i) EXPECT_NEAR(sd.at("0.weight").data()[i], w0[i], 1e-6);
  EXPECT_NEAR(sd.at("1.weight").data()[0], -0.07000178843736649, 1e-6);
  EXPECT_NEAR(sd.at("1.weight").data()[1], -0.3216484785079956, 1e-6);
  EXPECT_NEAR(sd.at("1.bias").data()[0], 0.1605178266763687, 1e-6);

  EXPECT_ERROR_CONTAINS(app::parse_config(text, "t", {"model.layers[1]={dense: 1, kernel_regularizer: l3}"}),
                        "model.layers[1].kernel_regularizer: unknown regularizer 'l3'");
  EXPECT_ERROR_CONTAINS(
      app::parse_config(text, "t", {"model.layers[1]={dense: 1, kernel_regularizer: {l2: -1}}"}),
      "model.layers[1].kernel_regularizer.l2: must be >= 0");
  const app::Config nobias =
      app::parse_config(text, "t", {"model.layers[1]={dense: 1, use_bias: false, bias_regularizer: l2}"});
  auto net2 = app::build_model(nobias, Shape({3}));
  EXPECT_ERROR_CONTAINS(app::compile_options(nobias, net2.get()),
                        "model.layers[1].bias_regularizer: the layer has no bias");
}

}  // namespace

// Multiclass predictions are probabilities: softmax of a logits model's outputs (computed here),
// the outputs as they are after a softmax layer; raw outputs are not labelled p_<class>.
TEST(Config, PredictionsOfMulticlassModelsAreProbabilities) {
  const Tensor logits = Tensor::from({2.f, -1.f, 0.5f, 0.f, 0.f, 3.f}, {2, 3});
  app::WeightsMetadata meta;
  meta.task = "multiclass";
  auto rows = [](const std::string& csv) {
    std::vector<std::vector<std::string>> r;
    std::stringstream in(csv);
    for (std::string line; std::getline(in, line);) {
      r.emplace_back();
      std::stringstream cells(line);
      for (std::string cell; std::getline(cells, cell, ',');) r.back().push_back(cell);
    }
    return r;
  };
  auto config = [](const std::string& last, const std::string& loss) {
    std::string text = kTiny;
    text.replace(text.find("{dense: 1, activation: sigmoid}"), 31, last);
    text.replace(text.find("binary_crossentropy"), 19, loss);
    return app::parse_config(text, "tiny.yaml");
  };
  const auto ce = rows(app::predictions_csv(logits, config("{dense: 3}", "cross_entropy"), meta));
  ASSERT_EQ(ce.size(), 3u);
  EXPECT_EQ(ce[0], (std::vector<std::string>{"p_0", "p_1", "p_2", "class"}));
  const float* z = logits.data();
  for (int i = 0; i < 2; ++i) {
    double denom = 0, sum = 0;
    for (int j = 0; j < 3; ++j) denom += std::exp(double(z[i * 3 + j]));
    for (int j = 0; j < 3; ++j) {
      const double p = std::stod(ce[i + 1][j]);
      EXPECT_NEAR(p, std::exp(double(z[i * 3 + j])) / denom, 1e-6) << i << "," << j;
      sum += p;
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
  EXPECT_EQ(ce[1][3], "0");
  EXPECT_EQ(ce[2][3], "2");

  // A softmax output layer already gives probabilities: written unchanged.
  const Tensor probs = Tensor::from({0.7f, 0.2f, 0.1f, 0.25f, 0.25f, 0.5f}, {2, 3});
  const auto sm =
      rows(app::predictions_csv(probs, config("{dense: 3, activation: softmax}", "cross_entropy"), meta));
  EXPECT_EQ(sm[0][0], "p_0");
  EXPECT_NEAR(std::stod(sm[1][0]), 0.7, 1e-6);
  EXPECT_NEAR(std::stod(sm[2][2]), 0.5, 1e-6);

  // nll trains on log-probabilities: exp gives them back.
  const auto nll = rows(app::predictions_csv(log(probs), config("{dense: 3}", "nll"), meta));
  EXPECT_NEAR(std::stod(nll[1][0]), 0.7, 1e-6);

  // Any other loss: raw outputs, not named as probabilities.
  const auto mse = rows(app::predictions_csv(logits, config("{dense: 3}", "mse"), meta));
  EXPECT_EQ(mse[0], (std::vector<std::string>{"output_0", "output_1", "output_2", "class"}));
  EXPECT_NEAR(std::stod(mse[1][0]), 2.0, 1e-6);
}

// evaluate --confusion-matrix counts the classes predict writes: probability > 0.5 for a binary
// model (sigmoid of logits under bce_with_logits), labelled with the schema's class names.
TEST(Config, ConfusionMatrixCountsPredictsClasses) {
  app::WeightsMetadata meta;
  meta.task = "binary";
  data::CsvSchema schema;
  schema.targets.push_back({.name = "answer", .categorical = true, .categories = {"no", "yes"}});
  meta.schema = schema;
  const Tensor y = Tensor::from({0, 1, 0, 1}, {4, 1});
  // Logits -1, 0.5, 2, -0.2 -> classes 0, 1, 1, 0; the sigmoid layer's 0.3, 0.6, 0.9, 0.4 too.
  const app::Config logits =
      app::parse_config(kTiny, "t", {"model.layers[3]={dense: 1}", "compile.loss=bce_with_logits"});
  const app::Config sigmoid = app::parse_config(kTiny, "t");
  for (const auto& [config, out] : std::vector<std::pair<app::Config, Tensor>>{
           {logits, Tensor::from({-1, 0.5f, 2, -0.2f}, {4, 1})},
           {sigmoid, Tensor::from({0.3f, 0.6f, 0.9f, 0.4f}, {4, 1})}}) {
    const nn::metrics::ConfusionMatrix cm = app::confusion_matrix(out, y, config, meta);
    EXPECT_EQ(cm.counts(), (std::vector<int64_t>{1, 1, 1, 1}));
    EXPECT_EQ(cm.table(app::class_names(meta, cm.num_classes)),
              "true \\ predicted  no  yes\n"
              "no                 1    1\n"
              "yes                1    1\n");
  }
  EXPECT_EQ(app::class_names(app::WeightsMetadata{}, 3), (std::vector<std::string>{"0", "1", "2"}));
  meta.task = "regression";
  EXPECT_ERROR_CONTAINS(app::confusion_matrix(Tensor::zeros({4, 1}), y, sigmoid, meta),
                        "--confusion-matrix: needs a classification model (binary or multiclass), this one's "
                        "task is regression");

  // Cross-entropy after a softmax layer says the outputs are probabilities, with or without class
  // weights, so auc does not apply a second softmax.
  for (const std::string loss : {"cross_entropy", "{cross_entropy: {weight: [1, 2, 0.5]}}"}) {
    const app::Config soft = app::parse_config(
        kTiny, "t", {"model.layers[3]={dense: 3, activation: softmax}", "compile.loss=" + loss});
    const auto name = app::compile_options(soft).loss_object->type_name();
    EXPECT_EQ(name, "cross_entropy_on_probabilities") << loss;
    EXPECT_EQ(train::loss_task(name).task, "multiclass");
    EXPECT_FALSE(train::loss_task(name).logits);
  }
  EXPECT_TRUE(train::loss_task("cross_entropy").logits);
  EXPECT_EQ(train::loss_task("BCEWithLogitsLoss").task, "binary");
  EXPECT_EQ(train::loss_task("huber").task, "regression");
  EXPECT_EQ(train::loss_task("my_loss").task, "");
}
