// app::parse_config and the config -> objects functions, through the library (no process).
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
  EXPECT_EQ(sd.keys(), (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "3.weight", "3.bias",
                                                 "2.running_mean", "2.running_var", "2.num_batches_tracked"}));
  EXPECT_EQ(net->at<nn::BatchNorm1d>(2)->config.momentum, 0.2f);
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
  EXPECT_ERROR_CONTAINS(app::parse_config(with("seed: 7", "sed: 7"), "t"), "unknown key 'sed' (did you mean 'seed'?)");
  EXPECT_ERROR_CONTAINS(app::parse_config(kTiny, "t", {"fit.epochs=zero"}), "fit.epochs: expected a whole number");
}

TEST(Config, SetReplacesAndAddsKeys) {
  const app::Config c = app::parse_config(kTiny, "t", {"compile.optimizer.sgd.lr=0.5", "model.layers[0].dense=6",
                                                       "compile.loss={huber: {delta: 2}}", "logging.dir=/tmp/x"});
  EXPECT_DOUBLE_EQ(c.compile.optimizer.number("lr", 0), 0.5);
  EXPECT_EQ(c.layers[0].integer("units", 0), 6);
  EXPECT_EQ(c.compile.loss.kind, "huber");
  EXPECT_DOUBLE_EQ(c.compile.loss.number("delta", 0), 2);
  EXPECT_EQ(c.logging.dir, "/tmp/x");
  EXPECT_NE(c.text.find("0.5"), std::string::npos);  // the effective config travels with the run
  EXPECT_ERROR_CONTAINS(app::parse_config(kTiny, "t", {"model.layers[9].dense=6"}), "index 9 is past the end");
}

// Class weights and pos_weight reach the loss the config builds; the numbers are PyTorch's
// (CrossEntropyLoss(weight=[1, 2, 0.5]), BCEWithLogitsLoss(pos_weight=2)), as in test_losses.cpp.
TEST(Config, LossWeightsParseAndReachTheLoss) {
  const Tensor x = Tensor::from({1, 2, 3, 0.5f, 0, -1}, {2, 3}), y = Tensor::from({2, 0});
  const app::Config ce = app::parse_config(kTiny, "t", {"compile.loss={cross_entropy: {weight: [1, 2, 0.5]}}"});
  EXPECT_EQ(ce.compile.loss.numbers("weight"), (std::vector<double>{1, 2, 0.5}));
  const auto ce_loss = app::compile_options(ce).loss_object;
  ASSERT_TRUE(ce_loss);
  EXPECT_NEAR((*ce_loss)(x, y).item(), 0.5386223917, 1e-6);
  const app::Config ls = app::parse_config(
      kTiny, "t", {"compile.loss={cross_entropy: {weight: [1, 2, 0.5], label_smoothing: 0.1}}"});
  EXPECT_NEAR((*app::compile_options(ls).loss_object)(x, y).item(), 0.6912285524, 1e-6);
  // A softmax output trains on probabilities: the same weighted mean.
  const app::Config soft = app::parse_config(
      kTiny, "t",
      {"model.layers[3]={dense: 3, activation: softmax}", "compile.loss={cross_entropy: {weight: [1, 2, 0.5]}}"});
  EXPECT_NEAR((*app::compile_options(soft).loss_object)(nn::F::softmax(x, 1), y).item(), 0.5386223917, 1e-5);
  // The list must have one value per class of the model's output.
  EXPECT_ERROR_CONTAINS((*ce_loss)(Tensor::zeros({2, 4}), y),
                        "compile.loss.cross_entropy.weight: 3 values for 4 classes");

  const Tensor z = Tensor::from({2, -1, 0, -50}, {4, 1}), t = Tensor::from({1, 0, 1, 1}, {4, 1});
  const app::Config bce = app::parse_config(kTiny, "t", {"compile.loss={bce_with_logits: {pos_weight: 2}}"});
  const auto bce_loss = app::compile_options(bce).loss_object;
  ASSERT_TRUE(bce_loss);
  EXPECT_NEAR((*bce_loss)(z, t).item(), 25.4883530177, 1e-4);
  EXPECT_EQ(bce_loss->name(), "bce_with_logits");  // metrics still see sigmoid(logits)
  // A list: one value per output column.
  const app::Config cols = app::parse_config(kTiny, "t", {"compile.loss={bce_with_logits: {pos_weight: [2, 0.5]}}"});
  const Tensor z2 = Tensor::from({2, -1, 0, -3}, {2, 2}), t2 = Tensor::from({1, 0, 1, 1}, {2, 2});
  EXPECT_NEAR((*app::compile_options(cols).loss_object)(z2, t2).item(),
              nn::F::binary_cross_entropy_with_logits(z2, t2, nn::Reduction::Mean, {}, Tensor::from({2.f, 0.5f}))
                  .item(),
              1e-6);
  EXPECT_ERROR_CONTAINS((*app::compile_options(cols).loss_object)(z, t),
                        "compile.loss.bce_with_logits.pos_weight: 2 values for 1 outputs");
  // Probability-form BCE has no pos_weight (as PyTorch's BCELoss).
  EXPECT_ERROR_CONTAINS(app::parse_config(kTiny, "t", {"compile.loss={bce: {pos_weight: 2}}"}),
                        "compile.loss.bce: unknown key 'pos_weight'");
}

}  // namespace
