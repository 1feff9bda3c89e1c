// nn::losses(): lookup by PyTorch's and Keras's words, PyTorch's defaults, the losses it builds
// (numbers from PyTorch), what each trains for, and docs/config.md's loss table.
#include <gtest/gtest.h>

#include "docs_tables.hpp"
#include "neurona/neurona.hpp"
#include "test_util.hpp"

using namespace neurona;

TEST(LossRegistry, FindsLossesByPyTorchAndKerasWordsInAnyCase) {
  // Every word make_loss took before the registry, and Keras's class names.
  const std::map<std::string, std::string> words = {
      {"mse", "mse"},
      {"mean_squared_error", "mse"},
      {"MSELoss", "mse"},
      {"MeanSquaredError", "mse"},
      {"mae", "mae"},
      {"l1", "mae"},
      {"mean_absolute_error", "mae"},
      {"L1Loss", "mae"},
      {"MeanAbsoluteError", "mae"},
      {"huber", "huber"},
      {"HuberLoss", "huber"},
      {"Huber", "huber"},
      {"smooth_l1", "smooth_l1"},
      {"SmoothL1Loss", "smooth_l1"},
      {"bce", "bce"},
      {"binary_crossentropy", "bce"},
      {"BCELoss", "bce"},
      {"BinaryCrossentropy", "bce"},
      {"bce_with_logits", "bce_with_logits"},
      {"BCEWithLogitsLoss", "bce_with_logits"},
      {"cross_entropy", "cross_entropy"},
      {"CrossEntropyLoss", "cross_entropy"},
      {"sparse_categorical_crossentropy", "cross_entropy"},
      {"categorical_crossentropy", "cross_entropy"},
      {"SparseCategoricalCrossentropy", "cross_entropy"},
      {"CategoricalCrossentropy", "cross_entropy"},
      {"nll", "nll"},
      {"NLLLoss", "nll"},
  };
  const std::vector<std::string> all = train::loss_names();
  for (const auto& [word, name] : words) {
    EXPECT_EQ(nn::losses().get(word).name, name) << word;
    EXPECT_EQ(train::canonical_loss_name(word), name) << word;
    EXPECT_NE(std::find(all.begin(), all.end(), lower_case(word)), all.end()) << word;
  }
  EXPECT_EQ(nn::losses().find("hinge"), nullptr);
  EXPECT_ERROR_CONTAINS(nn::losses().get("maee"), "unknown loss 'maee' (did you mean 'mae'?)");
  EXPECT_ERROR_CONTAINS(train::make_loss("maee"), "unknown loss 'maee' (did you mean 'mae'?)");
  // A misspelt Keras word is matched against the aliases too.
  EXPECT_ERROR_CONTAINS(train::make_loss("binary_crossentropyy"), "(did you mean 'binary_crossentropy'?)");
}

// torch.nn.HuberLoss().delta == 1.0, SmoothL1Loss().beta == 1.0, CrossEntropyLoss().label_smoothing
// == 0.0, and weight / pos_weight None; the registry's defaults are the loss classes' own.
TEST(LossRegistry, DefaultsArePyTorchs) {
  const auto& huber = nn::losses().get("huber");
  EXPECT_DOUBLE_EQ(huber.options_from({}).number("delta"), 1.0);
  EXPECT_DOUBLE_EQ(huber.options_from({}).number("delta"), nn::HuberLoss().delta);
  const auto& smooth = nn::losses().get("smooth_l1");
  EXPECT_DOUBLE_EQ(smooth.options_from({}).number("beta"), 1.0);
  EXPECT_DOUBLE_EQ(smooth.options_from({}).number("beta"), nn::SmoothL1Loss().beta);
  const auto& ce = nn::losses().get("cross_entropy");
  EXPECT_DOUBLE_EQ(ce.options_from({}).number("label_smoothing"), 0.0);
  EXPECT_EQ(ce.option("weight")->type, OptionType::List);
  EXPECT_EQ(ce.option("weight")->default_value, "");  // None: every class weighs 1
  const auto& bwl = nn::losses().get("bce_with_logits");
  EXPECT_EQ(bwl.option("pos_weight")->type, OptionType::List);
  EXPECT_EQ(bwl.option("pos_weight")->default_value, "");
  for (const char* name : {"mse", "mae", "bce", "nll"})
    EXPECT_TRUE(nn::losses().get(name).options.empty()) << name;

  auto c = std::dynamic_pointer_cast<nn::CrossEntropyLoss>(ce.make(ce.options_from({})));
  ASSERT_TRUE(c);
  EXPECT_FLOAT_EQ(c->options.label_smoothing, 0.f);
  EXPECT_FALSE(c->options.weight.defined());
  auto b = std::dynamic_pointer_cast<nn::BCEWithLogitsLoss>(bwl.make(bwl.options_from({})));
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->pos_weight.defined());
}

// The class each row builds, and its value against PyTorch's on the same numbers.
TEST(LossRegistry, FactoriesBuildTheLossWithItsOptions) {
  const Tensor x = Tensor::from({0.5f, -1.f, 2.f, 3.f}, {4}), y = Tensor::from({0.f, 1.f, -1.f, 3.5f}, {4});
  auto make = [](const std::string& name, std::map<std::string, std::string> values = {}) {
    const auto& e = nn::losses().get(name);
    return e.make(e.options_from(std::move(values)));
  };
  EXPECT_TRUE(std::dynamic_pointer_cast<nn::MSELoss>(make("mse")));
  EXPECT_TRUE(std::dynamic_pointer_cast<nn::L1Loss>(make("mae")));
  EXPECT_TRUE(std::dynamic_pointer_cast<nn::BCELoss>(make("bce")));
  EXPECT_TRUE(std::dynamic_pointer_cast<nn::NLLLoss>(make("nll")));
  EXPECT_NEAR((*make("mse"))(x, y).item(), 3.375, 1e-6);
  EXPECT_NEAR((*make("mae"))(x, y).item(), 1.5, 1e-6);
  // nn.HuberLoss()(x, y) = 1.0625, nn.HuberLoss(delta=2.)(x, y) = 1.5625
  auto h = std::dynamic_pointer_cast<nn::HuberLoss>(make("huber"));
  ASSERT_TRUE(h);
  EXPECT_NEAR((*h)(x, y).item(), 1.0625, 1e-6);
  auto h2 = std::dynamic_pointer_cast<nn::HuberLoss>(make("huber", {{"delta", "2"}}));
  ASSERT_TRUE(h2);
  EXPECT_FLOAT_EQ(h2->delta, 2.f);
  EXPECT_NEAR((*h2)(x, y).item(), 1.5625, 1e-6);
  // nn.SmoothL1Loss(beta=0.5)(x, y) = 1.25
  auto s = std::dynamic_pointer_cast<nn::SmoothL1Loss>(make("smooth_l1", {{"beta", "0.5"}}));
  ASSERT_TRUE(s);
  EXPECT_NEAR((*s)(x, y).item(), 1.25, 1e-6);

  // CrossEntropyLoss(weight=[1, 2, 0.5]) and with label_smoothing=0.1, as in test_config.cpp.
  const Tensor z = Tensor::from({1, 2, 3, 0.5f, 0, -1}, {2, 3}), k = Tensor::from({2, 0});
  auto ce =
      std::dynamic_pointer_cast<nn::CrossEntropyLoss>(make("CrossEntropyLoss", {{"weight", "1,2,0.5"}}));
  ASSERT_TRUE(ce);
  EXPECT_NEAR((*ce)(z, k).item(), 0.5386223917, 1e-6);
  EXPECT_NEAR((*make("cross_entropy", {{"weight", "1,2,0.5"}, {"label_smoothing", "0.1"}}))(z, k).item(),
              0.6912285524, 1e-6);
  // BCEWithLogitsLoss(pos_weight=torch.tensor([2.]))
  const Tensor l = Tensor::from({2, -1, 0, -50}, {4, 1}), t = Tensor::from({1, 0, 1, 1}, {4, 1});
  auto bwl = std::dynamic_pointer_cast<nn::BCEWithLogitsLoss>(make("bce_with_logits", {{"pos_weight", "2"}}));
  ASSERT_TRUE(bwl);
  EXPECT_NEAR((*bwl)(l, t).item(), 25.4883530177, 1e-4);
  EXPECT_ERROR_CONTAINS(make("cross_entropy", {{"weight", ""}}), "weight: expected at least one number");

  // Every row builds a loss that train::make_loss gives by the same name.
  for (const auto& e : nn::losses().entries())
    EXPECT_EQ(e.make(e.options_from({}))->type_name(), train::make_loss(e.name)->type_name()) << e.name;
}

// What each loss trains for, by its names and by the name() of the loss it builds.
TEST(LossRegistry, EachLossSaysWhatItTrainsFor) {
  const std::map<std::string, std::pair<std::string, bool>> tasks = {
      {"mse", {"regression", false}},
      {"mae", {"regression", false}},
      {"huber", {"regression", false}},
      {"smooth_l1", {"regression", false}},
      {"bce", {"binary", false}},
      {"bce_with_logits", {"binary", true}},
      {"cross_entropy", {"multiclass", true}},
      {"nll", {"multiclass", false}},
  };
  ASSERT_EQ(nn::losses().entries().size(), tasks.size());
  for (const auto& e : nn::losses().entries()) {
    SCOPED_TRACE(e.name);
    ASSERT_TRUE(tasks.count(e.name));
    EXPECT_EQ(e.task, tasks.at(e.name).first);
    EXPECT_EQ(e.logits, tasks.at(e.name).second);
    const std::string built = e.make(e.options_from({}))->type_name();  // "MSELoss", "CrossEntropyLoss", …
    EXPECT_EQ(train::loss_task(built).task, e.task) << built;
    EXPECT_EQ(train::loss_task(built).logits, e.logits) << built;
    for (const auto& a : e.aliases) EXPECT_EQ(train::loss_task(a).task, e.task) << a;
  }
}

TEST(LossRegistry, DocsListEveryLossAliasOptionAndDefault) {
  docs_tables::expect_docs_list(nn::losses().specs(), "loss");
}
