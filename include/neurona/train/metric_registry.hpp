#pragma once
// The metrics users can name in compile(…, metrics) and config files, in Keras's words:
// train::metrics().get("f1").make(options, loss_task(loss)). What some of them mean follows the
// loss the model trains with (`task`): "accuracy" is binary or multiclass, precision, recall, f1
// and auc are binary (class 1 positive) or macro-averaged over the classes of the model's output;
// for a loss of neither kind the model's output decides (one column binary, C columns C classes).
#include <memory>

#include "neurona/core/registry.hpp"
#include "neurona/nn/metrics.hpp"
#include "neurona/train/names.hpp"

namespace neurona::train {

using MetricEntry = Entry<std::shared_ptr<nn::metrics::Metric>, const LossTask&>;
const Registry<MetricEntry>& metrics();

}  // namespace neurona::train
