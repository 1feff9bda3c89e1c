#pragma once
// Helpers shared by src/app/build.cpp (data, model, training) and src/app/weights.cpp (weights
// files, tables, predictions). Internal to the app layer.
#include <string>
#include <vector>

#include "neurona/app/config.hpp"

namespace neurona::app::detail {

// The config's last layer is a softmax (a `softmax` layer, or dense/activation with
// activation: softmax): cross-entropy then works on probabilities, as Keras's does.
bool ends_in_softmax(const std::vector<Named>& layers);
// Targets in the layout the loss wants: class ids [N] for multiclass, [N, T] otherwise.
Tensor shape_targets(const Tensor& y, const std::string& task);
// The CSV reader's options for the config's data section (and the training file's schema).
data::CsvOptions csv_options(const DataConfig& d, const data::CsvSchema* schema);

}  // namespace neurona::app::detail
