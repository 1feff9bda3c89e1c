#pragma once
// The JSON handlers behind the dashboard and the learning-rate explorer (the HTTP routes live in
// server.cpp). Each validates its input and throws neurona::Error with a message for the user.
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "neurona/optim/optimizer.hpp"

namespace neurona::app {

using json = nlohmann::json;

// The embedded front-end: file name → bytes (generated from web/ by web/embed_files.cmake).
const std::map<std::string, std::string_view>& web_assets();

// `rel` resolved inside `logdir`, or nothing when it is absolute, contains "..", or leaves the
// directory through a symbolic link.
std::optional<std::filesystem::path> resolve_in_logdir(const std::filesystem::path& logdir,
                                                       const std::string& rel);

// Dashboard: the runs under logdir (directories holding history.json or event files).
json dashboard_runs(const std::filesystem::path& logdir);
// One run: scalars (events, else history.json), histograms, config, summary, hparams.
json dashboard_run(const std::filesystem::path& logdir, const std::string& rel);

// Learning-rate explorer: gradient descent on a 1-D curve, and four optimizers racing on a surface.
json explorer_1d(const json& request);
json explorer_race(const json& request);

// The pages' optimizer words: an optimizer of optim::optimizers(), or a preset of SGD,
// "momentum" (momentum 0.9) or "nesterov" (momentum 0.9 with Nesterov's update).
struct OptimizerChoice {
  std::string name;                                          // the registry's name
  std::vector<std::pair<std::string, std::string>> options;  // the preset's options, as a config writes them
};
OptimizerChoice optimizer_choice(const std::string& word);
// Every word optimizer_choice takes: the registry's names, then the two presets.
std::vector<std::string> web_optimizer_words();
// The optimizer a word names, with learning rate `lr`, from optim::optimizers().
std::shared_ptr<optim::Optimizer> make_web_optimizer(const std::string& word, double lr,
                                                     std::vector<Tensor> params);

}  // namespace neurona::app
