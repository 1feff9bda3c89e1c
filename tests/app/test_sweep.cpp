// `neurona sweep` end to end on the wine example (few epochs): a 3×2 grid with two jobs, a random
// search reproducible from its seed, a failing trial among finished ones, resuming after Ctrl-C,
// and the errors of bad specs; and the spec parsers and the config's `sweep:` section in-process.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "neurona/app/sweep.hpp"
#include "test_util.hpp"

namespace {

using neurona::testing::ExampleRun;
using neurona::testing::fresh_dir;
using neurona::testing::run_cli;
namespace app = neurona::app;
namespace fs = std::filesystem;

ExampleRun cli(const std::string& args) {
  ExampleRun r;
  if (!run_cli(args, r)) r.status = -2;
  return r;
}

#define REQUIRE_CLI(r)                                    \
  do {                                                    \
    ASSERT_NE((r).status, -2) << "neurona was not built"; \
  } while (0)

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

nlohmann::ordered_json state(const fs::path& dir) {
  try {
    return nlohmann::ordered_json::parse(slurp(dir / "sweep.json"));
  } catch (const std::exception&) {
    return {};  // not written yet
  }
}

// Removes a test's directory at the end, whatever the outcome.
struct Cleanup {
  fs::path dir;
  ~Cleanup() { fs::remove_all(dir); }
};

// Few epochs of the wine example, its runs in `runs`.
std::string wine(const fs::path& runs, const std::string& epochs = "5") {
  return "sweep examples/wine.yaml --set fit.epochs=" + epochs + " --set logging.dir=" + runs.string();
}

// The rows of the printed table (after its header line "trial …"), as columns.
std::vector<std::vector<std::string>> table_rows(const std::string& out) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(out);
  bool in_table = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("trial  ", 0) == 0) {
      in_table = true;
      rows.clear();
      continue;
    }
    if (!in_table) continue;
    if (line.empty()) break;
    std::istringstream cells(line);
    std::vector<std::string> row;
    for (std::string c; cells >> c;) row.push_back(c);
    rows.push_back(row);
  }
  return rows;
}

TEST(SweepSpecs, GridAndSpacesParse) {
  const app::SweepParam g = app::parse_sweep_grid("fit.batch_size", "[64, 256]", "--grid");
  EXPECT_EQ(g.values, (std::vector<std::string>{"64", "256"}));
  const app::SweepParam o = app::parse_sweep_grid("compile.optimizer", "[adam, {sgd: {lr: 0.1}}]", "--grid");
  ASSERT_EQ(o.values.size(), 2u);
  EXPECT_EQ(o.values[0], "adam");
  const app::SweepParam c =
      app::parse_sweep_space("model.layers[0].dense", "choice(64, 128, 256)", "--space");
  EXPECT_EQ(c.kind, "choice");
  EXPECT_EQ(c.values, (std::vector<std::string>{"64", "128", "256"}));
  const app::SweepParam l = app::parse_sweep_space("lr", " loguniform(1e-4, 1e-1) ", "--space");
  EXPECT_EQ(l.kind, "loguniform");
  EXPECT_DOUBLE_EQ(l.low, 1e-4);
  EXPECT_DOUBLE_EQ(l.high, 0.1);

  EXPECT_ERROR_CONTAINS(app::parse_sweep_grid("fit.epochs", "[]", "--grid"),
                        "--grid fit.epochs: expected a non-empty list");
  EXPECT_ERROR_CONTAINS(app::parse_sweep_grid("fit.epochs", "5", "--grid"), "expected a non-empty list");
  EXPECT_ERROR_CONTAINS(app::parse_sweep_grid("fit.epochs", "[1, 2", "--grid"),
                        "--grid fit.epochs: bad YAML");
  EXPECT_ERROR_CONTAINS(app::parse_sweep_space("lr", "normal(0, 1)", "--space"), "unknown space 'normal'");
  EXPECT_ERROR_CONTAINS(app::parse_sweep_space("lr", "loguniform(0, 1)", "--space"), "needs low > 0");
  EXPECT_ERROR_CONTAINS(app::parse_sweep_space("lr", "uniform(1, 1)", "--space"), "needs low < high");
  EXPECT_ERROR_CONTAINS(app::parse_sweep_space("lr", "uniform(a, 1)", "--space"),
                        "expected a number, got 'a'");
  EXPECT_ERROR_CONTAINS(app::parse_sweep_space("n", "int(1.5, 3)", "--space"), "whole numbers");
  EXPECT_ERROR_CONTAINS(app::parse_sweep_space("n", "3", "--space"), "expected choice(a, b, …)");
  EXPECT_ERROR_CONTAINS(app::parse_sweep_grid("", "[1]", "--grid"), "expected a dotted key");
}

TEST(SweepSpecs, TrialsAreTheGridInOrderOrSeededSamples) {
  app::SweepConfig s;
  s.grid = {app::parse_sweep_grid("a", "[1, 2, 3]", "--grid"),
            app::parse_sweep_grid("b", "[x, y]", "--grid")};
  const auto grid = app::sweep_trials(s, 0);
  ASSERT_EQ(grid.size(), 6u);
  EXPECT_EQ(grid[0].overrides, (std::vector<std::pair<std::string, std::string>>{{"a", "1"}, {"b", "x"}}));
  EXPECT_EQ(grid[1].overrides, (std::vector<std::pair<std::string, std::string>>{{"a", "1"}, {"b", "y"}}));
  EXPECT_EQ(grid[5].overrides, (std::vector<std::pair<std::string, std::string>>{{"a", "3"}, {"b", "y"}}));

  app::SweepConfig r;
  r.random = 50;
  r.space = {app::parse_sweep_space("lr", "loguniform(1e-4, 1e-1)", "--space"),
             app::parse_sweep_space("n", "int(2, 4)", "--space"),
             app::parse_sweep_space("act", "choice(relu, tanh)", "--space")};
  const auto a = app::sweep_trials(r, 7), b = app::sweep_trials(r, 7), c = app::sweep_trials(r, 8);
  ASSERT_EQ(a.size(), 50u);
  bool differs = false;
  std::set<std::string> ints, acts;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].overrides, b[i].overrides);
    differs |= a[i].overrides != c[i].overrides;
    const double lr = std::stod(a[i].overrides[0].second);
    EXPECT_GE(lr, 1e-4);
    EXPECT_LE(lr, 1e-1);
    ints.insert(a[i].overrides[1].second);
    acts.insert(a[i].overrides[2].second);
  }
  EXPECT_TRUE(differs) << "another seed gives other samples";
  app::SweepConfig huge;
  for (const char* key : {"a", "b", "c", "d", "e", "f"})
    huge.grid.push_back(app::parse_sweep_grid(key, "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]", "--grid"));
  EXPECT_ERROR_CONTAINS(app::sweep_trials(huge, 0), "the grid has more than 100000 combinations");
  EXPECT_EQ(ints, (std::set<std::string>{"2", "3", "4"}));
  EXPECT_EQ(acts, (std::set<std::string>{"relu", "tanh"}));
}

TEST(SweepSpecs, ConfigSectionIsReadAndTrainIgnoresIt) {
  const std::string text = neurona::io::read_file(std::string(NEURONA_SOURCE_DIR) + "/examples/wine.yaml") +
                           "sweep:\n"
                           "  grid:\n"
                           "    compile.optimizer.adam.lr: [0.001, 0.01]\n"
                           "    model.layers[0].dense: [64, 128]\n"
                           "  jobs: 2\n"
                           "  metric: val_loss\n"
                           "  mode: min\n"
                           "  prune: median\n";
  const app::Config c = app::parse_config(text, "wine.yaml");
  ASSERT_EQ(c.sweep.grid.size(), 2u);
  EXPECT_EQ(c.sweep.grid[1].key, "model.layers[0].dense");
  EXPECT_EQ(c.sweep.grid[1].values, (std::vector<std::string>{"64", "128"}));
  EXPECT_EQ(c.sweep.jobs, 2);
  EXPECT_EQ(c.sweep.prune, "median");
  for (const auto& [key, value] : c.hparams) EXPECT_NE(key.rfind("sweep", 0), 0u) << key;

  const std::string random = "sweep: {random: 4, space: {fit.batch_size: 'choice(64, 128)'}}\n";
  EXPECT_EQ(app::parse_config(
                neurona::io::read_file(std::string(NEURONA_SOURCE_DIR) + "/examples/wine.yaml") + random,
                "wine.yaml")
                .sweep.random,
            4);
  auto with = [](const std::string& sweep) {
    return app::parse_config(
        neurona::io::read_file(std::string(NEURONA_SOURCE_DIR) + "/examples/wine.yaml") + sweep, "wine.yaml");
  };
  EXPECT_ERROR_CONTAINS(with("sweep: {jobs: 0}\n"), "sweep.jobs: must be at least 1");
  EXPECT_ERROR_CONTAINS(with("sweep: {jbos: 2}\n"), "sweep: unknown key 'jbos' (did you mean 'jobs'?)");
  EXPECT_ERROR_CONTAINS(with("sweep: {grid: {fit.epochs: []}}\n"),
                        "sweep.grid fit.epochs: expected a non-empty list");
  EXPECT_ERROR_CONTAINS(with("sweep: {space: {lr: 'normal(0, 1)'}}\n"), "unknown space 'normal'");
  EXPECT_ERROR_CONTAINS(with("sweep: {mode: lowest}\n"), "sweep.mode: unknown value 'lowest'");
}

TEST(Sweep, GridOnWineWithTwoJobs) {
  const fs::path runs = fresh_dir("sweep_grid");
  Cleanup cleanup{runs};
  const ExampleRun r =
      cli(wine(runs) +
          " --grid compile.optimizer.adam.lr=[0.0003,0.001,0.003] --grid fit.batch_size=[128,256]"
          " --jobs 2");
  REQUIRE_CLI(r);
  ASSERT_EQ(r.status, 0) << r.output;
  const fs::path dir = runs / "wine";
  for (int k = 0; k < 6; ++k)
    EXPECT_TRUE(fs::exists(dir / ("trial_" + std::to_string(k)) / "version_0" / "history.json")) << k;

  // The table: six finished trials, sorted by val_loss (lowest first).
  const auto rows = table_rows(r.output);
  ASSERT_EQ(rows.size(), 6u) << r.output;
  double previous = -1;
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 8u) << r.output;  // trial, lr, batch_size, val_loss, epochs, time "s", status
    EXPECT_EQ(row[7], "finished");
    const double v = std::stod(row[3]);
    EXPECT_GE(v, previous) << r.output;
    previous = v;
  }
  // sweep.csv holds the same rows in the same order.
  std::istringstream csv(slurp(dir / "sweep.csv"));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "trial,compile.optimizer.adam.lr,fit.batch_size,val_loss,epochs,seconds,status,error");
  for (const auto& row : rows) {
    ASSERT_TRUE(std::getline(csv, line));
    EXPECT_EQ(line.substr(0, line.find(',')), row[0]);
  }
  // best.yaml is the best trial's config: the file with its overrides, no sweep.
  const nlohmann::ordered_json s = state(dir);
  const auto& best = s["trials"][std::stoi(rows[0][0])];
  const app::Config c = app::load_config(dir / "best.yaml");
  EXPECT_DOUBLE_EQ(c.hparams.at("compile.optimizer.adam.lr").number(),
                   std::stod(best["overrides"]["compile.optimizer.adam.lr"].get<std::string>()));
  EXPECT_EQ(c.fit.batch_size, std::stoll(best["overrides"]["fit.batch_size"].get<std::string>()));
  EXPECT_EQ(c.fit.epochs, 5);
  EXPECT_EQ(c.name, "wine");
  EXPECT_NE(r.output.find("best config: " + (dir / "best.yaml").string()), std::string::npos) << r.output;
}

TEST(Sweep, RandomSearchIsReproducibleFromItsSeed) {
  const fs::path runs = fresh_dir("sweep_random");
  Cleanup cleanup{runs};
  const std::string search =
      " --random 6 --space 'compile.optimizer.adam.lr=loguniform(1e-4,1e-2)' --space "
      "'fit.batch_size=choice(128,256)'"
      " --jobs 2";
  const ExampleRun a = cli(wine(runs / "a", "2") + search);
  const ExampleRun b = cli(wine(runs / "b", "2") + search);
  const ExampleRun c = cli(wine(runs / "c", "2") + search + " --seed 1");
  REQUIRE_CLI(a);
  ASSERT_EQ(a.status, 0) << a.output;
  ASSERT_EQ(b.status, 0) << b.output;
  ASSERT_EQ(c.status, 0) << c.output;
  const auto sa = state(runs / "a" / "wine"), sb = state(runs / "b" / "wine"),
             sc = state(runs / "c" / "wine");
  ASSERT_EQ(sa["trials"].size(), 6u);
  bool differs = false;
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(sa["trials"][i]["overrides"], sb["trials"][i]["overrides"]) << i;
    EXPECT_EQ(sa["trials"][i]["status"], "finished") << i;
    differs |= sa["trials"][i]["overrides"] != sc["trials"][i]["overrides"];
  }
  EXPECT_TRUE(differs) << "--seed 1 samples other trials";
  EXPECT_EQ(table_rows(a.output).size(), 6u) << a.output;
}

TEST(Sweep, AFailedTrialIsRecordedAndTheOthersFinish) {
  const fs::path runs = fresh_dir("sweep_failed");
  Cleanup cleanup{runs};
  const ExampleRun r = cli(wine(runs, "2") + " --grid fit.batch_size=[0,256,128] --jobs 2");
  REQUIRE_CLI(r);
  ASSERT_EQ(r.status, 0) << r.output;
  const auto s = state(runs / "wine");
  EXPECT_EQ(s["trials"][0]["status"], "failed");
  EXPECT_NE(s["trials"][0]["error"].get<std::string>().find("fit.batch_size: must be at least 1"),
            std::string::npos)
      << s.dump(1);
  EXPECT_EQ(s["trials"][1]["status"], "finished");
  EXPECT_EQ(s["trials"][2]["status"], "finished");
  const auto rows = table_rows(r.output);
  ASSERT_EQ(rows.size(), 3u) << r.output;
  EXPECT_EQ(rows[2][0], "0") << "the failed trial is listed last";
  EXPECT_EQ(rows[2].back(), "failed");
}

TEST(Sweep, ResumesAfterCtrlC) {
  const fs::path runs = fresh_dir("sweep_resume");
  Cleanup cleanup{runs};
  const fs::path dir = runs / "wine";
  // Trial 0 is short; trials 1 and 2 train until early stopping, so Ctrl-C most likely stops one
  // of them (the test holds whichever way it falls).
  const std::vector<std::string> args = {"sweep",  "examples/wine.yaml",
                                         "--set",  "logging.dir=" + runs.string(),
                                         "--set",  "callbacks[0].early_stopping.patience=5",
                                         "--grid", "fit.epochs=[1,200,201]",
                                         "--jobs", "1"};
  const std::string binary = std::string(NEURONA_BINARY_DIR) + "/neurona";
  ASSERT_TRUE(fs::exists(binary)) << "neurona was not built";
  const fs::path log = runs / "first.log";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (chdir(NEURONA_SOURCE_DIR) != 0) _exit(126);
    FILE* out = std::fopen(log.c_str(), "w");
    if (out) dup2(fileno(out), 1), dup2(fileno(out), 2);
    std::vector<char*> argv = {const_cast<char*>(binary.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  // Bounded waits: trial 0 finishing (at most 120 s), then the sweep stopping (at most 60 s).
  auto wait_for = [&](int seconds, const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  int status = 0;
  bool exited = false;
  const bool first_done = wait_for(120, [&] {
    if (!exited && waitpid(pid, &status, WNOHANG) == pid) exited = true;
    const auto s = state(dir);
    return exited || (s.contains("trials") && s["trials"][0]["status"] == "finished");
  });
  if (!exited) kill(pid, SIGINT);
  const bool stopped = exited || wait_for(60, [&] { return waitpid(pid, &status, WNOHANG) == pid; });
  if (!stopped) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  ASSERT_TRUE(first_done) << slurp(log);
  ASSERT_TRUE(stopped) << "the sweep did not stop within 60 s of Ctrl-C\n" << slurp(log);
  ASSERT_TRUE(WIFEXITED(status)) << slurp(log);
  const auto first = state(dir);
  ASSERT_EQ(first["trials"][0]["status"], "finished") << slurp(log);
  if (WEXITSTATUS(status) == 130) {
    EXPECT_NE(slurp(log).find("run the same command again to resume"), std::string::npos) << slurp(log);
    bool unfinished = false;
    for (const auto& t : first["trials"]) unfinished |= t["status"] != "finished";
    EXPECT_TRUE(unfinished) << first.dump(1);
  } else {
    EXPECT_EQ(WEXITSTATUS(status), 0) << slurp(log);
  }
  const fs::path trial0 = dir / "trial_0" / "version_0" / "history.json";
  ASSERT_TRUE(fs::exists(trial0));
  const auto written = fs::last_write_time(trial0);

  std::string again = "sweep examples/wine.yaml";
  for (size_t i = 2; i < args.size(); ++i) again += " '" + args[i] + "'";
  const ExampleRun r = cli(again);
  ASSERT_EQ(r.status, 0) << r.output;
  const auto end = state(dir);
  for (const auto& t : end["trials"]) EXPECT_EQ(t["status"], "finished") << end.dump(1);
  EXPECT_EQ(fs::last_write_time(trial0), written) << "trial 0 ran again";
  EXPECT_EQ(r.output.find("trial 0 ["), std::string::npos) << "trial 0 started again:\n" << r.output;
  EXPECT_FALSE(fs::exists(dir / "trial_1" / "version_1")) << "an unfinished trial starts from nothing";

  // Another metric ranks the same trials from their files, training none; another config is
  // another sweep.
  const ExampleRun rerank = cli(again + " --metric loss");
  ASSERT_EQ(rerank.status, 0) << rerank.output;
  EXPECT_EQ(rerank.output.find("started"), std::string::npos) << rerank.output;
  EXPECT_EQ(table_rows(rerank.output).size(), 3u) << rerank.output;
  const ExampleRun other = cli(again + " --set fit.batch_size=64");
  EXPECT_EQ(other.status, 1) << other.output;
  EXPECT_NE(other.output.find("holds another sweep"), std::string::npos) << other.output;
}

// The median rule: trial 1 takes one batch per epoch, so from its second epoch on its best
// val_loss is worse than trial 0's at the same epoch, and it is stopped long before its 2000
// epochs (whichever epoch the sweep's polling first sees).
TEST(Sweep, MedianRulePrunesAWorseTrial) {
  const fs::path runs = fresh_dir("sweep_prune");
  Cleanup cleanup{runs};
  const ExampleRun r =
      cli("sweep examples/wine.yaml --set 'callbacks=[]' --set logging.dir=" + runs.string() +
          " --grid 'fit=[{epochs: 5, batch_size: 256},"
          " {epochs: 2000, batch_size: 256, limit_train_batches: 1}]'"
          " --prune median --prune-warmup 1 --prune-min-trials 1");
  REQUIRE_CLI(r);
  ASSERT_EQ(r.status, 0) << r.output;
  const auto s = state(runs / "wine");
  EXPECT_EQ(s["trials"][0]["status"], "finished") << s.dump(1);
  EXPECT_EQ(s["trials"][1]["status"], "pruned") << s.dump(1);
  EXPECT_LT(s["trials"][1]["epochs"].get<int64_t>(), 2000);
  EXPECT_NE(r.output.find("trial 1 [fit={epochs: 2000"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("pruned at epoch"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("best: trial 0,"), std::string::npos) << r.output;
}

TEST(Sweep, BadInputIsAnErrorNamingTheFlagOrKey) {
  const fs::path runs = fresh_dir("sweep_errors");
  Cleanup cleanup{runs};
  const std::string base = wine(runs, "1");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {" --grid compile.optimizer.adam.lrr=[0.1,0.2]",
       "sweep compile.optimizer.adam.lrr: no value makes a valid config: compile.optimizer.adam: unknown key "
       "'lrr'"},
      {" --grid fit.epochs=[]", "--grid fit.epochs: expected a non-empty list"},
      {" --grid fit.epochs", "sweep: --grid expects KEY=[v1, v2, …]"},
      {" --random 3 --space 'lr=normal(0,1)'", "--space lr: unknown space 'normal'"},
      {" --random 3", "--space: missing"},
      {" --grid fit.epochs=[1,2] --jobs 0", "--jobs: must be at least 1, got 0"},
      {" --grid fit.epochs=[1,2] --jobs two", "sweep: --jobs takes a whole number, got 'two'"},
      {" --grid fit.epochs=[1,2] --mode lowest", "--mode: expected min, max or auto"},
      {"", "sweep: nothing to sweep"},
      {" --grid fit.epochs=[1] --metric val_acc", "--metric val_acc: the trials do not log it (they log: "},
  };
  for (const auto& [flags, message] : cases) {
    const ExampleRun r = cli(base + flags);
    REQUIRE_CLI(r);
    EXPECT_EQ(r.status, 1) << flags << "\n" << r.output;
    EXPECT_NE(r.output.find("neurona: error: " + message), std::string::npos) << flags << "\n" << r.output;
  }
}

}  // namespace
