// The `neurona` command: train, evaluate, predict, summary, lr-find and sweep from a config file
// (src/app/config.cpp, build.cpp, sweep.cpp), export to ONNX, and devices.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "neurona/app/config.hpp"
#include "neurona/app/onnx_export.hpp"
#include "neurona/app/serve.hpp"
#include "neurona/app/sweep.hpp"
#include "neurona/neurona.hpp"

namespace {

using namespace neurona;

const char* kUsage =
    "usage: neurona <command> [options]\n"
    "\n"
    "commands:\n"
    "  train CONFIG      train the model of a config file and print its metrics\n"
    "  evaluate CONFIG   loss and metrics of saved weights on the config's data or a CSV file\n"
    "  predict CONFIG    predictions of saved weights for a CSV file\n"
    "  export CONFIG     saved weights as an ONNX file (onnxruntime and other ONNX tools run it)\n"
    "  summary CONFIG    the model's layers, output shapes and parameter counts\n"
    "  lr-find CONFIG    the learning-rate range test: loss per learning rate and a suggestion\n"
    "  sweep CONFIG      a grid or random search: trains a trial per setting, ranks them by a metric\n"
    "  serve             the web app: Playground, learning-rate explorer, run dashboard (--port, --logdir, "
    "--host)\n"
    "  devices           what this CPU offers: cores, AVX2/AVX-512/bf16, threads in use, GEMM library\n"
    "\n"
    "options:\n"
    "  --help            this text (or `neurona <command> --help`)\n"
    "  --version         the Neurona version\n"
    "\n"
    "Config files are YAML (JSON works too); docs/config.md lists every key.\n";

const std::map<std::string, std::string> kCommandUsage = {
    {"train",
     "usage: neurona train CONFIG [--set KEY=VALUE]... [--init-weights FILE] [--save-weights FILE]\n"
     "                     [--resume CKPT] [--threads N] [--quiet]\n"
     "\n"
     "Trains the model of CONFIG, prints one line per epoch and the final metrics.\n"
     "  --set KEY=VALUE      override a key of the file, e.g. --set compile.optimizer.adam.lr=0.01\n"
     "  --init-weights FILE  start from these weights (safetensors; names and shapes must match)\n"
     "  --save-weights FILE  write the trained weights, scalers and CSV schema (safetensors)\n"
     "  --resume CKPT        continue from a checkpoint written by model_checkpoint or Ctrl-C\n"
     "  --threads N          use N threads (default: NEURONA_NUM_THREADS or all cores)\n"
     "  --quiet              no per-epoch lines\n"},
    {"evaluate",
     "usage: neurona evaluate CONFIG --weights FILE [--csv FILE] [--confusion-matrix] [--set KEY=VALUE]...\n"
     "                        [--threads N]\n"
     "\n"
     "Prints loss and metrics of the weights on each split of the config's data, or on --csv FILE.\n"
     "With model: {from: FILE.onnx} the ONNX file's weights are used when --weights is not given.\n"
     "  --confusion-matrix  after each split's metrics, its confusion matrix of a classifier: one row per\n"
     "                      true class, one column per predicted class, labelled with the class names\n"},
    {"predict",
     "usage: neurona predict CONFIG --weights FILE --input FILE.csv --output FILE.csv [--set KEY=VALUE]...\n"
     "\n"
     "Writes the model's predictions for every row of --input ('-' reads standard input, '-' as\n"
     "--output writes standard output), encoded and scaled as in training. With model: {from:\n"
     "FILE.onnx} the ONNX file's weights are used when --weights is not given.\n"},
    {"export",
     "usage: neurona export CONFIG --weights FILE --output FILE.onnx [--opset N] [--with-preprocessing]\n"
     "                      [--set KEY=VALUE]...\n"
     "\n"
     "Writes the config's model with the weights as ONNX (docs/onnx.md): input 'input' [batch, …],\n"
     "output 'output'.\n"
     "  --opset N             the ONNX opset, 11 to 21 (default 17, IR version 8)\n"
     "  --with-preprocessing  include the weights' scalers in front and predict's softmax, sigmoid or\n"
     "                        exp at the end: the file gives what `neurona predict` gives from the\n"
     "                        encoded CSV features\n"},
    {"summary",
     "usage: neurona summary CONFIG [--set KEY=VALUE]...\n"
     "\n"
     "Prints the model's layers, output shapes and parameter counts, and what it will train with.\n"},
    {"lr-find",
     "usage: neurona lr-find CONFIG [--set KEY=VALUE]... [--threads N]\n"
     "\n"
     "Trains for a few steps while the learning rate grows from lr_find.min_lr to lr_find.max_lr,\n"
     "prints the loss at each and suggests the learning rate where it falls fastest.\n"},
    {"sweep",
     "usage: neurona sweep CONFIG (--grid KEY=[V1,V2,...]... | --random N --space KEY=SPACE...)\n"
     "                     [--jobs J] [--metric NAME] [--mode min|max] [--prune median] [--seed S]\n"
     "                     [--set KEY=VALUE]... [--threads N]\n"
     "\n"
     "Trains one trial per setting of the swept keys (the config with them set, as --set does), J at a\n"
     "time with N/J threads each, in <logging.dir>/<name>/trial_<k>/, then prints the trials sorted by\n"
     "the metric and writes sweep.csv and best.yaml (the best trial's config) beside them. A failed\n"
     "trial is recorded and the others go on; after Ctrl-C the same command resumes the sweep.\n"
     "The config's sweep: section gives the same keys; flags override it.\n"
     "  --grid KEY=[V1,V2,...]  every combination of the listed values (repeat for more keys)\n"
     "  --random N              N trials sampled from the --space keys (seeded by the config's seed)\n"
     "  --space KEY=SPACE       choice(a,b,...), uniform(a,b), loguniform(a,b) or int(a,b)\n"
     "  --jobs J                trials at a time (default 1)\n"
     "  --metric NAME           the logged value trials are ranked by, at its best epoch (default val_loss)\n"
     "  --mode min|max          whether lower or higher is better (default: from the name, as monitors)\n"
     "  --prune median          stop a trial worse than the finished trials' median at the same epoch\n"
     "  --prune-warmup E        epochs before a trial may be pruned (default 5)\n"
     "  --prune-min-trials M    finished trials needed before pruning starts (default 3)\n"
     "  --seed S                added to the config's seed for sampling (default 0)\n"},
    {"devices",
     "usage: neurona devices\n\nWhat this CPU offers: cores, AVX2/AVX-512/bf16, threads in use, GEMM "
     "library.\n"},
};

struct Args {
  std::string config;
  std::vector<std::string> sets;
  std::map<std::string, std::string> values;  // --weights FILE, …
  std::vector<std::string> flags;             // --quiet, … as given
  // Every --key value in order, for options given more than once (sweep's --grid and --space).
  std::vector<std::pair<std::string, std::string>> all;
  std::string get(const std::string& key) const {
    auto it = values.find(key);
    return it == values.end() ? "" : it->second;
  }
  bool has(const std::string& flag) const {
    return std::find(flags.begin(), flags.end(), flag) != flags.end();
  }
};

// Parses `argv[2…]` for `command`; `with_value` are the options taking a value, `flags` those
// taking none.
Args parse_args(const std::string& command, int argc, char** argv, const std::vector<std::string>& with_value,
                const std::vector<std::string>& flags = {}) {
  Args a;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--set") {
      check(i + 1 < argc, command, ": --set needs KEY=VALUE");
      a.sets.push_back(argv[++i]);
    } else if (arg.rfind("--set=", 0) == 0) {
      a.sets.push_back(arg.substr(6));
    } else if (arg.size() > 2 && std::find(flags.begin(), flags.end(), arg.substr(2)) != flags.end()) {
      a.flags.push_back(arg.substr(2));
    } else if (arg.size() > 2 && arg.rfind("--", 0) == 0) {
      std::string key = arg.substr(2), value;
      const auto eq = key.find('=');
      bool inline_value = eq != std::string::npos;
      if (inline_value) value = key.substr(eq + 1), key = key.substr(0, eq);
      if (std::find(with_value.begin(), with_value.end(), key) == with_value.end()) {
        std::vector<std::string> known = with_value;
        known.push_back("set");
        known.insert(known.end(), flags.begin(), flags.end());
        fail(command, ": unknown option '--", key, "'", did_you_mean(key, known), " (try 'neurona ", command,
             " --help')");
      }
      if (!inline_value) {
        check(i + 1 < argc, command, ": --", key, " needs a value");
        value = argv[++i];
      }
      a.values[key] = value;
      a.all.emplace_back(key, value);
    } else if (a.config.empty()) {
      a.config = arg;
    } else {
      fail(command, ": unexpected argument '", arg, "' (try 'neurona ", command, " --help')");
    }
  }
  check(!a.config.empty(), command, ": missing CONFIG (try 'neurona ", command, " --help')");
  if (!a.get("threads").empty()) {
    int n = 0;
    try {
      n = std::stoi(a.get("threads"));
    } catch (const std::exception&) {
    }
    check(n >= 1, command, ": --threads must be a whole number >= 1, got '", a.get("threads"), "'");
    set_num_threads(n);
  }
  return a;
}

std::string fmt(double v) { return format_number(v, 6); }

std::string logs_line(const train::Logs& logs) {
  std::string s;
  for (const auto& [k, v] : logs) {
    if (k == "epoch_time") continue;
    s += (s.empty() ? "" : "  ") + k + "=" + fmt(v);
  }
  return s;
}

int cmd_train(int argc, char** argv) {
  const Args a =
      parse_args("train", argc, argv, {"init-weights", "save-weights", "resume", "threads"}, {"quiet"});
  const app::Config config = app::load_config(a.config, a.sets);
  // Started by mpirun or srun: one of several data-parallel processes (unless fit.strategy says
  // single). Each takes its share of the cores unless told, and rank 0 alone prints.
  bool quiet_rank = false;
  if (dist::launched_by_mpi() && config.fit.strategy != "single") {
    dist::Communicator& world = dist::Communicator::world();
    if (a.get("threads").empty() && std::getenv("NEURONA_NUM_THREADS") == nullptr && world.local_size() > 1)
      set_num_threads(
          std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / world.local_size()));
    quiet_rank = !world.is_root();
  }
  app::TrainRequest req;
  req.init_weights = a.get("init-weights");
  req.save_weights = a.get("save-weights");
  req.resume = a.get("resume");
  req.verbose = a.has("quiet") || quiet_rank ? 0 : config.fit.verbose;
  const app::TrainResult r = app::run_training(config, req);
  if (quiet_rank) return 0;

  const train::History& h = r.history;
  std::cout << "epochs run: " << h.size() << " of " << config.fit.epochs << "\n";
  train::Logs last;
  for (const auto& key : h.keys()) last[key] = h[key].back();
  std::cout << "final: " << logs_line(last) << "\n";
  // The weights saved are the net's at the end of fit: say whose they are, then the raw best of the
  // monitored value, which EarlyStopping's min_delta can put at another epoch.
  std::cout << "weights saved: epoch " << r.saved_epoch
            << (r.saved_restored ? " (EarlyStopping restored its best epoch)" : " (the last)");
  if (!std::isnan(r.saved_value)) std::cout << ", " << r.saved_monitor << "=" << fmt(r.saved_value);
  std::cout << "\n";
  if (h.has(r.saved_monitor) && !h[r.saved_monitor].empty()) {
    const auto& values = h[r.saved_monitor];
    const bool maximize = train::infer_mode(r.saved_monitor) == "max";
    size_t best = 0;
    for (size_t i = 1; i < values.size(); ++i)
      if (maximize ? values[i] > values[best] : values[i] < values[best]) best = i;
    std::cout << (maximize ? "highest " : "lowest ") << r.saved_monitor << ": " << fmt(values[best])
              << " at epoch " << best + 1 << "\n";
  }
  if (!r.restart_scores.empty()) {
    for (size_t i = 0; i < r.restart_scores.size(); ++i)
      std::cout << "restart " << i + 1 << " (seed " << config.seed + i << "): best " << config.restart_monitor
                << " " << fmt(r.restart_scores[i])
                << (static_cast<int>(i) == r.best_restart ? "  <- kept" : "") << "\n";
  }
  if (!r.test.empty()) std::cout << "test: " << logs_line(r.test) << "\n";
  if (!r.log_dir.empty()) std::cout << "run directory: " << r.log_dir.string() << "\n";
  if (!req.save_weights.empty()) std::cout << "weights: " << req.save_weights.string() << "\n";
  return 0;
}

// The config's model with the weights of --weights loaded, and the weights' metadata. With
// `new_data` (the command reads its rows from another CSV file) the training data is not read
// when the weights hold the CSV schema: the model is usable with its config, weights and new data.
struct Loaded {
  app::Config config;
  std::optional<app::PreparedData> data;  // the config's data; absent when not read
  std::shared_ptr<nn::Sequential> net;
  app::WeightsMetadata meta;
  Shape input;  // one sample's shape
};
Loaded load_model(const std::string& command, const Args& a, bool new_data) {
  Loaded l;
  l.config = app::load_config(a.config, a.sets);
  // A model imported from ONNX (model.from) brings its weights; --weights may replace them.
  if (a.get("weights").empty() && !l.config.model_from.empty()) {
    l.data = app::load_data(l.config);
    l.input = l.data->input_shape;
    l.net = app::build_model(l.config, l.input);
    l.meta.x_scaler = l.data->x_scaler;
    l.meta.y_scaler = l.data->y_scaler;
    l.meta.schema = l.data->schema;
    l.meta.task = l.data->task;
    return l;
  }
  check(!a.get("weights").empty(), command, ": missing --weights FILE (try 'neurona ", command, " --help')");
  const app::WeightsFile weights = app::read_weights(a.get("weights"));
  l.meta = weights.meta;
  if (new_data && l.meta.schema) {
    l.input = app::input_shape_of(*l.meta.schema);
  } else {
    l.data = app::load_data(l.config);
    l.input = l.data->input_shape;
  }
  l.net = app::build_model(l.config, l.input);
  app::load_weights(weights, *l.net);
  return l;
}

int cmd_evaluate(int argc, char** argv) {
  const Args a = parse_args("evaluate", argc, argv, {"weights", "csv", "threads"}, {"confusion-matrix"});
  Loaded l = load_model("evaluate", a, !a.get("csv").empty());
  train::Model model(l.net);
  model.compile(app::compile_options(l.config, l.net.get()));
  const int64_t bs = l.config.fit.batch_size;
  // One split: its metrics line and, when asked, its confusion matrix.
  // Image data are seen as in validation: data.augment's evaluation form (normalize, centre crop).
  const auto eval = l.data ? l.data->eval_transform() : nullptr;
  auto report = [&](const std::string& split, const data::TensorDataset& d) {
    std::cout << split << ": " << logs_line(model.evaluate(d, bs, eval)) << "\n";
    if (!a.has("confusion-matrix")) return;
    const Tensor x = eval ? eval->evaluate(d.features()) : d.features();
    const nn::metrics::ConfusionMatrix cm =
        app::confusion_matrix(model.predict(x, 1024), d.targets(), l.config, l.meta);
    std::cout << split << " confusion matrix (rows: true class, columns: predicted):\n"
              << cm.table(app::class_names(l.meta, cm.num_classes));
  };
  if (!a.get("csv").empty()) {
    const app::Table t = app::read_table(a.get("csv"), l.config, l.meta);
    check(t.y.defined(), "evaluate: ", a.get("csv"), " has no target column");
    report(a.get("csv"), data::TensorDataset(t.x, t.y));
    return 0;
  }
  report("train", l.data->train);
  if (l.data->val) report("val", *l.data->val);
  if (l.data->test) report("test", *l.data->test);
  return 0;
}

int cmd_predict(int argc, char** argv) {
  const Args a = parse_args("predict", argc, argv, {"weights", "input", "output", "threads"});
  check(!a.get("input").empty(), "predict: missing --input FILE.csv ('-' for standard input)");
  check(!a.get("output").empty(), "predict: missing --output FILE.csv ('-' for standard output)");
  Loaded l = load_model("predict", a, true);
  train::Model model(l.net);
  model.compile(app::compile_options(l.config, l.net.get()));
  const app::Table t = app::read_table(a.get("input"), l.config, l.meta);
  const std::string csv = app::predictions_csv(model.predict(t.x, 1024), l.config, l.meta);
  if (a.get("output") == "-")
    std::cout << csv;
  else
    io::write_file_atomic(a.get("output"), csv);
  return 0;
}

int cmd_export(int argc, char** argv) {
  const Args a = parse_args("export", argc, argv, {"weights", "output", "opset"}, {"with-preprocessing"});
  check(!a.get("output").empty(), "export: missing --output FILE.onnx");
  int64_t opset = 17;
  if (!a.get("opset").empty()) {
    const std::string& s = a.get("opset");
    check(!s.empty() && s.find_first_not_of("0123456789") == std::string::npos && s.size() < 4,
          "export: --opset takes a number, got '", s, "'");
    opset = std::stoll(s);
  }
  Loaded l = load_model("export", a, true);
  const auto dims = l.input.dims();
  io::export_onnx(*l.net, std::vector<int64_t>(dims.begin(), dims.end()), a.get("output"),
                  app::onnx_export_options(l.config, l.meta, opset, a.has("with-preprocessing")));
  std::cout << "wrote " << a.get("output") << " (opset " << opset << ")\n";
  return 0;
}

int cmd_summary(int argc, char** argv) {
  const Args a = parse_args("summary", argc, argv, {});
  const app::Config c = app::load_config(a.config, a.sets);
  const app::PreparedData d = app::load_data(c);
  auto net = app::build_model(c, d.input_shape);
  app::apply_model_transfer(c, *net);  // model.freeze shows as non-trainable parameters
  std::cout << nn::summary(*net, d.input_shape, c.name);
  std::string opt = c.compile.optimizer.kind;
  std::string args;
  for (const auto& [k, v] : c.compile.optimizer.options) args += (args.empty() ? "" : ", ") + k + "=" + v;
  std::cout << "optimizer: " << opt << (args.empty() ? "" : " (" + args + ")") << "\n";
  std::cout << "loss: " << c.compile.loss.kind;
  std::string metrics;
  for (const auto& m : c.compile.metrics) metrics += (metrics.empty() ? "" : ", ") + m;
  std::cout << (metrics.empty() ? "" : "  metrics: " + metrics) << "\n";
  if (c.compile.schedule)
    std::cout << "schedule: " << c.compile.schedule->kind << " (per " << c.compile.interval << ")\n";
  std::cout << "data: " << d.task << ", " << d.train.size() << " training samples"
            << (d.val ? ", " + std::to_string(d.val->size()) + " validation" : "")
            << (d.test ? ", " + std::to_string(d.test->size()) + " test" : "") << ", input " << d.input_shape
            << "\n";
  std::cout << "fit: " << c.fit.epochs << " epochs, batch size " << c.fit.batch_size;
  for (const auto& cb : c.callbacks) std::cout << ", " << cb.kind;
  std::cout << "\n";
  return 0;
}

int cmd_lr_find(int argc, char** argv) {
  const Args a = parse_args("lr-find", argc, argv, {"threads"});
  const app::Config c = app::load_config(a.config, a.sets);
  const optim::LRFinderResult r = app::run_lr_find(c);
  std::cout << r.table();
  if (r.suggestion_index < 0) std::cout << "no suggestion: too few points (raise lr_find.num_training)\n";
  return 0;
}

// The flags of `neurona sweep` override the config's sweep: section; --grid or --space replaces
// its search.
int cmd_sweep(int argc, char** argv) {
  const Args a = parse_args("sweep", argc, argv,
                            {"grid", "random", "space", "jobs", "metric", "mode", "prune", "prune-warmup",
                             "prune-min-trials", "seed", "threads"});
  app::Config config = app::load_config(a.config, a.sets);
  app::SweepConfig& s = config.sweep;
  auto whole = [&](const std::string& flag) {
    const std::string v = a.get(flag);
    int64_t n = 0;
    size_t used = 0;
    try {
      n = std::stoll(v, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    check(used > 0 && used == v.size(), "sweep: --", flag, " takes a whole number, got '", v, "'");
    return n;
  };
  bool replaced = false;
  for (const auto& [flag, value] : a.all) {
    if (flag != "grid" && flag != "space") continue;
    if (!replaced) s.grid.clear(), s.space.clear(), s.random = 0, replaced = true;
    const auto eq = value.find('=');
    check(eq != std::string::npos && eq > 0, "sweep: --", flag,
          " expects KEY=", flag == "grid" ? "[v1, v2, …]" : "loguniform(a, b)", ", got '", value, "'");
    if (flag == "grid")
      s.grid.push_back(app::parse_sweep_grid(value.substr(0, eq), value.substr(eq + 1), "--grid"));
    else
      s.space.push_back(app::parse_sweep_space(value.substr(0, eq), value.substr(eq + 1), "--space"));
  }
  if (!a.get("random").empty()) s.random = whole("random");
  if (!a.get("jobs").empty()) s.jobs = whole("jobs");
  if (!a.get("metric").empty()) s.metric = a.get("metric");
  if (!a.get("mode").empty()) s.mode = a.get("mode");
  if (!a.get("prune").empty()) s.prune = a.get("prune");
  if (!a.get("prune-warmup").empty()) s.prune_warmup = whole("prune-warmup");
  if (!a.get("prune-min-trials").empty()) s.prune_min_trials = whole("prune-min-trials");
  app::SweepRequest req;
  req.config = a.config;
  req.sets = a.sets;
  if (!a.get("seed").empty()) req.seed = static_cast<uint64_t>(whole("seed"));
  const app::SweepResult r = app::run_sweep(config, req);
  std::cout << "\n" << r.table;
  int done = 0;
  for (const auto& t : r.trials)
    done += t.status == "finished" || t.status == "failed" || t.status == "pruned";
  if (r.interrupted) {
    std::cerr << "neurona: sweep interrupted: " << done << " of " << r.trials.size() << " trials done ("
              << (r.dir / "sweep.json").string() << "); run the same command again to resume\n";
    return 130;
  }
  check(r.best >= 0, "sweep: no trial finished (each trial's output is in ", r.dir.string(),
        "/trial_<k>/train.log)");
  const app::SweepTrial& best = r.trials[static_cast<size_t>(r.best)];
  std::cout << "\nbest: trial " << best.index << ", " << s.metric << "=" << fmt(best.metric) << " ("
            << (r.dir / ("trial_" + std::to_string(best.index))).string() << ")\n"
            << "table: " << (r.dir / "sweep.csv").string() << "\n"
            << "best config: " << (r.dir / "best.yaml").string() << "\n\n"
            << io::read_file(r.dir / "best.yaml");
  return 0;
}

int run(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  if (command == "--version") {
    std::cout << "neurona " << NEURONA_VERSION << "\n";
    return 0;
  }
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      auto it = kCommandUsage.find(command);
      if (it == kCommandUsage.end()) break;
      std::cout << it->second;
      return 0;
    }
  }
  if (command == "devices") {
    check(argc == 2, "devices: takes no arguments");
    std::cout << neurona::device_report();
    return 0;
  }
  if (command == "train") return cmd_train(argc, argv);
  if (command == "evaluate") return cmd_evaluate(argc, argv);
  if (command == "predict") return cmd_predict(argc, argv);
  if (command == "summary") return cmd_summary(argc, argv);
  if (command == "export") return cmd_export(argc, argv);
  if (command == "lr-find") return cmd_lr_find(argc, argv);
  if (command == "sweep") return cmd_sweep(argc, argv);
  if (command == "serve") return neurona::app::serve_main(argc - 1, argv + 1);
  std::vector<std::string> commands;
  for (const auto& [name, usage] : kCommandUsage) commands.push_back(name);
  neurona::fail("unknown command '", command, "'", neurona::did_you_mean(command, commands),
                " (try 'neurona --help')");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const neurona::Error& e) {
    // One of several data-parallel processes: the others would wait for it, so end them all now.
    if (neurona::dist::launched_by_mpi() && neurona::dist::mpi_built() &&
        neurona::dist::Communicator::world().size() > 1)
      neurona::dist::Communicator::world().abort(std::string("error: ") + e.what(), 1);
    std::cerr << "neurona: error: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    // Sizes read from files are checked where they are read; this is the last guard, so that an
    // input too large for the machine still ends in a user's error rather than an internal one.
    if (neurona::dist::launched_by_mpi() && neurona::dist::mpi_built() &&
        neurona::dist::Communicator::world().size() > 1)
      neurona::dist::Communicator::world().abort("error: out of memory", 1);
    std::cerr << "neurona: error: out of memory: the model or data asked for more than this machine can "
                 "allocate (check the layer sizes, batch_size and the input files)\n";
    return 1;
  } catch (const std::exception& e) {
    if (neurona::dist::launched_by_mpi() && neurona::dist::mpi_built() &&
        neurona::dist::Communicator::world().size() > 1)
      neurona::dist::Communicator::world().abort(std::string("internal error: ") + e.what(), 3);
    std::cerr << "neurona: internal error: " << e.what() << "\n";
    return 3;
  }
}
