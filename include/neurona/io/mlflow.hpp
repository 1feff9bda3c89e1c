#pragma once
// MlflowRun: one run in an MLflow file store (`mlruns/`), readable by
// `mlflow ui --backend-store-uri file:mlruns` (MLflow >= 3.13 also needs MLFLOW_ALLOW_FILE_STORE=true).
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "neurona/io/run_info.hpp"

namespace neurona::io {

class MlflowRun {
 public:
  // Finds the experiment called `experiment` under `root` (creating it, and the Default
  // experiment "0", when missing) and starts a run with status RUNNING.
  MlflowRun(const std::filesystem::path& root, const std::string& experiment, const std::string& run_name);
  // A run not ended explicitly is ended as FAILED (the program left without saying it finished).
  ~MlflowRun();
  MlflowRun(const MlflowRun&) = delete;
  MlflowRun& operator=(const MlflowRun&) = delete;

  // Keys: letters, digits, '_', '-', '.', ' ' and '/' (a '/' makes subdirectories), at most 250
  // characters, no empty, '.' or '..' path parts.
  void log_param(const std::string& key, const std::string& value);  // immutable: a different re-log throws
  void log_metric(const std::string& key, double value, int64_t step);
  void set_tag(const std::string& key, const std::string& value);
  // Copies a file, or writes bytes, to artifacts/<name> (name may contain '/').
  void log_artifact(const std::filesystem::path& file, const std::string& name = "");
  void log_artifact_bytes(std::string_view bytes, const std::string& name);
  // Rewrites meta.yaml with FINISHED / FAILED / KILLED and the end time. Later calls are ignored.
  void end(RunStatus status = RunStatus::Finished);

  const std::string& run_id() const { return run_id_; }
  const std::string& experiment_id() const { return experiment_id_; }
  const std::filesystem::path& run_dir() const { return run_dir_; }
  std::filesystem::path artifact_dir() const { return run_dir_ / "artifacts"; }

 private:
  void write_meta(int status, int64_t end_time_ms);
  std::filesystem::path key_path(const char* kind, const std::string& key) const;

  std::filesystem::path root_, run_dir_;
  std::string experiment_id_, run_id_, run_name_, user_;
  int64_t start_time_ms_ = 0;
  bool ended_ = false;
};

}  // namespace neurona::io
