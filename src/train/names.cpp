#include "neurona/train/names.hpp"

#include <algorithm>

#include "neurona/core/error.hpp"
#include "neurona/core/registry.hpp"
#include "neurona/nn/registry.hpp"
#include "neurona/optim/optimizers.hpp"
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

std::vector<std::string> optimizer_names() {
  return {"sgd", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "nadam", "radam"};
}

OptimizerFactory optimizer_factory(const std::string& name_in, const std::map<std::string, double>& hyper) {
  const std::string name = lower(name_in);
  const auto names = optimizer_names();
  if (std::find(names.begin(), names.end(), name) == names.end())
    fail("unknown optimizer '", name_in, "'", did_you_mean(name_in, names));
  return [name, hyper](std::vector<Tensor> params) -> std::shared_ptr<optim::Optimizer> {
    std::shared_ptr<optim::Optimizer> opt;
    if (name == "sgd") opt = std::make_shared<optim::SGD>(std::move(params));
    else if (name == "adagrad") opt = std::make_shared<optim::Adagrad>(std::move(params));
    else if (name == "rmsprop") opt = std::make_shared<optim::RMSprop>(std::move(params));
    else if (name == "adadelta") opt = std::make_shared<optim::Adadelta>(std::move(params));
    else if (name == "adam") opt = std::make_shared<optim::Adam>(std::move(params));
    else if (name == "adamw") opt = std::make_shared<optim::AdamW>(std::move(params));
    else if (name == "nadam") opt = std::make_shared<optim::NAdam>(std::move(params));
    else opt = std::make_shared<optim::RAdam>(std::move(params));
    for (const auto& [key, value] : hyper) opt->set(0, key, value);
    return opt;
  };
}

}  // namespace neurona::train
