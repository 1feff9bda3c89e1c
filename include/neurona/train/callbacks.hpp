#pragma once
// The built-in callbacks: EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, LearningRateMonitor,
// TerminateOnNaN, CSVLogger, BackboneFinetuning, GradualUnfreezing and LambdaCallback. Semantics follow Keras
// unless said otherwise.
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "neurona/nn/module.hpp"
#include "neurona/optim/schedulers.hpp"
#include "neurona/train/callback.hpp"

namespace neurona::train {

// "min" or "max" for a monitored name: accuracy, auc, f1, precision, recall and r2 are "max",
// everything else (losses, errors) "min".
std::string infer_mode(const std::string& monitor);

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0.0;     // an improvement must beat the best by more than this (absolute)
  int64_t patience = 0;       // epochs without improvement before stopping
  std::string mode = "auto";  // "auto", "min" or "max"
  double baseline = std::numeric_limits<double>::quiet_NaN();  // NaN: none
  bool restore_best_weights = false;
  int64_t start_from_epoch = 0;  // epochs (0-based) before which nothing is monitored
  bool verbose = true;
};

// Keras semantics: `wait` grows by one each monitored epoch and resets on an improvement that also
// beats `baseline`; training stops once wait >= patience (and epoch > 0). With
// restore_best_weights, the best epoch's weights are restored when training ends, whether or not
// this callback stopped it.
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {});
  std::string name() const override { return "EarlyStopping"; }
  void on_train_begin(Trainer&) override;
  void on_epoch_end(Trainer&, int64_t epoch, Logs& logs) override;
  void on_train_end(Trainer&) override;
  void save_state(CallbackState&) const override;
  void load_state(const CallbackState&) override;

  int64_t stopped_epoch() const { return stopped_epoch_; }  // -1 if it did not stop training
  int64_t best_epoch() const { return best_epoch_; }
  double best() const { return best_; }
  int64_t wait() const { return wait_; }
  const EarlyStoppingOptions& options() const { return o_; }

 private:
  bool improved(double current, double reference) const;
  EarlyStoppingOptions o_;
  bool minimize_ = true;
  int64_t wait_ = 0, best_epoch_ = -1, stopped_epoch_ = -1;
  double best_ = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::pair<std::string, Tensor>> best_weights_;
  bool warned_ = false;
};

struct ModelCheckpointOptions {
  std::filesystem::path dirpath;  // empty: <run dir>/checkpoints
  // "{key}" and "{key:.4f}" take values from the epoch's logs plus epoch (0-based) and step.
  std::string filename = "epoch={epoch}-step={step}";
  std::string monitor;  // empty: keep the latest checkpoints
  std::string mode = "auto";
  int64_t save_top_k = 1;  // -1: keep all; 0: none (only last, when save_last)
  bool save_last = false;  // also write last.safetensors every epoch
  int64_t every_n_epochs = 1;
  bool verbose = false;
};

// Lightning's ModelCheckpoint: writes `<name>.safetensors` (weights, PyTorch names) and
// `<name>.state.safetensors` (everything needed to resume) and keeps the best `save_top_k`.
class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(ModelCheckpointOptions options = {});
  std::string name() const override { return "ModelCheckpoint"; }
  bool runs_last() const override { return true; }
  void on_epoch_end(Trainer&, int64_t epoch, Logs& logs) override;
  void save_state(CallbackState&) const override;
  void load_state(const CallbackState&) override;

  const std::filesystem::path& best_model_path() const { return best_path_; }
  double best_model_score() const { return best_score_; }
  const std::filesystem::path& last_model_path() const { return last_path_; }
  // The kept checkpoints with their scores, best first.
  const std::vector<std::pair<double, std::filesystem::path>>& best_k_models() const { return kept_; }

  // Fills a filename template; exposed for tests.
  static std::string format_name(const std::string& pattern, const Logs& values);

 private:
  ModelCheckpointOptions o_;
  bool minimize_ = true;
  std::vector<std::pair<double, std::filesystem::path>> kept_;
  std::filesystem::path best_path_, last_path_;
  double best_score_ = std::numeric_limits<double>::quiet_NaN();
};

struct ReduceLROnPlateauCallbackOptions {
  std::string monitor = "val_loss";
  optim::ReduceLROnPlateauOptions schedule;  // factor, patience, threshold, cooldown, min_lr, convention
  bool verbose = true;
};

// Keras's ReduceLROnPlateau as a callback: steps a plateau schedule on the monitored value at
// each epoch end and records the new rate as "lr".
class ReduceLROnPlateau : public Callback {
 public:
  explicit ReduceLROnPlateau(ReduceLROnPlateauCallbackOptions options = {});
  std::string name() const override { return "ReduceLROnPlateau"; }
  void on_train_begin(Trainer&) override;
  void on_epoch_end(Trainer&, int64_t epoch, Logs& logs) override;
  void save_state(CallbackState&) const override;
  void load_state(const CallbackState&) override;

 private:
  ReduceLROnPlateauCallbackOptions o_;
  std::unique_ptr<optim::ReduceLROnPlateau> schedule_;
};

// Lightning's LearningRateMonitor: adds "lr-<Optimizer>" (and "/pg<i>" per extra group) to the
// logs every epoch, or sends it to the loggers every optimizer step.
class LearningRateMonitor : public Callback {
 public:
  explicit LearningRateMonitor(std::string logging_interval = "epoch");
  std::string name() const override { return "LearningRateMonitor"; }
  void on_epoch_end(Trainer&, int64_t epoch, Logs& logs) override;
  void on_batch_end(Trainer&, int64_t batch, const Logs& logs) override;

 private:
  Logs rates(Trainer&) const;
  std::string interval_;
};

// Stops training at the first batch whose loss is NaN or infinite, with a message naming the
// epoch and batch, and keeps the last weights that were finite.
class TerminateOnNaN : public Callback {
 public:
  std::string name() const override { return "TerminateOnNaN"; }
  void on_batch_end(Trainer&, int64_t batch, const Logs& logs) override;
  bool triggered() const { return triggered_; }
  const std::string& message() const { return message_; }

 private:
  std::vector<Tensor> snapshot_;  // weights after the last finite batch
  bool triggered_ = false;
  std::string message_;
};

// Appends one row per epoch to a CSV file: "epoch" (0-based) then the sorted log keys fixed by
// the first row (later new keys are left out), flushed each row so a killed run keeps its lines.
class CSVLogger : public Callback {
 public:
  explicit CSVLogger(std::filesystem::path filename, char separator = ',', bool append = false);
  std::string name() const override { return "CSVLogger"; }
  void on_train_begin(Trainer&) override;
  void on_epoch_end(Trainer&, int64_t epoch, Logs& logs) override;

 private:
  std::filesystem::path path_;
  char sep_;
  bool append_;
  std::vector<std::string> columns_;
};

// True when parameter `name` of `model` is selected by `entry`: an integer is a layer index (the
// top-level child at that position, negative counting from the end), anything else a glob on the
// dotted name ("0.*", "features.*"). model.freeze, model.unfreeze and the finetuning callbacks
// select with it.
bool parameter_selected(const std::string& entry, const std::string& name, const nn::Module& model);

// Which parameters are the backbone: names matching any of `patterns` (globs, or layer indices as
// in model.freeze: "0" is the first layer's); no patterns: every layer's but the last one with
// parameters (the head).
std::vector<std::pair<std::string, Tensor>> backbone_parameters(nn::Module& model,
                                                                const std::vector<std::string>& patterns);

// Lightning's BackboneFinetuning: the backbone is frozen until epoch `unfreeze_backbone_at_epoch`
// (0-based), then trains with lr = head lr × backbone_initial_ratio_lr (or backbone_initial_lr),
// multiplied by `multiplier` (Lightning's lambda_func, by default ×1.5) every later epoch and, with
// should_align, never above the head's lr (group 0's). The backbone's parameters must form one
// optimizer group of their own, which the config's compile makes; while frozen, that group is
// skipped by the optimizer. train_bn: the backbone's BatchNorm layers keep training mode (their
// running statistics move, as Lightning's); false: they run in inference mode while frozen.
struct BackboneFinetuningOptions {
  int64_t unfreeze_backbone_at_epoch = 10;
  double multiplier = 1.5;
  double backbone_initial_ratio_lr = 0.1;
  double backbone_initial_lr = std::numeric_limits<double>::quiet_NaN();  // NaN: from the ratio
  bool should_align = true;
  bool train_bn = true;
  std::vector<std::string> backbone;  // see backbone_parameters
  bool verbose = true;
};
class BackboneFinetuning : public Callback {
 public:
  explicit BackboneFinetuning(BackboneFinetuningOptions options);
  std::string name() const override { return "BackboneFinetuning"; }
  void on_train_begin(Trainer& t) override;
  void on_epoch_begin(Trainer& t, int64_t epoch) override;
  void on_batch_begin(Trainer& t, int64_t batch) override;
  void save_state(CallbackState& s) const override;
  void load_state(const CallbackState& s) override;
  const BackboneFinetuningOptions& options() const { return o_; }
  double backbone_lr() const { return lr_; }  // NaN before the backbone is unfrozen

 private:
  void set_frozen(Trainer& t, bool frozen);
  BackboneFinetuningOptions o_;
  std::vector<Tensor> params_;                      // the backbone's
  std::vector<bool> batchnorm_;                     // params_[i] belongs to a BatchNorm layer
  std::vector<std::shared_ptr<nn::Module>> norms_;  // the backbone's BatchNorm layers
  size_t group_ = 0;                                // the optimizer group holding params_
  bool frozen_ = false;
  double lr_ = std::numeric_limits<double>::quiet_NaN();
};

// Gradual unfreezing (ULMFiT's): training starts with only the last layer that has parameters
// trainable; every `epochs_per_layer` epochs the next layer down is unfrozen, until all train.
// The unfrozen layers train with the optimizer group they are in (compile.param_groups gives them
// their own rates).
class GradualUnfreezing : public Callback {
 public:
  explicit GradualUnfreezing(int64_t epochs_per_layer = 1, bool verbose = true);
  std::string name() const override { return "GradualUnfreezing"; }
  void on_train_begin(Trainer& t) override;
  void on_epoch_begin(Trainer& t, int64_t epoch) override;
  // Layers (top-level children with parameters) trainable at epoch `epoch` (0-based).
  int64_t trainable_layers(int64_t epoch) const;

 private:
  int64_t every_;
  bool verbose_;
  std::vector<std::pair<std::string, std::shared_ptr<nn::Module>>> layers_;  // with parameters, in order
};

// A callback made of functions, for one-off hooks.
struct LambdaCallback : Callback {
  std::function<void(Trainer&)> train_begin, train_end;
  std::function<void(Trainer&, int64_t)> epoch_begin;
  std::function<void(Trainer&, int64_t, Logs&)> epoch_end;
  std::function<void(Trainer&, int64_t, const Logs&)> batch_end;
  std::string name() const override { return "LambdaCallback"; }
  void on_train_begin(Trainer& t) override {
    if (train_begin) train_begin(t);
  }
  void on_train_end(Trainer& t) override {
    if (train_end) train_end(t);
  }
  void on_epoch_begin(Trainer& t, int64_t e) override {
    if (epoch_begin) epoch_begin(t, e);
  }
  void on_epoch_end(Trainer& t, int64_t e, Logs& l) override {
    if (epoch_end) epoch_end(t, e, l);
  }
  void on_batch_end(Trainer& t, int64_t b, const Logs& l) override {
    if (batch_end) batch_end(t, b, l);
  }
};

}  // namespace neurona::train
