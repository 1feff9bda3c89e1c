// train::callbacks(): lookup by the config's words, defaults (Keras's and Lightning's, which the
// options structs hold), the callbacks the factories build, and docs/config.md's callback table.
#include <gtest/gtest.h>

#include <cmath>

#include "docs_tables.hpp"
#include "neurona/app/config.hpp"
#include "neurona/neurona.hpp"
#include "test_util.hpp"

using namespace neurona;

namespace {

std::shared_ptr<train::Callback> make(const std::string& name, std::map<std::string, std::string> values = {},
                                      train::CallbackContext ctx = {}) {
  const auto& e = train::callbacks().get(name);
  return e.make(e.options_from(std::move(values)), ctx);
}

train::CallbackContext quiet() {
  train::CallbackContext c;
  c.verbose = false;
  return c;
}
train::CallbackContext with_log_dir() {
  train::CallbackContext c;
  c.has_log_dir = true;
  return c;
}

}  // namespace

TEST(CallbackRegistry, FindsCallbacksByTheirNamesAndAliasesInAnyCase) {
  EXPECT_EQ(train::callbacks().get("EarlyStopping").name, "early_stopping");
  EXPECT_EQ(train::callbacks().get("ModelCheckpoint").name, "model_checkpoint");
  EXPECT_EQ(train::callbacks().get("ReduceLROnPlateau").name, "reduce_lr_on_plateau");
  EXPECT_EQ(train::callbacks().get("lr_monitor").name, "learning_rate_monitor");
  EXPECT_EQ(train::callbacks().get("LearningRateMonitor").name, "learning_rate_monitor");
  EXPECT_EQ(train::callbacks().get("TerminateOnNaN").name, "terminate_on_nan");
  EXPECT_EQ(train::callbacks().get("CSVLogger").name, "csv_logger");
  EXPECT_EQ(train::callbacks().find("tqdm"), nullptr);
  EXPECT_ERROR_CONTAINS(train::callbacks().get("early_stoping"),
                        "unknown callback 'early_stoping' (did you mean 'early_stopping'?)");
  EXPECT_EQ(app::callback_names(), train::callbacks().names());
}

// Keras's EarlyStopping(monitor="val_loss", min_delta=0, patience=0, mode="auto", baseline=None,
// restore_best_weights=False, start_from_epoch=0), ReduceLROnPlateau(monitor="val_loss",
// factor=0.1, patience=10, mode="auto", min_delta=1e-4, cooldown=0, min_lr=0), CSVLogger(
// separator=",", append=False); Lightning's ModelCheckpoint(save_top_k=1, verbose=False).
TEST(CallbackRegistry, DefaultsAreKerasAndLightningsFromTheOptionsStructs) {
  const Options es = train::callbacks().get("early_stopping").options_from({});
  EXPECT_EQ(es.text("monitor"), "val_loss");
  EXPECT_DOUBLE_EQ(es.number("min_delta"), 0);
  EXPECT_EQ(es.integer("patience"), 0);
  EXPECT_EQ(es.text("mode"), "auto");
  EXPECT_FALSE(es.flag("restore_best_weights"));
  EXPECT_EQ(es.integer("start_from_epoch"), 0);
  const train::EarlyStoppingOptions eso;
  EXPECT_EQ(es.text("monitor"), eso.monitor);
  EXPECT_EQ(es.integer("patience"), eso.patience);
  EXPECT_EQ(es.text("mode"), eso.mode);

  const Options rp = train::callbacks().get("reduce_lr_on_plateau").options_from({});
  EXPECT_EQ(rp.text("monitor"), "val_loss");
  EXPECT_DOUBLE_EQ(rp.number("factor"), 0.1);
  EXPECT_EQ(rp.integer("patience"), 10);
  EXPECT_DOUBLE_EQ(rp.number("min_delta"), 1e-4);
  EXPECT_EQ(rp.text("mode"), "auto");
  EXPECT_EQ(rp.integer("cooldown"), 0);
  EXPECT_DOUBLE_EQ(rp.number("min_lr"), 0);

  const Options mc = train::callbacks().get("model_checkpoint").options_from({});
  const train::ModelCheckpointOptions mco;
  EXPECT_EQ(mc.text("filename"), mco.filename);
  EXPECT_EQ(mc.text("mode"), "auto");
  EXPECT_EQ(mc.integer("save_top_k"), 1);
  EXPECT_FALSE(mc.flag("save_last"));
  EXPECT_EQ(mc.integer("every_n_epochs"), 1);
  EXPECT_FALSE(mc.flag("verbose"));

  EXPECT_EQ(train::callbacks().get("learning_rate_monitor").options_from({}).text("logging_interval"),
            "epoch");
  const Options csv = train::callbacks().get("csv_logger").options_from({});
  EXPECT_EQ(csv.text("separator"), ",");
  EXPECT_FALSE(csv.flag("append"));
  EXPECT_TRUE(train::callbacks().get("terminate_on_nan").options.empty());

  // No default: verbose follows the fit, baseline is none, dirpath is the run's, filename required.
  for (const auto& [name, key] :
       std::vector<std::pair<std::string, std::string>>{{"early_stopping", "verbose"},
                                                        {"early_stopping", "baseline"},
                                                        {"reduce_lr_on_plateau", "verbose"},
                                                        {"model_checkpoint", "dirpath"},
                                                        {"model_checkpoint", "monitor"},
                                                        {"csv_logger", "filename"}})
    EXPECT_EQ(train::callbacks().get(name).option(key)->default_value, "") << name << "." << key;
}

TEST(CallbackRegistry, FactoriesBuildTheCallbackWithItsOptions) {
  auto es = std::dynamic_pointer_cast<train::EarlyStopping>(
      make("early_stopping", {{"monitor", "val_acc"},
                              {"patience", "3"},
                              {"min_delta", "0.01"},
                              {"baseline", "0.5"},
                              {"restore_best_weights", "true"},
                              {"mode", "max"},
                              {"start_from_epoch", "2"}}));
  ASSERT_TRUE(es);
  EXPECT_EQ(es->options().monitor, "val_acc");
  EXPECT_EQ(es->options().patience, 3);
  EXPECT_DOUBLE_EQ(es->options().min_delta, 0.01);
  EXPECT_DOUBLE_EQ(es->options().baseline, 0.5);
  EXPECT_TRUE(es->options().restore_best_weights);
  EXPECT_EQ(es->options().mode, "max");
  EXPECT_EQ(es->options().start_from_epoch, 2);
  // verbose: the fit's unless written.
  es = std::dynamic_pointer_cast<train::EarlyStopping>(make("early_stopping", {}, quiet()));
  ASSERT_TRUE(es);
  EXPECT_FALSE(es->options().verbose);
  EXPECT_TRUE(std::isnan(es->options().baseline));
  es =
      std::dynamic_pointer_cast<train::EarlyStopping>(make("early_stopping", {{"verbose", "true"}}, quiet()));
  ASSERT_TRUE(es);
  EXPECT_TRUE(es->options().verbose);

  EXPECT_TRUE(
      std::dynamic_pointer_cast<train::ModelCheckpoint>(make("model_checkpoint", {}, with_log_dir())));
  EXPECT_TRUE(std::dynamic_pointer_cast<train::ModelCheckpoint>(
      make("model_checkpoint", {{"dirpath", "/tmp/ckpt"}})));
  EXPECT_ERROR_CONTAINS(make("model_checkpoint"),
                        "model_checkpoint needs dirpath, or logging.dir for <run>/checkpoints");
  EXPECT_TRUE(
      std::dynamic_pointer_cast<train::ReduceLROnPlateau>(make("reduce_lr_on_plateau", {{"factor", "0.5"}})));
  EXPECT_TRUE(std::dynamic_pointer_cast<train::LearningRateMonitor>(
      make("learning_rate_monitor", {{"logging_interval", "step"}})));
  EXPECT_TRUE(std::dynamic_pointer_cast<train::TerminateOnNaN>(make("terminate_on_nan")));
  EXPECT_TRUE(std::dynamic_pointer_cast<train::CSVLogger>(make("csv_logger", {{"filename", "/tmp/h.csv"}})));
  EXPECT_ERROR_CONTAINS(make("csv_logger"), "csv_logger needs filename, e.g. {csv_logger: history.csv}");
  EXPECT_ERROR_CONTAINS(make("csv_logger", {{"filename", "h.csv"}, {"separator", ";;"}}),
                        "separator: expected one character, got ';;'");
}

// A config's callbacks go through the same rows, with the config's words in the messages.
TEST(CallbackRegistry, ConfigCallbacksComeFromTheRegistry) {
  const std::string base = R"(data: {synthetic: {kind: xor, n: 8}}
model: {layers: [{dense: 1}]}
compile: {optimizer: sgd, loss: mse}
fit: {verbose: 0}
)";
  const app::Config c =
      app::parse_config(base +
                            "callbacks:\n  - {EarlyStopping: {patience: 4}}\n  - {csv_logger: h.csv}\n"
                            "  - lr_monitor\n",
                        "t");
  const auto cbs = app::make_callbacks(c);
  ASSERT_EQ(cbs.size(), 3u);
  auto es = std::dynamic_pointer_cast<train::EarlyStopping>(cbs[0]);
  ASSERT_TRUE(es);
  EXPECT_EQ(es->options().patience, 4);
  EXPECT_FALSE(es->options().verbose);  // fit.verbose: 0
  EXPECT_TRUE(std::dynamic_pointer_cast<train::CSVLogger>(cbs[1]));
  EXPECT_TRUE(std::dynamic_pointer_cast<train::LearningRateMonitor>(cbs[2]));
  EXPECT_ERROR_CONTAINS(app::make_callbacks(app::parse_config(base + "callbacks: [model_checkpoint]\n", "t")),
                        "callbacks[0]: model_checkpoint needs dirpath, or logging.dir for <run>/checkpoints");
  EXPECT_ERROR_CONTAINS(app::parse_config(base + "callbacks: [{early_stopping: {patiense: 3}}]\n", "t"),
                        "unknown key 'patiense' (did you mean 'patience'?)");
}

TEST(CallbackRegistry, DocsListEveryCallbackAliasOptionAndDefault) {
  docs_tables::expect_docs_list(train::callbacks().specs(), "callback");
}
