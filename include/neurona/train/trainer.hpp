#pragma once
// The training engine, Lightning style: a LightningModule says what one step computes
// (training_step, validation_step, test_step, predict_step, configure_optimizers) and a Trainer
// runs the loop — epochs, validation, gradient clipping and accumulation, schedules, callbacks,
// loggers, checkpoints and resuming. Keras's Model::fit (train/model.hpp) drives this same engine.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "neurona/data/dataset.hpp"
#include "neurona/dist/ddp.hpp"
#include "neurona/io/logger.hpp"
#include "neurona/io/safetensors.hpp"
#include "neurona/nn/module.hpp"
#include "neurona/optim/optimizer.hpp"
#include "neurona/optim/schedulers.hpp"
#include "neurona/train/callback.hpp"
#include "neurona/train/history.hpp"

namespace neurona::train {

// What configure_optimizers returns: the optimizer and an optional schedule with when to step it.
struct OptimizerConfig {
  std::shared_ptr<optim::Optimizer> optimizer;
  std::shared_ptr<optim::LRScheduler> scheduler;  // optional
  std::string interval = "epoch";                 // "epoch" or "step" (each optimizer step)
  int64_t frequency = 1;                          // step the schedule every `frequency` intervals
  std::string monitor = "val_loss";               // the value ReduceLROnPlateau watches
};

class LightningModule : public nn::Module {
 public:
  // Returns the loss to minimise for one training batch.
  virtual Tensor training_step(const data::Batch& batch, int64_t batch_idx) = 0;
  virtual void validation_step(const data::Batch& /*batch*/, int64_t /*batch_idx*/) {}
  virtual void test_step(const data::Batch& batch, int64_t batch_idx);  // throws unless overridden
  virtual Tensor predict_step(const data::Batch& batch, int64_t /*batch_idx*/) { return (*this)(batch.x); }
  virtual OptimizerConfig configure_optimizers() = 0;

  virtual void on_train_epoch_start() {}
  virtual void on_train_epoch_end() {}
  virtual void on_validation_epoch_start() {}
  virtual void on_validation_epoch_end() {}

  // Records a value for the current epoch: the epoch's value is the mean over its batches weighted
  // by `batch_size` (so names logged in any step are visible to epoch-end monitors). Call from
  // the *_step methods; names are used as given ("val_loss", "val_accuracy").
  void log(const std::string& name, double value, int64_t batch_size = 1);
  void log(const std::string& name, const Tensor& value, int64_t batch_size = 1);

  Trainer* trainer() const { return trainer_; }

 private:
  friend class Trainer;
  Trainer* trainer_ = nullptr;
};

struct TrainerOptions {
  int64_t max_epochs = -1;  // -1: 1000 unless max_steps is set (Lightning's rule)
  int64_t max_steps = -1;   // optimizer steps; -1: no limit
  int64_t min_epochs = 0;   // stopping callbacks cannot end training before this
  int64_t check_val_every_n_epoch = 1;
  int64_t val_check_interval = 0;                // > 0: also validate every N training batches
  double gradient_clip_val = 0.0;                // 0: no clipping
  std::string gradient_clip_algorithm = "norm";  // "norm" or "value"
  int64_t accumulate_grad_batches = 1;
  int64_t limit_train_batches = -1;  // -1: all
  int64_t limit_val_batches = -1;
  int64_t overfit_batches = 0;             // > 0: train and validate on the first N batches, no shuffling
  int64_t fast_dev_run = 0;                // > 0: N batches of train and validation, one epoch, no logs
  bool deterministic = false;              // one thread, so runs with a seed are bit-identical
  uint64_t seed = 0;                       // seeds the default generator at fit() start
  std::filesystem::path default_root_dir;  // non-empty: run directory root (runs/<name>/version_<n>)
  std::string name = "default";            // experiment name under default_root_dir
  std::vector<std::shared_ptr<Callback>> callbacks;
  std::vector<std::shared_ptr<io::Logger>> loggers;
  // Called once per optimizer step with the optimizer's parameters, when the step's gradients are
  // complete (after accumulation) and before clipping and the step: where data-parallel training
  // averages the gradients across processes, so every process takes the same step.
  std::function<void(const std::vector<Tensor>& params)> synchronize_gradients;
  // Data-parallel training (Lightning's strategy): "auto" trains data-parallel when this process
  // is one of several started by an MPI launcher (mpirun, srun) and alone otherwise; "ddp" asks
  // for it (alone when started alone); "single" never shares. Data-parallel, rank 0's initial
  // weights go to every rank, each loader yields this rank's shard (the training one padded so
  // every rank runs the same steps), gradients are averaged in buckets of bucket_cap_mb MiB
  // before clipping and the step, the epoch's logged values are reduced across ranks (so every
  // callback decides the same), and only rank 0 writes run directories, checkpoints and logs and
  // prints progress. batch_size stays per process, as in Lightning.
  std::string strategy = "auto";
  double bucket_cap_mb = dist::kDefaultBucketCapMb;
  // Data-parallel: BatchNorm layers normalise with the statistics of the global batch (all
  // ranks'), not their own shard's (PyTorch's SyncBatchNorm; F::set_batch_stats_reducer).
  bool sync_batchnorm = false;
  double ddp_timeout = 0;  // seconds a collective may wait before the job is aborted; 0: 30 s
                           // or NEURONA_DDP_TIMEOUT
  // What the loggers receive besides the per-epoch logs (TensorBoard, MLflow, CSV):
  int64_t log_every_n_steps = 50;                  // training loss per step every N optimizer steps; 0: off
  int64_t histogram_every_n_epochs = 1;            // weight and gradient histograms; 0: off
  std::map<std::string, io::HParamValue> hparams;  // the run's hyper-parameters (HParams table)
  std::string summary_text;                        // the model summary, logged as text with the config
  int verbose = 1;            // 0 silent, 1 progress bar + epoch line, 2 one line per epoch
  bool handle_sigint = true;  // Ctrl-C: finish the step, write a checkpoint, stop cleanly
  std::string config_text;    // saved in the run directory and checkpoints
};

class Trainer {
 public:
  explicit Trainer(TrainerOptions options = {});

  // Trains `module`. With `ckpt_path`, first restores everything a checkpoint holds (weights,
  // optimizer, schedule, counters, random state, callback state, history) and continues from the
  // epoch after it.
  History fit(LightningModule& module, data::DataLoader& train, data::DataLoader* val = nullptr,
              const std::filesystem::path& ckpt_path = {});
  Logs validate(LightningModule& module, data::DataLoader& val);
  Logs test(LightningModule& module, data::DataLoader& test);
  std::vector<Tensor> predict(LightningModule& module, data::DataLoader& loader);

  // --- state seen by callbacks -----------------------------------------------------------------
  LightningModule& module() const;
  optim::Optimizer& optimizer() const;
  optim::LRScheduler* scheduler() const { return config_.scheduler.get(); }
  const TrainerOptions& options() const { return options_; }
  int64_t current_epoch() const { return epoch_; }
  int64_t global_step() const { return global_step_; }
  int64_t num_training_batches() const { return train_batches_; }
  const Logs& callback_metrics() const { return metrics_; }
  const History& history() const { return history_; }
  // Asks the loop to stop after the current batch (`after_batch`) or epoch; `reason` is printed.
  void request_stop(const std::string& reason, bool after_batch = false);
  bool should_stop() const { return stop_; }
  const std::string& stop_reason() const { return stop_reason_; }
  bool interrupted() const { return interrupted_; }
  // Run directory of this fit (empty when default_root_dir is empty).
  const std::filesystem::path& log_dir() const { return log_dir_; }
  // Data-parallel position during fit (0 of 1 when training alone). Only rank 0 writes files.
  int global_rank() const { return comm_ ? comm_->rank() : 0; }
  int world_size() const { return comm_ ? comm_->size() : 1; }
  bool is_global_zero() const { return global_rank() == 0; }
  std::filesystem::path checkpoint_dir() const;

  // Writes a checkpoint: `<path>` holds the weights (safetensors, PyTorch names), and
  // `<path minus .safetensors>.state.safetensors` everything else needed to resume. Data-parallel,
  // rank 0 writes it and the other ranks do nothing (their state is the same).
  void save_checkpoint(const std::filesystem::path& path) const;

  // Receives module.log() values; used by LightningModule::log.
  void record(const std::string& name, double value, int64_t batch_size);

 private:
  class Attach;
  // The files of a checkpoint, held in memory until written.
  struct Checkpoint {
    std::vector<io::NamedTensor> weights, state;
    std::map<std::string, std::string> weight_meta, state_meta;
  };
  // The training state after epoch `completed` (-1: none yet); `copy` clones the tensors so the
  // snapshot survives further training.
  Checkpoint make_checkpoint(int64_t completed, bool copy) const;
  static void write_checkpoint(const std::filesystem::path& path, const Checkpoint& c);
  Logs run_validation(data::DataLoader& val, bool with_callbacks);
  void load_checkpoint(const std::filesystem::path& path);
  // The one place gradients become final: synchronize_gradients, clipping, the step, zero_grad,
  // the step count and a per-step schedule.
  void optimizer_step();
  void setup_log_dir();
  Logs take_epoch_logs();  // the weighted means recorded since the last call
  bool histogram_epoch() const;
  void log_histograms(const std::string& prefix, bool gradients);

  TrainerOptions options_;
  LightningModule* module_ = nullptr;
  OptimizerConfig config_;
  History history_;
  Logs metrics_;
  int64_t epoch_ = 0, global_step_ = 0, train_batches_ = 0, start_epoch_ = 0, last_step_logged_ = -1;
  bool stop_ = false, stop_after_batch_ = false, interrupted_ = false;
  std::string stop_reason_;
  std::filesystem::path log_dir_;
  std::string history_csv_header_;                          // the header history.csv was last written with
  std::map<std::string, std::pair<double, double>> accum_;  // name -> (weighted sum, weight)
  // Data-parallel training: the world (null when training alone) and the gradient buckets.
  dist::Communicator* comm_ = nullptr;
  std::unique_ptr<dist::GradientReducer> reducer_;
  bool backward_since_step_ = false;  // this rank has gradients for the coming step
  bool ranks_stop_ = false;           // a rank asked to stop after a batch (agreed at the last step)
};

// The number of processes `options.strategy` trains on: the MPI world's size for "auto" and
// "ddp", 1 for "single". Throws on another strategy name.
int strategy_world_size(const TrainerOptions& options);

// A module's state_dict as the tensors of a weights file; integer buffers stay integer (I64).
std::vector<io::NamedTensor> weight_tensors(const nn::Module& m);

// Runs `body` with the default generator seeded `seed` for each of `k` restarts and keeps the best
// by `monitor` ("random restarts": the same model from several initialisations).
struct RestartResult {
  int best = -1;               // index of the best restart
  std::vector<double> scores;  // the monitored value of each restart
  std::vector<uint64_t> seeds;
};
RestartResult random_restarts(int k, uint64_t first_seed, const std::string& monitor, bool minimize,
                              const std::function<History(uint64_t seed, int index)>& body);

}  // namespace neurona::train
