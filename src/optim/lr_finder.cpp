#include "neurona/optim/lr_finder.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "neurona/autograd/node.hpp"
#include "neurona/core/error.hpp"

namespace neurona::optim {

LRFinderResult lr_find(Optimizer& opt, const std::function<Tensor()>& loss_of_next_batch, LRFinderOptions o) {
  check(o.min_lr > 0 && o.max_lr > o.min_lr, "lr_find: need 0 < min_lr < max_lr (got min_lr ", o.min_lr,
        ", max_lr ", o.max_lr, ")");
  check(o.num_training >= 2, "lr_find: num_training must be >= 2 (got ", o.num_training, ")");
  check(o.beta >= 0 && o.beta < 1, "lr_find: beta must be in [0, 1) (got ", o.beta, ")");
  check(o.skip_begin >= 0 && o.skip_end >= 0, "lr_find: skip_begin and skip_end must be >= 0");

  // Work on a copy: save parameter values and optimizer state, restore them at the end.
  const std::vector<Tensor> params = opt.all_params();
  std::vector<std::vector<float>> saved;
  for (const auto& p : params) saved.push_back(p.to_vector());
  const SavedState saved_state = opt.state_dict();
  auto restore = [&] {
    for (size_t i = 0; i < params.size(); ++i) {
      Tensor p = params[i];
      std::memcpy(p.data(), saved[i].data(), saved[i].size() * sizeof(float));
      p.zero_grad();
    }
    opt.load_state_dict(saved_state);
  };

  LRFinderResult r;
  try {
    double avg = 0, best = std::numeric_limits<double>::infinity();
    for (int64_t i = 0; i < o.num_training; ++i) {
      const double lr = o.min_lr * std::pow(o.max_lr / o.min_lr, double(i) / double(o.num_training - 1));
      opt.set_lr(lr);
      opt.zero_grad();
      Tensor loss = loss_of_next_batch();
      check(loss.defined() && loss.numel() == 1, "lr_find: the closure must return a one-element loss");
      const double value = loss.item();
      loss.backward();
      opt.step();
      avg = o.beta * avg + (1 - o.beta) * value;
      const double smoothed = avg / (1 - std::pow(o.beta, double(i + 1)));
      r.lrs.push_back(lr);
      r.raw_losses.push_back(value);
      r.losses.push_back(smoothed);
      if (o.early_stop_threshold > 0 && i > 1 &&
          (smoothed > o.early_stop_threshold * best || !std::isfinite(smoothed))) {
        r.early_stopped = true;
        break;
      }
      if (smoothed < best || i == 1) best = smoothed;
    }
  } catch (...) {
    restore();
    throw;
  }
  restore();

  // Suggestion: steepest descent (np.gradient: central differences, one-sided at the ends) of the
  // finite smoothed losses between skip_begin and len - skip_end.
  std::vector<int64_t> idx;
  const int64_t n = int64_t(r.losses.size());
  for (int64_t i = o.skip_begin; i < n - o.skip_end; ++i)
    if (std::isfinite(r.losses[i])) idx.push_back(i);
  if (idx.size() >= 2) {
    const int64_t m = int64_t(idx.size());
    double min_grad = std::numeric_limits<double>::infinity();
    for (int64_t k = 0; k < m; ++k) {
      double g;
      if (k == 0)
        g = r.losses[idx[1]] - r.losses[idx[0]];
      else if (k == m - 1)
        g = r.losses[idx[m - 1]] - r.losses[idx[m - 2]];
      else
        g = (r.losses[idx[k + 1]] - r.losses[idx[k - 1]]) / 2;
      if (g < min_grad) {
        min_grad = g;
        r.suggestion_index = idx[k];
      }
    }
    r.suggestion = r.lrs[r.suggestion_index];
  }
  return r;
}

std::string LRFinderResult::table() const {
  std::string out = " step           lr         loss     smoothed\n";
  char line[128];
  for (size_t i = 0; i < lrs.size(); ++i) {
    std::snprintf(line, sizeof line, "%5zu %12.4e %12.6f %12.6f%s\n", i, lrs[i], raw_losses[i], losses[i],
                  int64_t(i) == suggestion_index ? "  <- suggested" : "");
    out += line;
  }
  if (suggestion_index >= 0) {
    std::snprintf(line, sizeof line, "suggested lr: %.4e%s\n", suggestion,
                  early_stopped ? " (stopped early: loss diverged)" : "");
    out += line;
  } else {
    out += "no suggestion: too few points (lower skip_begin or raise num_training)\n";
  }
  return out;
}

}  // namespace neurona::optim
