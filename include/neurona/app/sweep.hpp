#pragma once
// Hyper-parameter sweeps: `neurona sweep` and the config's `sweep:` section. A trial is the
// config with some keys overridden (as --set does); trials run as `neurona train` child
// processes, `jobs` at a time, each in its run directory `<logging.dir>/<name>/trial_<k>/`. The
// sweep's state is `sweep.json` in `<logging.dir>/<name>/`, rewritten atomically at every change,
// so running the same command again resumes it. docs/config.md ("sweep") documents the keys.
//
//   app::Config cfg = app::load_config("examples/wine.yaml");
//   cfg.sweep.grid = {app::parse_sweep_grid("fit.batch_size", "[64, 256]", "--grid")};
//   app::SweepResult r = app::run_sweep(cfg, {.config = "examples/wine.yaml"});
#include <filesystem>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "neurona/app/config.hpp"

namespace neurona::app {

// `KEY=[v1, v2, …]` of --grid, or the list of `sweep.grid.KEY`: `text` is the YAML list. Errors
// name `where` (the flag or the key's path).
SweepParam parse_sweep_grid(const std::string& key, const std::string& text, const std::string& where);
// A random search's space for `key`: choice(a, b, …), uniform(a, b), loguniform(a, b) or int(a, b).
SweepParam parse_sweep_space(const std::string& key, const std::string& text, const std::string& where);
// Checks a sweep's values. `complete`: the sweep about to run (flags merged into the file's
// section), which must say what to sweep; errors then name the flags (`--jobs`). Otherwise the
// file's `sweep:` section alone, which may leave the keys to the command line; errors name its
// keys (`sweep.jobs`).
void check_sweep(const SweepConfig& sweep, bool complete);

struct SweepTrial {
  int index = 0;                                               // k of trial_<k>
  std::vector<std::pair<std::string, std::string>> overrides;  // key, YAML value, in sweep order
  // pending (not started yet), running, finished, failed, pruned, interrupted (stopped by Ctrl-C)
  std::string status = "pending";
  double metric = std::numeric_limits<double>::quiet_NaN();  // the best epoch's value (by mode)
  int64_t epochs = 0;                                        // epochs trained
  double seconds = 0;
  std::string error;  // a failed trial's error line
};

// Every trial of a sweep, in order: the grid's combinations (the last key changing fastest), or
// `random` samples of the space drawn from `seed`.
std::vector<SweepTrial> sweep_trials(const SweepConfig& sweep, uint64_t seed);

struct SweepRequest {
  std::filesystem::path config;                  // the config file each trial trains
  std::vector<std::string> sets;                 // --set overrides of every trial (before the trial's own)
  uint64_t seed = 0;                             // added to the config's seed to sample a random search
  int threads = 0;                               // threads shared by the trials (0: num_threads())
  std::filesystem::path exe = "/proc/self/exe";  // the `neurona` binary the trials run
  bool verbose = true;                           // one line per trial started and ended
};

struct SweepResult {
  std::filesystem::path dir;  // <logging.dir>/<name>
  std::vector<SweepTrial> trials;
  int best = -1;             // index into trials of the best finished (or pruned) trial
  bool interrupted = false;  // Ctrl-C: the trials left are pending or interrupted
  std::string table;         // the printed table, best first
};

// Runs (or resumes) the sweep of `config.sweep` on `request.config`. Writes sweep.json after
// every change, and at the end sweep.csv and best.yaml (the best trial's config, without its
// `sweep:` section). A failed trial is recorded and the others go on; Ctrl-C (SIGINT) stops the
// running trials within a bounded wait, records them as interrupted and returns.
SweepResult run_sweep(const Config& config, const SweepRequest& request);

}  // namespace neurona::app
