#include "neurona/io/logger.hpp"

#include "neurona/io/files.hpp"
#include "text_format.hpp"

namespace neurona::io {

TensorBoardLogger::TensorBoardLogger(const std::filesystem::path& log_dir, double flush_secs)
    : log_dir_(log_dir), writer_(log_dir, flush_secs) {}

void TensorBoardLogger::log_metrics(const Metrics& metrics, int64_t step) {
  for (const auto& [tag, value] : metrics) {
    writer_.add_scalar(tag, value, step);
    last_[tag] = value;
  }
}

void TensorBoardLogger::log_hyperparams(const HParams& params) {
  for (const auto& [k, v] : params) hparams_.insert_or_assign(k, v);
}

void TensorBoardLogger::log_histogram(const std::string& tag, const Tensor& values, int64_t step) {
  writer_.add_histogram(tag, values, step);
}

void TensorBoardLogger::log_text(const std::string& tag, const std::string& markdown, int64_t step) {
  writer_.add_text(tag, markdown, step);
}

void TensorBoardLogger::finalize(RunStatus status) {
  if (finalized_) return;
  finalized_ = true;
  if (!hparams_.empty()) writer_.add_hparams(hparams_, last_, status);
  writer_.close();
}

MlflowLogger::MlflowLogger(const std::filesystem::path& root, const std::string& experiment,
                           const std::string& run_name)
    : run_(root, experiment, run_name) {}

void MlflowLogger::log_metrics(const Metrics& metrics, int64_t step) {
  for (const auto& [key, value] : metrics) run_.log_metric(key, value, step);
}

void MlflowLogger::log_hyperparams(const HParams& params) {
  for (const auto& [key, value] : params) run_.log_param(key, value.str());
}

void MlflowLogger::log_text(const std::string& tag, const std::string& markdown, int64_t /*step*/) {
  run_.log_artifact_bytes(markdown, tag + ".md");
}

void MlflowLogger::finalize(RunStatus status) { run_.end(status); }

CsvLogger::CsvLogger(const std::filesystem::path& dir) : dir_(dir), csv_(dir / "metrics.csv") {}

void CsvLogger::log_metrics(const Metrics& metrics, int64_t step) {
  CsvRow row{{"step", static_cast<double>(step)}};
  for (const auto& kv : metrics) row.push_back(kv);
  csv_.write_row(row);
}

void CsvLogger::log_epoch_metrics(const Metrics& metrics, int64_t epoch, int64_t global_step) {
  CsvRow row{{"step", static_cast<double>(global_step)}, {"epoch", static_cast<double>(epoch)}};
  for (const auto& kv : metrics) row.push_back(kv);
  csv_.write_row(row);
}

void CsvLogger::log_hyperparams(const HParams& params) {
  std::string yaml;
  for (const auto& [key, value] : params)
    yaml += yaml_quote(key) + ": " + (value.is_string() ? yaml_quote(value.string()) : value.str()) + "\n";
  write_file_atomic(dir_ / "hparams.yaml", yaml);
}

}  // namespace neurona::io
