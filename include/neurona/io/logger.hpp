#pragma once
// Logger: what a trainer reports to (Lightning style). A trainer holds a list of loggers and calls
// log_hyperparams once, log_metrics as it goes, finalize at the end. Implementations write
// TensorBoard event files, an MLflow run, or a CSV file.
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "neurona/core/tensor.hpp"
#include "neurona/io/csv_logger.hpp"
#include "neurona/io/mlflow.hpp"
#include "neurona/io/run_info.hpp"
#include "neurona/io/tensorboard.hpp"

namespace neurona::io {

using Metrics = std::map<std::string, double>;
using HParams = std::map<std::string, HParamValue>;

class Logger {
 public:
  virtual ~Logger() = default;
  // `step` must increase from call to call for a given metric name.
  virtual void log_metrics(const Metrics& metrics, int64_t step) = 0;
  virtual void log_hyperparams(const HParams& params) = 0;
  // One epoch's logs after `global_step` optimizer steps. By default logged at step = epoch, so
  // train and validation curves share an x-axis.
  virtual void log_epoch_metrics(const Metrics& metrics, int64_t epoch, int64_t /*global_step*/) {
    log_metrics(metrics, epoch);
  }
  // Optional extras; loggers without a place for them ignore them.
  virtual void log_histogram(const std::string& /*tag*/, const Tensor& /*values*/, int64_t /*step*/) {}
  virtual void log_text(const std::string& /*tag*/, const std::string& /*markdown*/, int64_t /*step*/) {}
  // A finished file of the run (config, history, weights) for loggers that keep artifacts.
  virtual void log_artifact(const std::filesystem::path& /*file*/) {}
  // Ends the run; nothing is logged afterwards.
  virtual void finalize(RunStatus status) = 0;
  // The run directory this logger writes into, empty when it has none of its own. A trainer
  // given such a logger keeps its history, curves and checkpoints there too, so one run stays in
  // one directory (the first such logger decides).
  virtual std::filesystem::path log_dir() const { return {}; }
};

// Event files in `log_dir` (one run directory). finalize writes the HParams session with the
// hyper-parameters and the last value of every metric.
class TensorBoardLogger : public Logger {
 public:
  explicit TensorBoardLogger(const std::filesystem::path& log_dir, double flush_secs = 2.0);
  std::filesystem::path log_dir() const override { return log_dir_; }
  void log_metrics(const Metrics& metrics, int64_t step) override;
  void log_hyperparams(const HParams& params) override;
  void log_histogram(const std::string& tag, const Tensor& values, int64_t step) override;
  void log_text(const std::string& tag, const std::string& markdown, int64_t step) override;
  void finalize(RunStatus status) override;
  SummaryWriter& writer() { return writer_; }

 private:
  std::filesystem::path log_dir_;
  SummaryWriter writer_;
  HParams hparams_;
  Metrics last_;
  bool finalized_ = false;
};

// One MLflow run; hyper-parameters become params; log_text writes an artifact `<tag>.md`.
class MlflowLogger : public Logger {
 public:
  MlflowLogger(const std::filesystem::path& root, const std::string& experiment, const std::string& run_name);
  void log_metrics(const Metrics& metrics, int64_t step) override;
  void log_hyperparams(const HParams& params) override;
  void log_text(const std::string& tag, const std::string& markdown, int64_t step) override;
  void log_artifact(const std::filesystem::path& file) override { run_.log_artifact(file); }
  void finalize(RunStatus status) override;
  MlflowRun& run() { return run_; }

 private:
  MlflowRun run_;
};

// `dir`/metrics.csv with a "step" column first, and `dir`/hparams.yaml (as Lightning's CSVLogger).
class CsvLogger : public Logger {
 public:
  explicit CsvLogger(const std::filesystem::path& dir);
  void log_metrics(const Metrics& metrics, int64_t step) override;
  void log_hyperparams(const HParams& params) override;
  // Lightning's layout: `step` is always the global step; epoch rows carry an `epoch` column.
  void log_epoch_metrics(const Metrics& metrics, int64_t epoch, int64_t global_step) override;
  void finalize(RunStatus /*status*/) override {}
  std::filesystem::path log_dir() const override { return dir_; }
  const std::filesystem::path& path() const { return csv_.path(); }

 private:
  std::filesystem::path dir_;
  CsvWriter csv_;
};

}  // namespace neurona::io
