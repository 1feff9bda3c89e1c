// Faults (issue 21): what a training run leaves on disk when it is killed with SIGKILL at any
// moment, when the disk fills up (RLIMIT_FSIZE makes a write fail with EFBIG at a chosen size), and
// when an input file vanishes or is a directory. The `neurona` command runs as a child process,
// so a kill or a failed write hits the real program.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "io/io_test_util.hpp"
#include "neurona/app/config.hpp"
#include "neurona/io/event_reader.hpp"
#include "neurona/io/files.hpp"
#include "neurona/io/safetensors.hpp"
#include "neurona/train/history.hpp"
#include "test_util.hpp"

namespace neurona::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string cli_path() { return std::string(NEURONA_BINARY_DIR) + "/neurona"; }

// Starts `neurona args...` with stdout and stderr going to `out_fd`. A `file_size_limit` of 0 or
// more caps every file the child writes (RLIMIT_FSIZE) and ignores SIGXFSZ, so a write past it
// fails with EFBIG as on a full disk instead of killing the process.
pid_t spawn_cli(const std::vector<std::string>& args, int out_fd, long file_size_limit = -1) {
  std::vector<std::string> all{cli_path()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {  // only async-signal-safe calls until exec
    ::dup2(out_fd, 1);
    ::dup2(out_fd, 2);
    if (file_size_limit >= 0) {
      ::signal(SIGXFSZ, SIG_IGN);
      struct rlimit rl {};
      rl.rlim_cur = rl.rlim_max = static_cast<rlim_t>(file_size_limit);
      if (::setrlimit(RLIMIT_FSIZE, &rl) != 0) ::_exit(126);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

struct CliRun {
  int status = -1;  // exit code, or -signal
  std::string output;
  double seconds = 0;
};

int decode_status(int raw) {
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : WIFSIGNALED(raw) ? -WTERMSIG(raw) : -100;
}

// Runs the command to its end (at most 120 s) and collects its output through a pipe, which
// RLIMIT_FSIZE does not limit.
CliRun run_cli_to_end(const std::vector<std::string>& args, long file_size_limit = -1) {
  CliRun r;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {  // the child gets the write end as stdout and stderr only
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return r;
  }
  const auto t0 = Clock::now();
  const pid_t pid = spawn_cli(args, p[1], file_size_limit);
  ::close(p[1]);
  if (pid < 0) {
    ::close(p[0]);
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return r;
  }
  const auto deadline = t0 + std::chrono::seconds(120);
  char buf[4096];
  for (;;) {
    struct pollfd pf {
      p[0], POLLIN, 0
    };
    const int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (left <= 0) {
      ::kill(pid, SIGKILL);
      ADD_FAILURE() << "neurona did not finish within 120 s";
      break;
    }
    if (::poll(&pf, 1, left) < 0 && errno != EINTR) break;
    if (!(pf.revents & (POLLIN | POLLHUP))) continue;
    const ssize_t n = ::read(p[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    r.output.append(buf, static_cast<size_t>(n));
  }
  ::close(p[0]);
  int raw = 0;
  ::waitpid(pid, &raw, 0);
  r.status = decode_status(raw);
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return r;
}

// A regression set of 64 rows: y = sum of four features (fixed generator, so every run reads the
// same file).
void write_regression_csv(const fs::path& path) {
  std::mt19937 gen(5);
  std::ostringstream csv;
  csv << "a,b,c,d,y\n";
  for (int i = 0; i < 64; ++i) {
    double s = 0;
    for (int k = 0; k < 4; ++k) {
      const double v = static_cast<double>(gen() % 2001) / 1000.0 - 1.0;
      s += v;
      csv << v << ",";
    }
    csv << s << "\n";
  }
  io::write_file_atomic(path, csv.str());
}

// A config training on `csv` with a checkpoint every epoch (the pair last.* and the latest
// epoch=…-step=… pair) in `ckpt`, TensorBoard events (histograms every epoch, the loss every
// step), metrics.csv and history.csv under `runs`. Dropout and a schedule make the resume depend
// on the generator's and the schedule's saved state.
std::string train_config(const fs::path& csv, const fs::path& runs, const fs::path& ckpt, int epochs,
                         int width) {
  std::ostringstream c;
  c << "name: faults\n"
    << "seed: 7\n"
    << "data: {csv: " << csv.string() << ", target: y, split: {val: 0.25}}\n"
    << "model: {layers: [{dense: " << width << ", activation: relu}, {dropout: 0.2}, {dense: " << width
    << ", activation: relu}, {dense: 1}]}\n"
    << "compile:\n"
    << "  optimizer: {adam: {lr: 0.01}}\n"
    << "  loss: mse\n"
    << "  metrics: [mae]\n"
    << "  schedule: {step: {step_size: 3, gamma: 0.7}}\n"
    << "fit: {batch_size: 12, epochs: " << epochs << ", deterministic: true}\n"
    << "callbacks:\n"
    << "  - {model_checkpoint: {dirpath: " << ckpt.string() << ", save_last: true, every_n_epochs: 1}}\n"
    << "logging: {dir: " << runs.string()
    << ", tensorboard: true, csv: true, log_every_n_steps: 1, histogram_every_n_epochs: 1}\n";
  return c.str();
}

bool ends_with(const std::string& s, const std::string& end) {
  return s.size() >= end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  std::string f;
  std::istringstream in(line);
  while (std::getline(in, f, ',')) out.push_back(f);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

bool parses_as_number(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// What check_run_files found, summed over every check of a test.
struct FileCounts {
  int checkpoints = 0;              // *.safetensors files that loaded
  int event_files = 0;              // event files read back
  int torn_events = 0;              // event files whose last record was cut (skipped with a warning)
  int history_files = 0;            // history.csv files parsed
  int other_files = 0;              // metrics.csv, history.json, config.yaml, ... checked
  std::set<fs::path> leftover_tmp;  // <name>.tmp.<pid> of a killed process
  int torn_history_tail = 0;        // CSV files ending in an incomplete line (a kill inside a write)
  int total() const { return checkpoints + event_files + history_files + other_files; }
};

// A CSV file written by appends: a header, then complete lines of as many fields (numbers, or
// empty cells where `allow_empty`); a last line without its newline (a write cut by SIGKILL) may
// only be a prefix of a line. Returns the rows' first fields.
std::vector<std::string> check_csv(const fs::path& path, bool allow_empty, int* torn_tail) {
  const std::string text = io::read_file(path);
  std::vector<std::string> firsts;
  if (text.empty()) return firsts;  // created, killed before its first write
  std::istringstream in(text);
  std::string header;
  std::getline(in, header);
  EXPECT_TRUE(text.find('\n') != std::string::npos) << path << ": no complete header line";
  const size_t width = split_fields(header).size();
  EXPECT_GE(width, 2u) << path << ": header '" << header << "'";
  const bool complete = !text.empty() && text.back() == '\n';
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto f = split_fields(lines[i]);
    const bool last_torn = !complete && i + 1 == lines.size();
    if (last_torn) {
      ++*torn_tail;
      EXPECT_LE(f.size(), width) << path << ": torn last line '" << lines[i] << "'";
      continue;
    }
    EXPECT_EQ(f.size(), width) << path << " line " << i + 2 << ": '" << lines[i] << "' under header '"
                               << header << "'";
    for (const auto& v : f)
      EXPECT_TRUE(parses_as_number(v) || (allow_empty && v.empty()))
          << path << " line " << i + 2 << ": '" << v << "' is not a number";
    if (!f.empty()) firsts.push_back(f[0]);
  }
  return firsts;
}

// Checks every file under `root`: each checkpoint loads, each event file reads back (at most one
// torn record), history.csv and metrics.csv parse, history.json parses, config.yaml is complete,
// and a `.tmp.` file exists only for a process in `killed` and is named so that no reader opens it
// (not *.safetensors, not an event file, not one of the run files read by name).
void check_run_files(const fs::path& root, const std::set<pid_t>& killed, const std::string& config_text,
                     FileCounts& n) {
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    const fs::path& p = e.path();
    const std::string name = p.filename().string();
    const auto tmp = name.find(".tmp.");
    if (tmp != std::string::npos) {
      const pid_t pid = static_cast<pid_t>(std::atol(name.c_str() + tmp + 5));
      EXPECT_TRUE(killed.count(pid)) << p << ": temporary file of a process that was not killed";
      EXPECT_FALSE(ends_with(name, ".safetensors")) << p;
      EXPECT_EQ(name.find("tfevents"), std::string::npos) << p;
      n.leftover_tmp.insert(p);
      continue;
    }
    if (name == "d.csv" || ends_with(name, ".out") || ends_with(name, ".yaml.in"))
      continue;  // the test's own
    if (ends_with(name, ".safetensors")) {
      try {
        const auto st = io::load_safetensors(p);
        EXPECT_FALSE(st.tensors.empty() && st.metadata.empty()) << p;
        ++n.checkpoints;
      } catch (const Error& err) {
        ADD_FAILURE() << "checkpoint does not load: " << err.what();
      }
    } else if (name.find("tfevents") != std::string::npos) {
      try {
        const auto f = io::read_event_file(p);
        EXPECT_LE(f.warnings.size(), 1u) << p;
        if (!f.events.empty()) {
          EXPECT_EQ(f.events[0].file_version, "brain.Event:2") << p;
        }
        n.torn_events += f.warnings.empty() ? 0 : 1;
        ++n.event_files;
      } catch (const Error& err) {
        ADD_FAILURE() << "event file does not read back: " << err.what();
      }
    } else if (name == "history.csv") {
      const auto epochs = check_csv(p, false, &n.torn_history_tail);
      // Epochs 0, 1, 2, … in order: a resumed run starts its file with the restored rows.
      for (size_t i = 0; i < epochs.size(); ++i) EXPECT_EQ(epochs[i], std::to_string(i)) << p;
      ++n.history_files;
    } else if (name == "metrics.csv") {
      check_csv(p, true, &n.torn_history_tail);
      ++n.other_files;
    } else if (name == "history.json") {
      EXPECT_NO_THROW(train::History::from_json(io::read_file(p))) << p;
      ++n.other_files;
    } else if (name == "config.yaml") {
      const std::string text = io::read_file(p);
      EXPECT_TRUE(config_text.empty() ? !text.empty() : text == config_text) << p << ":\n" << text;
      ++n.other_files;
    } else if (name == "learning_curves.svg") {
      EXPECT_NE(io::read_file(p).find("</svg>"), std::string::npos) << p;
      ++n.other_files;
    } else if (name == "model.onnx") {
      EXPECT_GT(fs::file_size(p), 0u) << p;
      ++n.other_files;
    } else if (name == "hparams.yaml") {
      EXPECT_FALSE(io::read_file(p).empty()) << p;
      ++n.other_files;
    } else {
      ADD_FAILURE() << "unexpected file " << p;
    }
  }
}

// The newest checkpoint pair in `dir` whose weights and state are of the same step, and how many
// epochs it finished; a kill between the two writes leaves a pair that resume refuses, listed in
// `torn`.
struct ResumePoint {
  fs::path path;  // empty: none, start afresh
  int64_t epochs_done = 0;
};
ResumePoint newest_consistent_checkpoint(const fs::path& dir, std::vector<fs::path>& torn) {
  ResumePoint best;
  int64_t best_step = -1;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!ends_with(name, ".safetensors") || ends_with(name, ".state.safetensors")) continue;
    const fs::path state = dir / (name.substr(0, name.size() - 12) + ".state.safetensors");
    if (!fs::exists(state)) continue;
    const auto w = io::load_safetensors(e.path());
    const auto meta = nlohmann::json::parse(io::load_safetensors(state).metadata.at("neurona.checkpoint"));
    const auto step = meta.at("global_step").get<int64_t>();
    if (w.metadata.at("neurona.global_step") != std::to_string(step)) {
      torn.push_back(e.path());
      continue;
    }
    if (step > best_step || (step == best_step && name == "last.safetensors")) {
      best_step = step;
      best = {e.path(), meta.at("epoch").get<int64_t>() + 1};
    }
  }
  return best;
}

// The tensors of a weights file, name → bytes.
std::map<std::string, std::vector<float>> tensors_of(const fs::path& path) {
  std::map<std::string, std::vector<float>> out;
  for (const auto& nt : io::load_safetensors(path).tensors) out[nt.name] = nt.tensor.to_vector();
  return out;
}

void expect_same_bits(const std::map<std::string, std::vector<float>>& a,
                      const std::map<std::string, std::vector<float>>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (const auto& [name, va] : a) {
    ASSERT_TRUE(b.count(name)) << what << ": no " << name;
    const auto& vb = b.at(name);
    ASSERT_EQ(va.size(), vb.size()) << what << ": " << name;
    EXPECT_EQ(std::memcmp(va.data(), vb.data(), va.size() * sizeof(float)), 0) << what << ": " << name;
  }
}

// history.json of the run directory a finished run printed, every value but epoch_time.
std::map<std::string, std::vector<double>> history_of(const std::string& output) {
  std::map<std::string, std::vector<double>> out;
  const auto at = output.find("run directory: ");
  if (at == std::string::npos) {
    ADD_FAILURE() << "no run directory in:\n" << output;
    return out;
  }
  const auto end = output.find('\n', at);
  const fs::path dir = output.substr(at + 15, end - at - 15);
  const auto h = train::History::from_json(io::read_file(dir / "history.json"));
  for (const auto& k : h.keys())
    if (k != "epoch_time") out[k] = h[k];
  return out;
}

std::map<fs::path, std::string> snapshot(const fs::path& root) {
  std::map<fs::path, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) out[e.path()] = io::read_file(e.path());
  return out;
}

std::vector<fs::path> temporaries_under(const fs::path& root) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) out.push_back(e.path());
  return out;
}

// --- write_file_atomic and append_file when a write fails ----------------------------------------

// In a child process limited to 4 KiB per file: replacing a file with 8 KiB fails naming the file,
// keeps its old bytes and removes the temporary file; an append past the limit fails and is cut
// back, so the file keeps its earlier lines only. A directory read as a file names the reason.
TEST(Faults, FailedAtomicWriteKeepsTheOldFileAndNoTemporary) {
  ScratchDir dir;
  const fs::path target = dir / "run/ckpt/last.safetensors";
  const fs::path log = dir / "run/history.csv";
  io::write_file_atomic(target, "old checkpoint");
  io::append_file(log, "epoch,loss\n0,1\n");
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(p[0]);
    ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl {
      4096, 4096
    };
    std::string report;
    if (::setrlimit(RLIMIT_FSIZE, &rl) != 0) report = "setrlimit failed\n";
    try {
      io::write_file_atomic(target, std::string(8192, 'x'));
      report += "write: no error\n";
    } catch (const Error& e) {
      report += std::string("write: ") + e.what() + "\n";
    }
    try {
      io::append_file(log, std::string(5000, '1') + "\n");
      report += "append: no error\n";
    } catch (const Error& e) {
      report += std::string("append: ") + e.what() + "\n";
    }
    if (::write(p[1], report.data(), report.size()) < 0) ::_exit(2);
    ::_exit(0);
  }
  ::close(p[1]);
  std::string report;
  char buf[1024];
  for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) report.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << report;
  EXPECT_NE(report.find("write: cannot write '" + target.string() + "': File too large\n"), std::string::npos)
      << report;
  EXPECT_NE(report.find("append: cannot write '" + log.string() + "': File too large\n"), std::string::npos)
      << report;
  EXPECT_EQ(io::read_file(target), "old checkpoint");
  EXPECT_EQ(io::read_file(log), "epoch,loss\n0,1\n");
  EXPECT_TRUE(temporaries_under(dir.path()).empty());

  fs::create_directories(dir / "a_directory");
  EXPECT_ERROR_CONTAINS(io::read_file(dir / "a_directory"), "Is a directory");
  EXPECT_ERROR_CONTAINS(io::read_file(dir / "a_directory"), (dir / "a_directory").string());
}

// --- kill -9 -------------------------------------------------------------------------------------

// `neurona train` killed with SIGKILL at 50 moments drawn from a seeded generator: uniformly
// between the run's start and D * (epochs left + 1) / (epochs + 1), D the median length of the
// whole runs seen (the uninterrupted one, and fresh runs that ended before their kill), so kills
// land in start-up, training, checkpoint writes and the final writes.
// Each killed run resumes from the newest intact checkpoint pair, and each chain of runs that
// reaches the end gives the uninterrupted run's weights and history bit for bit (one thread).
// After every kill every file of the chain is checked (check_run_files); a checkpoint pair cut
// between its two writes must be refused by --resume.
TEST(Faults, KilledTrainingLeavesReadableFilesAndResumesBitExact) {
  ScratchDir dir;
  const auto t_start = Clock::now();
  const fs::path csv = dir / "d.csv";
  write_regression_csv(csv);
  constexpr int kEpochs = 16;
  constexpr int kKills = 50;

  // The uninterrupted run: the reference weights and history, and the length of a run.
  const fs::path ref = dir / "reference";
  fs::create_directories(ref);
  const std::string ref_config = train_config(csv, ref / "runs", ref / "ckpt", kEpochs, 32);
  io::write_file_atomic(ref / "c.yaml.in", ref_config);
  const CliRun full = run_cli_to_end({"train", (ref / "c.yaml.in").string(), "--threads", "1", "--quiet",
                                      "--save-weights", (ref / "final.safetensors").string()});
  ASSERT_EQ(full.status, 0) << full.output;
  const auto want_weights = tensors_of(ref / "final.safetensors");
  const auto want_history = history_of(full.output);
  ASSERT_EQ(want_history.at("loss").size(), static_cast<size_t>(kEpochs));
  // The length of a whole run: the median of the uninterrupted one and of fresh runs that ended
  // before their kill (fsync times vary several-fold on a shared disk).
  std::vector<double> whole_runs{full.seconds};
  double run_seconds = full.seconds;

  std::mt19937_64 rng(21);  // the number: the kill moments are the same on every run of the test
  FileCounts counts;
  std::set<pid_t> killed;
  int kills = 0, chains_finished = 0, chains_resumed = 0, runs = 0, resumed_runs = 0;
  bool chain_resumed = false;  // the current chain has continued a killed run
  int chain = 0;
  fs::path chain_dir;
  ResumePoint resume;
  int torn_pairs = 0;
  bool torn_pair_refused = false;
  std::string config_text;
  auto new_chain = [&] {
    chain_dir = dir / ("chain_" + std::to_string(chain++));
    fs::create_directories(chain_dir);
    config_text = train_config(csv, chain_dir / "runs", chain_dir / "ckpt", kEpochs, 32);
    io::write_file_atomic(chain_dir / "c.yaml.in", config_text);
    resume = {};
    chain_resumed = false;
  };
  // A run that reached the end: its weights and history are the uninterrupted run's.
  auto finished = [&](const std::string& output) {
    ++chains_finished;
    chains_resumed += chain_resumed ? 1 : 0;
    expect_same_bits(want_weights, tensors_of(chain_dir / "final.safetensors"), chain_dir.string());
    EXPECT_EQ(history_of(output), want_history) << chain_dir;
    check_run_files(chain_dir, killed, config_text, counts);
    new_chain();
  };
  auto args = [&] {
    std::vector<std::string> a{
        "train",          (chain_dir / "c.yaml.in").string(),        "--threads", "1", "--quiet",
        "--save-weights", (chain_dir / "final.safetensors").string()};
    if (!resume.path.empty()) a.insert(a.end(), {"--resume", resume.path.string()});
    return a;
  };
  new_chain();
  while (kills < kKills && runs < 10 * kKills) {
    ++runs;
    resumed_runs += resume.path.empty() ? 0 : 1;
    chain_resumed = chain_resumed || !resume.path.empty();
    const double left = static_cast<double>(kEpochs - resume.epochs_done + 1) / (kEpochs + 1);
    const double delay = run_seconds * left * static_cast<double>(rng() % 1000000) / 1e6;
    const fs::path out = chain_dir / ("run_" + std::to_string(runs) + ".out");
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    const pid_t pid = spawn_cli(args(), fd);
    ::close(fd);
    ASSERT_GT(pid, 0);
    const auto started = Clock::now();
    const auto deadline = started + std::chrono::duration<double>(delay);
    int raw = 0;
    pid_t done = 0;
    while ((done = ::waitpid(pid, &raw, WNOHANG)) == 0 && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    if (done == 0) {
      ::kill(pid, SIGKILL);
      ASSERT_EQ(::waitpid(pid, &raw, 0), pid);
    }
    const int status = decode_status(raw);
    if (status == 0) {  // ended before the kill
      if (resume.path.empty()) {
        whole_runs.push_back(std::chrono::duration<double>(Clock::now() - started).count());
        std::vector<double> sorted = whole_runs;
        std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
        run_seconds = sorted[sorted.size() / 2];
      }
      finished(io::read_file(out));
      continue;
    }
    ASSERT_EQ(status, -SIGKILL) << io::read_file(out);
    ++kills;
    killed.insert(pid);
    check_run_files(chain_dir, killed, config_text, counts);
    std::vector<fs::path> torn;
    resume = newest_consistent_checkpoint(chain_dir / "ckpt", torn);
    torn_pairs += static_cast<int>(torn.size());
    if (!torn.empty() && !torn_pair_refused) {  // once is enough: the check is resume's own
      torn_pair_refused = true;
      const CliRun refused =
          run_cli_to_end({"train", (chain_dir / "c.yaml.in").string(), "--quiet", "--resume",
                          torn[0].string(), "--set", "logging.dir=" + (dir / "refused").string()});
      EXPECT_EQ(refused.status, 1) << refused.output;
      EXPECT_NE(refused.output.find("(a write was cut short); resume from another checkpoint"),
                std::string::npos)
          << refused.output;
    }
  }
  ASSERT_EQ(kills, kKills);
  // The last chain runs to its end.
  const CliRun last = run_cli_to_end(args());
  ASSERT_EQ(last.status, 0) << last.output;
  finished(last.output);
  EXPECT_GE(chains_resumed, 1);
  EXPECT_GE(resumed_runs, kKills / 4);  // runs continued killed ones (about 45 of 50 here)
  const double seconds = std::chrono::duration<double>(Clock::now() - t_start).count();
  std::set<std::string> tmp_kinds;  // the files the leftover temporaries were to become
  for (const auto& p : counts.leftover_tmp) {
    const std::string name = p.filename().string();
    tmp_kinds.insert(name.substr(0, name.find(".tmp.")));
  }
  std::string kinds;
  for (const auto& k : tmp_kinds) kinds += (kinds.empty() ? "" : ", ") + k;
  std::cout << "[faults] kill -9: " << kills << " kills survived in " << runs << " runs (" << resumed_runs
            << " resumed from a checkpoint); " << chains_finished << " chains finished (" << chains_resumed
            << " after kills and resumes), each bit-identical to the uninterrupted run (" << full.seconds
            << " s; kill delays scaled to the median whole run, " << run_seconds
            << " s); file checks (every file of the chain after each kill): " << counts.total() << " ("
            << counts.checkpoints << " safetensors, " << counts.event_files << " event files of which "
            << counts.torn_events << " with a torn last record, " << counts.history_files << " history.csv, "
            << counts.other_files << " other); " << counts.leftover_tmp.size()
            << " leftover .tmp files of killed processes (of " << kinds << "); " << counts.torn_history_tail
            << " torn CSV tails; " << torn_pairs
            << " times a checkpoint pair was found cut between its two files"
            << (torn_pair_refused ? " (resume refused one)" : "") << "; " << seconds << " s\n";
}

// --- full disk -----------------------------------------------------------------------------------

// A run trains two epochs and leaves its checkpoints and run files. A second run resumes from
// them, writing its checkpoints into the same folder, with files limited to 48 KiB: its first
// checkpoint (the state file, over 64 KiB) cannot be written. It must exit with status 1 and an error
// naming that file, leave every file of the first run byte for byte as it was and no temporary
// file; the first run's checkpoint still resumes.
TEST(Faults, FullDiskFailsTheCheckpointWriteNamingItAndKeepsThePreviousFiles) {
  ScratchDir dir;
  const fs::path csv = dir / "d.csv";
  write_regression_csv(csv);
  const fs::path ckpt = dir / "ckpt";
  const std::string config = train_config(csv, dir / "runs", ckpt, 2, 128);
  io::write_file_atomic(dir / "c.yaml.in", config);
  const std::string cfg = (dir / "c.yaml.in").string();
  const CliRun first = run_cli_to_end({"train", cfg, "--threads", "1", "--quiet"});
  ASSERT_EQ(first.status, 0) << first.output;
  ASSERT_TRUE(fs::exists(ckpt / "last.safetensors"));
  ASSERT_GT(fs::file_size(ckpt / "last.state.safetensors"), 64u * 1024u);  // beyond the limit below
  const auto before = snapshot(dir.path());

  const std::vector<std::string> resume{"train",
                                        cfg,
                                        "--threads",
                                        "1",
                                        "--quiet",
                                        "--set",
                                        "fit.epochs=4",
                                        "--resume",
                                        (ckpt / "last.safetensors").string()};
  const CliRun full = run_cli_to_end(resume, 48 * 1024);
  EXPECT_EQ(full.status, 1) << full.output;
  EXPECT_NE(full.output.find("neurona: error: cannot write '" + (ckpt / "last.state.safetensors").string() +
                             "': File too large"),
            std::string::npos)
      << full.output;
  EXPECT_EQ(full.output.find("internal error"), std::string::npos) << full.output;
  for (const auto& [path, bytes] : before) {
    ASSERT_TRUE(fs::exists(path)) << path;
    EXPECT_TRUE(io::read_file(path) == bytes) << path << " changed";
  }
  EXPECT_TRUE(temporaries_under(dir.path()).empty());
  // The failed run's own files (version_1) read back too.
  FileCounts counts;
  check_run_files(dir.path(), {}, "", counts);
  EXPECT_GE(counts.event_files, 2);

  const CliRun again = run_cli_to_end(resume);
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("epochs run: 4 of 4"), std::string::npos) << again.output;
}

// The same limit at sizes from 256 bytes to 1 MiB, doubling, on a run with every writer on
// (config, hparams, events, metrics.csv, MLflow, history, checkpoints, the model and ONNX
// files): whichever write fails first, the command exits with status 1 and an error naming a file
// of the run and "File too large" (never a crash or an internal error), leaves no temporary file,
// and every file it did write reads back.
TEST(Faults, FileSizeLimitAtAnySizeIsAnErrorNamingTheFile) {
  ScratchDir dir;
  const fs::path csv = dir / "d.csv";
  write_regression_csv(csv);
  int failed = 0, passed = 0;
  std::set<std::string> failing_files;
  for (long limit = 256; limit <= 1024 * 1024; limit *= 2) {
    const fs::path run = dir / ("limit_" + std::to_string(limit));
    fs::create_directories(run);
    std::string config = train_config(csv, run / "runs", run / "ckpt", 2, 64);
    config.replace(config.find("csv: true"), 9, "csv: true, mlflow: true, onnx: true");
    io::write_file_atomic(run / "c.yaml.in", config);
    const CliRun r = run_cli_to_end({"train", (run / "c.yaml.in").string(), "--threads", "1", "--quiet",
                                     "--save-weights", (run / "w.safetensors").string()},
                                    limit);
    EXPECT_TRUE(r.status == 0 || r.status == 1) << "limit " << limit << ": status " << r.status << "\n"
                                                << r.output;
    EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
    if (r.status == 1) {
      ++failed;
      const auto at = r.output.find("neurona: error: ");
      ASSERT_NE(at, std::string::npos) << r.output;
      const std::string message = r.output.substr(at, r.output.find('\n', at) - at);
      EXPECT_NE(message.find("File too large"), std::string::npos) << message;
      const auto quote = message.find("'" + run.string());
      EXPECT_NE(quote, std::string::npos) << "the error names no file of the run: " << message;
      if (quote != std::string::npos)
        failing_files.insert(fs::path(message.substr(quote + 1, message.find('\'', quote + 1) - quote - 1))
                                 .filename()
                                 .string());
    } else {
      ++passed;
    }
    EXPECT_TRUE(temporaries_under(run).empty()) << "limit " << limit;
    FileCounts counts;
    if (fs::exists(run / "ckpt")) check_run_files(run / "ckpt", {}, config, counts);
    if (fs::exists(run / "runs" / "faults"))
      for (const auto& v : fs::directory_iterator(run / "runs" / "faults")) {
        std::error_code ec;
        if (fs::exists(v.path() / "config.yaml", ec)) check_run_files(v.path(), {}, config, counts);
      }
  }
  std::string files;
  for (const auto& f : failing_files) files += " " + f;
  std::cout << "[faults] file size limit: " << failed << " runs failed with an error naming the file, "
            << passed << " passed; files whose write failed:" << files << "\n";
  EXPECT_GE(failed, 4);
  EXPECT_GE(passed, 1);  // 1 MiB is enough for the whole run
  EXPECT_GE(failing_files.size(), 3u);
}

// The writers that grow a file during the run: the event file (written at the end here, in one
// flush) and history.csv (one append per epoch). Each is made the one file that passes the limit
// (half its size in an unlimited run, more than any file written before it): the command exits
// with status 1 and an error naming that file, the event file's complete records read back, and
// history.csv holds whole lines only (the failed append is cut back off).
TEST(Faults, GrowingRunFilesPastTheLimitAreErrorsNamingThem) {
  ScratchDir dir;
  const fs::path csv = dir / "d.csv";
  write_regression_csv(csv);
  struct Case {
    std::string name, logging;
    int epochs;
  };
  const std::vector<Case> cases = {
      {"events", "tensorboard: true, csv: false, log_every_n_steps: 1, histogram_every_n_epochs: 1", 30},
      {"history", "tensorboard: false, csv: false", 300},
  };
  for (const auto& c : cases) {
    auto run = [&](const std::string& tag, long limit) {
      const fs::path root = dir / (c.name + "_" + tag);
      std::ostringstream config;
      config
          << "name: " << c.name << "\nseed: 1\ndata: {csv: " << csv.string()
          << ", target: y, split: {val: 0.25}}\nmodel: {layers: [{dense: 4, activation: relu}, {dense: 1}]}\n"
          << "compile: {optimizer: adam, loss: mse}\nfit: {batch_size: 16, epochs: " << c.epochs
          << "}\nlogging: {dir: " << (root / "runs").string() << ", " << c.logging << "}\n";
      fs::create_directories(root);
      io::write_file_atomic(root / "c.yaml.in", config.str());
      return std::make_pair(root / "runs" / c.name / "version_0",
                            run_cli_to_end({"train", (root / "c.yaml.in").string(), "--quiet"}, limit));
    };
    const auto [free_dir, free] = run("free", -1);
    ASSERT_EQ(free.status, 0) << free.output;
    fs::path grown;  // the file the case is about, and the largest other file written before it ends
    uintmax_t others = 0;
    for (const auto& e : fs::directory_iterator(free_dir)) {
      const std::string name = e.path().filename().string();
      const bool target =
          c.name == "events" ? name.find("tfevents") != std::string::npos : name == "history.csv";
      if (target) grown = e.path();
      if (!target && (name == "config.yaml" || name == "hparams.yaml"))
        others = std::max(others, e.file_size());
    }
    ASSERT_FALSE(grown.empty()) << c.name;
    const long limit = static_cast<long>(fs::file_size(grown) / 2);
    ASSERT_GT(static_cast<uintmax_t>(limit), others) << c.name << ": the limit must cut " << grown.filename();

    const auto [cut_dir, cut] = run("cut", limit);
    EXPECT_EQ(cut.status, 1) << cut.output;
    EXPECT_EQ(cut.output.find("internal error"), std::string::npos) << cut.output;
    EXPECT_TRUE(temporaries_under(cut_dir).empty());
    if (c.name == "events") {
      const auto files = io::find_event_files(cut_dir);
      ASSERT_EQ(files.size(), 1u);
      EXPECT_NE(cut.output.find("neurona: error: cannot write event file '" + files[0].string() +
                                "': File too large"),
                std::string::npos)
          << cut.output;
      const auto f = io::read_event_file(files[0]);  // throws on a CRC error
      EXPECT_LE(f.warnings.size(), 1u);
      EXPECT_GE(f.events.size(), 2u);
    } else {
      const fs::path history = cut_dir / "history.csv";
      EXPECT_NE(cut.output.find("neurona: error: cannot write '" + history.string() + "': File too large"),
                std::string::npos)
          << cut.output;
      int torn = 0;
      const auto epochs = check_csv(history, false, &torn);
      EXPECT_EQ(torn, 0) << "the failed append left part of a line";
      EXPECT_GE(epochs.size(), 10u);
      const std::string text = io::read_file(history);
      EXPECT_EQ(text.back(), '\n');
      EXPECT_LE(text.size(), static_cast<size_t>(limit));
      for (size_t i = 0; i < epochs.size(); ++i) EXPECT_EQ(epochs[i], std::to_string(i));  // the first epochs
    }
  }
}

// --- inputs that vanish or are not files ---------------------------------------------------------

// A data file that does not exist, or a directory where a file is named: `neurona train` exits
// with status 1 and an error naming the path, never "internal error". (The tests run as root,
// for whom chmod 000 changes nothing, so unreadable means a directory here.)
TEST(Faults, MissingOrDirectoryInputIsAnErrorNamingIt) {
  ScratchDir dir;
  const fs::path csv = dir / "d.csv";
  write_regression_csv(csv);
  const fs::path folder = dir / "folder";
  fs::create_directories(folder / "train-images-idx3-ubyte");
  fs::create_directories(folder / "train-labels-idx1-ubyte");
  const fs::path gone = dir / "gone.csv";
  const std::string base =
      "name: inputs\nmodel: {layers: [{dense: 4, activation: relu}, {dense: 1}]}\n"
      "compile: {optimizer: adam, loss: mse}\nfit: {epochs: 1}\n";
  auto config_with = [&](const std::string& data) {
    static int k = 0;
    const fs::path p = dir / ("c" + std::to_string(k++) + ".yaml.in");
    io::write_file_atomic(p, base + "data: " + data + "\n");
    return p.string();
  };
  auto target_csv = [](const fs::path& p) { return "{csv: " + p.string() + ", target: y}"; };
  struct Case {
    std::vector<std::string> args;
    std::string names;     // the path the error must name
    std::string fragment;  // and what it must say about it
  };
  const std::string d = csv.string();
  const std::vector<Case> cases = {
      {{"train", config_with(target_csv(gone))}, gone.string(), "no such file"},
      {{"train", config_with(target_csv(folder))}, folder.string(), "is a directory"},
      {{"train", config_with("{csv: " + d + ", target: y, val_csv: " + folder.string() + "}")},
       folder.string(),
       "is a directory"},
      {{"train", config_with("{csv: " + d + ", target: y, test_csv: " + gone.string() + "}")},
       gone.string(),
       "no such file"},
      {{"train", config_with("{npy: {x: " + folder.string() + ", y: " + gone.string() + "}}")},
       folder.string(),
       "is a directory"},
      {{"train", config_with("{npy: {x: " + (dir / "x.npy").string() + ", y: " + gone.string() + "}}")},
       (dir / "x.npy").string(),
       "no such file"},
      {{"train", config_with("{idx: " + folder.string() + "}")},
       folder.string() + "/train-",
       "is a directory, not an IDX file"},
      {{"train", config_with("{images: " + gone.string() + "}")}, gone.string(), ""},
      {{"train", folder.string()}, folder.string(), "Is a directory"},
      {{"train", config_with(target_csv(csv)), "--init-weights", folder.string()},
       folder.string(),
       "Is a directory"},
      {{"train", config_with(target_csv(csv)), "--resume", (dir / "none.safetensors").string()},
       (dir / "none.safetensors").string(),
       "No such file or directory"},
      {{"train", config_with(target_csv(csv)), "--resume", folder.string()},
       folder.string(),
       "Is a directory"},
  };
  for (const auto& c : cases) {
    std::string cmd;
    for (const auto& a : c.args) cmd += " " + a;
    const CliRun r = run_cli_to_end(c.args);
    EXPECT_EQ(r.status, 1) << cmd << "\n" << r.output;
    EXPECT_NE(r.output.find("neurona: error: "), std::string::npos) << cmd << "\n" << r.output;
    EXPECT_NE(r.output.find(c.names), std::string::npos) << cmd << "\n" << r.output;
    EXPECT_NE(r.output.find(c.fragment), std::string::npos) << cmd << "\n" << r.output;
    EXPECT_EQ(r.output.find("internal error"), std::string::npos) << cmd << "\n" << r.output;
  }

  // A file that was there when the config was read and is gone (or became a directory) when
  // the data is loaded.
  const fs::path moving = dir / "moving.csv";
  fs::copy_file(csv, moving);
  const app::Config config = app::parse_config(base + "data: " + target_csv(moving) + "\n", "inputs.yaml");
  fs::remove(moving);
  EXPECT_ERROR_CONTAINS(app::load_data(config), moving.string() + ": cannot open file: no such file");
  fs::create_directories(moving);
  EXPECT_ERROR_CONTAINS(app::load_data(config), moving.string() + ": cannot open file: it is a directory");
}

}  // namespace
}  // namespace neurona::testing
