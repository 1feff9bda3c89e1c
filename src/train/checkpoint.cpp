// Trainer's checkpoints: the weights file (PyTorch names) and the state file beside it
// (optimizer, schedule, generator, callbacks, loop counters and history), written and read back.
#include <nlohmann/json.hpp>

#include "neurona/core/error.hpp"
#include "neurona/core/random.hpp"
#include "neurona/io/files.hpp"
#include "neurona/io/safetensors.hpp"
#include "neurona/train/trainer.hpp"

namespace neurona::train {

namespace {

std::filesystem::path state_path_for(const std::filesystem::path& weights) {
  std::string s = weights.string();
  const std::string ext = ".safetensors";
  if (s.size() > ext.size() && s.compare(s.size() - ext.size(), ext.size(), ext) == 0)
    s.resize(s.size() - ext.size());
  return s + ".state.safetensors";
}

}  // namespace

// --- checkpoints -------------------------------------------------------------------------------------

void Trainer::save_checkpoint(const std::filesystem::path& path) const {
  if (!is_global_zero()) return;
  write_checkpoint(path, make_checkpoint(epoch_, false));
}

Trainer::Checkpoint Trainer::make_checkpoint(int64_t completed, bool copy) const {
  const LightningModule& m = module();
  Checkpoint c;
  auto keep = [copy](const Tensor& t) { return copy ? t.clone() : t; };
  for (auto nt : weight_tensors(m)) {
    nt.tensor = keep(nt.tensor);
    c.weights.push_back(nt);
  }
  nlohmann::json meta;
  meta["epoch"] = completed;
  meta["global_step"] = global_step_;
  const auto rng = default_generator().state();
  meta["rng"] = {std::to_string(rng.s[0]),
                 std::to_string(rng.s[1]),
                 std::to_string(rng.s[2]),
                 std::to_string(rng.s[3]),
                 rng.has_spare,
                 rng.spare};
  const auto opt = config_.optimizer->state_dict();
  meta["optimizer"] = opt.scalars;
  for (const auto& [name, t] : opt.tensors) c.state.push_back({"optimizer/" + name, keep(t)});
  if (config_.scheduler) {
    const auto sched = config_.scheduler->state_dict();
    meta["scheduler"] = sched.scalars;
    for (const auto& [name, t] : sched.tensors) c.state.push_back({"scheduler/" + name, keep(t)});
  }
  nlohmann::json callbacks = nlohmann::json::object();
  for (const auto& cb : options_.callbacks) {
    CallbackState cs;
    cb->save_state(cs);
    callbacks[cb->name()] = {{"numbers", cs.numbers}, {"strings", cs.strings}};
    for (const auto& [name, t] : cs.tensors)
      c.state.push_back({"callback/" + cb->name() + "/" + name, keep(t)});
  }
  meta["callbacks"] = callbacks;
  // Called from epoch-end callbacks before the epoch enters the history: include it here. The
  // Ctrl-C snapshot taken at every epoch's start (`copy`) leaves it out: an interrupted epoch adds
  // no row, so the history it needs is the one the trainer holds when it is written
  // (Trainer::fit adds it). Writing it out at every epoch made the snapshot O(epochs), half of a
  // 400-epoch W4 run's time.
  if (!copy) {
    History history = history_;
    if (completed >= 0 && (history.empty() || history.epochs().back() != completed))
      history.append(completed, metrics_);
    meta["history"] = nlohmann::json::parse(history.to_json());
  }
  c.weight_meta = {{"format", "pt"},
                   {"neurona.epoch", std::to_string(completed)},
                   {"neurona.global_step", std::to_string(global_step_)}};
  if (!options_.config_text.empty()) c.weight_meta["neurona.config"] = options_.config_text;
  c.state_meta = {{"neurona.checkpoint", meta.dump()}};
  return c;
}

void Trainer::write_checkpoint(const std::filesystem::path& path, const Checkpoint& c) {
  // The training state goes first: a weights file never points at a state file that is missing.
  io::save_safetensors(state_path_for(path), c.state, c.state_meta);
  io::save_safetensors(path, c.weights, c.weight_meta);
}

void Trainer::load_checkpoint(const std::filesystem::path& path) {
  const auto weights = io::load_safetensors(path);
  const auto state_path = state_path_for(path);
  check(std::filesystem::exists(state_path), "resume: ", path.string(),
        " has no training state beside it (expected ", state_path.string(),
        "); use it as initial weights instead");
  const auto state = io::load_safetensors(state_path);
  auto it = state.metadata.find("neurona.checkpoint");
  check(it != state.metadata.end(), "resume: ", state_path.string(), " is not a Neurona checkpoint");
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(it->second);
  } catch (const std::exception& e) {
    fail("resume: ", state_path.string(), ": invalid checkpoint metadata: ", e.what());
  }

  // The two files are written one after the other: a process killed between them leaves a pair
  // from different epochs, which must not resume as if it were one.
  auto we = weights.metadata.find("neurona.global_step");
  if (we != weights.metadata.end() && meta.contains("global_step"))
    check(we->second == std::to_string(meta.at("global_step").get<int64_t>()), "resume: ", path.string(),
          " holds the weights of step ", we->second, " but ", state_path.string(), " the state of step ",
          meta.at("global_step").get<int64_t>(), " (a write was cut short); resume from another checkpoint");
  nn::StateDict sd;
  for (const auto& nt : weights.tensors) sd.insert(nt.name, nt.tensor);
  module_->load_state_dict(sd, true);

  optim::SavedState opt;
  optim::SavedState sched;
  for (const auto& nt : state.tensors) {
    if (nt.name.rfind("optimizer/", 0) == 0) opt.tensors[nt.name.substr(10)] = nt.tensor;
    if (nt.name.rfind("scheduler/", 0) == 0) sched.tensors[nt.name.substr(10)] = nt.tensor;
  }
  opt.scalars = meta.at("optimizer").get<std::map<std::string, double>>();
  config_.optimizer->load_state_dict(opt);
  if (config_.scheduler) {
    check(meta.contains("scheduler"), "resume: ", state_path.string(),
          " holds no schedule state, but the module configures ", config_.scheduler->type_name());
    sched.scalars = meta.at("scheduler").get<std::map<std::string, double>>();
    config_.scheduler->load_state_dict(sched);
  }
  const auto& rng = meta.at("rng");
  Generator::State gs{};
  for (int i = 0; i < 4; ++i) gs.s[i] = std::stoull(rng.at(i).get<std::string>());
  gs.has_spare = rng.at(4).get<bool>();
  gs.spare = rng.at(5).get<double>();
  default_generator().set_state(gs);
  for (auto& cb : options_.callbacks) {
    if (!meta.at("callbacks").contains(cb->name())) continue;
    const auto& j = meta.at("callbacks").at(cb->name());
    CallbackState cs;
    cs.numbers = j.at("numbers").get<std::map<std::string, double>>();
    cs.strings = j.at("strings").get<std::map<std::string, std::string>>();
    const std::string prefix = "callback/" + cb->name() + "/";
    for (const auto& nt : state.tensors)
      if (nt.name.rfind(prefix, 0) == 0) cs.tensors.push_back({nt.name.substr(prefix.size()), nt.tensor});
    cb->load_state(cs);
  }
  history_ = History::from_json(meta.at("history").dump());
  const int64_t saved_epoch = meta.at("epoch").get<int64_t>();
  history_.truncate_after(saved_epoch);
  start_epoch_ = saved_epoch + 1;
  global_step_ = meta.at("global_step").get<int64_t>();
}

std::vector<io::NamedTensor> weight_tensors(const nn::Module& m) {
  std::vector<io::NamedTensor> out;
  const nn::StateDict sd = m.state_dict();
  for (const auto& [name, t] : sd) out.push_back({name, t, sd.is_integer(name)});
  return out;
}

}  // namespace neurona::train
