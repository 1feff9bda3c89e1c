#include "neurona/train/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>

namespace neurona::train {

ProgressBar::ProgressBar(int verbose, int64_t epochs)
    : verbose_(verbose), epochs_(epochs), live_(verbose == 1 && isatty(STDOUT_FILENO)) {}

std::string ProgressBar::format_value(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, std::fabs(v) > 1e-3 || v == 0.0 ? "%.4f" : "%.4e", v);
  return buf;
}

std::string ProgressBar::format_logs(const Logs& logs) {
  std::string s;
  for (const auto& [key, value] : logs) {  // std::map: alphabetical, as Keras prints them
    if (key == "lr" || key == "epoch_time") continue;
    s += " - " + key + ": " + format_value(value);
  }
  return s;
}

void ProgressBar::epoch_begin(int64_t epoch, int64_t batches) {
  batches_ = batches;
  start_ = last_draw_ = std::chrono::steady_clock::now();
  steps_timed_ = 0;
  loss_sum_ = 0;
  loss_n_ = 0;
  // Keras prints the epoch header at every verbosity but 0.
  if (verbose_ >= 1 && epochs_ > 1 && epochs_ < INT64_MAX)
    std::printf("Epoch %lld/%lld\n", static_cast<long long>(epoch + 1), static_cast<long long>(epochs_));
  else if (verbose_ >= 1 && epochs_ > 1)
    std::printf("Epoch %lld\n", static_cast<long long>(epoch + 1));
}

void ProgressBar::batch_end(int64_t batch, const Logs& logs) {
  if (!live_) return;
  if (batch == 0)
    first_step_end_ = std::chrono::steady_clock::now();
  else
    ++steps_timed_;
  auto it = logs.find("loss");
  if (it != logs.end()) {
    loss_sum_ += it->second;
    ++loss_n_;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(50) && batch + 1 < batches_) return;
  last_draw_ = now;
  Logs shown;
  if (loss_n_ > 0) shown["loss"] = loss_sum_ / double(loss_n_);
  draw(batch + 1, shown, false);
}

void ProgressBar::draw(int64_t done, const Logs& logs, bool final) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  // Time per step leaves the first step out (it pays for warm-up), as Keras does.
  double per_step = elapsed / double(std::max<int64_t>(done, 1));
  if (steps_timed_ > 0)
    per_step = std::chrono::duration<double>(now - first_step_end_).count() / double(steps_timed_);
  char step_text[32];
  if (per_step >= 1)
    std::snprintf(step_text, sizeof step_text, "%.0fs/step", per_step);
  else if (per_step >= 1e-3)
    std::snprintf(step_text, sizeof step_text, "%.0fms/step", per_step * 1e3);
  else
    std::snprintf(step_text, sizeof step_text, "%.0fus/step", per_step * 1e6);
  const int width = static_cast<int>(std::to_string(batches_).size());
  if (verbose_ == 2) {
    std::printf("%*lld/%lld - %.0fs - %s%s\n", width, static_cast<long long>(done),
                static_cast<long long>(batches_), elapsed, step_text, format_logs(logs).c_str());
    return;
  }
  std::string bar;
  const int filled = batches_ > 0 ? static_cast<int>(20 * done / batches_) : 20;
  for (int i = 0; i < 20; ++i) bar += i < filled ? "\u2501" : (live_ ? "\u2500" : " ");
  char head[64];
  std::snprintf(head, sizeof head, "%*lld/%lld ", width, static_cast<long long>(done),
                static_cast<long long>(batches_));
  char tail[64];
  if (final)
    std::snprintf(tail, sizeof tail, " %.0fs %s", elapsed, step_text);
  else
    std::snprintf(tail, sizeof tail, " %s", step_text);
  std::printf("%s%s%s%s%s", live_ ? "\r\033[K" : "", head, bar.c_str(), tail, format_logs(logs).c_str());
  if (final) std::printf("\n");
  std::fflush(stdout);
}

void ProgressBar::epoch_end(int64_t, const Logs& logs) {
  if (verbose_ == 0) return;
  draw(batches_, logs, true);
}

void ProgressBar::message(const std::string& text) {
  if (verbose_ == 0) return;
  std::printf("%s\n", text.c_str());
  std::fflush(stdout);
}

}  // namespace neurona::train
