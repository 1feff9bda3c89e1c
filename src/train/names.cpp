#include "neurona/train/names.hpp"

#include <algorithm>

#include "neurona/core/error.hpp"
#include "neurona/core/registry.hpp"
#include "neurona/optim/registry.hpp"

namespace neurona::train {

namespace {

std::string lower(std::string s) { return lower_case(std::move(s)); }

// Alias -> canonical loss name.
const std::map<std::string, std::string>& loss_aliases() {
  static const std::map<std::string, std::string> m = {
      {"mse", "mse"}, {"mean_squared_error", "mse"}, {"mseloss", "mse"},
      {"mae", "mae"}, {"l1", "mae"}, {"mean_absolute_error", "mae"}, {"l1loss", "mae"},
      {"huber", "huber"}, {"huberloss", "huber"},
      {"smooth_l1", "smooth_l1"}, {"smoothl1loss", "smooth_l1"},
      {"bce", "bce"}, {"binary_crossentropy", "bce"}, {"bceloss", "bce"},
      {"bce_with_logits", "bce_with_logits"}, {"bcewithlogitsloss", "bce_with_logits"},
      {"cross_entropy", "cross_entropy"}, {"crossentropyloss", "cross_entropy"},
      {"sparse_categorical_crossentropy", "cross_entropy"}, {"categorical_crossentropy", "cross_entropy"},
      {"nll", "nll"}, {"nllloss", "nll"},
  };
  return m;
}

}  // namespace

std::vector<std::string> loss_names() {
  std::vector<std::string> v;
  for (const auto& [k, c] : loss_aliases()) v.push_back(k);
  return v;
}

std::string canonical_loss_name(const std::string& name) {
  auto it = loss_aliases().find(lower(name));
  if (it == loss_aliases().end()) fail("unknown loss '", name, "'", did_you_mean(name, loss_names()));
  return it->second;
}

std::shared_ptr<nn::Loss> make_loss(const std::string& name) {
  const std::string c = canonical_loss_name(name);
  if (c == "mse") return std::make_shared<nn::MSELoss>();
  if (c == "mae") return std::make_shared<nn::L1Loss>();
  if (c == "huber") return std::make_shared<nn::HuberLoss>();
  if (c == "smooth_l1") return std::make_shared<nn::SmoothL1Loss>();
  if (c == "bce") return std::make_shared<nn::BCELoss>();
  if (c == "bce_with_logits") return std::make_shared<nn::BCEWithLogitsLoss>();
  if (c == "cross_entropy") return std::make_shared<nn::CrossEntropyLoss>();
  return std::make_shared<nn::NLLLoss>();
}

std::vector<std::string> metric_names() {
  return {"accuracy", "acc", "binary_accuracy", "top_5_accuracy", "mae", "mean_absolute_error", "mse",
          "mean_squared_error", "rmse", "r2", "precision", "recall", "f1", "auc"};
}

LossTask loss_task(const std::string& loss) {
  const std::string l = lower(loss);
  if (l == "cross_entropy_on_probabilities") return {"multiclass", false};
  const auto it = loss_aliases().find(l);
  if (it == loss_aliases().end()) return {};
  const std::string& c = it->second;
  if (c == "bce") return {"binary", false};
  if (c == "bce_with_logits") return {"binary", true};
  if (c == "cross_entropy") return {"multiclass", true};
  if (c == "nll") return {"multiclass", false};  // log-probabilities: ranks and arg-max as probabilities
  return {"regression", false};
}

std::shared_ptr<nn::metrics::Metric> make_metric(const std::string& name_in, const std::string& loss) {
  namespace M = nn::metrics;
  const std::string name = lower(name_in);
  const LossTask task = loss_task(loss);
  const bool binary = task.task == "binary";
  // Multiclass: macro over the model's output width (0: taken from the first prediction).
  // Otherwise, unless the loss is binary, the prediction's shape decides.
  const M::Average average =
      binary ? M::Average::Binary : task.task == "multiclass" ? M::Average::Macro : M::Average::Auto;
  const int64_t classes = binary ? 2 : 0;
  if (name == "accuracy" || name == "acc") {
    if (binary) return std::make_shared<M::BinaryAccuracy>();
    return std::make_shared<M::Accuracy>();
  }
  if (name == "binary_accuracy") return std::make_shared<M::BinaryAccuracy>();
  if (name == "top_5_accuracy") return std::make_shared<M::Accuracy>(5);
  if (name == "mae" || name == "mean_absolute_error") return std::make_shared<M::MeanAbsoluteError>();
  if (name == "mse" || name == "mean_squared_error") return std::make_shared<M::MeanSquaredError>();
  if (name == "rmse") return std::make_shared<M::RootMeanSquaredError>();
  if (name == "r2") return std::make_shared<M::R2Score>();
  if (name == "precision") return std::make_shared<M::Precision>(average, classes);
  if (name == "recall") return std::make_shared<M::Recall>(average, classes);
  if (name == "f1") return std::make_shared<M::F1Score>(average, classes);
  if (name == "auc") return std::make_shared<M::ROCAUC>(average, task.task == "multiclass" && task.logits);
  fail("unknown metric '", name_in, "'", did_you_mean(name_in, metric_names()));
}

std::vector<std::string> optimizer_names() { return optim::optimizers().names(); }

// The optimizer with its defaults from optim::optimizers(), then `hyper` set by name (beta1,
// beta2, …; Optimizer::set checks each).
OptimizerFactory optimizer_factory(const std::string& name, const std::map<std::string, double>& hyper) {
  const optim::OptimizerEntry* entry = &optim::optimizers().get(name);
  return [entry, hyper](std::vector<Tensor> params) {
    std::shared_ptr<optim::Optimizer> opt = entry->make(entry->options_from({}), std::move(params));
    for (const auto& [key, value] : hyper) opt->set(0, key, value);
    return opt;
  };
}

}  // namespace neurona::train
