// The rows of train::metrics(): every metric a user can name.
#include "neurona/train/metric_registry.hpp"

namespace neurona::train {

namespace {

namespace M = nn::metrics;
using Metric = std::shared_ptr<M::Metric>;
using Factory = std::function<Metric(const LossTask&)>;

MetricEntry row(std::string name, std::vector<std::string> aliases, std::string summary, Factory f) {
  return make_entry<MetricEntry>(
      {std::move(name), std::move(aliases), "", {}, std::move(summary)},
      [f = std::move(f)](const Options&, const LossTask& task) { return f(task); });
}

// Multiclass: macro over the model's output width (0: taken from the first prediction). Binary:
// class 1 is positive. Otherwise the prediction's shape decides.
M::Average average_of(const LossTask& t) {
  return t.task == "binary"       ? M::Average::Binary
         : t.task == "multiclass" ? M::Average::Macro
                                  : M::Average::Auto;
}
int64_t classes_of(const LossTask& t) { return t.task == "binary" ? 2 : 0; }

template <class C>
Factory plain() {
  return [](const LossTask&) -> Metric { return std::make_shared<C>(); };
}

std::vector<MetricEntry> rows() {
  return {
      row("accuracy", {"acc"}, "binary accuracy under a binary loss, else the arg-max's (multiclass)",
          [](const LossTask& t) -> Metric {
            if (t.task == "binary") return std::make_shared<M::BinaryAccuracy>();
            return std::make_shared<M::Accuracy>();
          }),
      row("binary_accuracy", {}, "the share of outputs on the target's side of 0.5",
          plain<M::BinaryAccuracy>()),
      row("top_5_accuracy", {}, "the share of samples whose class is among the 5 largest outputs",
          [](const LossTask&) -> Metric { return std::make_shared<M::Accuracy>(5); }),
      row("mae", {"mean_absolute_error"}, "the mean of |prediction − target|", plain<M::MeanAbsoluteError>()),
      row("mse", {"mean_squared_error"}, "the mean of (prediction − target)²", plain<M::MeanSquaredError>()),
      row("rmse", {}, "the square root of mse", plain<M::RootMeanSquaredError>()),
      row("r2", {}, "the coefficient of determination, 1 − SS_res / SS_tot", plain<M::R2Score>()),
      row("precision", {}, "TP / (TP + FP): binary, or macro over the classes",
          [](const LossTask& t) -> Metric {
            return std::make_shared<M::Precision>(average_of(t), classes_of(t));
          }),
      row("recall", {}, "TP / (TP + FN): binary, or macro over the classes",
          [](const LossTask& t) -> Metric {
            return std::make_shared<M::Recall>(average_of(t), classes_of(t));
          }),
      row("f1", {}, "the harmonic mean of precision and recall: binary, or macro over the classes",
          [](const LossTask& t) -> Metric {
            return std::make_shared<M::F1Score>(average_of(t), classes_of(t));
          }),
      // One-vs-rest under a multiclass loss, after a softmax when the outputs are logits.
      row("auc", {}, "ROC AUC: binary, or the macro mean of one-vs-rest",
          [](const LossTask& t) -> Metric {
            return std::make_shared<M::ROCAUC>(average_of(t), t.task == "multiclass" && t.logits);
          }),
  };
}

}  // namespace

const Registry<MetricEntry>& metrics() {
  static const Registry<MetricEntry> r("metric", rows());
  return r;
}

}  // namespace neurona::train
