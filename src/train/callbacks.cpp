#include "neurona/train/callbacks.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <sstream>

#include "neurona/core/error.hpp"
#include "neurona/core/format.hpp"
#include "neurona/io/files.hpp"
#include "neurona/nn/layers.hpp"
#include "neurona/train/trainer.hpp"

namespace neurona::train {

namespace {

bool resolve_minimize(const std::string& mode, const std::string& monitor, const char* who) {
  const std::string m = mode == "auto" ? infer_mode(monitor) : mode;
  check(m == "min" || m == "max", who, ": mode must be 'auto', 'min' or 'max', got '", mode, "'");
  return m == "min";
}

void say(Trainer& t, const std::string& text) {
  if (t.options().verbose > 0) std::printf("%s\n", text.c_str());
}

std::string known_keys(const Logs& logs) {
  std::string s;
  for (const auto& [k, v] : logs) s += (s.empty() ? "" : ", ") + k;
  return s;
}

}  // namespace

double CallbackState::number(const std::string& key, const std::string& owner) const {
  auto it = numbers.find(key);
  check(it != numbers.end(), owner, ": checkpoint state has no '", key, "'");
  return it->second;
}

std::string infer_mode(const std::string& monitor) {
  std::string base = monitor.rfind("val_", 0) == 0 ? monitor.substr(4) : monitor;
  for (const char* up : {"acc", "accuracy", "auc", "f1", "precision", "recall", "r2"})
    if (base == up || base.find(std::string(up) + "_") == 0 ||
        base.rfind(std::string("_") + up) != std::string::npos)
      return "max";
  return "min";
}

// --- EarlyStopping ----------------------------------------------------------------------------------

EarlyStopping::EarlyStopping(EarlyStoppingOptions options) : o_(std::move(options)) {
  check(o_.patience >= 0, "EarlyStopping: patience must be >= 0, got ", o_.patience);
  minimize_ = resolve_minimize(o_.mode, o_.monitor, "EarlyStopping");
  o_.min_delta = std::fabs(o_.min_delta);
}

bool EarlyStopping::improved(double current, double reference) const {
  if (std::isnan(reference)) return true;
  // An improvement must beat the reference by more than min_delta.
  return minimize_ ? current + o_.min_delta < reference : current - o_.min_delta > reference;
}

void EarlyStopping::on_train_begin(Trainer&) {
  wait_ = 0;
  best_epoch_ = stopped_epoch_ = -1;
  best_ = std::numeric_limits<double>::quiet_NaN();
  best_weights_.clear();
}

void EarlyStopping::on_epoch_end(Trainer& t, int64_t epoch, Logs& logs) {
  auto it = logs.find(o_.monitor);
  if (it == logs.end()) {
    if (!warned_)
      say(t, "EarlyStopping: monitored value '" + o_.monitor +
                 "' is not available (available: " + known_keys(logs) + ")");
    warned_ = true;
    return;
  }
  if (epoch < o_.start_from_epoch) return;
  const double current = it->second;
  auto snapshot = [&] {
    best_weights_.clear();
    for (const auto& [name, tensor] : t.module().state_dict())
      best_weights_.push_back({name, tensor.detach().clone()});
  };
  if (o_.restore_best_weights && best_weights_.empty()) snapshot();
  ++wait_;
  if (improved(current, best_)) {
    best_ = current;
    best_epoch_ = epoch;
    if (o_.restore_best_weights) snapshot();
    if (std::isnan(o_.baseline) || improved(current, o_.baseline)) wait_ = 0;
    return;
  }
  if (wait_ >= o_.patience && epoch > 0) {
    stopped_epoch_ = epoch;
    t.request_stop("Epoch " + std::to_string(epoch + 1) + ": early stopping");
  }
}

void EarlyStopping::on_train_end(Trainer& t) {
  if (!o_.restore_best_weights || best_weights_.empty()) return;
  nn::StateDict sd;
  for (const auto& [name, tensor] : best_weights_) sd.insert(name, tensor);
  t.module().load_state_dict(sd, true);
  if (o_.verbose)
    say(t,
        "Restoring model weights from the end of the best epoch: " + std::to_string(best_epoch_ + 1) + ".");
}

void EarlyStopping::save_state(CallbackState& s) const {
  s.numbers = {{"wait", double(wait_)},
               {"best", best_},
               {"best_epoch", double(best_epoch_)},
               {"stopped_epoch", double(stopped_epoch_)}};
  for (const auto& [name, tensor] : best_weights_) s.tensors.push_back({name, tensor});
}

void EarlyStopping::load_state(const CallbackState& s) {
  wait_ = static_cast<int64_t>(s.number("wait", name()));
  best_ = s.number("best", name());
  best_epoch_ = static_cast<int64_t>(s.number("best_epoch", name()));
  stopped_epoch_ = static_cast<int64_t>(s.number("stopped_epoch", name()));
  best_weights_.clear();
  for (const auto& [n, tensor] : s.tensors) best_weights_.push_back({n, tensor.clone()});
}

// --- ModelCheckpoint --------------------------------------------------------------------------------

ModelCheckpoint::ModelCheckpoint(ModelCheckpointOptions options) : o_(std::move(options)) {
  check(o_.save_top_k >= -1, "ModelCheckpoint: save_top_k must be >= -1, got ", o_.save_top_k);
  check(o_.every_n_epochs >= 1, "ModelCheckpoint: every_n_epochs must be >= 1, got ", o_.every_n_epochs);
  check(!o_.filename.empty(), "ModelCheckpoint: filename must not be empty");
  minimize_ = resolve_minimize(o_.mode, o_.monitor.empty() ? "loss" : o_.monitor, "ModelCheckpoint");
}

std::string ModelCheckpoint::format_name(const std::string& pattern, const Logs& values) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '{') {
      out += pattern[i];
      continue;
    }
    const size_t close = pattern.find('}', i);
    check(close != std::string::npos, "ModelCheckpoint: unclosed '{' in filename '", pattern, "'");
    const std::string field = pattern.substr(i + 1, close - i - 1);
    const size_t colon = field.find(':');
    const std::string key = field.substr(0, colon);
    auto it = values.find(key);
    check(it != values.end(), "ModelCheckpoint: filename '", pattern, "' names '", key,
          "', which is not logged (logged: ", known_keys(values), ")");
    char buf[64];
    if (colon == std::string::npos) {
      const double v = it->second;
      if (v == std::floor(v) && std::fabs(v) < 1e15)
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
      else
        std::snprintf(buf, sizeof buf, "%g", v);
    } else {
      const std::string spec = field.substr(colon + 1);
      check(!spec.empty() && spec.find_first_not_of("0123456789.-+ #") == spec.size() - 1 &&
                std::strchr("fegd", spec.back()) != nullptr,
            "ModelCheckpoint: format '", spec, "' in filename '", pattern,
            "' is not like '.4f', '02d' or '.3e'");
      const std::string fmt =
          "%" + spec.substr(0, spec.size() - 1) + (spec.back() == 'd' ? "lld" : std::string(1, spec.back()));
      if (spec.back() == 'd')
        std::snprintf(buf, sizeof buf, fmt.c_str(), static_cast<long long>(it->second));
      else
        std::snprintf(buf, sizeof buf, fmt.c_str(), it->second);
    }
    out += buf;
    i = close;
  }
  return out;
}

void ModelCheckpoint::on_epoch_end(Trainer& t, int64_t epoch, Logs& logs) {
  if ((epoch + 1) % o_.every_n_epochs != 0) return;
  const auto dir = o_.dirpath.empty() ? t.checkpoint_dir() : o_.dirpath;
  auto remove_pair = [&t](const std::filesystem::path& p) {
    if (!t.is_global_zero()) return;  // data-parallel: rank 0 owns the files
    std::error_code ec;
    std::filesystem::remove(p, ec);
    std::string s = p.string();
    s.resize(s.size() - std::string(".safetensors").size());
    std::filesystem::remove(s + ".state.safetensors", ec);
  };
  if (o_.save_last) {
    last_path_ = dir / "last.safetensors";
    t.save_checkpoint(last_path_);
  }
  if (o_.save_top_k == 0) return;
  double score = static_cast<double>(t.global_step());  // "latest" ordering when nothing is monitored
  if (!o_.monitor.empty()) {
    auto it = logs.find(o_.monitor);
    if (it == logs.end()) {
      say(t, "ModelCheckpoint: monitored value '" + o_.monitor +
                 "' is not available (available: " + known_keys(logs) + "); skipped");
      return;
    }
    score = it->second;
  }
  const bool lower_is_better = o_.monitor.empty() ? false : minimize_;
  auto better = [&](double a, double b) { return lower_is_better ? a < b : a > b; };
  const bool full = o_.save_top_k > 0 && static_cast<int64_t>(kept_.size()) >= o_.save_top_k;
  if (full && !better(score, kept_.back().first)) return;
  Logs values = logs;
  values["epoch"] = static_cast<double>(epoch);
  values["step"] = static_cast<double>(t.global_step());
  std::filesystem::path path = dir / (format_name(o_.filename, values) + ".safetensors");
  for (int v = 1; std::any_of(kept_.begin(), kept_.end(), [&](auto& k) { return k.second == path; }); ++v)
    path = dir / (format_name(o_.filename, values) + "-v" + std::to_string(v) + ".safetensors");
  t.save_checkpoint(path);
  if (o_.verbose) say(t, "ModelCheckpoint: saved " + path.string());
  kept_.push_back({score, path});
  std::stable_sort(kept_.begin(), kept_.end(), [&](auto& a, auto& b) { return better(a.first, b.first); });
  while (o_.save_top_k > 0 && static_cast<int64_t>(kept_.size()) > o_.save_top_k) {
    remove_pair(kept_.back().second);
    kept_.pop_back();
  }
  best_path_ = kept_.front().second;
  best_score_ = kept_.front().first;
}

void ModelCheckpoint::save_state(CallbackState& s) const {
  std::ostringstream os;
  for (const auto& [score, path] : kept_) os << score << '\t' << path.string() << '\n';
  s.strings["kept"] = os.str();
  s.strings["last"] = last_path_.string();
}

void ModelCheckpoint::load_state(const CallbackState& s) {
  kept_.clear();
  auto it = s.strings.find("kept");
  if (it != s.strings.end()) {
    std::istringstream is(it->second);
    std::string line;
    while (std::getline(is, line)) {
      const size_t tab = line.find('\t');
      if (tab == std::string::npos) continue;
      kept_.push_back({std::stod(line.substr(0, tab)), line.substr(tab + 1)});
    }
  }
  if (!kept_.empty()) {
    best_path_ = kept_.front().second;
    best_score_ = kept_.front().first;
  }
  auto last = s.strings.find("last");
  if (last != s.strings.end()) last_path_ = last->second;
}

// --- ReduceLROnPlateau ------------------------------------------------------------------------------

ReduceLROnPlateau::ReduceLROnPlateau(ReduceLROnPlateauCallbackOptions options) : o_(std::move(options)) {}

void ReduceLROnPlateau::on_train_begin(Trainer& t) {
  schedule_ = std::make_unique<optim::ReduceLROnPlateau>(t.optimizer(), o_.schedule);
}

void ReduceLROnPlateau::on_epoch_end(Trainer& t, int64_t epoch, Logs& logs) {
  auto it = logs.find(o_.monitor);
  if (it == logs.end()) {
    say(t, "ReduceLROnPlateau: monitored value '" + o_.monitor +
               "' is not available (available: " + known_keys(logs) + ")");
    return;
  }
  const double before = t.optimizer().lr(0);
  schedule_->step(it->second);
  const double after = t.optimizer().lr(0);
  if (after < before && o_.verbose) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "Epoch %lld: ReduceLROnPlateau reducing learning rate to %g.",
                  static_cast<long long>(epoch + 1), after);
    say(t, buf);
  }
  logs["lr"] = after;
}

void ReduceLROnPlateau::save_state(CallbackState& s) const {
  if (!schedule_) return;
  for (const auto& [k, v] : schedule_->state_dict().scalars) s.numbers[k] = v;
}

void ReduceLROnPlateau::load_state(const CallbackState& s) {
  if (!schedule_) return;
  optim::SavedState sd;
  sd.scalars = s.numbers;
  schedule_->load_state_dict(sd);
}

// --- LearningRateMonitor ----------------------------------------------------------------------------

LearningRateMonitor::LearningRateMonitor(std::string logging_interval)
    : interval_(std::move(logging_interval)) {
  check(interval_ == "epoch" || interval_ == "step",
        "LearningRateMonitor: logging_interval must be 'epoch' or 'step', got '", interval_, "'");
}

Logs LearningRateMonitor::rates(Trainer& t) const {
  Logs out;
  auto& opt = t.optimizer();
  const std::string base = std::string("lr-") + opt.type_name();
  for (size_t g = 0; g < opt.num_groups(); ++g)
    out[g == 0 ? base : base + "/pg" + std::to_string(g)] = opt.lr(g);
  return out;
}

void LearningRateMonitor::on_epoch_end(Trainer& t, int64_t, Logs& logs) {
  // With the step interval the rates go to the loggers by step only: one tag, one kind of step.
  if (interval_ != "epoch") return;
  for (const auto& [k, v] : rates(t)) logs[k] = v;
}

void LearningRateMonitor::on_batch_end(Trainer& t, int64_t, const Logs&) {
  if (interval_ != "step") return;
  const Logs r = rates(t);
  for (auto& lg : t.options().loggers) lg->log_metrics(r, t.global_step());
}

// --- TerminateOnNaN ---------------------------------------------------------------------------------

void TerminateOnNaN::on_batch_end(Trainer& t, int64_t batch, const Logs& logs) {
  auto it = logs.find("loss");
  if (it == logs.end()) return;
  const auto params = t.module().parameters();
  auto all_finite = [&] {
    for (const auto& p : params) {
      const float* w = p.data();
      for (int64_t i = 0; i < p.numel(); ++i)
        if (!std::isfinite(w[i])) return false;
    }
    return true;
  };
  if (std::isfinite(it->second)) {
    if (!all_finite()) return;  // keep the previous snapshot
    if (snapshot_.size() != params.size()) {
      snapshot_.clear();
      for (const auto& p : params) snapshot_.push_back(Tensor::empty(p.shape()));
    }
    for (size_t i = 0; i < params.size(); ++i)
      std::memcpy(snapshot_[i].data(), params[i].data(),
                  sizeof(float) * static_cast<size_t>(params[i].numel()));
    return;
  }
  triggered_ = true;
  if (!all_finite() && snapshot_.size() == params.size())
    for (size_t i = 0; i < params.size(); ++i)
      std::memcpy(const_cast<float*>(params[i].data()), snapshot_[i].data(),
                  sizeof(float) * static_cast<size_t>(params[i].numel()));
  char buf[160];
  std::snprintf(buf, sizeof buf,
                "TerminateOnNaN: loss is %s at epoch %lld, batch %lld; stopping with the last finite weights",
                std::isnan(it->second) ? "NaN" : "infinite", static_cast<long long>(t.current_epoch() + 1),
                static_cast<long long>(batch + 1));
  message_ = buf;
  t.request_stop(message_, true);
}

// --- CSVLogger --------------------------------------------------------------------------------------

CSVLogger::CSVLogger(std::filesystem::path filename, char separator, bool append)
    : path_(std::move(filename)), sep_(separator), append_(append) {}

void CSVLogger::on_train_begin(Trainer& t) {
  columns_.clear();
  if (!append_ && t.is_global_zero()) io::write_file_atomic(path_, "");
}

void CSVLogger::on_epoch_end(Trainer& t, int64_t epoch, Logs& logs) {
  if (!t.is_global_zero()) return;  // data-parallel: rank 0 writes
  std::ostringstream os;
  if (columns_.empty()) {
    for (const auto& [k, v] : logs) columns_.push_back(k);
    const bool has_content = std::filesystem::exists(path_) && std::filesystem::file_size(path_) > 0;
    if (!has_content) {
      os << "epoch";
      for (const auto& c : columns_) os << sep_ << c;
      os << '\n';
    }
  }
  os << epoch;
  for (const auto& c : columns_) {
    os << sep_;
    auto it = logs.find(c);
    if (it != logs.end()) os << format_number(it->second, 9);
  }
  os << '\n';
  io::append_file(path_, os.str());
}

// --- fine-tuning ---------------------------------------------------------------------------------

bool parameter_selected(const std::string& entry, const std::string& name, const nn::Module& model) {
  char* end = nullptr;
  const long index = std::strtol(entry.c_str(), &end, 10);
  if (!entry.empty() && end && *end == '\0') {
    const auto& children = model.named_children();
    const long n = static_cast<long>(children.size());
    const long i = index < 0 ? index + n : index;
    if (i < 0 || i >= n) return false;
    return name.rfind(children[static_cast<size_t>(i)].first + ".", 0) == 0;
  }
  return fnmatch(entry.c_str(), name.c_str(), 0) == 0;
}

namespace {

// The top-level children that have parameters, in order.
std::vector<std::pair<std::string, std::shared_ptr<nn::Module>>> layers_with_parameters(nn::Module& model) {
  std::vector<std::pair<std::string, std::shared_ptr<nn::Module>>> out;
  for (const auto& [name, child] : model.named_children())
    if (!child->parameters().empty()) out.emplace_back(name, child);
  return out;
}

void set_requires_grad(const std::vector<Tensor>& params, bool on) {
  for (const Tensor& p : params) {
    Tensor q = p;
    q.requires_grad_(on);
  }
}

}  // namespace

std::vector<std::pair<std::string, Tensor>> backbone_parameters(nn::Module& model,
                                                                const std::vector<std::string>& patterns) {
  std::vector<std::pair<std::string, Tensor>> out;
  if (patterns.empty()) {
    const auto layers = layers_with_parameters(model);
    check(layers.size() >= 2, "backbone: the model has ", layers.size(),
          " layer(s) with parameters; a backbone and a head need at least two");
    const std::string head = layers.back().first + ".";
    for (const auto& [name, p] : model.named_parameters())
      if (name.rfind(head, 0) != 0) out.emplace_back(name, p);
    return out;
  }
  std::vector<bool> used(patterns.size(), false);
  for (const auto& [name, p] : model.named_parameters()) {
    bool selected = false;
    for (size_t i = 0; i < patterns.size(); ++i)
      if (parameter_selected(patterns[i], name, model)) selected = used[i] = true;
    if (selected) out.emplace_back(name, p);
  }
  for (size_t i = 0; i < patterns.size(); ++i)
    check(used[i], "backbone[", i, "]: '", patterns[i], "' matches no parameter of the model");
  return out;
}

BackboneFinetuning::BackboneFinetuning(BackboneFinetuningOptions options) : o_(std::move(options)) {
  check(o_.unfreeze_backbone_at_epoch >= 0,
        "BackboneFinetuning: unfreeze_backbone_at_epoch must be >= 0, got ", o_.unfreeze_backbone_at_epoch);
  check(std::isfinite(o_.multiplier) && o_.multiplier > 0, "BackboneFinetuning: multiplier must be > 0, got ",
        o_.multiplier);
  check(std::isfinite(o_.backbone_initial_ratio_lr) && o_.backbone_initial_ratio_lr > 0,
        "BackboneFinetuning: backbone_initial_ratio_lr must be > 0, got ", o_.backbone_initial_ratio_lr);
  check(std::isnan(o_.backbone_initial_lr) || o_.backbone_initial_lr > 0,
        "BackboneFinetuning: backbone_initial_lr must be > 0, got ", o_.backbone_initial_lr);
}

void BackboneFinetuning::on_train_begin(Trainer& t) {
  nn::Module& model = t.module();
  params_.clear();
  batchnorm_.clear();
  norms_.clear();
  std::set<const TensorImpl*> norm_params;
  for (const auto& [name, m] : model.named_modules())
    if (dynamic_cast<const nn::BatchNorm1d*>(m.get()))
      for (const Tensor& p : m->parameters()) norm_params.insert(p.impl());
  std::set<const TensorImpl*> mine;
  for (const auto& [name, p] : backbone_parameters(model, o_.backbone)) {
    params_.push_back(p);
    batchnorm_.push_back(norm_params.count(p.impl()) != 0);
    mine.insert(p.impl());
  }
  for (const auto& [name, m] : model.named_modules()) {
    if (!dynamic_cast<const nn::BatchNorm1d*>(m.get())) continue;
    const auto ps = m->parameters();
    if (!ps.empty() && mine.count(ps.front().impl())) norms_.push_back(m);
  }
  // The backbone's group: the one whose parameters are exactly the backbone's.
  optim::Optimizer& opt = t.optimizer();
  bool found = false;
  for (size_t g = 0; g < opt.num_groups() && !found; ++g) {
    const auto& ps = opt.params(g);
    std::set<const TensorImpl*> in_group;
    for (const Tensor& p : ps) in_group.insert(p.impl());
    if (in_group == mine) {
      group_ = g;
      found = true;
    }
  }
  check(found && group_ > 0, "BackboneFinetuning: the optimizer must hold the backbone's ", params_.size(),
        " parameters as a group of their own after the head's (group 0); in a config the callback's "
        "backbone patterns make that group, in C++ configure_optimizers must");
  lr_ = std::numeric_limits<double>::quiet_NaN();
  frozen_ = false;
  set_frozen(t, true);
}

void BackboneFinetuning::set_frozen(Trainer& t, bool frozen) {
  frozen_ = frozen;
  t.optimizer().set_frozen(group_, frozen);
  for (size_t i = 0; i < params_.size(); ++i) {
    // With train_bn the BatchNorm parameters keep their gradients; the frozen group is not stepped.
    Tensor p = params_[i];
    p.requires_grad_(!frozen || (o_.train_bn && batchnorm_[i]));
  }
}

void BackboneFinetuning::on_epoch_begin(Trainer& t, int64_t epoch) {
  optim::Optimizer& opt = t.optimizer();
  const int64_t at = o_.unfreeze_backbone_at_epoch;
  if (epoch < at) {
    if (!frozen_) set_frozen(t, true);
    return;
  }
  if (frozen_) set_frozen(t, false);
  const double head = opt.lr(0);
  if (epoch == at || std::isnan(lr_)) {
    lr_ = std::isnan(o_.backbone_initial_lr) ? head * o_.backbone_initial_ratio_lr : o_.backbone_initial_lr;
  } else {
    lr_ *= o_.multiplier;
    if (o_.should_align && lr_ > head) lr_ = head;
  }
  opt.set_lr(group_, lr_);
  if (o_.verbose && t.is_global_zero())
    std::printf("Epoch %lld: backbone %s, lr %s (head %s)\n", static_cast<long long>(epoch + 1),
                epoch == at ? "unfrozen" : "training", format_number(lr_).c_str(),
                format_number(head).c_str());
}

void BackboneFinetuning::on_batch_begin(Trainer&, int64_t) {
  if (frozen_ && !o_.train_bn)
    for (auto& m : norms_) m->eval();
}

void BackboneFinetuning::save_state(CallbackState& s) const { s.numbers["backbone_lr"] = lr_; }
void BackboneFinetuning::load_state(const CallbackState& s) { lr_ = s.number("backbone_lr", name()); }

GradualUnfreezing::GradualUnfreezing(int64_t epochs_per_layer, bool verbose)
    : every_(epochs_per_layer), verbose_(verbose) {
  check(every_ >= 1, "GradualUnfreezing: epochs_per_layer must be >= 1, got ", every_);
}

int64_t GradualUnfreezing::trainable_layers(int64_t epoch) const {
  return std::min<int64_t>(static_cast<int64_t>(layers_.size()), 1 + epoch / every_);
}

void GradualUnfreezing::on_train_begin(Trainer& t) {
  layers_ = layers_with_parameters(t.module());
  check(layers_.size() >= 2, "GradualUnfreezing: the model has ", layers_.size(),
        " layer(s) with parameters; there is nothing to unfreeze gradually");
}

void GradualUnfreezing::on_epoch_begin(Trainer& t, int64_t epoch) {
  const int64_t n = static_cast<int64_t>(layers_.size());
  const int64_t open = trainable_layers(epoch);
  for (int64_t i = 0; i < n; ++i)
    set_requires_grad(layers_[static_cast<size_t>(i)].second->parameters(), i >= n - open);
  if (verbose_ && t.is_global_zero() && open > trainable_layers(epoch - 1 < 0 ? 0 : epoch - 1))
    std::printf("Epoch %lld: layer %s unfrozen (%lld of %lld layers train)\n",
                static_cast<long long>(epoch + 1), layers_[static_cast<size_t>(n - open)].first.c_str(),
                static_cast<long long>(open), static_cast<long long>(n));
}

}  // namespace neurona::train
