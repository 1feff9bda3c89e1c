// Transfer learning from a config: model.init (non-strict loading), model.freeze with
// model.batchnorm, and compile.param_groups, checked on the tensors training leaves behind.
#include <cstring>
#include <string>

#include "neurona/app/config.hpp"
#include "neurona/io/onnx.hpp"
#include "neurona/nn/summary.hpp"
#include "neurona/optim/optimizer.hpp"
#include "test_util.hpp"

namespace {

using namespace neurona;

std::string config(const std::string& layers, const std::string& model_extra = "",
                   const std::string& compile_extra = "") {
  return "seed: 3\n"
         "data:\n"
         "  synthetic: {kind: xor, n: 64}\n"
         "  split: none\n"
         "model:\n"
         "  layers: " +
         layers + "\n" + model_extra +
         "compile:\n"
         "  optimizer: {sgd: {lr: 0.1}}\n"
         "  loss: binary_crossentropy\n" +
         compile_extra + "fit: {batch_size: 16, epochs: 2, verbose: 0}\n";
}

const std::string kBnNet = "[{dense: 4, activation: tanh}, {batchnorm: {}}, {dense: 1, activation: sigmoid}]";

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), sizeof(float) * a.numel()) == 0;
}

// The model a config starts from: build_model seeds itself, so this is what training began with.
nn::StateDict initial_state(const app::Config& c) {
  const app::PreparedData d = app::load_data(c);
  auto net = app::build_model(c, d.input_shape);
  app::apply_model_transfer(c, *net);
  nn::StateDict out;
  for (const auto& [name, t] : net->state_dict()) out.insert(name, t.clone());
  return out;
}

app::TrainResult train(const app::Config& c) {
  app::TrainRequest r;
  r.verbose = 0;
  return app::run_training(c, r);
}

TEST(Transfer, FrozenLayersAndFrozenBatchNormStayBitUnchanged) {
  const app::Config c = app::parse_config(config(kBnNet, "  freeze: [0, 1]\n"), "t.yaml");
  EXPECT_EQ(c.batchnorm, "frozen");  // Keras's default
  const nn::StateDict before = initial_state(c);
  const app::TrainResult r = train(c);
  const nn::StateDict after = r.net->state_dict();
  for (const char* name : {"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                           "1.num_batches_tracked"})
    EXPECT_TRUE(same_bits(before.at(name), after.at(name))) << name;
  EXPECT_FALSE(same_bits(before.at("2.weight"), after.at("2.weight")));
  EXPECT_FALSE(same_bits(before.at("2.bias"), after.at("2.bias")));
  EXPECT_FALSE(r.net->named_parameters()[0].second.requires_grad());  // 0.weight
  EXPECT_TRUE(r.net->named_parameters()[4].second.requires_grad());   // 2.weight
}

TEST(Transfer, BatchNormTrainUpdatesRunningStatisticsOfAFrozenLayer) {
  const app::Config c =
      app::parse_config(config(kBnNet, "  freeze: ['0.*', '1.*']\n  batchnorm: train\n"), "t.yaml");
  const nn::StateDict before = initial_state(c);
  const nn::StateDict after = train(c).net->state_dict();
  EXPECT_TRUE(same_bits(before.at("1.weight"), after.at("1.weight")));
  EXPECT_TRUE(same_bits(before.at("0.weight"), after.at("0.weight")));
  EXPECT_FALSE(same_bits(before.at("1.running_mean"), after.at("1.running_mean")));
  EXPECT_FALSE(same_bits(before.at("1.running_var"), after.at("1.running_var")));
  // 64 rows in batches of 16 for 2 epochs: 8 updates of the count.
  EXPECT_EQ(after.at("1.num_batches_tracked").item(), 8.0f);
}

TEST(Transfer, FreezeEntriesThatMatchNothingAreErrors) {
  const app::Config c = app::parse_config(config(kBnNet, "  freeze: ['9.*']\n"), "t.yaml");
  const app::PreparedData d = app::load_data(c);
  auto net = app::build_model(c, d.input_shape);
  EXPECT_ERROR_CONTAINS(app::apply_model_transfer(c, *net), "model.freeze[0]: '9.*' matches no parameter");
  EXPECT_ERROR_CONTAINS(app::parse_config(config(kBnNet, "  batchnorm: frozn\n"), "t.yaml"),
                        "model.batchnorm: unknown value 'frozn'");
}

TEST(Transfer, ParamGroupWithLrZeroStaysBitUnchangedAndOthersTrain) {
  const app::Config c =
      app::parse_config(config(kBnNet, "", "  param_groups: [{params: '0.*', lr: 0}]\n"), "t.yaml");
  const nn::StateDict before = initial_state(c);
  const nn::StateDict after = train(c).net->state_dict();
  EXPECT_TRUE(same_bits(before.at("0.weight"), after.at("0.weight")));
  EXPECT_TRUE(same_bits(before.at("0.bias"), after.at("0.bias")));
  EXPECT_FALSE(same_bits(before.at("1.weight"), after.at("1.weight")));
  EXPECT_FALSE(same_bits(before.at("2.weight"), after.at("2.weight")));
}

TEST(Transfer, ParamGroupsStepBySgdWithTheirOwnLrAndWeightDecay) {
  const app::Config c = app::parse_config(
      config(
          "[{dense: 3, activation: tanh}, {dense: 1, activation: sigmoid}]", "",
          "  param_groups: [{params: '1.weight', lr: 0.5, weight_decay: 0.25}, {params: '0.*', lr: 0.01}]\n"),
      "t.yaml");
  const app::PreparedData d = app::load_data(c);
  auto net = app::build_model(c, d.input_shape);
  train::CompileOptions o = app::compile_options(c, net.get());
  auto opt = o.optimizer(net->parameters());
  ASSERT_EQ(opt->num_groups(), 3u);  // the two groups, then the rest (1.bias) at the optimizer's lr
  EXPECT_DOUBLE_EQ(opt->lr(0), 0.5);
  EXPECT_DOUBLE_EQ(opt->get(0, "weight_decay"), 0.25);
  EXPECT_DOUBLE_EQ(opt->lr(1), 0.01);
  EXPECT_DOUBLE_EQ(opt->lr(2), 0.1);
  EXPECT_DOUBLE_EQ(opt->get(2, "weight_decay"), 0);
  ASSERT_EQ(opt->params(0).size(), 1u);
  EXPECT_TRUE(opt->params(0)[0].same(net->named_parameters()[2].second));

  nn::StateDict w0;
  for (const auto& [name, t] : net->state_dict()) w0.insert(name, t.clone());
  const Tensor x = d.train.features(), y = d.train.targets();
  Tensor loss = (*o.loss_object)((*net)(x), y);
  loss.backward();
  std::map<std::string, Tensor> grads;
  for (const auto& [name, p] : net->named_parameters()) grads[name] = p.grad().clone();
  opt->step();
  // SGD without momentum: w - lr * (g + weight_decay * w).
  auto expect_step = [&](const std::string& name, double lr, double wd) {
    const Tensor& a = w0.at(name);
    const Tensor b = net->state_dict().at(name);
    const Tensor& g = grads.at(name);
    for (int64_t i = 0; i < a.numel(); ++i) {
      const double want = a.data()[i] - lr * (g.data()[i] + wd * a.data()[i]);
      EXPECT_NEAR(b.data()[i], want, 1e-6) << name << "[" << i << "]";
    }
    EXPECT_FALSE(same_bits(a, b)) << name;
  };
  expect_step("1.weight", 0.5, 0.25);
  expect_step("0.weight", 0.01, 0);
  expect_step("0.bias", 0.01, 0);
  expect_step("1.bias", 0.1, 0);

  const app::Config bad = app::parse_config(
      config("[{dense: 1, activation: sigmoid}]", "", "  param_groups: [{params: 'head.*', lr: 0}]\n"),
      "t.yaml");
  auto bad_net = app::build_model(bad, d.input_shape);
  auto bad_o = app::compile_options(bad, bad_net.get());
  EXPECT_ERROR_CONTAINS(bad_o.optimizer(bad_net->parameters()),
                        "compile.param_groups[0].params: 'head.*' matches no trainable parameter");
}

TEST(Transfer, InitLoadsMatchingTensorsAndReportsTheRest) {
  const auto dir = neurona::testing::fresh_dir("transfer_init");
  const auto file = dir / "source.safetensors";
  // The source: the same body, a head of 3 outputs.
  const app::Config src = app::parse_config(
      config("[{dense: 4, activation: tanh}, {dense: 3}]").replace(0, 7, "seed: 11"), "s.yaml");
  const app::PreparedData d = app::load_data(src);
  auto source = app::build_model(src, d.input_shape);
  app::save_weights(file, *source, d);

  const std::string target = "[{dense: 4, activation: tanh}, {dense: 1, activation: sigmoid}]";
  const app::Config c = app::parse_config(
      config(target, "  init: {weights: " + file.string() + ", strict: false, skip: ['0.b*']}\n"), "t.yaml");
  const app::Config fresh = app::parse_config(config(target), "t.yaml");
  auto init = app::build_model(fresh, d.input_shape);
  auto net = app::build_model(c, d.input_shape);
  std::string report;
  app::apply_model_transfer(c, *net, &report);
  const nn::StateDict got = net->state_dict(), from = source->state_dict(), start = init->state_dict();
  EXPECT_TRUE(same_bits(got.at("0.weight"), from.at("0.weight")));
  EXPECT_FALSE(same_bits(got.at("0.weight"), start.at("0.weight")));
  EXPECT_TRUE(same_bits(got.at("0.bias"), start.at("0.bias")));  // skipped by pattern
  EXPECT_TRUE(same_bits(got.at("1.weight"), start.at("1.weight")));
  EXPECT_TRUE(same_bits(got.at("1.bias"), start.at("1.bias")));
  EXPECT_NE(report.find("loaded (1):\n    0.weight\n"), std::string::npos) << report;
  EXPECT_NE(report.find("0.bias (skip: 0.b*)"), std::string::npos) << report;
  EXPECT_NE(report.find("1.weight (shape [3,4] in the file, [1,4] in the model)"), std::string::npos)
      << report;
  EXPECT_NE(report.find("left at initialisation (3)"), std::string::npos) << report;

  // strict (the default) keeps the exact-match rule.
  const app::Config strict = app::parse_config(config(target, "  init: " + file.string() + "\n"), "t.yaml");
  auto net2 = app::build_model(strict, d.input_shape);
  EXPECT_ERROR_CONTAINS(app::apply_model_transfer(strict, *net2), "do not fit the model");
  // strict with skip: the skipped head may differ, the rest must match exactly.
  const app::Config head = app::parse_config(
      config(target, "  init: {weights: " + file.string() + ", skip: ['1.*']}\n"), "t.yaml");
  auto net3 = app::build_model(head, d.input_shape);
  app::apply_model_transfer(head, *net3);
  EXPECT_TRUE(same_bits(net3->state_dict().at("0.bias"), from.at("0.bias")));
  EXPECT_TRUE(same_bits(net3->state_dict().at("1.weight"), start.at("1.weight")));
  const app::Config not_all = app::parse_config(
      config(target, "  init: {weights: " + file.string() + ", skip: ['1.weight']}\n"), "t.yaml");
  auto net4 = app::build_model(not_all, d.input_shape);
  EXPECT_ERROR_CONTAINS(app::apply_model_transfer(not_all, *net4), "(strict: true): 1 mis-shaped, 0 missing");
}

}  // namespace

namespace {

TEST(Transfer, SummaryCountsFrozenParametersAsNonTrainable) {
  const neurona::app::Config c =
      neurona::app::parse_config(config(kBnNet, "  freeze: [0, '1.weight']\n"), "t.yaml");
  const neurona::app::PreparedData d = neurona::app::load_data(c);
  auto net = neurona::app::build_model(c, d.input_shape);
  neurona::app::apply_model_transfer(c, *net);
  const std::string s = neurona::nn::summary(*net, d.input_shape, c.name);
  // dense 2 -> 4: 12 parameters, all frozen; batchnorm: 4 of its 8 (the weight); dense 4 -> 1: 5.
  EXPECT_NE(s.find("0 (Linear) frozen "), std::string::npos) << s;
  EXPECT_NE(s.find("1 (BatchNorm1d) (4 frozen) "), std::string::npos) << s;
  EXPECT_NE(s.find("2 (Linear) "), std::string::npos) << s;
  EXPECT_NE(s.find(" Trainable params: 9 "), std::string::npos) << s;
  EXPECT_NE(s.find(" Non-trainable params: 16 "), std::string::npos) << s;
}

}  // namespace

namespace {

using namespace neurona;

TEST(Transfer, UnfreezeMakesASelectionTrainableAgain) {
  const app::Config c = app::parse_config(config(kBnNet, "  freeze: ['*']\n  unfreeze: [-1]\n"), "t.yaml");
  const nn::StateDict before = initial_state(c);
  const nn::StateDict after = train(c).net->state_dict();
  for (const char* name : {"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean"})
    EXPECT_TRUE(same_bits(before.at(name), after.at(name))) << name;
  EXPECT_FALSE(same_bits(before.at("2.weight"), after.at("2.weight")));
  const app::Config bad = app::parse_config(config(kBnNet, "  unfreeze: ['head.*']\n"), "t.yaml");
  auto net = app::build_model(bad, app::load_data(bad).input_shape);
  EXPECT_ERROR_CONTAINS(app::apply_model_transfer(bad, *net),
                        "model.unfreeze[0]: 'head.*' matches no parameter");
}

// backbone_finetuning on a 3-layer net: the backbone (layers 0 and 1, all but the head) frozen for
// two epochs, then at lr 0.1 × 0.1, growing ×4 per epoch and capped at the head's 0.1.
std::string finetuning_config(int epochs, const std::string& options) {
  std::string s = config(kBnNet, "", "");
  s.replace(s.find("epochs: 2"), 9, "epochs: " + std::to_string(epochs));
  return s +
         "callbacks:\n  - learning_rate_monitor\n  - backbone_finetuning: {unfreeze_backbone_at_epoch: 2" +
         options + "}\n";
}

TEST(Transfer, BackboneFinetuningFreezesThenTrainsTheBackboneAtAGrowingRate) {
  const app::Config frozen = app::parse_config(finetuning_config(2, ", multiplier: 4"), "t.yaml");
  const nn::StateDict before = initial_state(frozen);
  const app::TrainResult r2 = train(frozen);
  const nn::StateDict after2 = r2.net->state_dict();
  // Frozen backbone: bit-unchanged; its BatchNorm keeps training mode (train_bn), so its running
  // statistics move while its weight and bias do not.
  for (const char* name : {"0.weight", "0.bias", "1.weight", "1.bias"})
    EXPECT_TRUE(same_bits(before.at(name), after2.at(name))) << name;
  EXPECT_FALSE(same_bits(before.at("1.running_mean"), after2.at("1.running_mean")));
  EXPECT_FALSE(same_bits(before.at("2.weight"), after2.at("2.weight")));

  const app::TrainResult r5 = train(app::parse_config(finetuning_config(5, ", multiplier: 4"), "t.yaml"));
  const auto& head = r5.history["lr-SGD"];
  const auto& backbone = r5.history["lr-SGD/pg1"];
  ASSERT_EQ(backbone.size(), 5u);
  const std::vector<double> want = {0.1, 0.1, 0.01, 0.04, 0.1};  // epochs 0-1: frozen at the group's own lr
  for (size_t e = 0; e < 5; ++e) {
    EXPECT_DOUBLE_EQ(head[e], 0.1) << e;
    EXPECT_NEAR(backbone[e], want[e], 1e-12) << e;
  }
  const nn::StateDict after5 = r5.net->state_dict();
  EXPECT_FALSE(same_bits(before.at("0.weight"), after5.at("0.weight")));
  EXPECT_FALSE(same_bits(before.at("1.weight"), after5.at("1.weight")));
  // The first two epochs were the same as the 2-epoch run's: the backbone moved only afterwards.
  EXPECT_EQ(r2.history["loss"][1], r5.history["loss"][1]);
}

TEST(Transfer, BackboneFinetuningWithoutTrainBnKeepsFrozenBatchNormInInferenceMode) {
  const app::Config c =
      app::parse_config(finetuning_config(2, ", train_bn: false, backbone: ['0.*', '1.*']"), "t.yaml");
  const nn::StateDict before = initial_state(c);
  const nn::StateDict after = train(c).net->state_dict();
  for (const char* name :
       {"0.weight", "1.weight", "1.running_mean", "1.running_var", "1.num_batches_tracked"})
    EXPECT_TRUE(same_bits(before.at(name), after.at(name))) << name;
  EXPECT_ERROR_CONTAINS(train(app::parse_config(finetuning_config(2, ", backbone: ['7.*']"), "t.yaml")),
                        "callbacks[1].backbone[0]: '7.*' matches no parameter");
}

TEST(Transfer, GradualUnfreezingOpensOneLayerMorePerEpochFromTheHead) {
  std::string s = config(kBnNet, "", "");
  s += "callbacks: [{gradual_unfreezing: {epochs_per_layer: 1}}]\n";
  const app::Config one = app::parse_config(s, "t.yaml");  // 2 epochs: the head, then batchnorm too
  const nn::StateDict before = initial_state(one);
  const nn::StateDict after = train(one).net->state_dict();
  EXPECT_TRUE(same_bits(before.at("0.weight"), after.at("0.weight")));
  EXPECT_TRUE(same_bits(before.at("0.bias"), after.at("0.bias")));
  EXPECT_FALSE(same_bits(before.at("1.weight"), after.at("1.weight")));
  EXPECT_FALSE(same_bits(before.at("2.weight"), after.at("2.weight")));
  s.replace(s.find("epochs: 2"), 9, "epochs: 3");
  const nn::StateDict all = train(app::parse_config(s, "t.yaml")).net->state_dict();
  EXPECT_FALSE(same_bits(before.at("0.weight"), all.at("0.weight")));
}

}  // namespace

namespace {

using namespace neurona;

// model.arch: a zoo network from the config, its input channels the data's; freezing all but its
// head (`fc`, replaced by 5 outputs) leaves the rest, BatchNorm statistics included, bit-unchanged.
TEST(Transfer, ZooArchitectureFromTheConfigTrainsOnlyItsUnfrozenHead) {
  const std::string text =
      "seed: 2\n"
      "data: {idx: fashion-mnist, classes: [5, 6, 7, 8, 9], per_class: 4, split: none, limit: 300}\n"
      "model: {arch: resnet18, num_classes: 5, freeze: ['*'], unfreeze: ['fc.*']}\n"
      "compile: {optimizer: {sgd: {lr: 0.1}}, loss: cross_entropy}\n"
      "fit: {batch_size: 10, epochs: 2, verbose: 0}\n";
  const app::Config c = app::parse_config(text, "zoo.yaml");
  ASSERT_TRUE(c.arch);
  EXPECT_EQ(c.arch->kind, "resnet18");
  const nn::StateDict before = initial_state(c);
  EXPECT_EQ(before.keys().front(), "conv1.weight");
  EXPECT_EQ(before.at("conv1.weight").shape(), Shape({64, 1, 7, 7}));  // the data's one channel
  EXPECT_EQ(before.at("fc.weight").shape(), Shape({5, 512}));
  const nn::StateDict after = train(c).net->state_dict();
  for (const char* name : {"conv1.weight", "bn1.running_mean", "layer3.1.conv2.weight",
                           "layer4.0.downsample.1.weight", "layer4.1.bn2.running_var"})
    EXPECT_TRUE(same_bits(before.at(name), after.at(name))) << name;
  EXPECT_FALSE(same_bits(before.at("fc.weight"), after.at("fc.weight")));
  EXPECT_FALSE(same_bits(before.at("fc.bias"), after.at("fc.bias")));
}

TEST(Transfer, ZooArchitectureConfigErrorsNameTheKey) {
  auto parse = [](const std::string& model) {
    return app::parse_config("data: {synthetic: {kind: xor}}\nmodel: " + model +
                                 "\ncompile: {optimizer: sgd, loss: cross_entropy}\n",
                             "zoo.yaml");
  };
  EXPECT_ERROR_CONTAINS(parse("{arch: resnet19, num_classes: 2}"),
                        "unknown architecture 'resnet19' (did you mean 'resnet18'?)");
  EXPECT_ERROR_CONTAINS(parse("{arch: resnet18, width_mult: 2, num_classes: 2}"), "unknown key 'width_mult'");
  EXPECT_ERROR_CONTAINS(parse("{layers: [relu], num_classes: 2}"), "model.num_classes: only with model.arch");
  EXPECT_ERROR_CONTAINS(parse("{arch: resnet18, layers: [relu]}"), "model: expected one of layers");
  const app::Config no_classes = parse("{arch: mobilenet_v2}");
  EXPECT_ERROR_CONTAINS(app::build_model(no_classes, Shape{3, 32, 32}),
                        "model.num_classes: required with model.arch");
  const app::Config vectors = parse("{arch: resnet18, num_classes: 2}");
  EXPECT_ERROR_CONTAINS(app::build_model(vectors, Shape{2}), "model.arch: resnet18 on samples of shape [2]");
}

}  // namespace

namespace {

using namespace neurona;

// model.init from an ONNX file: its initializers, under the names Neurona's importer gives them,
// load into the config's model (strictly: the exported model's own tensors).
TEST(Transfer, InitFromAnOnnxFileLoadsItsInitializers) {
  const auto dir = neurona::testing::fresh_dir("transfer_onnx");
  const std::string layers = "[{dense: 4, activation: tanh}, {dense: 1, activation: sigmoid}]";
  const app::Config source = app::parse_config(config(layers), "source.yaml");
  auto trained = train(source).net;
  io::export_onnx(*trained, {2}, dir / "model.onnx");
  const app::Config target = app::parse_config(
      config(layers, "  init: " + (dir / "model.onnx").string() + "\n").replace(0, 7, "seed: 9"),
      "target.yaml");
  const nn::StateDict loaded = initial_state(target);
  for (const auto& [name, t] : trained->state_dict()) EXPECT_TRUE(same_bits(t, loaded.at(name))) << name;
  // The same file with a head to replace: strict: false and a skip.
  const app::Config partial =
      app::parse_config(config(layers, "  init: {weights: " + (dir / "model.onnx").string() +
                                           ", strict: false, skip: ['1.*']}\n"),
                        "partial.yaml");
  const nn::StateDict p = initial_state(partial);
  EXPECT_TRUE(same_bits(p.at("0.weight"), trained->state_dict().at("0.weight")));
  EXPECT_FALSE(same_bits(p.at("1.weight"), trained->state_dict().at("1.weight")));
  std::filesystem::remove_all(dir);
}

}  // namespace
