#pragma once
// The course's words for losses, metrics and optimizers, turned into objects: what
// Model::compile("adam", "mae", {"mae"}) and the config files use. Unknown names are errors that
// list the valid ones and suggest the nearest. The words, options and factories are the
// registries' (nn::losses(), train::metrics()); these read them.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "neurona/nn/loss.hpp"
#include "neurona/nn/metrics.hpp"
#include "neurona/optim/optimizer.hpp"

namespace neurona::train {

// mse, mae, huber, smooth_l1, bce, bce_with_logits, cross_entropy, nll and Keras's aliases
// (mean_squared_error, mean_absolute_error, binary_crossentropy,
// sparse_categorical_crossentropy, …), with their default options: nn::losses()' rows.
std::shared_ptr<nn::Loss> make_loss(const std::string& name);
std::string canonical_loss_name(const std::string& name);  // "mean_absolute_error" -> "mae"
std::vector<std::string> loss_names();                     // every name and alias, sorted

// What a loss trains for, read from its name: a make_loss name or alias, or an nn::Loss's name()
// ("CrossEntropyLoss", "BCEWithLogitsLoss", …, and "cross_entropy_on_probabilities", the config's
// cross-entropy after a softmax layer).
struct LossTask {
  std::string task;     // "binary", "multiclass", "regression", or "" for a name it does not know
  bool logits = false;  // the model outputs logits (bce_with_logits, cross_entropy)
};
LossTask loss_task(const std::string& loss);

// accuracy (binary or multiclass from the loss), binary_accuracy, top_k_accuracy, mae, mse, rmse,
// r2, precision, recall, f1, auc. `loss` decides what "accuracy" means, and whether precision,
// recall, f1 and auc are binary (class 1 positive) or macro-averaged over the classes of the
// model's output (multiclass; auc one-vs-rest, after softmax when the outputs are logits). For
// other losses the model's output decides: one column is binary, C columns are C classes.
// train::metrics()' rows, given loss_task(loss).
std::shared_ptr<nn::metrics::Metric> make_metric(const std::string& name, const std::string& loss);
std::vector<std::string> metric_names();  // every name and alias

// sgd, adagrad, rmsprop, adadelta, adam, adamw, nadam, radam with PyTorch's argument names
// (lr, momentum, betas → beta1/beta2, weight_decay, nesterov, amsgrad, …).
using OptimizerFactory = std::function<std::shared_ptr<optim::Optimizer>(std::vector<Tensor> params)>;
OptimizerFactory optimizer_factory(const std::string& name,
                                   const std::map<std::string, double>& hparams = {});
std::vector<std::string> optimizer_names();

}  // namespace neurona::train
