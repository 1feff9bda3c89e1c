// The dashboard's server side: finds Neurona run directories under the log directory and reads
// their scalars (TensorBoard event files when present, history.json otherwise), histograms,
// config, model summary and hyper-parameters.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>

#include "api.hpp"
#include "neurona/core/error.hpp"
#include "neurona/io/event_reader.hpp"
#include "neurona/train/history.hpp"

namespace neurona::app {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxDepth = 4;  // runs/<name>/version_<n> is depth 2
constexpr size_t kMaxRuns = 500;
constexpr uintmax_t kMaxTextFile = 1 << 20;      // config, summary, history.json
constexpr uintmax_t kMaxEventBytes = 64u << 20;  // event files read per run
constexpr size_t kMaxPointsPerTag = 5000;
constexpr size_t kMaxHistogramSteps = 60;

std::string read_text(const fs::path& p) {
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  if (ec || size > kMaxTextFile) return "";
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool is_run_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir / "history.json", ec) || fs::exists(dir / "history.csv", ec)) return true;
  return !io::find_event_files(dir).empty();
}

// A run's history: history.json, written when training ends, else history.csv, which grows by
// one line per epoch while it trains. Empty when neither is there; `file` names the one read.
std::optional<train::History> read_history(const fs::path& dir, std::string& file) {
  file = "history.json";
  std::string text = read_text(dir / file);
  if (!text.empty()) return train::History::from_json(text);
  file = "history.csv";
  text = read_text(dir / file);
  if (!text.empty()) return train::History::from_csv(text);
  return std::nullopt;
}

double newest_mtime(const fs::path& dir) {
  double newest = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file(ec)) continue;
    const auto t = e.last_write_time(ec);
    if (ec) continue;
    // file_clock → system_clock (g++ 12 has no clock_cast): shift by the two clocks' "now".
    const auto sys =
        std::chrono::system_clock::now() +
        std::chrono::duration_cast<std::chrono::system_clock::duration>(t - fs::file_time_type::clock::now());
    newest = std::max(newest, std::chrono::duration<double>(sys.time_since_epoch()).count());
  }
  return newest;
}

json finite_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

// A few hyper-parameters read from config.yaml without a YAML library: `key: value` lines and
// inline maps such as `optimizer: {adam: {lr: 0.001}}`.
json hparams_from_config(const std::string& yaml) {
  json h = json::object();
  std::istringstream in(yaml);
  std::string line;
  auto trim = [](std::string s) {
    const auto a = s.find_first_not_of(" \t{}[],\""), b = s.find_last_not_of(" \t{}[],\"\r");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
  };
  while (std::getline(in, line)) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line = line.substr(0, hash);
    for (const char* key :
         {"lr", "batch_size", "epochs", "momentum", "weight_decay", "seed", "loss", "dropout"}) {
      const std::string k = std::string(key) + ":";
      size_t pos = 0;
      while ((pos = line.find(k, pos)) != std::string::npos) {
        const bool word_start = pos == 0 || std::string(" {,\t").find(line[pos - 1]) != std::string::npos;
        size_t end = line.find_first_of(",}", pos);
        const std::string value = trim(
            line.substr(pos + k.size(), end == std::string::npos ? std::string::npos : end - pos - k.size()));
        if (word_start && !value.empty() && !h.contains(key)) {
          char* stop = nullptr;
          const double d = std::strtod(value.c_str(), &stop);
          h[key] = stop && *stop == '\0' ? json(d) : json(value);
        }
        pos += k.size();
      }
    }
    if (const auto p = line.find("optimizer:"); p != std::string::npos && !h.contains("optimizer")) {
      const std::string rest = trim(line.substr(p + 10));
      const std::string name = trim(rest.substr(0, rest.find(':')));
      if (!name.empty()) h["optimizer"] = name;
    }
  }
  return h;
}

}  // namespace

std::optional<fs::path> resolve_in_logdir(const fs::path& logdir, const std::string& rel) {
  if (rel.empty() || rel.size() > 1024 || rel.find('\0') != std::string::npos ||
      rel.find('\\') != std::string::npos)
    return std::nullopt;
  const fs::path p(rel);
  if (p.is_absolute() || p.has_root_name() || p.has_root_directory()) return std::nullopt;
  for (const auto& part : p)
    if (part == ".." || part == ".") return std::nullopt;
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(logdir, ec);
  if (ec) return std::nullopt;
  const fs::path full = fs::weakly_canonical(root / p, ec);  // follows symbolic links
  if (ec) return std::nullopt;
  const auto [r, f] = std::mismatch(root.begin(), root.end(), full.begin(), full.end());
  if (r != root.end()) return std::nullopt;
  return full;
}

json dashboard_runs(const fs::path& logdir) {
  json runs = json::array();
  std::error_code ec;
  if (!fs::is_directory(logdir, ec)) return {{"logdir", logdir.string()}, {"runs", runs}};
  const fs::path root = fs::weakly_canonical(logdir, ec);
  std::vector<fs::path> dirs;
  if (is_run_dir(root)) dirs.push_back(root);
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator() && dirs.size() < kMaxRuns; it.increment(ec)) {
    if (ec) break;
    if (it.depth() >= kMaxDepth) it.disable_recursion_pending();
    if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
    if (it->path().filename() == "checkpoints") {
      it.disable_recursion_pending();
      continue;
    }
    if (is_run_dir(it->path())) dirs.push_back(it->path());
  }
  std::sort(dirs.begin(), dirs.end());
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (const auto& d : dirs) {
    json r;
    const std::string rel = d == root ? "." : fs::relative(d, root, ec).generic_string();
    r["name"] = rel;
    r["hasEvents"] = !io::find_event_files(d).empty();
    r["hasHistory"] = fs::exists(d / "history.json", ec) || fs::exists(d / "history.csv", ec);
    const double mtime = newest_mtime(d);
    r["modified"] = mtime;
    r["live"] = now - mtime < 30;  // written to in the last 30 s: probably still training
    json hp = hparams_from_config(read_text(d / "config.yaml"));
    json final_metrics = json::object();
    std::string file;
    try {
      if (const auto read = read_history(d, file)) {
        const train::History& h = *read;
        for (const auto& k : h.keys()) {
          const auto& v = h[k];
          if (!v.empty()) final_metrics[k] = finite_or_null(v.back());
          if (k.rfind("val_loss", 0) == 0 && !v.empty())
            final_metrics["best_" + k] = finite_or_null(*std::min_element(v.begin(), v.end()));
        }
        r["epochsRun"] = h.size();  // not "epochs": that is the configured hparam
      }
    } catch (const std::exception&) {
      r["warning"] = file + " could not be read";
    }
    r["hparams"] = hp;
    r["final"] = final_metrics;
    runs.push_back(r);
  }
  return {{"logdir", logdir.string()}, {"runs", runs}};
}

json dashboard_run(const fs::path& logdir, const std::string& rel) {
  const auto dir =
      rel == "." ? std::optional<fs::path>(fs::weakly_canonical(logdir)) : resolve_in_logdir(logdir, rel);
  check(dir.has_value(), "run path '", rel, "' is not inside the log directory");
  check(is_run_dir(*dir), "'", rel, "' is not a run directory (no history.json, history.csv or event file)");
  json out{{"name", rel}};
  json scalars = json::object(), hists = json::object(), warnings = json::array();
  std::string summary;
  json hparams = hparams_from_config(read_text(*dir / "config.yaml"));

  uintmax_t budget = kMaxEventBytes;
  for (const auto& file : io::find_event_files(*dir)) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    if (ec || size > budget) {
      warnings.push_back(file.filename().string() + ": skipped (too large)");
      continue;
    }
    budget -= size;
    try {
      const io::EventFile ef = io::read_event_file(file);
      for (const auto& w : ef.warnings) warnings.push_back(w);
      for (const auto& e : ef.events)
        for (const auto& v : e.values) {
          if (v.kind == io::SummaryValue::Kind::Scalar) {
            auto& a = scalars[v.tag];
            if (a.size() < kMaxPointsPerTag)
              a.push_back(json::array({e.step, finite_or_null(v.simple_value), e.wall_time}));
          } else if (v.kind == io::SummaryValue::Kind::Histogram) {
            hists[v.tag].push_back({{"step", e.step},
                                    {"min", v.histogram.min},
                                    {"max", v.histogram.max},
                                    {"limits", v.histogram.bucket_limit},
                                    {"counts", v.histogram.bucket}});
          } else if (v.kind == io::SummaryValue::Kind::Tensor && !v.strings.empty() &&
                     v.plugin_name != "hparams") {
            if (summary.empty() || v.tag.find("summary") != std::string::npos) summary = v.strings.front();
          } else if (v.plugin_name == "hparams") {
            const auto rec = io::decode_hparams(v.plugin_content);
            for (const auto& [k, hv] : rec.hparams)
              hparams[k] = hv.is_number() ? json(hv.number())
                           : hv.is_bool() ? json(hv.boolean())
                                          : json(hv.string());
          }
        }
    } catch (const std::exception& e) {
      warnings.push_back(e.what());
    }
  }
  // Histograms: at most kMaxHistogramSteps steps per tag, evenly spaced, infinities clipped.
  for (auto& [tag, steps] : hists.items()) {
    if (steps.size() > kMaxHistogramSteps) {
      json thin = json::array();
      for (size_t i = 0; i < kMaxHistogramSteps; ++i)
        thin.push_back(steps[i * (steps.size() - 1) / (kMaxHistogramSteps - 1)]);
      steps = thin;
    }
    for (auto& s : steps)
      for (auto& l : s["limits"])
        if (!std::isfinite(l.get<double>())) l = l.get<double>() > 0 ? 1e12 : -1e12;
  }
  std::string source = "events";
  if (scalars.empty()) {
    source = "history.json";
    std::string file;
    try {
      if (const auto read = read_history(*dir, file)) {
        source = file;
        const train::History& h = *read;
        for (const auto& k : h.keys()) {
          json a = json::array();
          const auto& v = h[k];
          for (size_t i = 0; i < v.size(); ++i)
            a.push_back(json::array({h.epochs()[i] + 1, finite_or_null(v[i]), nullptr}));
          scalars[k] = a;
        }
      }
    } catch (const std::exception& e) {
      warnings.push_back(file + ": " + e.what());
    }
  }
  if (summary.empty())
    for (const char* name : {"summary.txt", "model_summary.txt"})
      if (summary.empty()) summary = read_text(*dir / name);
  out["source"] = source;
  out["scalars"] = scalars;
  out["histograms"] = hists;
  out["config"] = read_text(*dir / "config.yaml");
  out["summary"] = summary;
  out["hparams"] = hparams;
  out["warnings"] = warnings;
  out["modified"] = newest_mtime(*dir);
  std::error_code ec;
  json files = json::array();
  for (const auto& e : fs::directory_iterator(*dir, ec))
    if (e.is_regular_file(ec)) files.push_back(e.path().filename().string());
  out["files"] = files;
  return out;
}

}  // namespace neurona::app
