#pragma once
// Callback: code that runs at fixed points of training (Keras's callbacks, Lightning's Callback).
// Override the hooks you need; a callback that keeps state across epochs saves it in checkpoints
// through save_state/load_state so a resumed run continues exactly.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "neurona/core/tensor.hpp"
#include "neurona/train/history.hpp"

namespace neurona::train {

class Trainer;

// A callback's checkpointed state: numbers, strings and tensors by name.
struct CallbackState {
  std::map<std::string, double> numbers;
  std::map<std::string, std::string> strings;
  std::vector<std::pair<std::string, Tensor>> tensors;

  double number(const std::string& key, const std::string& owner) const;  // throws when missing
};

class Callback {
 public:
  virtual ~Callback() = default;
  // Shown in messages and used as the key of this callback's state in checkpoints.
  virtual std::string name() const = 0;

  virtual void on_train_begin(Trainer&) {}
  virtual void on_train_end(Trainer&) {}
  // Epochs are 0-based here, as in Keras and Lightning; anything printed says epoch + 1.
  virtual void on_epoch_begin(Trainer&, int64_t /*epoch*/) {}
  // `logs` holds the epoch's training and validation values; a callback may add entries.
  virtual void on_epoch_end(Trainer&, int64_t /*epoch*/, Logs& /*logs*/) {}
  virtual void on_batch_begin(Trainer&, int64_t /*batch*/) {}
  // `logs` holds the batch's "loss" (before the update) and the values the module logged.
  virtual void on_batch_end(Trainer&, int64_t /*batch*/, const Logs& /*logs*/) {}
  virtual void on_validation_begin(Trainer&) {}
  virtual void on_validation_end(Trainer&, const Logs& /*logs*/) {}

  // True for callbacks that write checkpoints: they run after all others at each hook.
  virtual bool runs_last() const { return false; }

  virtual void save_state(CallbackState&) const {}
  virtual void load_state(const CallbackState&) {}
};

}  // namespace neurona::train
