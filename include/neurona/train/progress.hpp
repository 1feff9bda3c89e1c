#pragma once
// The progress display of fit(): Keras's format. verbose 1 shows "Epoch i/N" and a bar redrawn in
// place while stdout is a terminal (one final line per epoch otherwise); verbose 2 prints one line
// per epoch; verbose 0 prints nothing.
#include <chrono>
#include <cstdint>
#include <string>

#include "neurona/train/history.hpp"

namespace neurona::train {

class ProgressBar {
 public:
  ProgressBar(int verbose, int64_t epochs);
  void epoch_begin(int64_t epoch, int64_t batches);
  void batch_end(int64_t batch, const Logs& logs);
  void epoch_end(int64_t epoch, const Logs& logs);
  void message(const std::string& text);  // a line of its own (e.g. "early stopping")

  // " - loss: 0.4123 - val_loss: 0.4301": keys sorted, bookkeeping keys (lr, epoch_time) left out.
  static std::string format_logs(const Logs& logs);
  static std::string format_value(double v);  // .4f, or .4e when |v| <= 1e-3

 private:
  void draw(int64_t done, const Logs& logs, bool final);

  int verbose_;
  int64_t epochs_, batches_ = 0;
  bool live_;
  std::chrono::steady_clock::time_point start_, last_draw_, first_step_end_;
  int64_t steps_timed_ = 0;
  Logs running_;
  double loss_sum_ = 0;
  int64_t loss_n_ = 0;
};

}  // namespace neurona::train
