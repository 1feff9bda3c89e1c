#include "neurona/train/trainer.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "neurona/autograd/node.hpp"
#include "neurona/core/error.hpp"
#include "neurona/core/random.hpp"
#include "neurona/core/threads.hpp"
#include "neurona/io/files.hpp"
#include "neurona/io/safetensors.hpp"
#include "neurona/nn/functional.hpp"
#include "neurona/optim/regularization.hpp"
#include "neurona/train/progress.hpp"

namespace neurona::train {

namespace {

std::atomic<bool> g_sigint{false};
void on_sigint(int) { g_sigint.store(true); }

// Installs the Ctrl-C handler for the lifetime of a fit and puts the previous one back.
class SigintScope {
 public:
  explicit SigintScope(bool on) : on_(on) {
    if (!on_) return;
    g_sigint.store(false);
    previous_ = std::signal(SIGINT, on_sigint);
  }
  ~SigintScope() {
    if (on_) std::signal(SIGINT, previous_);
  }

 private:
  bool on_;
  void (*previous_)(int) = SIG_DFL;
};

bool is_plateau(const optim::LRScheduler* s) {
  return dynamic_cast<const optim::ReduceLROnPlateau*>(s) != nullptr;
}

}  // namespace

// --- LightningModule ------------------------------------------------------------------------------

void LightningModule::test_step(const data::Batch&, int64_t) {
  fail(type_name(), ": test() needs test_step to be overridden");
}

void LightningModule::log(const std::string& name, double value, int64_t batch_size) {
  check(trainer_ != nullptr, type_name(), ".log('", name,
        "'): only available while a Trainer runs the module");
  trainer_->record(name, value, batch_size);
}

void LightningModule::log(const std::string& name, const Tensor& value, int64_t batch_size) {
  log(name, static_cast<double>(value.item()), batch_size);
}

// --- Trainer ---------------------------------------------------------------------------------------

// Connects a module to the trainer for one fit/validate/test, so LightningModule::log reaches it.
class Trainer::Attach {
 public:
  Attach(Trainer& t, LightningModule& m) : m_(m) {
    t.module_ = &m;
    m.trainer_ = &t;
  }
  ~Attach() { m_.trainer_ = nullptr; }
  Attach(const Attach&) = delete;
  Attach& operator=(const Attach&) = delete;

 private:
  LightningModule& m_;
};

Trainer::Trainer(TrainerOptions options) : options_(std::move(options)) {
  check(options_.accumulate_grad_batches >= 1, "Trainer: accumulate_grad_batches must be at least 1, got ",
        options_.accumulate_grad_batches);
  check(options_.check_val_every_n_epoch >= 1, "Trainer: check_val_every_n_epoch must be at least 1, got ",
        options_.check_val_every_n_epoch);
  check(options_.gradient_clip_algorithm == "norm" || options_.gradient_clip_algorithm == "value",
        "Trainer: gradient_clip_algorithm must be 'norm' or 'value', got '", options_.gradient_clip_algorithm,
        "'");
  check(options_.gradient_clip_val >= 0, "Trainer: gradient_clip_val must be >= 0, got ",
        options_.gradient_clip_val);
  if (options_.max_epochs < 0) options_.max_epochs = options_.max_steps > 0 ? INT64_MAX : 1000;
  if (options_.fast_dev_run > 0) {
    options_.max_epochs = 1;
    options_.limit_train_batches = options_.limit_val_batches = options_.fast_dev_run;
    options_.default_root_dir.clear();
    options_.loggers.clear();
  }
  if (options_.overfit_batches > 0)
    options_.limit_train_batches = options_.limit_val_batches = options_.overfit_batches;
}

LightningModule& Trainer::module() const {
  check(module_ != nullptr, "Trainer: no module is being trained");
  return *module_;
}

optim::Optimizer& Trainer::optimizer() const {
  check(config_.optimizer != nullptr, "Trainer: configure_optimizers has not run");
  return *config_.optimizer;
}

void Trainer::request_stop(const std::string& reason, bool after_batch) {
  stop_ = true;
  stop_after_batch_ = stop_after_batch_ || after_batch;
  if (stop_reason_.empty()) stop_reason_ = reason;
}

void Trainer::record(const std::string& name, double value, int64_t batch_size) {
  auto& [sum, weight] = accum_[name];
  sum += value * static_cast<double>(batch_size);
  weight += static_cast<double>(batch_size);
}

Logs Trainer::take_epoch_logs() {
  if (comm_ && comm_->size() > 1) {
    // Every rank's weighted sums and weights, added up: the epoch's values over all the ranks'
    // samples, the same on every rank. The names are rank 0's.
    std::string names;
    for (const auto& [name, sw] : accum_) names += name + '\n';
    comm_->broadcast(names);
    std::vector<std::string> keys;
    for (size_t a = 0, b; a < names.size(); a = b + 1) {
      b = names.find('\n', a);
      keys.push_back(names.substr(a, b - a));
    }
    std::vector<double> v(2 * keys.size(), 0.0);
    for (size_t i = 0; i < keys.size(); ++i) {
      auto it = accum_.find(keys[i]);
      if (it != accum_.end()) v[2 * i] = it->second.first, v[2 * i + 1] = it->second.second;
    }
    comm_->allreduce_sum(v.data(), static_cast<int64_t>(v.size()));
    accum_.clear();
    for (size_t i = 0; i < keys.size(); ++i)
      if (v[2 * i + 1] != 0) accum_[keys[i]] = {v[2 * i], v[2 * i + 1]};
  }
  Logs logs;
  for (const auto& [name, sw] : accum_) logs[name] = sw.first / sw.second;
  accum_.clear();
  return logs;
}

std::filesystem::path Trainer::checkpoint_dir() const {
  return log_dir_.empty() ? std::filesystem::path("checkpoints") : log_dir_ / "checkpoints";
}

void Trainer::setup_log_dir() {
  log_dir_.clear();
  // A logger created with its own run directory decides the trainer's, as in Lightning.
  for (const auto& lg : options_.loggers)
    if (log_dir_.empty()) log_dir_ = lg->log_dir();
  if (log_dir_.empty()) {
    if (options_.default_root_dir.empty()) return;
    const auto base = options_.default_root_dir / options_.name;
    int version = 0;
    while (std::filesystem::exists(base / ("version_" + std::to_string(version)))) ++version;
    log_dir_ = base / ("version_" + std::to_string(version));
  }
  io::make_directories(log_dir_);
  if (!options_.config_text.empty()) io::write_file_atomic(log_dir_ / "config.yaml", options_.config_text);
}

void Trainer::optimizer_step() {
  auto& opt = *config_.optimizer;
  if (reducer_) {
    // Whether this rank has gradients and asks to stop ride along with the last bucket.
    std::vector<float> flags{backward_since_step_ ? 1.0f : 0.0f, stop_ && stop_after_batch_ ? 1.0f : 0.0f};
    reducer_->average(opt.all_params(), flags);
    backward_since_step_ = false;
    if (flags[1] > 0) {
      ranks_stop_ = true;
      request_stop("stopped: another rank asked to stop", true);
    }
    if (flags[0] == 0) {  // every rank's losses were non-finite: no step, as when training alone
      opt.zero_grad();
      return;
    }
  }
  if (options_.synchronize_gradients) options_.synchronize_gradients(opt.all_params());
  if (options_.gradient_clip_val > 0) {
    const auto params = opt.all_params();
    if (options_.gradient_clip_algorithm == "norm")
      optim::clip_grad_norm(params, options_.gradient_clip_val);
    else
      optim::clip_grad_value(params, options_.gradient_clip_val);
  }
  opt.step();
  opt.zero_grad();
  // Running statistics are each rank's own; rank 0's win after every step (PyTorch DDP's
  // broadcast_buffers), so the replicas, validation and checkpoints agree.
  if (reducer_ && !module().named_buffers().empty()) dist::broadcast_module(*comm_, module(), 0, false);
  ++global_step_;
  if (config_.scheduler && config_.interval == "step" && global_step_ % config_.frequency == 0)
    config_.scheduler->step();
}

bool Trainer::histogram_epoch() const {
  return !options_.loggers.empty() && options_.histogram_every_n_epochs > 0 &&
         (epoch_ + 1) % options_.histogram_every_n_epochs == 0;
}

void Trainer::log_histograms(const std::string& prefix, bool gradients) {
  for (const auto& [name, p] : module().named_parameters()) {
    Tensor t = gradients ? p.grad() : p;
    if (!t.defined()) continue;
    for (auto& lg : options_.loggers) lg->log_histogram(prefix + name, t, epoch_);
  }
}

Logs Trainer::run_validation(data::DataLoader& val, bool with_callbacks) {
  LightningModule& m = module();
  if (with_callbacks)
    for (auto& cb : options_.callbacks) cb->on_validation_begin(*this);
  auto saved = std::move(accum_);
  accum_.clear();
  Logs logs;
  {
    nn::EvalGuard eval(m);
    NoGradGuard no_grad;
    m.on_validation_epoch_start();
    int64_t idx = 0;
    val.set_epoch(0);
    for (const data::Batch& batch : val) {
      if (options_.limit_val_batches >= 0 && idx >= options_.limit_val_batches) break;
      m.validation_step(batch, idx++);
    }
    m.on_validation_epoch_end();
    logs = take_epoch_logs();
  }
  accum_ = std::move(saved);
  if (with_callbacks)
    for (auto& cb : options_.callbacks) cb->on_validation_end(*this, logs);
  return logs;
}

History Trainer::fit(LightningModule& m, data::DataLoader& train, data::DataLoader* val,
                     const std::filesystem::path& ckpt_path) {
  Attach attach(*this, m);
  if (options_.deterministic) set_num_threads(1);
  manual_seed(options_.seed);
  comm_ = nullptr;
  reducer_.reset();
  backward_since_step_ = ranks_stop_ = false;
  if (strategy_world_size(options_) > 1) {
    comm_ = &dist::Communicator::world();
    if (options_.ddp_timeout > 0) comm_->set_timeout(options_.ddp_timeout);
    reducer_ = std::make_unique<dist::GradientReducer>(*comm_, options_.bucket_cap_mb);
    if (!comm_->is_root()) {  // rank 0 alone writes and prints
      options_.verbose = 0;
      options_.loggers.clear();
      options_.default_root_dir.clear();
    }
    // Ctrl-C under mpirun ends the job (mpirun does not pass SIGINT on); checkpoints resume it.
    options_.handle_sigint = false;
    // The DistributedSampler: each rank its strided share, the same number of steps on every rank
    // (padded); validation unpadded, so its reduced values count every sample once.
    if (train.options().world_size == 1) train.set_shard(comm_->rank(), comm_->size(), true);
    if (val && val->options().world_size == 1) val->set_shard(comm_->rank(), comm_->size(), false);
  }
  const bool ddp = comm_ != nullptr;
  // sync_batchnorm: BatchNorm's statistics over every rank's batch while this fit runs.
  struct SyncBatchNorm {
    bool on;
    ~SyncBatchNorm() {
      if (on) nn::F::set_batch_stats_reducer(nullptr);
    }
  } sync_bn{ddp && options_.sync_batchnorm};
  if (sync_bn.on) {
    dist::Communicator* comm = comm_;
    nn::F::set_batch_stats_reducer([comm](double* data, int64_t n) { comm->allreduce_sum(data, n); });
  }
  config_ = m.configure_optimizers();
  check(config_.optimizer != nullptr, m.type_name(), ".configure_optimizers returned no optimizer");
  check(config_.interval == "epoch" || config_.interval == "step",
        "configure_optimizers: interval must be 'epoch' or 'step', got '", config_.interval, "'");
  check(config_.frequency >= 1, "configure_optimizers: frequency must be at least 1");
  history_ = History();
  history_csv_header_.clear();
  epoch_ = global_step_ = start_epoch_ = 0;
  last_step_logged_ = -1;
  stop_ = stop_after_batch_ = interrupted_ = false;
  stop_reason_.clear();
  metrics_.clear();
  accum_.clear();
  setup_log_dir();

  train_batches_ = train.num_batches();
  if (options_.limit_train_batches >= 0)
    train_batches_ = std::min(train_batches_, options_.limit_train_batches);
  check(train_batches_ > 0, "Trainer.fit: the training loader yields no batches (", train.num_samples(),
        " samples, batch size ", train.options().batch_size, ")");

  // Checkpoint writers run after every other callback, so the state they save is the epoch's final one.
  std::stable_partition(options_.callbacks.begin(), options_.callbacks.end(),
                        [](const std::shared_ptr<Callback>& cb) { return !cb->runs_last(); });
  ProgressBar progress(options_.verbose, options_.max_epochs);
  SigintScope sigint(options_.handle_sigint);
  for (auto& cb : options_.callbacks) cb->on_train_begin(*this);
  // Restored after on_train_begin, which resets callback state for a fresh run.
  if (!ckpt_path.empty()) load_checkpoint(ckpt_path);
  // Every rank starts from rank 0's weights and buffers (a resumed run's are the same file's).
  if (ddp) dist::broadcast_module(*comm_, m, 0);
  config_.optimizer->zero_grad();
  for (auto& lg : options_.loggers) {
    if (!options_.hparams.empty()) lg->log_hyperparams(options_.hparams);
    if (!options_.config_text.empty())
      lg->log_text("config", "```yaml\n" + options_.config_text + "\n```", 0);
    if (!options_.summary_text.empty()) lg->log_text("summary", "```\n" + options_.summary_text + "\n```", 0);
  }

  for (epoch_ = start_epoch_; epoch_ < options_.max_epochs; ++epoch_) {
    const auto t0 = std::chrono::steady_clock::now();
    // Ctrl-C writes the state from before the interrupted epoch, so a resumed run replays that
    // epoch whole and matches an uninterrupted one exactly.
    Checkpoint epoch_start;
    if (options_.handle_sigint) epoch_start = make_checkpoint(epoch_ - 1, true);
    m.train();
    m.on_train_epoch_start();
    for (auto& cb : options_.callbacks) cb->on_epoch_begin(*this, epoch_);
    progress.epoch_begin(epoch_, train_batches_);
    train.set_epoch(options_.overfit_batches > 0 ? 0 : epoch_);
    Logs mid_validation;
    int64_t idx = 0;
    for (const data::Batch& batch : train) {
      if (idx >= train_batches_) break;
      for (auto& cb : options_.callbacks) cb->on_batch_begin(*this, idx);
      Tensor loss = m.training_step(batch, idx);
      check(loss.defined() && loss.numel() == 1, m.type_name(),
            ".training_step must return a one-element loss");
      const double loss_value = loss.item();
      const bool last = idx + 1 == train_batches_;
      const bool finite = std::isfinite(loss_value);
      if (finite) {
        (options_.accumulate_grad_batches > 1 ? mul(loss, 1.0f / float(options_.accumulate_grad_batches))
                                              : loss)
            .backward();
        backward_since_step_ = true;
      }
      // Data-parallel, every rank takes part in every step's exchange, whatever its loss was.
      if ((finite || ddp) && ((idx + 1) % options_.accumulate_grad_batches == 0 || last)) {
        // The epoch's last gradients, before the step clears them, for the histograms.
        if (last && histogram_epoch()) log_histograms("gradients/", true);
        optimizer_step();
      }
      record("loss", loss_value, batch.size());
      if (options_.log_every_n_steps > 0 && global_step_ % options_.log_every_n_steps == 0 &&
          global_step_ != last_step_logged_) {
        last_step_logged_ = global_step_;
        for (auto& lg : options_.loggers)
          lg->log_metrics({{"step/loss", loss_value}, {"step/lr", config_.optimizer->lr(0)}}, global_step_);
      }
      Logs batch_logs{{"loss", loss_value}};
      for (auto& cb : options_.callbacks) cb->on_batch_end(*this, idx, batch_logs);
      progress.batch_end(idx, batch_logs);
      ++idx;
      if (g_sigint.load()) {
        interrupted_ = true;
        request_stop("interrupted (Ctrl-C)", true);
      }
      if (options_.max_steps > 0 && global_step_ >= options_.max_steps)
        request_stop("max_steps reached", true);
      if (val && options_.val_check_interval > 0 && idx % options_.val_check_interval == 0 && !last)
        mid_validation = run_validation(*val, true);
      if (ddp ? ranks_stop_ || (options_.max_steps > 0 && global_step_ >= options_.max_steps)
              : stop_ && stop_after_batch_)
        break;
    }
    if (interrupted_) {
      // The partial epoch is not an epoch: no history row, callbacks, schedule or validation.
      accum_.clear();
      const auto path = checkpoint_dir() / "interrupted.safetensors";
      {  // the snapshot left the history out (make_checkpoint): the epoch added no row to it
        std::string& text = epoch_start.state_meta.at("neurona.checkpoint");
        nlohmann::json meta = nlohmann::json::parse(text);
        meta["history"] = nlohmann::json::parse(history_.to_json());
        text = meta.dump();
      }
      write_checkpoint(path, epoch_start);
      progress.message("interrupted during epoch " + std::to_string(epoch_ + 1) +
                       ": checkpoint of the state before it written to " + path.string() +
                       " (resuming replays the epoch)");
      break;
    }
    m.on_train_epoch_end();
    Logs logs = take_epoch_logs();
    if (config_.scheduler && config_.interval == "epoch" && !is_plateau(config_.scheduler.get()) &&
        (epoch_ + 1) % config_.frequency == 0)
      config_.scheduler->step();
    const bool validate_now = val && (epoch_ + 1) % options_.check_val_every_n_epoch == 0;
    if (validate_now) {
      for (const auto& [k, v] : run_validation(*val, true)) logs[k] = v;
    } else {
      for (const auto& [k, v] : mid_validation) logs[k] = v;
    }
    if (config_.scheduler && is_plateau(config_.scheduler.get()) && config_.interval == "epoch") {
      auto it = logs.find(config_.monitor);
      if (it != logs.end())
        config_.scheduler->step(it->second);
      else if (validate_now || !val)
        fail(
            "ReduceLROnPlateau: monitored value '", config_.monitor, "' was not logged (logged: ",
            [&] {
              std::string s;
              for (auto& [k, v] : logs) s += (s.empty() ? "" : ", ") + k;
              return s;
            }(),
            ")");
    }
    logs["lr"] = config_.optimizer->lr(0);
    logs["epoch_time"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    metrics_ = logs;
    for (auto& cb : options_.callbacks) cb->on_epoch_end(*this, epoch_, logs);
    metrics_ = logs;
    if (ddp) {  // the logs are the same on every rank; a stop from anything else must agree too
      double stop = stop_ ? 1 : 0;
      comm_->allreduce_sum(&stop, 1);
      if (stop > 0 && !stop_) request_stop("stopped: another rank asked to stop");
    }
    history_.append(epoch_, logs);
    for (auto& lg : options_.loggers) lg->log_epoch_metrics(logs, epoch_, global_step_);
    if (histogram_epoch()) log_histograms("weights/", false);
    progress.epoch_end(epoch_, logs);
    // One line appended per epoch (history.json and the plot are written once, at the end), so
    // the cost per epoch does not grow with the epochs run.
    if (!log_dir_.empty()) {
      history_.append_csv(log_dir_ / "history.csv", history_csv_header_);
      history_csv_header_ = history_.csv_header();
    }
    if (stop_ && epoch_ + 1 >= options_.min_epochs) {
      ++epoch_;
      break;
    }
    // A stop requested before min_epochs is ignored, and so is its message: the one printed at
    // the end must name the epoch where training really stopped.
    stop_ = false;
    stop_reason_.clear();
  }
  if (!stop_reason_.empty()) progress.message(stop_reason_);
  for (auto& cb : options_.callbacks) cb->on_train_end(*this);
  if (!log_dir_.empty() && !history_.empty()) {
    history_.write_csv(log_dir_ / "history.csv");
    history_.write_json(log_dir_ / "history.json");
    history_.plot(log_dir_ / "learning_curves.svg", options_.name);
  }
  if (!log_dir_.empty()) {
    io::save_safetensors(log_dir_ / "model.safetensors", weight_tensors(m), {{"format", "pt"}});
    for (auto& lg : options_.loggers)
      for (const char* file :
           {"config.yaml", "history.csv", "history.json", "learning_curves.svg", "model.safetensors"})
        if (std::filesystem::exists(log_dir_ / file)) lg->log_artifact(log_dir_ / file);
  }
  for (auto& lg : options_.loggers)
    lg->finalize(interrupted_ ? io::RunStatus::Killed : io::RunStatus::Finished);
  if (ddp) {
    // The replicas took the same steps from the same weights: their bits must agree.
    const bool same = dist::replicas_identical(*comm_, m);
    check(same, "ddp: the ", comm_->size(), " replicas ended with different weights (this is rank ",
          comm_->rank(), "; its fingerprint ", dist::fingerprint(m), ")");
    if (options_.verbose > 0 && comm_->is_root()) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "ddp: %d ranks, replicas identical (weights fingerprint %016llx)",
                    comm_->size(), static_cast<unsigned long long>(dist::fingerprint(m)));
      progress.message(buf);
    }
  }
  return history_;
}

Logs Trainer::validate(LightningModule& m, data::DataLoader& val) {
  Attach attach(*this, m);
  return run_validation(val, false);
}

Logs Trainer::test(LightningModule& m, data::DataLoader& loader) {
  Attach attach(*this, m);
  auto saved = std::move(accum_);
  accum_.clear();
  nn::EvalGuard eval(m);
  NoGradGuard no_grad;
  int64_t idx = 0;
  loader.set_epoch(0);
  for (const data::Batch& batch : loader) m.test_step(batch, idx++);
  Logs logs = take_epoch_logs();
  accum_ = std::move(saved);
  return logs;
}

std::vector<Tensor> Trainer::predict(LightningModule& m, data::DataLoader& loader) {
  nn::EvalGuard eval(m);
  NoGradGuard no_grad;
  std::vector<Tensor> out;
  int64_t idx = 0;
  loader.set_epoch(0);
  for (const data::Batch& batch : loader) out.push_back(m.predict_step(batch, idx++));
  return out;
}

int strategy_world_size(const TrainerOptions& o) {
  check(o.strategy == "auto" || o.strategy == "ddp" || o.strategy == "single",
        "Trainer: strategy must be 'auto', 'ddp' or 'single', got '", o.strategy, "'");
  if (o.strategy == "single" || !dist::launched_by_mpi()) return 1;
  return dist::Communicator::world().size();
}

// --- random restarts ----------------------------------------------------------------------------------

RestartResult random_restarts(int k, uint64_t first_seed, const std::string& monitor, bool minimize,
                              const std::function<History(uint64_t seed, int index)>& body) {
  check(k >= 1, "random_restarts: need at least one restart, got ", k);
  RestartResult r;
  for (int i = 0; i < k; ++i) {
    const uint64_t seed = first_seed + static_cast<uint64_t>(i);
    manual_seed(seed);
    History h = body(seed, i);
    const auto& values = h[monitor];
    double best = minimize ? INFINITY : -INFINITY;
    for (double v : values)
      if (std::isfinite(v)) best = minimize ? std::min(best, v) : std::max(best, v);
    r.seeds.push_back(seed);
    r.scores.push_back(best);
    if (r.best < 0 || (minimize ? best < r.scores[r.best] : best > r.scores[r.best])) r.best = i;
  }
  return r;
}

}  // namespace neurona::train
