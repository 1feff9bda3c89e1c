#include "neurona/train/model.hpp"

#include <algorithm>
#include <cmath>

#include "neurona/autograd/node.hpp"
#include "neurona/core/error.hpp"
#include "neurona/data/split.hpp"
#include "neurona/nn/functional.hpp"

namespace neurona::train {

// Presents the user's network to the Trainer as a LightningModule. It registers the network's
// own parameters, buffers and children under their own names, so checkpoints carry exactly the
// network's state_dict names.
class Model::Adapter : public LightningModule {
 public:
  Adapter(std::shared_ptr<nn::Module> net, const CompileOptions& c) : net_(std::move(net)), c_(c) {
    for (const auto& [name, child] : net_->named_children()) register_module(name, child);
    for (const auto& [name, p] : net_->named_parameters(false)) params_.push_back({name, p});
    for (const auto& [name, b] : net_->named_buffers(false)) buffers_.push_back({name, b});
    loss_ = c_.loss_object ? c_.loss_object : make_loss(c_.loss);
    loss_name_ = c_.loss_object ? c_.loss_object->type_name() : canonical_loss_name(c_.loss);
    const LossTask task = loss_task(loss_name_);
    binary_logits_ = task.task == "binary" && task.logits;
    for (const auto& m : c_.metrics) {
      train_metrics_.push_back(make_metric(m, loss_name_));
      val_metrics_.push_back(make_metric(m, loss_name_));
    }
  }

  std::string type_name() const override { return net_->type_name(); }
  Tensor forward(const Tensor& x) override { return (*net_)(x); }

  // The loss of a batch, weighted per sample when the batch carries weights (Keras's
  // sum_over_batch_size: Σ w·loss / N).
  Tensor batch_loss(const Tensor& out, const data::Batch& b) {
    if (!b.w.defined()) return (*loss_)(out, b.y);
    const auto saved = loss_->reduction;
    loss_->reduction = nn::Reduction::None;
    Tensor per = (*loss_)(out, b.y);
    loss_->reduction = saved;
    if (per.dim() > 1) per = mean(per.reshape({per.size(0), -1}), 1);
    return sum(per * b.w) / float(per.size(0));
  }

  // Metrics see probabilities when the loss works on logits of a binary output. Multiclass
  // logits go as they are: the arg-max is the same, and auc applies the softmax it needs.
  Tensor metric_input(const Tensor& out) const {
    return binary_logits_ ? nn::F::sigmoid(out.detach()) : out.detach();
  }

  Tensor training_step(const data::Batch& b, int64_t) override {
    check(b.y.defined(), "fit: the training data has no targets");
    Tensor out = forward(b.x);
    Tensor loss = batch_loss(out, b);
    train_seen_ += b.size();
    if (!train_metrics_.empty()) {
      Tensor p = metric_input(out);
      for (auto& m : train_metrics_) m->update(p, b.y);
    }
    if (!c_.regularizers.empty()) {
      const Tensor penalty = optim::regularization_penalty(c_.regularizers);
      log("regularization_loss", penalty.item(), b.size());
      loss = loss + penalty;
    }
    return loss;
  }

  void validation_step(const data::Batch& b, int64_t) override {
    Tensor out = forward(b.x);
    log("val_loss", batch_loss(out, b), b.size());
    val_seen_ += b.size();
    Tensor p = metric_input(out);
    for (auto& m : val_metrics_) m->update(p, b.y);
  }

  void test_step(const data::Batch& b, int64_t i) override { validation_step(b, i); }

  // Data-parallel, each rank's metric counts as many times as it saw samples, so the reduced value
  // is the metric over all samples for the means (accuracy, mae, mse; not auc or rmse exactly).
  int64_t metric_weight(int64_t seen) const {
    return trainer() && trainer()->world_size() > 1 ? std::max<int64_t>(seen, 0) : 1;
  }
  void on_train_epoch_start() override {
    for (auto& m : train_metrics_) m->reset();
    train_seen_ = 0;
  }
  void on_train_epoch_end() override {
    for (size_t i = 0; i < train_metrics_.size(); ++i)
      log(c_.metrics[i], train_metrics_[i]->compute(), metric_weight(train_seen_));
  }
  void on_validation_epoch_start() override {
    for (auto& m : val_metrics_) m->reset();
    val_seen_ = 0;
  }
  void on_validation_epoch_end() override {
    for (size_t i = 0; i < val_metrics_.size(); ++i)
      log("val_" + c_.metrics[i], val_metrics_[i]->compute(), metric_weight(val_seen_));
  }

  OptimizerConfig configure_optimizers() override {
    OptimizerConfig cfg;
    cfg.optimizer = c_.optimizer(net_->parameters());
    check(cfg.optimizer != nullptr, "compile: the optimizer factory returned nothing");
    if (c_.schedule) {
      cfg.scheduler = c_.schedule(*cfg.optimizer, steps_per_epoch);
      cfg.interval = c_.schedule_interval;
      cfg.frequency = c_.schedule_frequency;
      cfg.monitor = c_.schedule_monitor;
    }
    return cfg;
  }

  int64_t steps_per_epoch = 1;

 private:
  std::shared_ptr<nn::Module> net_;
  CompileOptions c_;
  std::shared_ptr<nn::Loss> loss_;
  std::string loss_name_;
  bool binary_logits_ = false;
  int64_t train_seen_ = 0, val_seen_ = 0;
  std::vector<std::shared_ptr<nn::metrics::Metric>> train_metrics_, val_metrics_;
};

Model::Model(std::shared_ptr<nn::Module> net) : net_(std::move(net)) {
  check(net_ != nullptr, "Model: no network given");
}

void Model::compile(CompileOptions options) {
  check(static_cast<bool>(options.optimizer), "compile: an optimizer is required");
  check(options.loss_object || !options.loss.empty(), "compile: a loss is required");
  adapter_ = std::make_shared<Adapter>(net_, options);  // validates the names now
  compile_ = std::move(options);
}

void Model::compile(const std::string& optimizer, const std::string& loss,
                    const std::vector<std::string>& metrics,
                    const std::map<std::string, double>& optimizer_hparams) {
  CompileOptions c;
  c.optimizer = optimizer_factory(optimizer, optimizer_hparams);
  c.loss = loss;
  c.metrics = metrics;
  compile(std::move(c));
}

const CompileOptions& Model::compiled() const {
  check(compile_.has_value(), "Model: call compile() before fit(), evaluate() or predict()");
  return *compile_;
}

History Model::fit(const data::TensorDataset& train_in, FitOptions o) {
  compiled();
  check(o.epochs >= 1, "fit: epochs must be at least 1, got ", o.epochs);
  check(o.batch_size >= 1, "fit: batch_size must be at least 1, got ", o.batch_size);
  check(o.validation_split >= 0 && o.validation_split < 1, "fit: validation_split must be in [0, 1), got ",
        o.validation_split);
  auto train = std::make_shared<data::TensorDataset>(train_in);
  std::shared_ptr<data::TensorDataset> val;
  if (o.validation_data) {
    val = std::make_shared<data::TensorDataset>(*o.validation_data);
  } else if (o.validation_split > 0) {
    const auto split = data::validation_split(train_in.size(), o.validation_split);
    val = std::make_shared<data::TensorDataset>(train_in.subset(split.val));
    train = std::make_shared<data::TensorDataset>(train_in.subset(split.train));
  }
  data::LoaderOptions lo;
  lo.batch_size = o.batch_size;
  lo.shuffle = o.shuffle;
  lo.seed = o.seed;
  lo.transform = o.transform;
  // Data-parallel: this rank's shards (the Trainer would make them too, but the schedule's steps per
  // epoch are the shard's).
  if (strategy_world_size(o.trainer) > 1) {
    lo.rank = dist::Communicator::world().rank();
    lo.world_size = dist::Communicator::world().size();
  }
  data::DataLoader train_loader(train, lo);
  lo.shuffle = false;
  lo.pad_shards = false;
  lo.transform = o.eval_transform;
  std::optional<data::DataLoader> val_loader;
  if (val) val_loader.emplace(val, lo);

  TrainerOptions to = o.trainer;
  to.max_epochs = o.epochs;
  to.callbacks = o.callbacks;
  to.verbose = o.verbose;
  to.seed = o.seed;
  if (!o.run_root.empty()) {
    to.default_root_dir = o.run_root;
    to.name = o.name;
  }
  adapter_ = std::make_shared<Adapter>(net_, *compile_);
  adapter_->steps_per_epoch = train_loader.num_batches();
  trainer_ = std::make_unique<Trainer>(to);
  return trainer_->fit(*adapter_, train_loader, val_loader ? &*val_loader : nullptr, o.resume_from);
}

Logs Model::evaluate(const data::TensorDataset& d, int64_t batch_size,
                     std::shared_ptr<const data::BatchTransform> transform) {
  compiled();
  check(d.has_targets(), "evaluate: the data has no targets");
  data::LoaderOptions lo;
  lo.batch_size = batch_size;
  lo.transform = std::move(transform);
  data::DataLoader loader(std::make_shared<data::TensorDataset>(d), lo);
  Adapter adapter(net_, *compile_);
  Trainer t(TrainerOptions{});
  Logs raw = t.validate(adapter, loader);
  Logs logs;
  for (const auto& [k, v] : raw) logs[k.rfind("val_", 0) == 0 ? k.substr(4) : k] = v;
  return logs;
}

Tensor Model::predict(const Tensor& x, int64_t batch_size) {
  check(batch_size >= 1, "predict: batch_size must be at least 1, got ", batch_size);
  nn::EvalGuard eval(*net_);
  NoGradGuard no_grad;
  const int64_t n = x.size(0);
  if (n <= batch_size) return (*net_)(x).detach();
  std::vector<Tensor> parts;
  int64_t total = 0;
  for (int64_t s = 0; s < n; s += batch_size) {
    parts.push_back((*net_)(x.slice(s, std::min(n, s + batch_size))));
    total += parts.back().size(0);
  }
  std::vector<int64_t> dims = parts[0].shape().dims();
  dims[0] = total;
  Tensor out = Tensor::empty(Shape(dims));
  int64_t offset = 0;
  for (const auto& p : parts) {
    std::copy(p.data(), p.data() + p.numel(), out.data() + offset);
    offset += p.numel();
  }
  return out;
}

}  // namespace neurona::train
