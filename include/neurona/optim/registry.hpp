#pragma once
// The optimizers and learning-rate schedules users can name — in config files, Model::compile,
// the web Playground or C++ — with their options and defaults:
//
//   const auto& e = optim::optimizers().get("AdamW");
//   auto opt = e.make(e.options_from({{"lr", "0.01"}, {"betas", "0.9,0.99"}}), net->parameters());
//   const auto& s = optim::schedules().get("CosineAnnealingLR");
//   auto sched = s.make(s.options_from({{"t_max", "20"}}), *opt, {.epochs = 20});
//
// An optimizer's options and defaults are read from its options struct's visit()
// (optimizers.hpp), so each default is written once; PyTorch's `betas` stands for beta1, beta2.
// Adding one is its class, its row in src/optim/registry.cpp and its test.
#include <memory>
#include <vector>

#include "neurona/core/registry.hpp"
#include "neurona/optim/optimizer.hpp"
#include "neurona/optim/schedulers.hpp"

namespace neurona::optim {

using OptimizerEntry = Entry<std::shared_ptr<Optimizer>, std::vector<Tensor>>;
const Registry<OptimizerEntry>& optimizers();

// What a schedule is built with besides its options: the run's length, for the options whose
// default comes from it (cosine's t_max, onecycle's total_steps), and for a list entry
// (sequential) its schedules, already built in order on the same optimizer.
struct ScheduleContext {
  int64_t epochs = 1;
  int64_t steps_per_epoch = 0;
  std::vector<std::shared_ptr<LRScheduler>> items = {};
};
using ScheduleEntry = Entry<std::shared_ptr<LRScheduler>, Optimizer&, const ScheduleContext&>;
const Registry<ScheduleEntry>& schedules();

}  // namespace neurona::optim
