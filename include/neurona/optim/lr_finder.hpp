#pragma once
// The learning-rate range test (Lightning's lr_find): train for a few steps while the lr grows
// exponentially from min_lr to max_lr, record the smoothed loss, and suggest the lr where the loss
// falls fastest. Parameters and optimizer state are restored afterwards.
#include <functional>
#include <string>
#include <vector>

#include "neurona/optim/optimizer.hpp"

namespace neurona::optim {

struct LRFinderOptions {
  double min_lr = 1e-8;
  double max_lr = 1.0;
  int64_t num_training = 100;
  double early_stop_threshold = 4.0;  // stop when smoothed loss > threshold · best; <= 0 disables
  double beta = 0.98;                 // exponential smoothing of the loss (bias-corrected)
  int64_t skip_begin = 10;            // points ignored by the suggestion
  int64_t skip_end = 1;
};

struct LRFinderResult {
  std::vector<double> lrs;
  std::vector<double> losses;  // smoothed
  std::vector<double> raw_losses;
  int64_t suggestion_index = -1;  // -1 when there were too few points
  double suggestion = 0;          // lrs[suggestion_index], 0 when none
  bool early_stopped = false;
  std::string table() const;  // lr, loss, smoothed loss per step, the suggestion marked
};

// `loss_of_next_batch` computes the (differentiable) loss of the next training batch with the
// parameters held by `opt`; lr_find calls zero_grad/backward/step around it.
LRFinderResult lr_find(Optimizer& opt, const std::function<Tensor()>& loss_of_next_batch,
                       LRFinderOptions options = {});

}  // namespace neurona::optim
