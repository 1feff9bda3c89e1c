#include <algorithm>
#include <cctype>
#include <sstream>

#include "io_test_util.hpp"
#include "test_util.hpp"

namespace neurona::testing {
namespace {

namespace fs = std::filesystem;

// The text after "key: " on the line starting with "key:" (std::regex is avoided: GCC 12 warns
// inside it under -O1 with sanitizers).
std::string line_of(const std::string& yaml, const std::string& key) {
  const std::string text = "\n" + yaml;
  const size_t at = text.find("\n" + key + ": ");
  if (at == std::string::npos) return "<missing " + key + ">";
  const size_t begin = at + key.size() + 3;
  return text.substr(begin, text.find('\n', begin) - begin);
}

bool all_of_set(const std::string& s, size_t size, const char* allowed) {
  return s.size() == size && s.find_first_not_of(allowed) == std::string::npos;
}

// The lines of a metric file split into their three fields.
std::vector<std::vector<std::string>> metric_lines(const std::string& text) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string x; fields >> x;) f.push_back(x);
    out.push_back(f);
  }
  return out;
}

TEST(Mlflow, LayoutOfAFinishedRun) {
  ScratchDir dir;
  const fs::path root = dir / "mlruns";
  std::string run_id;
  {
    io::MlflowRun run(root, "wine-quality", "run one");
    run_id = run.run_id();
    EXPECT_TRUE(all_of_set(run_id, 32, "0123456789abcdef")) << run_id;
    EXPECT_EQ(run.experiment_id(), "1");
    EXPECT_EQ(run.run_dir(), root / "1" / run_id);

    const std::string running = io::read_file(run.run_dir() / "meta.yaml");
    EXPECT_EQ(line_of(running, "status"), "1");
    EXPECT_EQ(line_of(running, "end_time"), "null");

    run.log_param("lr", "0.001");
    run.log_param("optimizer/name", "adam");
    run.log_param("lr", "0.001");  // same value again is fine
    EXPECT_ERROR_CONTAINS(run.log_param("lr", "0.01"), "param 'lr' was logged as '0.001'");
    run.log_metric("val_loss", 0.5, 1);
    run.log_metric("val_loss", 0.25, 2);
    run.log_metric("train/loss", 1e-5, 1);
    run.set_tag("mlflow.note.content", "# notes");
    run.log_artifact_bytes("{\"a\": 1}", "config/config.json");
    io::write_file_atomic(dir / "weights.safetensors", "WEIGHTS");
    run.log_artifact(dir / "weights.safetensors");
    run.end();
  }
  // Default experiment and trash.
  EXPECT_TRUE(fs::is_directory(root / ".trash"));
  const std::string def = io::read_file(root / "0" / "meta.yaml");
  EXPECT_EQ(line_of(def, "name"), "'Default'");
  EXPECT_EQ(line_of(def, "experiment_id"), "'0'");

  const std::string exp = io::read_file(root / "1" / "meta.yaml");
  EXPECT_EQ(line_of(exp, "name"), "'wine-quality'");
  EXPECT_EQ(line_of(exp, "experiment_id"), "'1'");
  EXPECT_EQ(line_of(exp, "lifecycle_stage"), "active");
  EXPECT_EQ(line_of(exp, "artifact_location"), "file://" + fs::absolute(root / "1").string());
  EXPECT_TRUE(all_of_set(line_of(exp, "creation_time"), 13, "0123456789"));

  const fs::path run_dir = root / "1" / run_id;
  const std::string meta = io::read_file(run_dir / "meta.yaml");
  EXPECT_EQ(line_of(meta, "artifact_uri"), "file://" + fs::absolute(run_dir / "artifacts").string());
  EXPECT_EQ(line_of(meta, "experiment_id"), "'1'");
  EXPECT_EQ(line_of(meta, "run_id"), run_id);
  EXPECT_EQ(line_of(meta, "run_uuid"), run_id);
  EXPECT_EQ(line_of(meta, "run_name"), "'run one'");
  EXPECT_EQ(line_of(meta, "lifecycle_stage"), "active");
  EXPECT_EQ(line_of(meta, "source_type"), "4");
  EXPECT_EQ(line_of(meta, "status"), "3");
  EXPECT_EQ(line_of(meta, "tags"), "[]");
  EXPECT_EQ(line_of(meta, "entry_point_name"), "''");
  const long long start = std::stoll(line_of(meta, "start_time"));
  const long long end = std::stoll(line_of(meta, "end_time"));
  EXPECT_GE(end, start);
  EXPECT_GT(start, 1700000000000LL);
  // Keys are written sorted, as MLflow's yaml dump does.
  std::vector<std::string> keys;
  std::istringstream lines(meta);
  for (std::string line; std::getline(lines, line);) keys.push_back(line.substr(0, line.find(':')));
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(keys.size(), 15u);

  EXPECT_EQ(io::read_file(run_dir / "params" / "lr"), "0.001");
  EXPECT_EQ(io::read_file(run_dir / "params" / "optimizer" / "name"), "adam");
  const std::string vl = io::read_file(run_dir / "metrics" / "val_loss");
  EXPECT_EQ(vl.back(), '\n');
  auto lines_vl = metric_lines(vl);
  ASSERT_EQ(lines_vl.size(), 2u) << vl;
  for (const auto& l : lines_vl) {
    ASSERT_EQ(l.size(), 3u) << vl;
    EXPECT_TRUE(all_of_set(l[0], 13, "0123456789")) << vl;
    EXPECT_GE(std::stoll(l[0]), start);
    EXPECT_LE(std::stoll(l[0]), end);
  }
  EXPECT_EQ(lines_vl[0][1] + " " + lines_vl[0][2], "0.5 1");
  EXPECT_EQ(lines_vl[1][1] + " " + lines_vl[1][2], "0.25 2");
  EXPECT_EQ(vl.find("  "), std::string::npos);  // single spaces
  auto lines_tl = metric_lines(io::read_file(run_dir / "metrics" / "train" / "loss"));
  ASSERT_EQ(lines_tl.size(), 1u);
  EXPECT_EQ(lines_tl[0].at(1) + " " + lines_tl[0].at(2), "1e-05 1");
  EXPECT_EQ(io::read_file(run_dir / "tags" / "mlflow.runName"), "run one");
  EXPECT_EQ(io::read_file(run_dir / "tags" / "mlflow.source.type"), "LOCAL");
  EXPECT_EQ(io::read_file(run_dir / "tags" / "mlflow.note.content"), "# notes");
  EXPECT_EQ(io::read_file(run_dir / "artifacts" / "config" / "config.json"), "{\"a\": 1}");
  EXPECT_EQ(io::read_file(run_dir / "artifacts" / "weights.safetensors"), "WEIGHTS");
}

TEST(Mlflow, ExperimentsAreReusedByNameAndNewOnesGetTheNextId) {
  ScratchDir dir;
  const fs::path root = dir / "mlruns";
  std::string first_run;
  {
    io::MlflowRun a(root, "exp-a", "r1");
    first_run = a.run_id();
    a.end(io::RunStatus::Failed);
    EXPECT_EQ(line_of(io::read_file(a.run_dir() / "meta.yaml"), "status"), "4");
  }
  io::MlflowRun b(root, "exp-a", "r2");
  EXPECT_EQ(b.experiment_id(), "1");
  EXPECT_NE(b.run_id(), first_run);
  io::MlflowRun c(root, "exp-b", "r3");
  EXPECT_EQ(c.experiment_id(), "2");
  io::MlflowRun d(root, "Default", "r4");
  EXPECT_EQ(d.experiment_id(), "0");
  d.end(io::RunStatus::Killed);
  EXPECT_EQ(line_of(io::read_file(d.run_dir() / "meta.yaml"), "status"), "5");
}

TEST(Mlflow, RunLeftWithoutEndIsMarkedFailed) {
  ScratchDir dir;
  fs::path meta;
  {
    io::MlflowRun run(dir / "mlruns", "e", "r");
    meta = run.run_dir() / "meta.yaml";
  }
  EXPECT_EQ(line_of(io::read_file(meta), "status"), "4");
  EXPECT_NE(line_of(io::read_file(meta), "end_time"), "null");
}

TEST(Mlflow, KeysAreValidated) {
  ScratchDir dir;
  io::MlflowRun run(dir / "mlruns", "e", "r");
  EXPECT_ERROR_CONTAINS(run.log_metric("loss:train", 1, 0), "metrics key 'loss:train' contains ':'");
  EXPECT_ERROR_CONTAINS(run.log_metric("../escape", 1, 0), "'..'");
  EXPECT_ERROR_CONTAINS(run.log_param("/abs", "x"), "relative path");
  EXPECT_ERROR_CONTAINS(run.log_param("", "x"), "1 to 250 characters");
  EXPECT_ERROR_CONTAINS(run.set_tag(std::string(251, 'a'), "x"), "1 to 250 characters");
  run.log_metric("ok key-1.2_x", 1, 0);
  EXPECT_TRUE(fs::exists(run.run_dir() / "metrics" / "ok key-1.2_x"));
  EXPECT_FALSE(fs::exists(dir / "mlruns" / "escape"));
}

}  // namespace
}  // namespace neurona::testing
