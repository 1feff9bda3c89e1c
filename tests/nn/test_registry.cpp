// nn::layers(): lookup by the words users type, defaults, the layers it builds, and docs/config.md
// kept in step with it.
#include <gtest/gtest.h>

#include <cmath>

#include "docs_tables.hpp"
#include "neurona/neurona.hpp"

using namespace neurona;

TEST(LayerRegistry, FindsLayersByTheirNamesAndAliasesInAnyCase) {
  EXPECT_EQ(nn::layers().get("Dense").name, "dense");
  EXPECT_EQ(nn::layers().get("linear").name, "dense");
  EXPECT_EQ(nn::layers().get("BatchNorm1d").name, "batchnorm");
  EXPECT_EQ(nn::layers().get("LeakyReLU").name, "leaky_relu");
  EXPECT_EQ(nn::layers().find("conv9d"), nullptr);
  try {
    nn::layers().get("dens");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "unknown layer 'dens' (did you mean 'dense'?)");
  }
}

TEST(LayerRegistry, OptionsNotWrittenTakeTheirDefaults) {
  const auto& bn = nn::layers().get("batchnorm");
  const Options o = bn.options_from({{"eps", "0.001"}});
  EXPECT_DOUBLE_EQ(o.number("momentum"), 0.1);
  EXPECT_DOUBLE_EQ(o.number("eps"), 0.001);
  EXPECT_TRUE(o.flag("affine"));
  auto m = std::dynamic_pointer_cast<nn::BatchNorm1d>(bn.make(o, nn::LayerInput{{6}}));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->num_features(), 6);
  EXPECT_FLOAT_EQ(m->options().eps, 0.001f);
  // A required option without a value is an error naming the layer and the key.
  const auto& dense = nn::layers().get("dense");
  EXPECT_THROW(
      {
        try {
          dense.make(dense.options_from({}), nn::LayerInput{{3}});
        } catch (const Error& e) {
          EXPECT_STREQ(e.what(), "dense: 'units' is required");
          throw;
        }
      },
      Error);
}

// The layers that take images [C, H, W] rather than feature vectors.
bool takes_images(const std::string& name) {
  for (const char* n :
       {"conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "global_average_pooling2d",
        "global_max_pooling2d", "dropout2d", "zero_pad2d", "batchnorm2d"})
    if (name == n) return true;
  return false;
}

TEST(LayerRegistry, EveryRowBuildsALayerThatRuns) {
  for (const auto& e : nn::layers().entries()) {
    SCOPED_TRACE(e.name);
    std::map<std::string, std::string> values;
    if (e.name == "dense") values["units"] = "2";
    if (e.name == "activation") values["activation"] = "tanh";
    if (e.name == "gaussian_noise") values["stddev"] = "0.1";
    if (e.name == "conv2d") values = {{"out_channels", "3"}, {"kernel_size", "3"}};
    if (e.name == "max_pool2d" || e.name == "avg_pool2d") values["kernel_size"] = "2";
    if (e.name == "zero_pad2d") values["padding"] = "1";
    const bool images = takes_images(e.name);
    nn::LayerInput in{images ? std::vector<int64_t>{2, 4, 4} : std::vector<int64_t>{4}};
    if (e.list) in.items = {std::make_shared<nn::Tanh>(), std::make_shared<nn::ReLU>()};  // built entries
    auto m = e.make(e.options_from(values), in);
    ASSERT_TRUE(m);
    Tensor x = images ? Tensor::normal({2, 2, 4, 4})
                      : Tensor::from({0.5f, -1.f, 2.f, 0.f, 1.f, 1.5f, -0.5f, 3.f}, {2, 4});
    const Tensor y = m->forward(x);
    EXPECT_EQ(y.size(0), 2);
  }
}

// Each built-in module names the registry row that builds it and options in that row's words;
// the row rebuilds the same layer from them (what export and summaries walk the tree with).
TEST(LayerRegistry, EveryLayerNamesItsRowAndOptionsThatRebuildIt) {
  for (const auto& e : nn::layers().entries()) {
    SCOPED_TRACE(e.name);
    if (e.list)
      continue;  // sequential, residual, concat: containers (kind ""), walked through their children
    std::map<std::string, std::string> values;
    if (e.name == "dense") values = {{"units", "3"}, {"activation", "gelu"}, {"use_bias", "false"}};
    if (e.name == "activation") values["activation"] = "softplus";
    if (e.name == "batch_normalization") values["momentum"] = "0.9";
    if (e.name == "leaky_relu") values["negative_slope"] = "0.2";
    if (e.name == "gaussian_noise") values["stddev"] = "0.3";
    if (e.name == "conv2d")
      values = {{"out_channels", "4"}, {"kernel_size", "3,1"}, {"stride", "2"},
                {"padding", "same"},   {"groups", "2"},        {"activation", "gelu"}};
    if (e.name == "max_pool2d") values = {{"kernel_size", "3"}, {"stride", "1,2"}, {"ceil_mode", "true"}};
    if (e.name == "avg_pool2d")
      values = {{"kernel_size", "3"}, {"padding", "1"}, {"count_include_pad", "false"}};
    if (e.name == "adaptive_avg_pool2d") values["output_size"] = "2,3";
    if (e.name == "dropout2d") values["p"] = "0.25";
    if (e.name == "zero_pad2d") values["padding"] = "1,2,3,4";
    const nn::LayerInput in{takes_images(e.name) ? std::vector<int64_t>{2, 6, 6} : std::vector<int64_t>{4}};
    auto m = e.make(e.options_from(values), in);
    EXPECT_EQ(m->kind(), e.name == "activation" ? "softplus" : e.name);
    if (e.name != "activation") {
      for (const auto& [key, value] : values) EXPECT_EQ(m->option_values().at(key), value) << key;
    }
    const auto& again = nn::layers().get(m->kind());
    auto rebuilt = again.make(again.options_from(m->option_values()), in);
    EXPECT_EQ(rebuilt->kind(), m->kind());
    EXPECT_EQ(rebuilt->option_values(), m->option_values());
    EXPECT_EQ(rebuilt->state_dict().keys(), m->state_dict().keys());
  }
  // The walk over a model: every module with its path and kind ("" for the container).
  nn::Sequential net{nn::Dense(4, 8, "relu"), std::make_shared<nn::Dropout>(0.25f), nn::Dense(8, 1)};
  std::vector<std::string> walked;
  for (const auto& [path, m] : net.named_modules()) walked.push_back(path + ":" + m->kind());
  EXPECT_EQ(walked, (std::vector<std::string>{":", "0:dense", "1:dropout", "2:dense"}));
  EXPECT_EQ(net[1]->option_values().at("p"), "0.25");
  EXPECT_EQ(net[0]->option_values().at("activation"), "relu");
}

// Keras's Dense(units, activation="gelu") in C++ as in a config: one layer, gelu(x·Wᵀ + b).
TEST(LayerRegistry, DenseTakesEveryActivationOfTheConfig) {
  for (const auto& act : nn::activation_names()) {
    SCOPED_TRACE(act);
    auto d = nn::Dense(3, 2, act);
    EXPECT_EQ(d->named_parameters().size(), 2u);
  }
  auto d = nn::Dense(3, 2, "GELU");
  const Tensor x = Tensor::from({0.3f, -1.2f, 2.f, 1.f, 0.5f, -0.25f}, {2, 3});
  const Tensor y = d->forward(x);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 2; ++j) {
      double z = d->bias.data()[j];
      for (int64_t k = 0; k < 3; ++k) z += double(x.data()[i * 3 + k]) * d->weight.data()[j * 3 + k];
      const double gelu = 0.5 * z * (1 + std::erf(z / std::sqrt(2.0)));
      EXPECT_NEAR(y.data()[i * 2 + j], gelu, 1e-6);
    }
  EXPECT_THROW(nn::Dense(3, 2, "prelu"), Error);  // PReLU learns a weight: a layer of its own
  EXPECT_THROW(nn::Dense(3, 2, "swishy"), Error);
}

// Every layer, alias and option of the registry is in docs/config.md's layer table, with its default.
TEST(LayerRegistry, DocsListEveryLayerOptionAndDefault) {
  docs_tables::expect_docs_list(nn::layers().specs(), "layer");
}

// Keras's GaussianNoise: x + N(0, stddev²) while training (gradient 1), x itself in evaluation.
TEST(LayerRegistry, GaussianNoiseAddsNoiseOnlyWhileTraining) {
  const auto& e = nn::layers().get("GaussianNoise");
  auto noise = e.make(e.options_from({{"stddev", "0.5"}}), nn::LayerInput{{1000}});
  manual_seed(3);
  Tensor x = Tensor::full({20, 1000}, 2.f).requires_grad_(true);
  Tensor y = noise->forward(x);
  double s = 0, ss = 0;
  for (int64_t i = 0; i < y.numel(); ++i) {
    const double d = y.data()[i] - 2.0;
    s += d, ss += d * d;
  }
  const double n = double(y.numel()), mean = s / n, sd = std::sqrt(ss / n - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.5 * 4 / std::sqrt(n));  // 4 standard errors of the mean
  EXPECT_NEAR(sd, 0.5, 0.02);
  sum(y).backward();
  for (int64_t i = 0; i < x.numel(); ++i) ASSERT_EQ(x.grad().data()[i], 1.f);
  noise->eval();
  const Tensor z = noise->forward(x);
  for (int64_t i = 0; i < x.numel(); ++i) ASSERT_EQ(z.data()[i], 2.f);
  EXPECT_THROW(nn::GaussianNoise(-1.f), Error);
}

// Keras's categorical cross-entropy on probabilities gives per-sample losses when asked (sample
// weights need them): −w[y]·log p[y].
TEST(Losses, ProbabilityCrossEntropyKeepsTheReductionItIsGiven) {
  const Tensor p = Tensor::from({0.7f, 0.2f, 0.1f, 0.1f, 0.3f, 0.6f}, {2, 3});
  const Tensor y = Tensor::from({0.f, 2.f}, {2});
  nn::ProbabilityCrossEntropyLoss loss(Tensor::from({1.f, 1.f, 2.f}, {3}));
  loss.reduction = nn::Reduction::None;
  const Tensor per = loss(p, y);
  ASSERT_EQ(per.numel(), 2);
  EXPECT_NEAR(per.data()[0], -std::log(0.7), 1e-6);
  EXPECT_NEAR(per.data()[1], -2 * std::log(0.6), 1e-6);
  loss.reduction = nn::Reduction::Mean;  // PyTorch's weighted mean: Σ w·l / Σ w
  EXPECT_NEAR(loss(p, y).item(), (-std::log(0.7) - 2 * std::log(0.6)) / 3, 1e-6);
}
