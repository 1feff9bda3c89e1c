// The rows of train::callbacks(): every callback a config can name, its options, and their
// defaults read from the callbacks' options structs.
#include "neurona/train/callback_registry.hpp"

#include <cstdio>

#include "neurona/core/error.hpp"
#include "neurona/core/format.hpp"
#include "neurona/train/callbacks.hpp"

namespace neurona::train {

namespace {

using T = OptionType;
using Factory = std::function<std::shared_ptr<Callback>(const Options&, const CallbackContext&)>;

CallbackEntry row(std::string name, std::vector<std::string> aliases, std::string main_key,
                  std::vector<OptionSpec> options, std::string summary, Factory f) {
  return make_entry<CallbackEntry>(
      {std::move(name), std::move(aliases), std::move(main_key), std::move(options), std::move(summary)},
      std::move(f));
}

// Defaults as users write them.
std::string number(double v) { return format_default(v); }
std::string whole(int64_t v) { return std::to_string(v); }
std::string flag(bool v) { return v ? "true" : "false"; }

const std::vector<std::string> kModes = {"auto", "min", "max"};

// A text option written as a list ("a,b"): its items.
std::vector<std::string> items_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t comma; (comma = text.find(',', start)) != std::string::npos; start = comma + 1)
    out.push_back(text.substr(start, comma - start));
  out.push_back(text.substr(start));
  return out;
}

std::vector<CallbackEntry> rows() {
  const EarlyStoppingOptions es;
  const ModelCheckpointOptions mc;
  const ReduceLROnPlateauCallbackOptions rp;
  const BackboneFinetuningOptions bf;
  return {
      // baseline: none (NaN); verbose: the fit's.
      row("early_stopping", {"earlystopping"}, "",
          {{"monitor", T::Text, es.monitor},
           {"min_delta", T::Number, number(es.min_delta)},
           {"patience", T::Int, whole(es.patience)},
           {"mode", T::Text, es.mode, kModes},
           {"baseline", T::Number},
           {"restore_best_weights", T::Bool, flag(es.restore_best_weights)},
           {"start_from_epoch", T::Int, whole(es.start_from_epoch)},
           {"verbose", T::Bool}},
          "Keras's EarlyStopping: stops training when the monitored value stops improving",
          [](const Options& o, const CallbackContext& ctx) -> std::shared_ptr<Callback> {
            EarlyStoppingOptions e;
            e.monitor = o.text("monitor");
            e.min_delta = o.number("min_delta");
            e.patience = o.integer("patience");
            e.mode = o.text("mode");
            if (o.has("baseline")) e.baseline = o.number("baseline");
            e.restore_best_weights = o.flag("restore_best_weights");
            e.start_from_epoch = o.integer("start_from_epoch");
            e.verbose = o.has("verbose") ? o.flag("verbose") : ctx.verbose;
            return std::make_shared<EarlyStopping>(e);
          }),
      // dirpath: <run dir>/checkpoints; monitor: none (keeps the latest checkpoints).
      row("model_checkpoint", {"modelcheckpoint"}, "",
          {{"dirpath", T::Text},
           {"filename", T::Text, mc.filename},
           {"monitor", T::Text},
           {"mode", T::Text, mc.mode, kModes},
           {"save_top_k", T::Int, whole(mc.save_top_k)},
           {"save_last", T::Bool, flag(mc.save_last)},
           {"every_n_epochs", T::Int, whole(mc.every_n_epochs)},
           {"verbose", T::Bool, flag(mc.verbose)}},
          "Lightning's ModelCheckpoint: saves the weights and the training state, keeps the best save_top_k",
          [](const Options& o, const CallbackContext& ctx) -> std::shared_ptr<Callback> {
            ModelCheckpointOptions m;
            if (o.has("dirpath")) m.dirpath = o.text("dirpath");
            m.filename = o.text("filename");
            if (o.has("monitor")) m.monitor = o.text("monitor");
            m.mode = o.text("mode");
            m.save_top_k = o.integer("save_top_k");
            m.save_last = o.flag("save_last");
            m.every_n_epochs = o.integer("every_n_epochs");
            m.verbose = o.flag("verbose");
            check(!m.dirpath.empty() || ctx.has_log_dir,
                  "model_checkpoint needs dirpath, or logging.dir for <run>/checkpoints");
            return std::make_shared<ModelCheckpoint>(m);
          }),
      // Keras's conventions: min_delta is absolute, the rate drops after `patience` bad epochs.
      // mode auto: from the monitored name (train::infer_mode); verbose: the fit's.
      row("reduce_lr_on_plateau", {"reducelronplateau"}, "",
          {{"monitor", T::Text, rp.monitor},
           {"factor", T::Number, number(rp.schedule.factor)},
           {"patience", T::Int, whole(rp.schedule.patience)},
           {"min_delta", T::Number, number(rp.schedule.threshold)},
           {"mode", T::Text, "auto", {"min", "max", "auto"}},
           {"cooldown", T::Int, whole(rp.schedule.cooldown)},
           {"min_lr", T::Number, number(rp.schedule.min_lr)},
           {"verbose", T::Bool}},
          "Keras's ReduceLROnPlateau: lowers the learning rate by factor when the monitored value stalls",
          [](const Options& o, const CallbackContext& ctx) -> std::shared_ptr<Callback> {
            ReduceLROnPlateauCallbackOptions r;
            r.monitor = o.text("monitor");
            const std::string mode = o.text("mode");
            r.schedule.mode = mode == "auto" ? infer_mode(r.monitor) : mode;
            r.schedule.factor = o.number("factor");
            r.schedule.patience = o.integer("patience");
            r.schedule.threshold = o.number("min_delta");
            r.schedule.threshold_mode = "abs";
            r.schedule.cooldown = o.integer("cooldown");
            r.schedule.min_lr = o.number("min_lr");
            r.schedule.convention = optim::ReduceLROnPlateauOptions::Convention::keras;
            r.verbose = o.has("verbose") ? o.flag("verbose") : ctx.verbose;
            return std::make_shared<ReduceLROnPlateau>(r);
          }),
      // The default is LearningRateMonitor's own ("epoch").
      row("learning_rate_monitor", {"learningratemonitor", "lr_monitor"}, "logging_interval",
          {{"logging_interval", T::Text, "epoch", {"epoch", "step"}}},
          "Lightning's LearningRateMonitor: logs the learning rate every epoch or step",
          [](const Options& o, const CallbackContext&) -> std::shared_ptr<Callback> {
            return std::make_shared<LearningRateMonitor>(o.text("logging_interval"));
          }),
      row("terminate_on_nan", {"terminateonnan"}, "", {},
          "Keras's TerminateOnNaN: stops at the first batch whose loss is not finite",
          [](const Options&, const CallbackContext&) -> std::shared_ptr<Callback> {
            return std::make_shared<TerminateOnNaN>();
          }),
      // The defaults are CSVLogger's own (',', no append).
      row("csv_logger", {"csvlogger"}, "filename",
          {{"filename", T::Text}, {"separator", T::Text, ","}, {"append", T::Bool, "false"}},
          "Keras's CSVLogger: one row of logs per epoch in a CSV file",
          [](const Options& o, const CallbackContext&) -> std::shared_ptr<Callback> {
            check(o.has("filename"), "csv_logger needs filename, e.g. {csv_logger: history.csv}");
            const std::string sep = o.text("separator");
            check(sep.size() == 1, "separator: expected one character, got '", sep, "'");
            return std::make_shared<CSVLogger>(o.text("filename"), sep[0], o.flag("append"));
          }),
      // backbone_initial_lr: none (the ratio's); backbone: every layer but the head; verbose: the fit's.
      row("backbone_finetuning", {"backbonefinetuning"}, "unfreeze_backbone_at_epoch",
          {{"unfreeze_backbone_at_epoch", T::Int, whole(bf.unfreeze_backbone_at_epoch)},
           {"multiplier", T::Number, number(bf.multiplier)},
           {"backbone_initial_ratio_lr", T::Number, number(bf.backbone_initial_ratio_lr)},
           {"backbone_initial_lr", T::Number},
           {"should_align", T::Bool, flag(bf.should_align)},
           {"train_bn", T::Bool, flag(bf.train_bn)},
           {"backbone", T::Text},
           {"verbose", T::Bool}},
          "Lightning's BackboneFinetuning: the backbone frozen, then trained at a growing fraction of the lr",
          [](const Options& o, const CallbackContext& ctx) -> std::shared_ptr<Callback> {
            return std::make_shared<BackboneFinetuning>(backbone_finetuning_options(o, ctx));
          }),
      row("gradual_unfreezing", {"gradualunfreezing"}, "epochs_per_layer",
          {{"epochs_per_layer", T::Int, "1"}, {"verbose", T::Bool}},
          "ULMFiT's gradual unfreezing: the head first, then one more layer down every epochs_per_layer",
          [](const Options& o, const CallbackContext& ctx) -> std::shared_ptr<Callback> {
            return std::make_shared<GradualUnfreezing>(o.integer("epochs_per_layer"),
                                                       o.has("verbose") ? o.flag("verbose") : ctx.verbose);
          }),
  };
}

}  // namespace

BackboneFinetuningOptions backbone_finetuning_options(const Options& o, const CallbackContext& ctx) {
  BackboneFinetuningOptions b;
  b.unfreeze_backbone_at_epoch = o.integer("unfreeze_backbone_at_epoch");
  b.multiplier = o.number("multiplier");
  b.backbone_initial_ratio_lr = o.number("backbone_initial_ratio_lr");
  if (o.has("backbone_initial_lr")) b.backbone_initial_lr = o.number("backbone_initial_lr");
  b.should_align = o.flag("should_align");
  b.train_bn = o.flag("train_bn");
  b.verbose = o.has("verbose") ? o.flag("verbose") : ctx.verbose;
  if (o.has("backbone")) b.backbone = items_of(o.text("backbone"));
  return b;
}

const Registry<CallbackEntry>& callbacks() {
  static const Registry<CallbackEntry> r("callback", rows());
  return r;
}

}  // namespace neurona::train
