#include "neurona/io/mlflow.hpp"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <iostream>
#include <random>

#include "neurona/core/error.hpp"
#include "neurona/io/files.hpp"
#include "text_format.hpp"

namespace neurona::io {
namespace {

namespace fs = std::filesystem;

// MLflow's RunStatus values.
constexpr int kRunning = 1, kFinished = 3, kFailed = 4, kKilled = 5;

std::string file_uri(const fs::path& p) { return "file://" + fs::absolute(p).lexically_normal().string(); }

// The value of `key:` in a flat YAML file as MLflow writes it (plain, '…' or "…" scalars).
std::string yaml_field(const std::string& text, const std::string& key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.rfind(key + ":", 0) != 0) continue;
    std::string v = line.substr(key.size() + 1);
    v.erase(0, v.find_first_not_of(' '));
    while (!v.empty() && (v.back() == ' ' || v.back() == '\r')) v.pop_back();
    if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') {
      std::string out;
      for (size_t i = 1; i + 1 < v.size(); ++i) {
        out += v[i];
        if (v[i] == '\'' && v[i + 1] == '\'') ++i;
      }
      return out;
    }
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return v.substr(1, v.size() - 2);
    return v;
  }
  return "";
}

void write_experiment_meta(const fs::path& root, const std::string& id, const std::string& name) {
  const std::string ms = std::to_string(now_ms());
  write_file_atomic(root / id / "meta.yaml",
                    "artifact_location: " + file_uri(root / id) + "\ncreation_time: " + ms +
                        "\nexperiment_id: " + yaml_quote(id) + "\nlast_update_time: " + ms +
                        "\nlifecycle_stage: active\nname: " + yaml_quote(name) + "\n");
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// The id of the experiment called `name`, created when missing. Ids are claimed by creating their
// directory, so two processes starting at once do not take the same one.
std::string find_or_create_experiment(const fs::path& root, const std::string& name) {
  make_directories(root / ".trash");
  if (!fs::exists(root / "0" / "meta.yaml")) write_experiment_meta(root, "0", "Default");
  long long max_id = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const fs::path meta = entry.path() / "meta.yaml";
    if (!entry.is_directory() || !fs::exists(meta)) continue;
    const std::string text = read_file(meta);
    if (yaml_field(text, "name") == name && yaml_field(text, "lifecycle_stage") != "deleted")
      return entry.path().filename().string();
    const std::string id = entry.path().filename().string();
    if (all_digits(id) && id.size() < 18) max_id = std::max(max_id, std::stoll(id));
  }
  check(!ec, "cannot list MLflow store '", root.string(), "': ", ec.message());
  for (long long id = max_id + 1;; ++id) {
    const std::string s = std::to_string(id);
    if (fs::create_directory(root / s, ec)) {
      write_experiment_meta(root, s, name);
      return s;
    }
    check(!ec, "cannot create experiment directory '", (root / s).string(), "': ", ec.message());
  }
}

std::string random_run_id() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  const char* hex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 32; ++i) id += hex[gen() % 16];
  return id;
}

}  // namespace

MlflowRun::MlflowRun(const fs::path& root, const std::string& experiment, const std::string& run_name)
    : root_(root), run_name_(run_name) {
  check(!experiment.empty(), "MLflow store '", root.string(), "': the experiment name is empty");
  make_directories(root);
  experiment_id_ = find_or_create_experiment(root, experiment);
  run_id_ = random_run_id();
  run_dir_ = root / experiment_id_ / run_id_;
  const char* user = std::getenv("USER");
  user_ = user && *user ? user : "unknown";
  start_time_ms_ = now_ms();
  for (const char* sub : {"metrics", "params", "tags", "artifacts"}) make_directories(run_dir_ / sub);
  write_meta(kRunning, -1);
  set_tag("mlflow.runName", run_name_);
  set_tag("mlflow.user", user_);
  set_tag("mlflow.source.type", "LOCAL");
  set_tag("mlflow.source.name", "neurona");
}

MlflowRun::~MlflowRun() {
  try {
    end(RunStatus::Failed);
  } catch (const std::exception& e) {
    std::cerr << "neurona: " << e.what() << "\n";
  }
}

void MlflowRun::write_meta(int status, int64_t end_time_ms) {
  std::string yaml =
      "artifact_uri: " + file_uri(artifact_dir()) +
      "\nend_time: " + (end_time_ms < 0 ? "null" : std::to_string(end_time_ms)) +
      "\nentry_point_name: ''\nexperiment_id: " + yaml_quote(experiment_id_) +
      "\nlifecycle_stage: active\nrun_id: " + run_id_ + "\nrun_name: " + yaml_quote(run_name_) +
      "\nrun_uuid: " + run_id_ +
      "\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: " + std::to_string(start_time_ms_) +
      "\nstatus: " + std::to_string(status) + "\ntags: []\nuser_id: " + yaml_quote(user_) + "\n";
  write_file_atomic(run_dir_ / "meta.yaml", yaml);
}

fs::path MlflowRun::key_path(const char* kind, const std::string& key) const {
  auto where = [&] {
    return std::string("MLflow run '") + run_dir_.string() + "': " + kind + " key '" + key + "'";
  };
  check(!key.empty() && key.size() <= 250, where(), " must have 1 to 250 characters");
  for (char c : key)
    check(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == ' ' ||
              c == '/',
          where(), " contains '", std::string(1, c), "' (allowed: letters, digits, _ - . space /)");
  check(key.front() != '/' && key.back() != '/' && key.find("//") == std::string::npos, where(),
        " must be a relative path without empty parts");
  fs::path rel(key);
  for (const auto& part : rel)
    check(part != "." && part != "..", where(), " must not contain '.' or '..' path parts");
  return run_dir_ / kind / rel;
}

void MlflowRun::log_param(const std::string& key, const std::string& value) {
  const fs::path p = key_path("params", key);
  if (fs::exists(p)) {
    const std::string old = read_file(p);
    check(old == value, "MLflow run '", run_dir_.string(), "': param '", key, "' was logged as '", old,
          "' and cannot change to '", value, "'");
    return;
  }
  write_file_atomic(p, value);
}

void MlflowRun::log_metric(const std::string& key, double value, int64_t step) {
  append_file(key_path("metrics", key),
              std::to_string(now_ms()) + " " + format_number(value) + " " + std::to_string(step) + "\n");
}

void MlflowRun::set_tag(const std::string& key, const std::string& value) {
  write_file_atomic(key_path("tags", key), value);
}

void MlflowRun::log_artifact_bytes(std::string_view bytes, const std::string& name) {
  const fs::path p = key_path("artifacts", name);
  write_file_atomic(p, bytes);
}

void MlflowRun::log_artifact(const fs::path& file, const std::string& name) {
  log_artifact_bytes(read_file(file), name.empty() ? file.filename().string() : name);
}

void MlflowRun::end(RunStatus status) {
  if (ended_) return;
  ended_ = true;
  write_meta(status == RunStatus::Finished ? kFinished
             : status == RunStatus::Failed ? kFailed
                                           : kKilled,
             now_ms());
}

}  // namespace neurona::io
