// train::metrics(): lookup by Keras's words, the metric each name builds for each kind of loss,
// and docs/config.md's metric table.
#include <gtest/gtest.h>

#include "docs_tables.hpp"
#include "neurona/neurona.hpp"
#include "test_util.hpp"

using namespace neurona;
namespace M = nn::metrics;

namespace {

std::shared_ptr<M::Metric> make(const std::string& name, const train::LossTask& task) {
  const auto& e = train::metrics().get(name);
  return e.make(e.options_from({}), task);
}

const train::LossTask kBinary{"binary", false}, kBinaryLogits{"binary", true},
    kMulticlassLogits{"multiclass", true}, kMulticlass{"multiclass", false}, kRegression{"regression", false},
    kUnknown{};

}  // namespace

TEST(MetricRegistry, FindsMetricsByTheirNamesAndAliasesInAnyCase) {
  EXPECT_EQ(train::metrics().get("ACC").name, "accuracy");
  EXPECT_EQ(train::metrics().get("Accuracy").name, "accuracy");
  EXPECT_EQ(train::metrics().get("mean_absolute_error").name, "mae");
  EXPECT_EQ(train::metrics().get("mean_squared_error").name, "mse");
  EXPECT_EQ(train::metrics().get("AUC").name, "auc");
  EXPECT_EQ(train::metrics().find("hamming"), nullptr);
  EXPECT_ERROR_CONTAINS(train::metrics().get("accuracyy"),
                        "unknown metric 'accuracyy' (did you mean 'accuracy'?)");
  EXPECT_ERROR_CONTAINS(train::make_metric("accuracyy", "mse"),
                        "unknown metric 'accuracyy' (did you mean 'accuracy'?)");
  // The words make_metric has always taken, in the order the messages list them.
  const std::vector<std::string> words = {"accuracy",
                                          "acc",
                                          "binary_accuracy",
                                          "top_5_accuracy",
                                          "mae",
                                          "mean_absolute_error",
                                          "mse",
                                          "mean_squared_error",
                                          "rmse",
                                          "r2",
                                          "precision",
                                          "recall",
                                          "f1",
                                          "auc"};
  EXPECT_EQ(train::metric_names(), words);
  EXPECT_EQ(train::metrics().names(true), words);
  for (const auto& e : train::metrics().entries()) EXPECT_TRUE(e.options.empty()) << e.name;
}

// "accuracy" follows the loss: binary accuracy (output > 0.5) under a binary loss, the arg-max's
// otherwise; precision, recall, f1 and auc are binary, macro, or decided by the output's shape.
TEST(MetricRegistry, TheLossTaskDecidesWhatAMetricMeans) {
  EXPECT_TRUE(std::dynamic_pointer_cast<M::BinaryAccuracy>(make("accuracy", kBinary)));
  EXPECT_TRUE(std::dynamic_pointer_cast<M::BinaryAccuracy>(make("acc", kBinaryLogits)));
  for (const auto& t : {kMulticlassLogits, kMulticlass, kRegression, kUnknown}) {
    auto a = std::dynamic_pointer_cast<M::Accuracy>(make("accuracy", t));
    ASSERT_TRUE(a) << t.task;
    EXPECT_EQ(a->top_k, 1);
  }
  EXPECT_TRUE(std::dynamic_pointer_cast<M::BinaryAccuracy>(make("binary_accuracy", kMulticlassLogits)));
  auto top5 = std::dynamic_pointer_cast<M::Accuracy>(make("top_5_accuracy", kMulticlassLogits));
  ASSERT_TRUE(top5);
  EXPECT_EQ(top5->top_k, 5);
  EXPECT_EQ(top5->name(), "top_5_accuracy");
  EXPECT_TRUE(std::dynamic_pointer_cast<M::MeanAbsoluteError>(make("mae", kRegression)));
  EXPECT_TRUE(std::dynamic_pointer_cast<M::MeanSquaredError>(make("mean_squared_error", kRegression)));
  EXPECT_TRUE(std::dynamic_pointer_cast<M::RootMeanSquaredError>(make("rmse", kRegression)));
  EXPECT_TRUE(std::dynamic_pointer_cast<M::R2Score>(make("r2", kRegression)));

  auto p = std::dynamic_pointer_cast<M::Precision>(make("precision", kBinaryLogits));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->average, M::Average::Binary);
  EXPECT_EQ(p->confusion_matrix().num_classes, 2);
  auto r = std::dynamic_pointer_cast<M::Recall>(make("recall", kMulticlass));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->average, M::Average::Macro);
  auto f = std::dynamic_pointer_cast<M::F1Score>(make("f1", kRegression));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->average, M::Average::Auto);
  // auc applies a softmax only to multiclass logits.
  auto auc = std::dynamic_pointer_cast<M::ROCAUC>(make("auc", kMulticlassLogits));
  ASSERT_TRUE(auc);
  EXPECT_EQ(auc->average, M::Average::Macro);
  EXPECT_TRUE(auc->from_logits);
  auc = std::dynamic_pointer_cast<M::ROCAUC>(make("auc", kMulticlass));
  ASSERT_TRUE(auc);
  EXPECT_FALSE(auc->from_logits);
  auc = std::dynamic_pointer_cast<M::ROCAUC>(make("auc", kBinaryLogits));
  ASSERT_TRUE(auc);
  EXPECT_EQ(auc->average, M::Average::Binary);
  EXPECT_FALSE(auc->from_logits);  // the model gives the metrics sigmoid(logits)

  // make_metric reads the task from the loss's name.
  EXPECT_TRUE(
      std::dynamic_pointer_cast<M::BinaryAccuracy>(train::make_metric("accuracy", "BCEWithLogitsLoss")));
  auto m = std::dynamic_pointer_cast<M::ROCAUC>(train::make_metric("auc", "sparse_categorical_crossentropy"));
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->from_logits);
}

TEST(MetricRegistry, DocsListEveryMetricAndAlias) {
  docs_tables::expect_docs_list(train::metrics().specs(), "metric");
}
