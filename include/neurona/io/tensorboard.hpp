#pragma once
// SummaryWriter: writes TensorBoard event files (scalars, histograms, text, hparams) that
// TensorBoard reads unchanged. One writer = one run directory = one open event file.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "neurona/core/tensor.hpp"
#include "neurona/io/run_info.hpp"

namespace neurona::io {

class SummaryWriter {
 public:
  // Creates `log_dir` and `events.out.tfevents.<seconds>.<host>.<pid>.<counter>` in it, whose first
  // record holds file_version "brain.Event:2". Pending records are written to the file at least
  // every `flush_secs` seconds by a background thread, on flush() and on destruction.
  explicit SummaryWriter(const std::filesystem::path& log_dir, double flush_secs = 2.0);
  ~SummaryWriter();
  SummaryWriter(const SummaryWriter&) = delete;
  SummaryWriter& operator=(const SummaryWriter&) = delete;

  // Steps must strictly increase per tag (TensorBoard drops earlier points at or after a repeated
  // step); a violation throws naming the tag.
  void add_scalar(const std::string& tag, double value, int64_t step);
  // Exact min/max/count/sum/sum of squares and TensorFlow's default exponential buckets. NaNs
  // are left out.
  void add_histogram(const std::string& tag, const Tensor& values, int64_t step);
  // Markdown shown by TensorBoard's Text tab.
  void add_text(const std::string& tag, const std::string& markdown, int64_t step);
  // One HParams session for this run: the experiment description, the session start (hparams) and
  // end (status) records. Each metric must be a scalar tag of this run; a metric never logged is
  // written at step 0, one whose last logged value differs is written at its last step + 1, so the
  // HParams table shows the given value. Called at most once per writer.
  void add_hparams(const std::map<std::string, HParamValue>& hparams,
                   const std::map<std::string, double>& metrics, RunStatus status = RunStatus::Finished);

  void flush();
  // Flushes and closes the file; later writes throw. The destructor calls it.
  void close();
  const std::filesystem::path& file() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace neurona::io
