#pragma once
// Model: the Keras front door — compile(optimizer, loss, metrics), fit(...) returning a History,
// evaluate(), predict() — over any nn::Module, driven by the same Trainer as a LightningModule.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "neurona/data/dataset.hpp"
#include "neurona/optim/regularization.hpp"
#include "neurona/train/names.hpp"
#include "neurona/train/trainer.hpp"

namespace neurona::train {

// Builds a schedule for the optimizer; `steps_per_epoch` lets per-batch schedules size cycles.
using ScheduleFactory =
    std::function<std::shared_ptr<optim::LRScheduler>(optim::Optimizer&, int64_t steps_per_epoch)>;

struct CompileOptions {
  OptimizerFactory optimizer;               // required
  std::string loss;                         // a name of make_loss
  std::shared_ptr<nn::Loss> loss_object;    // or a loss object (takes precedence)
  std::vector<std::string> metrics;         // names of make_metric
  ScheduleFactory schedule;                 // optional
  std::string schedule_interval = "epoch";  // "epoch" or "step"
  int64_t schedule_frequency = 1;           // step the schedule every `frequency` intervals
  std::string schedule_monitor = "val_loss";
  // Penalties on parameters (Keras's kernel_regularizer/bias_regularizer), added to the training
  // loss, which `loss` then reports as Keras does; the penalty alone is logged as
  // `regularization_loss`. Validation and test losses are the data loss only.
  std::vector<std::pair<Tensor, optim::Regularizer>> regularizers;
};

struct FitOptions {
  int64_t epochs = 1;
  int64_t batch_size = 32;                             // Keras's default
  std::optional<data::TensorDataset> validation_data;  // takes precedence over validation_split
  double validation_split = 0.0;  // the LAST fraction of the rows, taken before shuffling (Keras)
  bool shuffle = true;
  std::vector<std::shared_ptr<Callback>> callbacks;
  int verbose = 1;
  uint64_t seed = 0;                  // seeds shuffling and the default generator (dropout)
  std::filesystem::path resume_from;  // a checkpoint written by ModelCheckpoint or Ctrl-C
  std::filesystem::path run_root;     // non-empty: write runs/<name>/version_<n>/
  std::string name = "model";
  TrainerOptions trainer;  // the rest of the Trainer's options (clipping, accumulation, loggers…)
  // Applied to each training batch (augmentation) and to each validation batch (its evaluation
  // form: e.g. data::ImagePipeline::evaluation()); null: the batches as gathered.
  std::shared_ptr<const data::BatchTransform> transform, eval_transform;
};

class Model {
 public:
  explicit Model(std::shared_ptr<nn::Module> net);

  void compile(CompileOptions options);
  // By names, with each optimizer's default hyper-parameters except those given.
  void compile(const std::string& optimizer, const std::string& loss,
               const std::vector<std::string>& metrics = {},
               const std::map<std::string, double>& optimizer_hparams = {});

  History fit(const data::TensorDataset& train, FitOptions options = {});
  // Loss and metrics over `data` in eval mode (keys "loss" and the metric names).
  // `transform` changes each batch first (an image pipeline's evaluation form).
  Logs evaluate(const data::TensorDataset& data, int64_t batch_size = 32,
                std::shared_ptr<const data::BatchTransform> transform = nullptr);
  Tensor predict(const Tensor& x, int64_t batch_size = 32);

  nn::Module& net() { return *net_; }
  std::shared_ptr<nn::Module> net_ptr() const { return net_; }
  const CompileOptions& compiled() const;
  // The trainer of the last fit (callbacks, global step, run directory).
  const Trainer* last_trainer() const { return trainer_.get(); }

 private:
  class Adapter;
  std::shared_ptr<nn::Module> net_;
  std::optional<CompileOptions> compile_;
  std::shared_ptr<Adapter> adapter_;
  std::unique_ptr<Trainer> trainer_;
};

}  // namespace neurona::train
