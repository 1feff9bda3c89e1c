#include "neurona/train/names.hpp"

#include <algorithm>

#include "neurona/core/error.hpp"
#include "neurona/core/registry.hpp"
#include "neurona/nn/registry.hpp"
#include "neurona/optim/registry.hpp"
#include "neurona/train/metric_registry.hpp"

namespace neurona::train {

namespace {

std::string lower(std::string s) { return lower_case(std::move(s)); }

}  // namespace

// Every word of nn::losses() (names and aliases), sorted: the suggestions of an unknown loss
// include Keras's and PyTorch's spellings.
std::vector<std::string> loss_names() {
  std::vector<std::string> v = nn::losses().names(true);
  std::sort(v.begin(), v.end());
  return v;
}

namespace {
const nn::LossEntry& loss_entry(const std::string& name) {
  const nn::LossEntry* e = nn::losses().find(name);
  if (!e) fail_unknown_component("loss", name, loss_names());
  return *e;
}
}  // namespace

std::string canonical_loss_name(const std::string& name) { return loss_entry(name).name; }

std::shared_ptr<nn::Loss> make_loss(const std::string& name) {
  const nn::LossEntry& e = loss_entry(name);
  return e.make(e.options_from({}));
}

std::vector<std::string> metric_names() { return metrics().names(true); }

LossTask loss_task(const std::string& loss) {
  if (lower(loss) == "cross_entropy_on_probabilities") return {"multiclass", false};
  const nn::LossEntry* e = nn::losses().find(loss);
  if (!e) return {};
  return {e->task, e->logits};
}

std::shared_ptr<nn::metrics::Metric> make_metric(const std::string& name, const std::string& loss) {
  const MetricEntry* e = metrics().find(name);
  if (!e) fail_unknown_component("metric", name, metric_names());
  return e->make(e->options_from({}), loss_task(loss));
}

std::vector<std::string> optimizer_names() { return optim::optimizers().names(); }

// The optimizer with its defaults from optim::optimizers(), then `hparams` set by name (beta1,
// beta2, …; Optimizer::set checks each).
OptimizerFactory optimizer_factory(const std::string& name, const std::map<std::string, double>& hparams) {
  const optim::OptimizerEntry* entry = &optim::optimizers().get(name);
  return [entry, hparams](std::vector<Tensor> params) {
    std::shared_ptr<optim::Optimizer> opt = entry->make(entry->options_from({}), std::move(params));
    for (const auto& [key, value] : hparams) opt->set(0, key, value);
    return opt;
  };
}

}  // namespace neurona::train
