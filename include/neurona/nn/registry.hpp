#pragma once
// The layers users can name — in config files, the web Playground or C++ — with their options
// and defaults: nn::layers().get("dense").make(options, input). Adding a layer is its nn file, its
// row in src/nn/registry.cpp and its test; the config schema, docs check and build read the row.
#include <memory>
#include <vector>

#include "neurona/core/registry.hpp"
#include "neurona/nn/loss.hpp"
#include "neurona/nn/module.hpp"

namespace neurona::nn {

// What a layer is built on: one sample's shape ([features], or [C, L] …; empty for a scalar).
struct LayerInput {
  std::vector<int64_t> shape;
  int64_t features() const { return shape.empty() ? 1 : shape.back(); }   // the last dimension
  int64_t channels() const { return shape.empty() ? 1 : shape.front(); }  // the first dimension
  // A list kind's entries (sequential, residual, concat), already built by the caller: each on
  // this input for concat (builds_branches), each on the previous entry's output otherwise.
  std::vector<std::shared_ptr<Module>> items = {};
};
// True for the list kinds whose entries all read the block's input (concat's branches).
bool builds_branches(const std::string& kind);

using LayerEntry = Entry<std::shared_ptr<Module>, const LayerInput&>;
const Registry<LayerEntry>& layers();

// The losses users can name (PyTorch's names, Keras's and both libraries' class names as
// aliases), with PyTorch's options and defaults: nn::losses().get("huber").make(options). Each
// says what it trains for, which the metrics read (train::loss_task).
struct LossEntry : Entry<std::shared_ptr<Loss>> {
  std::string task;     // "regression", "binary" or "multiclass"
  bool logits = false;  // the model's outputs are logits (bce_with_logits, cross_entropy)
};
const Registry<LossEntry>& losses();

}  // namespace neurona::nn
