// Hyper-parameter sweeps: the trial list (grid or random samples), the trials run as `neurona
// train` child processes `jobs` at a time, sweep.json for resuming, median pruning, and the final
// table, sweep.csv and best.yaml.
#include "neurona/app/sweep.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "neurona/core/error.hpp"
#include "neurona/core/format.hpp"
#include "neurona/core/registry.hpp"
#include "neurona/core/threads.hpp"
#include "neurona/io/files.hpp"
#include "neurona/train/callbacks.hpp"
#include "neurona/train/history.hpp"

namespace neurona::app {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// More trials than a sweep.json can list in reasonable size is a mistake in the spec.
constexpr int64_t kMaxTrials = 100000;

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// A YAML value as one line of flow text, as --set reads it back.
std::string flow_text(const YAML::Node& n) {
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}
std::string yaml_string(const std::string& s) {
  YAML::Emitter e;
  e << s;
  return e.c_str();
}

YAML::Node load_yaml(const std::string& text, const std::string& where) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail(where, ": bad YAML '", text, "': ", e.msg);
  }
}

void check_key(const std::string& key, const std::string& where) {
  check(!key.empty() && key.find_first_of(" =\t") == std::string::npos, where,
        ": expected a dotted key as --set takes it (e.g. compile.optimizer.adam.lr), got '", key, "'");
}

// "a, [b, c], {d: e}" -> {"a", "[b, c]", "{d: e}"}: commas inside brackets or quotes do not split.
std::vector<std::string> split_arguments(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  char quote = 0;
  for (char c : s) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '[' || c == '{' || c == '(') {
      ++depth;
    } else if (c == ']' || c == '}' || c == ')') {
      --depth;
    } else if (c == ',' && depth == 0) {
      out.push_back(trim(cur));
      cur.clear();
      continue;
    }
    cur += c;
  }
  out.push_back(trim(cur));
  return out;
}

double number_of(const std::string& text, const std::string& where) {
  double x = 0;
  size_t used = 0;
  try {
    x = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  check(used == text.size() && !text.empty() && std::isfinite(x), where, ": expected a number, got '", text,
        "'");
  return x;
}

// splitmix64: a small generator whose stream depends on the seed alone, on every platform.
struct Random {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
};

std::string sample(const SweepParam& p, Random& r) {
  if (p.kind == "choice") return p.values[r.next() % p.values.size()];
  if (p.kind == "int") {
    const auto span = static_cast<uint64_t>(p.high - p.low) + 1;
    return std::to_string(static_cast<int64_t>(p.low) + static_cast<int64_t>(r.next() % span));
  }
  const double u = r.uniform();
  const double x = p.kind == "uniform" ? p.low + u * (p.high - p.low)
                                       : std::exp(std::log(p.low) + u * (std::log(p.high) - std::log(p.low)));
  return format_number(x, 6);
}

// --- one trial's run ---------------------------------------------------------------------------

// What a trial's run directories (version_*/ under the trial's directory; several with restarts)
// hold of the metric: per-epoch values of the run with the best one.
struct RunValues {
  bool found = false;  // some run wrote its history
  std::vector<std::string> keys;
  std::vector<double> curve;
  double best = std::numeric_limits<double>::quiet_NaN();
  int64_t epochs = 0;
};

// The error of a metric the trials do not log.
std::string missing_metric_error(const std::string& metric, const std::vector<std::string>& logged) {
  std::string keys;
  for (const auto& k : logged) keys += (keys.empty() ? "" : ", ") + k;
  return "--metric " + metric + ": the trials do not log it (they log: " + keys + ")";
}

bool better(double a, double b, bool maximize) {
  if (std::isnan(b)) return !std::isnan(a);
  return maximize ? a > b : a < b;
}

// history.json once the run has ended, history.csv (one line per epoch) while it runs.
RunValues read_run(const fs::path& trial_dir, const std::string& metric, bool maximize) {
  RunValues out;
  std::error_code ec;
  if (!fs::is_directory(trial_dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(trial_dir, ec)) {
    if (entry.path().filename().string().rfind("version_", 0) != 0) continue;
    train::History h;
    try {
      if (fs::exists(entry.path() / "history.json"))
        h = train::History::from_json(io::read_file(entry.path() / "history.json"));
      else if (fs::exists(entry.path() / "history.csv"))
        h = train::History::from_csv(io::read_file(entry.path() / "history.csv"));
      else
        continue;
    } catch (const Error&) {
      continue;  // a file being rewritten; read again at the next poll
    }
    out.found = true;
    out.keys = h.keys();
    if (!h.has(metric)) continue;
    const std::vector<double>& v = h[metric];
    double best = std::numeric_limits<double>::quiet_NaN();
    for (double x : v)
      if (better(x, best, maximize)) best = x;
    if (out.curve.empty() || better(best, out.best, maximize)) {
      out.curve = v;
      out.best = best;
      out.epochs = static_cast<int64_t>(h.size());
    }
  }
  return out;
}

// The line of a failed trial's log that says why: its `error:` line, else its last line.
std::string error_line(const fs::path& log, int wait_status) {
  std::string last, err;
  try {
    std::istringstream in(io::read_file(log));
    for (std::string line; std::getline(in, line);) {
      if (trim(line).empty()) continue;
      last = trim(line);
      if (line.find("error:") != std::string::npos) err = last;
    }
  } catch (const Error&) {
  }
  std::string why = WIFSIGNALED(wait_status) ? "killed by signal " + std::to_string(WTERMSIG(wait_status))
                                             : "exit status " + std::to_string(WEXITSTATUS(wait_status));
  const std::string& line = err.empty() ? last : err;
  return line.empty() ? why : line + " (" + why + ")";
}

std::atomic<bool> g_interrupted{false};
void on_sigint(int) { g_interrupted.store(true); }

// Ctrl-C sets a flag for the sweep's loop while the sweep runs.
struct SigintScope {
  struct sigaction previous {};
  SigintScope() {
    g_interrupted.store(false);
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &previous);
  }
  ~SigintScope() { sigaction(SIGINT, &previous, nullptr); }
};

struct Running {
  pid_t pid;
  size_t trial;  // index into the trial list
  Clock::time_point start;
  bool pruning = false;  // sent SIGINT by the median rule
};

// Stops running trials: SIGINT (a trial finishes its batch, writes interrupted.safetensors and its
// history), then SIGKILL for any still running after `grace`. Returns each one's wait status.
std::vector<int> stop_all(const std::vector<Running>& running, std::chrono::seconds grace) {
  for (const Running& r : running) kill(r.pid, SIGINT);
  std::vector<int> status(running.size(), 0);
  std::vector<bool> done(running.size(), false);
  const auto deadline = Clock::now() + grace;
  size_t left = running.size();
  while (left > 0 && Clock::now() < deadline) {
    for (size_t i = 0; i < running.size(); ++i)
      if (!done[i] && waitpid(running[i].pid, &status[i], WNOHANG) == running[i].pid) done[i] = true, --left;
    if (left > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (size_t i = 0; i < running.size(); ++i) {
    if (done[i]) continue;
    kill(running[i].pid, SIGKILL);
    waitpid(running[i].pid, &status[i], 0);
  }
  return status;
}

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

// --- specs -------------------------------------------------------------------------------------

SweepParam parse_sweep_grid(const std::string& key, const std::string& text, const std::string& where) {
  check_key(key, where);
  const YAML::Node list = load_yaml(text, where + " " + key);
  check(list.IsSequence() && list.size() > 0, where, " ", key,
        ": expected a non-empty list of values [v1, v2, …], got '", text, "'");
  SweepParam p;
  p.key = key;
  for (const auto& v : list) p.values.push_back(flow_text(v));
  return p;
}

SweepParam parse_sweep_space(const std::string& key, const std::string& text, const std::string& where) {
  check_key(key, where);
  const std::string w = where + " " + key;
  const std::string t = trim(text);
  const auto open = t.find('(');
  check(open != std::string::npos && t.back() == ')', w,
        ": expected choice(a, b, …), uniform(a, b), loguniform(a, b) or int(a, b), got '", text, "'");
  SweepParam p;
  p.key = key;
  p.kind = lower_case(trim(t.substr(0, open)));
  const std::vector<std::string> args = split_arguments(t.substr(open + 1, t.size() - open - 2));
  if (p.kind == "choice") {
    for (const auto& a : args) {
      check(!a.empty(), w, ": choice(…) has an empty value in '", text, "'");
      p.values.push_back(flow_text(load_yaml(a, w)));
    }
    return p;
  }
  const std::vector<std::string> kinds = {"choice", "uniform", "loguniform", "int"};
  check(std::find(kinds.begin(), kinds.end(), p.kind) != kinds.end(), w, ": unknown space '", p.kind, "'",
        did_you_mean(p.kind, kinds), " (valid: choice, uniform, loguniform, int)");
  check(args.size() == 2, w, ": ", p.kind, "(low, high) takes two numbers, got '", text, "'");
  p.low = number_of(args[0], w);
  p.high = number_of(args[1], w);
  if (p.kind == "int") {
    check(p.low == std::floor(p.low) && p.high == std::floor(p.high), w,
          ": int(low, high) takes whole numbers, got '", text, "'");
    check(p.low <= p.high, w, ": int(low, high) needs low <= high, got '", text, "'");
  } else {
    check(p.low < p.high, w, ": ", p.kind, "(low, high) needs low < high, got '", text, "'");
    check(p.kind == "uniform" || p.low > 0, w, ": loguniform(low, high) needs low > 0, got '", text, "'");
  }
  return p;
}

void check_sweep(const SweepConfig& s, bool complete) {
  auto name = [complete](std::string key) {
    if (!complete) return "sweep." + key;
    std::replace(key.begin(), key.end(), '_', '-');
    return "--" + key;
  };
  check(s.random >= 0 && s.random <= kMaxTrials, name("random"), ": must be a number of trials from 1 to ",
        kMaxTrials, ", got ", s.random);
  if (complete) {
    check(!s.grid.empty() || s.random > 0 || !s.space.empty(),
          "sweep: nothing to sweep (give --grid KEY=[v1, v2, …], or --random N with --space "
          "KEY=loguniform(a, b); or the config's sweep: section)");
    check(s.grid.empty() || (s.random == 0 && s.space.empty()),
          "sweep: --grid and --random/--space: a sweep is a grid or a random search, not both");
    check(s.space.empty() || s.random > 0, "--random: missing (how many trials to sample from --space)");
    check(s.random == 0 || !s.space.empty(), "--space: missing (what --random samples, e.g. ",
          "KEY=loguniform(1e-4, 1e-1))");
  }
  check(s.jobs >= 1, name("jobs"), ": must be at least 1, got ", s.jobs);
  check(!s.metric.empty(), name("metric"), ": empty (e.g. val_loss)");
  check(s.mode == "min" || s.mode == "max" || s.mode == "auto", name("mode"),
        ": expected min, max or auto, got '", s.mode, "'");
  check(s.prune == "none" || s.prune == "median", name("prune"), ": expected none or median, got '", s.prune,
        "'");
  check(s.prune_warmup >= 0, name("prune_warmup"), ": must be >= 0 epochs, got ", s.prune_warmup);
  check(s.prune_min_trials >= 1, name("prune_min_trials"), ": must be at least 1, got ", s.prune_min_trials);
  std::set<std::string> keys;
  for (const auto* list : {&s.grid, &s.space})
    for (const SweepParam& p : *list)
      check(keys.insert(p.key).second, name(list == &s.grid ? "grid" : "space"), " ", p.key,
            ": the key is swept twice");
}

std::vector<SweepTrial> sweep_trials(const SweepConfig& s, uint64_t seed) {
  std::vector<SweepTrial> trials;
  if (!s.grid.empty()) {
    size_t n = 1;
    for (const SweepParam& p : s.grid) {
      n *= p.values.size();
      check(n <= static_cast<size_t>(kMaxTrials), "sweep: the grid has more than ", kMaxTrials,
            " combinations");
    }
    for (size_t k = 0; k < n; ++k) {
      SweepTrial t;
      t.index = static_cast<int>(k);
      size_t rest = k;
      for (size_t i = s.grid.size(); i-- > 0;) {
        const SweepParam& p = s.grid[i];
        t.overrides.emplace_back(p.key, p.values[rest % p.values.size()]);
        rest /= p.values.size();
      }
      std::reverse(t.overrides.begin(), t.overrides.end());
      trials.push_back(std::move(t));
    }
    return trials;
  }
  Random r{seed};
  for (int64_t k = 0; k < s.random; ++k) {
    SweepTrial t;
    t.index = static_cast<int>(k);
    for (const SweepParam& p : s.space) t.overrides.emplace_back(p.key, sample(p, r));
    trials.push_back(std::move(t));
  }
  return trials;
}

// --- the run -----------------------------------------------------------------------------------

namespace {

std::vector<std::string> override_args(const SweepTrial& t) {
  std::vector<std::string> v;
  for (const auto& [key, value] : t.overrides) v.push_back(key + "=" + value);
  return v;
}

nlohmann::ordered_json to_json(const SweepTrial& t) {
  nlohmann::ordered_json j;
  j["trial"] = t.index;
  nlohmann::ordered_json o = nlohmann::ordered_json::object();
  for (const auto& [key, value] : t.overrides) o[key] = value;
  j["overrides"] = o;
  j["status"] = t.status;
  j["metric"] = std::isnan(t.metric) ? nlohmann::ordered_json() : nlohmann::ordered_json(t.metric);
  j["epochs"] = t.epochs;
  j["seconds"] = t.seconds;
  j["error"] = t.error;
  return j;
}

// The trials an earlier run of the same sweep ended (finished, failed, pruned), which this run
// keeps; an error when the file describes another sweep (other trials, or another `base`: the
// config the trials start from, --set included).
void resume_from(const fs::path& path, const std::string& base, std::vector<SweepTrial>& trials) {
  nlohmann::ordered_json j;  // ordered: the overrides are compared in sweep order
  try {
    j = nlohmann::ordered_json::parse(io::read_file(path));
  } catch (const std::exception& e) {
    fail(path.string(), ": cannot resume from it: ", e.what(), " (remove it to start the sweep again)");
  }
  const std::string another = " holds another sweep; give this one another name (--set name=…) or remove " +
                              path.parent_path().string();
  check(j.value("base", "") == base, path.string(), another,
        " (its trials start from another config: the file or the --set overrides differ)");
  const auto& saved = j.at("trials");
  check(saved.size() == trials.size(), path.string(), another, " (", saved.size(), " trials, not ",
        trials.size(), ")");
  for (size_t i = 0; i < trials.size(); ++i) {
    SweepTrial& t = trials[i];
    std::vector<std::pair<std::string, std::string>> overrides;
    for (const auto& [key, value] : saved[i].at("overrides").items())
      overrides.emplace_back(key, value.get<std::string>());
    check(overrides == t.overrides, path.string(), another, " (trial ", i, " differs)");
    const std::string status = saved[i].value("status", "pending");
    if (status != "finished" && status != "failed" && status != "pruned") continue;  // runs again
    t.status = status;
    t.seconds = saved[i].value("seconds", 0.0);
    t.error = saved[i].value("error", "");
  }
}

// Trials with a metric, best first, then the others in trial order.
std::vector<size_t> ranking(const std::vector<SweepTrial>& trials, bool maximize) {
  std::vector<size_t> order(trials.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto ranked = [&](const SweepTrial& t) {
    return (t.status == "finished" || t.status == "pruned") && !std::isnan(t.metric);
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const SweepTrial &x = trials[a], &y = trials[b];
    if (ranked(x) != ranked(y)) return ranked(x);
    return ranked(x) && better(x.metric, y.metric, maximize);
  });
  return order;
}

std::string table_of(const std::vector<SweepTrial>& trials, const std::vector<size_t>& order,
                     const std::vector<std::string>& keys, const std::string& metric) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"trial"};
  header.insert(header.end(), keys.begin(), keys.end());
  header.insert(header.end(), {metric, "epochs", "time", "status"});
  rows.push_back(header);
  for (size_t i : order) {
    const SweepTrial& t = trials[i];
    std::vector<std::string> row = {std::to_string(t.index)};
    for (const auto& [key, value] : t.overrides) row.push_back(value);
    char time[32];
    std::snprintf(time, sizeof time, "%.1f s", t.seconds);
    row.insert(row.end(), {std::isnan(t.metric) ? "-" : format_number(t.metric, 6), std::to_string(t.epochs),
                           time, t.status});
    rows.push_back(row);
  }
  std::vector<size_t> width(header.size(), 0);
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c)
      line += row[c] + (c + 1 < row.size() ? std::string(width[c] - row[c].size() + 2, ' ') : "");
    out += line + "\n";
  }
  return out;
}

// The config of `overrides`, as YAML a run reads, without the sweep.
std::string config_without_sweep(const Config& config, const std::vector<std::string>& overrides) {
  YAML::Node root = YAML::Load(parse_config(config.text, config.file, overrides).text);
  root.remove("sweep");
  YAML::Emitter e;
  e << root;
  return std::string(e.c_str()) + "\n";
}

}  // namespace

SweepResult run_sweep(const Config& config, const SweepRequest& request) {
  const SweepConfig& s = config.sweep;
  check_sweep(s, true);
  const std::string mode = s.mode == "auto" ? train::infer_mode(s.metric) : s.mode;
  const bool maximize = mode == "max";
  const fs::path root = config.logging.dir.empty() ? fs::path("runs") : config.logging.dir;
  SweepResult result;
  result.dir = root / config.name;
  result.trials = sweep_trials(s, config.seed + request.seed);
  std::vector<SweepTrial>& trials = result.trials;
  std::vector<std::string> keys;
  for (const auto& [key, value] : trials.front().overrides) keys.push_back(key);

  // A key no value of which gives a valid config is a mistake in the sweep, not a failed trial.
  for (const auto* list : {&s.grid, &s.space}) {
    for (const SweepParam& p : *list) {
      std::vector<std::string> values = p.values;
      if (values.empty())
        values.push_back(p.kind == "int" ? std::to_string(static_cast<int64_t>(p.low))
                                         : format_number(p.low, 6));
      std::string first_error;
      bool valid = false;
      for (size_t i = 0; i < values.size() && !valid; ++i) {
        try {
          parse_config(config.text, config.file, {p.key + "=" + values[i]});
          valid = true;
        } catch (const Error& e) {
          if (first_error.empty()) first_error = e.what();
        }
      }
      check(valid, "sweep ", p.key, ": no value makes a valid config: ", first_error);
    }
  }

  const fs::path state_file = result.dir / "sweep.json";
  const std::string base = config_without_sweep(config, {});
  if (fs::exists(state_file)) resume_from(state_file, base, trials);
  auto save = [&] {
    nlohmann::ordered_json j;
    j["config"] = request.config.string();
    j["base"] = base;
    j["metric"] = s.metric;
    j["mode"] = mode;
    j["trials"] = nlohmann::ordered_json::array();
    for (const SweepTrial& t : trials) j["trials"].push_back(to_json(t));
    io::write_file_atomic(state_file, j.dump(1) + "\n");
  };

  // The trials' logging: their run directories go to <root>/<name>/trial_<k>/version_0.
  const YAML::Node doc = YAML::Load(config.text);
  const bool logging_scalar = doc["logging"] && doc["logging"].IsScalar();
  const int threads = std::max(1, (request.threads > 0 ? request.threads : num_threads()) /
                                      static_cast<int>(std::min<int64_t>(s.jobs, 1 << 16)));
  auto trial_dir = [&](const SweepTrial& t) { return result.dir / ("trial_" + std::to_string(t.index)); };
  // Trials an earlier run ended are scored again from their files, so another --metric ranks them
  // without training them again; one whose files are gone trains again.
  std::vector<std::vector<double>> curves(trials.size());  // finished trials' metric per epoch
  for (size_t i = 0; i < trials.size(); ++i) {
    SweepTrial& t = trials[i];
    if (t.status != "finished" && t.status != "pruned") continue;
    const RunValues v = read_run(trial_dir(t), s.metric, maximize);
    if (!v.found) {
      t.status = "pending";
      continue;
    }
    check(!v.curve.empty(), missing_metric_error(s.metric, v.keys));
    t.metric = v.best;
    t.epochs = v.epochs;
    if (t.status == "finished") curves[i] = v.curve;
  }
  save();

  auto say = [&](const SweepTrial& t, const std::string& what) {
    if (!request.verbose) return;
    std::string o;
    for (const auto& [key, value] : t.overrides) o += (o.empty() ? "" : " ") + key + "=" + value;
    std::cout << "trial " << t.index << " [" << o << "]: " << what << std::endl;
  };

  auto start = [&](size_t i) -> Running {
    SweepTrial& t = trials[i];
    const fs::path dir = trial_dir(t);
    fs::remove_all(dir);  // an unfinished trial starts again from nothing
    io::make_directories(dir);
    std::vector<std::string> args = {request.exe.string(), "train", request.config.string()};
    std::vector<std::string> sets = request.sets;
    for (const std::string& o : override_args(t)) sets.push_back(o);
    sets.push_back("name=" + yaml_string(config.name + "/trial_" + std::to_string(t.index)));
    sets.push_back(logging_scalar ? "logging={dir: " + yaml_string(root.string()) + "}"
                                  : "logging.dir=" + yaml_string(root.string()));
    for (const std::string& set : sets) args.insert(args.end(), {"--set", set});
    args.insert(args.end(), {"--threads", std::to_string(threads), "--quiet"});
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = (dir / "train.log").string();
    const pid_t pid = fork();
    check(pid >= 0, "sweep: cannot start trial ", t.index, ": ", std::strerror(errno));
    if (pid == 0) {
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
      execv(argv[0], argv.data());
      const char msg[] = "neurona: error: sweep: cannot run the neurona binary\n";
      (void)!write(2, msg, sizeof msg - 1);
      _exit(127);
    }
    t.status = "running";
    t.error.clear();
    save();
    say(t, "started (" + std::to_string(threads) + (threads == 1 ? " thread)" : " threads)"));
    return {pid, i, Clock::now()};
  };

  // The end of a trial's process: its status and metric from its run directory.
  std::string missing_metric;  // the error when a trial ran to the end without logging the metric
  auto finish = [&](const Running& r, int wait_status, bool interrupted) {
    SweepTrial& t = trials[r.trial];
    t.seconds = std::chrono::duration<double>(Clock::now() - r.start).count();
    const RunValues v = read_run(trial_dir(t), s.metric, maximize);
    t.metric = v.best;
    t.epochs = v.curve.empty() ? 0 : v.epochs;
    if (interrupted) {
      t.status = "interrupted";
    } else if (r.pruning) {
      t.status = "pruned";
    } else if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
      t.status = "failed";
      t.error = error_line(trial_dir(t) / "train.log", wait_status);
    } else if (v.curve.empty()) {
      t.status = "failed";
      t.error = v.found ? missing_metric_error(s.metric, v.keys) : "wrote no history";
      if (v.found && missing_metric.empty()) missing_metric = t.error;
    } else {
      t.status = "finished";
      curves[r.trial] = v.curve;
    }
    save();
    std::string what = t.status;
    if (!std::isnan(t.metric))
      what += ", best " + s.metric + "=" + format_number(t.metric, 6) + " in " + std::to_string(t.epochs) +
              (t.epochs == 1 ? " epoch" : " epochs");
    if (!t.error.empty()) what += ": " + t.error;
    char time[32];
    std::snprintf(time, sizeof time, " (%.1f s)", t.seconds);
    say(t, what + time);
  };

  // The median rule (Optuna's MedianPruner): after `prune_warmup` epochs, a running trial whose
  // best value up to an epoch is worse than the median of the finished trials' values at that
  // epoch is stopped, once `prune_min_trials` finished trials reached it. The trial's history is
  // polled, so every epoch it logged since the last poll is judged, as if each were reported.
  auto should_prune = [&](const Running& r) {
    const std::vector<double> curve = read_run(trial_dir(trials[r.trial]), s.metric, maximize).curve;
    double best = std::numeric_limits<double>::quiet_NaN();
    for (size_t e = 0; e < curve.size(); ++e) {
      if (better(curve[e], best, maximize)) best = curve[e];
      if (static_cast<int64_t>(e) < s.prune_warmup) continue;
      std::vector<double> at;
      for (const auto& c : curves)
        if (c.size() > e && !std::isnan(c[e])) at.push_back(c[e]);
      if (static_cast<int64_t>(at.size()) < s.prune_min_trials) continue;
      std::sort(at.begin(), at.end());
      const size_t m = at.size() / 2;
      const double median = at.size() % 2 ? at[m] : (at[m - 1] + at[m]) / 2;
      if (!better(median, best, maximize)) continue;
      say(trials[r.trial], "pruned at epoch " + std::to_string(e + 1) + ": best " + s.metric + "=" +
                               format_number(best, 6) + ", the finished trials' median " +
                               format_number(median, 6));
      return true;
    }
    return false;
  };

  std::vector<Running> running;
  {
    SigintScope sigint;
    // Running trials are stopped whatever ends the loop (Ctrl-C, an error).
    struct StopGuard {
      std::vector<Running>& running;
      ~StopGuard() {
        if (!running.empty()) stop_all(running, std::chrono::seconds(30));
      }
    } guard{running};
    size_t next = 0;
    auto pending = [&] {
      while (next < trials.size() && trials[next].status != "pending" && trials[next].status != "running" &&
             trials[next].status != "interrupted")
        ++next;
      return next < trials.size();
    };
    auto last_prune_check = Clock::now();
    while (!g_interrupted.load() && missing_metric.empty() && (pending() || !running.empty())) {
      while (!g_interrupted.load() && static_cast<int64_t>(running.size()) < s.jobs && pending())
        running.push_back(start(next++));
      for (size_t i = 0; i < running.size();) {
        int status = 0;
        if (waitpid(running[i].pid, &status, WNOHANG) == running[i].pid) {
          finish(running[i], status, false);
          running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
          ++i;
        }
      }
      if (s.prune == "median" && Clock::now() - last_prune_check > std::chrono::milliseconds(500)) {
        last_prune_check = Clock::now();
        for (Running& r : running)
          if (!r.pruning && should_prune(r)) r.pruning = true, kill(r.pid, SIGINT);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!running.empty()) {
      const std::vector<Running> stopping = running;
      running.clear();
      const std::vector<int> status = stop_all(stopping, std::chrono::seconds(30));
      for (size_t i = 0; i < stopping.size(); ++i) finish(stopping[i], status[i], true);
    }
  }
  check(missing_metric.empty(), missing_metric);
  result.interrupted = g_interrupted.load();

  const std::vector<size_t> order = ranking(trials, maximize);
  result.table = table_of(trials, order, keys, s.metric);
  for (size_t i : order)
    if (trials[i].status == "finished" && !std::isnan(trials[i].metric)) {
      result.best = static_cast<int>(i);
      break;
    }
  if (result.interrupted) return result;

  std::string csv = "trial";
  for (const auto& k : keys) csv += "," + csv_cell(k);
  csv += "," + csv_cell(s.metric) + ",epochs,seconds,status,error\n";
  for (size_t i : order) {
    const SweepTrial& t = trials[i];
    csv += std::to_string(t.index);
    for (const auto& [key, value] : t.overrides) csv += "," + csv_cell(value);
    csv += "," + (std::isnan(t.metric) ? std::string() : format_number(t.metric, 9)) + "," +
           std::to_string(t.epochs) + "," + format_number(t.seconds, 4) + "," + t.status + "," +
           csv_cell(t.error) + "\n";
  }
  io::write_file_atomic(result.dir / "sweep.csv", csv);
  if (result.best >= 0) {
    std::vector<std::string> overrides = override_args(trials[static_cast<size_t>(result.best)]);
    io::write_file_atomic(result.dir / "best.yaml", config_without_sweep(config, overrides));
  }
  return result;
}

}  // namespace neurona::app
