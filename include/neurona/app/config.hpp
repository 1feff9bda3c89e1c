#pragma once
// Config files: the YAML (or JSON) files of the `neurona` command turned into the objects a C++
// user would build by hand — data sets with their scalers, an nn::Sequential, compile and fit
// options with callbacks and loggers. docs/config.md lists every key.
//
//   auto cfg = app::load_config("examples/wine.yaml", {"fit.epochs=20"});
//   auto data = app::load_data(cfg);
//   auto net = app::build_model(cfg, data.input_shape);
//   train::Model model(net);
//   model.compile(app::compile_options(cfg, net.get()));
//   model.fit(data.train, app::fit_options(cfg, data));
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "neurona/data/augment.hpp"
#include "neurona/data/csv.hpp"
#include "neurona/data/dataset.hpp"
#include "neurona/data/transforms.hpp"
#include "neurona/io/run_info.hpp"
#include "neurona/io/safetensors.hpp"
#include "neurona/nn/layers.hpp"
#include "neurona/optim/lr_finder.hpp"
#include "neurona/train/model.hpp"

namespace neurona::app {

// Options of one named thing (a layer, optimizer, loss, schedule, callback, data generator):
// key -> value as written (scalar text; lists as "[a, b]"), already checked against that thing's
// keys and value types.
using Options = std::map<std::string, std::string>;

struct Named {
  std::string kind;  // canonical name: "dense", "adam", "early_stopping", …
  Options options;
  std::string path;          // where it sits in the file, for messages: "model.layers[2]"
  std::vector<Named> items;  // the entries of a list-valued kind, in order (sequential's schedules)
  bool has(const std::string& key) const { return options.count(key) != 0; }
  double number(const std::string& key, double fallback) const;
  int64_t integer(const std::string& key, int64_t fallback) const;
  bool flag(const std::string& key, bool fallback) const;
  std::string text(const std::string& key, const std::string& fallback) const;
  std::vector<double> numbers(const std::string& key) const;  // a list value
};

struct DataConfig {
  std::string source;  // "csv", "idx", "npy", "images" or "synthetic"
  std::string csv, val_csv, test_csv;
  std::vector<std::string> target, features, categorical;
  std::string missing = "error";  // error | drop | mean
  std::string idx;                // a directory of IDX files, or "fashion-mnist"
  std::string npy_x, npy_y;
  std::string images;                         // a folder with one subfolder of images per class
  int64_t image_height = 0, image_width = 0;  // images.size; 0: the files' own size
  std::string image_color = "rgb";            // images.color: rgb | grayscale
  std::optional<double> rescale;  // pixels times this; unset: 1/255 for bytes (idx, images, uint8 npy)
  std::vector<Named> augment;     // image steps of data::augmentations(), in order
  Named synthetic;                // kind: circle, xor, gauss, spiral, reg-plane, reg-gauss, pass_the_class
  std::string task;               // regression | binary | multiclass (inferred from the loss when empty)
  bool split = true;              // false: `split: none`, every row trains
  double val = 0.2, test = 0.0;
  bool stratify = false, shuffle = true;
  std::string scale_features = "none", scale_target = "none";  // none | standard | minmax
  int64_t limit = -1;  // > 0: keep only the first N rows (quick runs on big sets)
  // classes: keep these class ids only, renumbered 0, 1, … in the listed order (every split);
  // per_class: > 0 keeps the first N training samples of each class (a small labelled set).
  std::vector<int64_t> classes;
  int64_t per_class = -1;
};

// One entry of compile.param_groups: the parameters whose names match `params` (a glob) train
// with their own lr and weight_decay (unset: the optimizer's).
struct ParamGroupConfig {
  std::string params;
  std::optional<double> lr, weight_decay;
  std::string path;  // "compile.param_groups[0]"
};

struct CompileConfig {
  Named optimizer;  // kind = optimizer name, options = PyTorch argument names
  Named loss;       // kind = canonical loss name
  std::vector<std::string> metrics;
  std::optional<Named> schedule;  // kind = schedule name
  std::string interval = "epoch";
  int64_t frequency = 1;
  std::string monitor = "val_loss";
  std::vector<ParamGroupConfig> param_groups;
};

struct FitConfig {
  int64_t epochs = 1, batch_size = 32;
  bool shuffle = true;
  int verbose = 1;
  // Trainer options reachable from the file.
  double gradient_clip_val = 0;
  std::string gradient_clip_algorithm = "norm";
  int64_t accumulate_grad_batches = 1, min_epochs = 0, max_steps = -1, limit_train_batches = -1;
  bool deterministic = false;
  std::string precision = "32-true";  // or "bf16-mixed" (Lightning's words): bf16 matmuls, fp32 weights
  // Data-parallel training (train::TrainerOptions::strategy): auto | ddp | single; buckets in MiB;
  // seconds a collective may wait before the job is aborted (0: 30 s or NEURONA_DDP_TIMEOUT).
  std::string strategy = "auto";
  double bucket_cap_mb = 25, ddp_timeout = 0;
  bool sync_batchnorm = false;  // BatchNorm statistics over all ranks' batches
};

struct LoggingConfig {
  std::filesystem::path dir;  // empty: no run directory
  bool tensorboard = true, mlflow = false, csv = true;
  bool onnx = false;  // model.onnx beside model.safetensors at the end
  int64_t log_every_n_steps = 50, histogram_every_n_epochs = 1;
};

// One key of a sweep (`sweep:` or `neurona sweep`, include/neurona/app/sweep.hpp): the values
// of a grid, or the distribution a random search samples it from.
struct SweepParam {
  std::string key;                  // a dotted key as --set takes it: "compile.optimizer.adam.lr"
  std::string kind = "grid";        // grid | choice | uniform | loguniform | int
  std::vector<std::string> values;  // grid and choice: each value as YAML text
  double low = 0, high = 0;         // uniform, loguniform, int: the range (both ends included)
};

// `sweep:`: what `neurona sweep` runs (its flags override each key); `neurona train` ignores it.
struct SweepConfig {
  std::vector<SweepParam> grid;   // every combination, the last key changing fastest
  int64_t random = 0;             // > 0: this many trials sampled from `space`
  std::vector<SweepParam> space;  // random search
  int64_t jobs = 1;               // trials at a time
  std::string metric = "val_loss";
  std::string mode = "auto";     // min | max | auto (train::infer_mode of the metric)
  std::string prune = "none";    // none | median
  int64_t prune_warmup = 5;      // median: epochs before a trial may be pruned
  int64_t prune_min_trials = 3;  // median: finished trials needed before pruning starts
};

struct Config {
  std::string file;  // the file it came from ("" for text)
  std::string text;  // the effective YAML, overrides applied
  std::string name = "model";
  uint64_t seed = 0;
  DataConfig data;
  std::vector<Named> layers;
  // model.from: an ONNX file the network is imported from (io::import_onnx) with its weights;
  // `layers` then describes the imported layers (kind and options, path "model.from[i]").
  std::string model_from;
  // model.arch: a network of nn::architectures() (resnet18, mobilenet_v2, …) with its options
  // (num_classes, in_channels, …), instead of layers.
  std::optional<Named> arch;
  // model.init: weights loaded after the model is built. strict: every tensor must match (as
  // --init-weights); otherwise those whose name and shape match load, `skip` globs never do.
  struct Init {
    std::filesystem::path weights;
    bool strict = true;
    std::vector<std::string> skip;
  };
  std::optional<Init> model_init;
  // model.freeze: parameter-name globs or layer indices ("2", "-1") whose parameters do not train;
  // model.batchnorm: "frozen" runs a BatchNorm layer whose parameters are all frozen in inference
  // mode (running statistics unchanged), "train" keeps it in training mode.
  // model.unfreeze: the same selections made trainable again after model.freeze.
  std::vector<std::string> freeze, unfreeze;
  std::string batchnorm = "frozen";
  CompileConfig compile;
  FitConfig fit;
  std::vector<Named> callbacks;
  LoggingConfig logging;
  int64_t restarts = 0;  // > 1: random restarts, keep the best by restart_monitor
  std::string restart_monitor = "val_loss";
  Named lr_find;  // options of `lr_find:` (min_lr, max_lr, num_training)
  SweepConfig sweep;
  std::map<std::string, io::HParamValue>
      hparams;  // every scalar of the file, flattened ("compile.optimizer.adam.lr")
};

// Reads a config file. `overrides` are "dotted.key=value" (value read as YAML); each replaces or
// adds that key before validation. Errors name the file and line (bad YAML) or the key's path and
// suggest the nearest valid word.
Config load_config(const std::filesystem::path& path, const std::vector<std::string>& overrides = {});
Config parse_config(const std::string& text, const std::string& file_name,
                    const std::vector<std::string>& overrides = {});

// The data of a config, split and scaled. Scalers are fitted on the training rows only.
struct PreparedData {
  data::TensorDataset train{Tensor::zeros({1, 1})};  // a placeholder until load_data fills it
  std::optional<data::TensorDataset> val, test;
  Shape input_shape;  // per sample, as the model sees it (after data.augment's crops)
  std::string task;   // regression | binary | multiclass
  int64_t num_classes = 0;
  std::shared_ptr<data::Scaler> x_scaler, y_scaler;  // null when not scaling
  std::optional<data::CsvSchema> schema;             // for CSV sources
  std::vector<std::string> target_names;
  std::vector<std::string> class_names;  // an image folder's classes, by label
  // data.augment: training batches go through all its steps, validation, test and evaluated
  // data through its evaluation form (eval_transform()). Null without data.augment.
  std::shared_ptr<const data::ImagePipeline> augment;
  std::shared_ptr<const data::ImagePipeline> eval_transform() const {
    return augment ? augment->evaluation() : nullptr;
  }
};
PreparedData load_data(const Config& config);

// The task a config trains for: data.task, or inferred from the loss.
std::string task_of(const Config& config);

// An nn::Sequential with one child per entry of model.layers (children "0", "1", …, so the
// weights are "<index>.<name>" as in torch.nn.Sequential). Input sizes are inferred. With
// model.from, the imported ONNX network with its weights (an error unless it takes samples of
// `input_shape`).
std::shared_ptr<nn::Sequential> build_model(const Config& config, const Shape& input_shape);

// model.init and model.freeze applied to a built model; `report` (when not null) receives
// model.init's printed block: what was loaded, skipped and left at its initialisation.
void apply_model_transfer(const Config& config, nn::Sequential& net, std::string* report = nullptr);
// The layers model.batchnorm: frozen keeps in inference mode while training (BatchNorm layers
// whose parameters are all frozen).
std::vector<std::shared_ptr<nn::Module>> frozen_batchnorm_layers(const Config& config, nn::Sequential& net);

// Optimizer, loss, metrics and schedule of `compile:`. The layers' kernel_regularizer and
// bias_regularizer penalise `net`'s parameters, so a config that has them needs the built `net`.
train::CompileOptions compile_options(const Config& config, nn::Sequential* net = nullptr);
std::vector<std::shared_ptr<train::Callback>> make_callbacks(const Config& config);
// Fit options: epochs, batch size, callbacks, validation data, trainer options, run directory,
// hparams, config text and `net`'s summary. Loggers need the run directory, which the trainer
// picks when fit starts, so attach_loggers adds them separately.
train::FitOptions fit_options(const Config& config, const PreparedData& data, nn::Module& net);
void attach_loggers(const Config& config, const train::Model& model, train::FitOptions& fit);

// The `neurona train` job: data, model, compile, fit (with random restarts when asked), test
// evaluation and weights, as one call.
struct TrainRequest {
  std::filesystem::path init_weights;  // start from these weights (names and shapes must match)
  std::filesystem::path save_weights;  // write the trained weights here
  std::filesystem::path resume;        // a checkpoint to continue from
  int verbose = 1;
};
struct TrainResult {
  train::History history;
  train::Logs test;                    // loss and metrics on the test split, when there is one
  std::filesystem::path log_dir;       // empty without `logging:`
  std::vector<double> restart_scores;  // one per restart (random restarts only)
  int best_restart = -1;
  // Whose weights `net` holds (and the files saved from it): the best epoch, when
  // EarlyStopping(restore_best_weights) restored it, else the last epoch trained. 1-based, with
  // `saved_monitor`'s value then (NaN when that value was never logged).
  int64_t saved_epoch = 0;
  bool saved_restored = false;
  std::string saved_monitor;
  double saved_value = std::numeric_limits<double>::quiet_NaN();
  std::shared_ptr<nn::Sequential> net;
  PreparedData data;
};
TrainResult run_training(const Config& config, const TrainRequest& request = {});

// The learning-rate range test on the config's model and training data.
optim::LRFinderResult run_lr_find(const Config& config);

// Layer, activation, schedule and callback names reachable from a config (the optimizer, loss and
// metric names are train::optimizer_names(), loss_names(), metric_names()).
std::vector<std::string> layer_names();
std::vector<std::string> schedule_names();
std::vector<std::string> callback_names();

// Weights with what prediction needs: scalers, CSV schema and task ride in the safetensors
// "__metadata__", so PyTorch's load_state_dict(strict=True) sees only the network's tensors.
void save_weights(const std::filesystem::path& path, nn::Module& net, const PreparedData& data,
                  const std::string& config_text = "");
struct WeightsMetadata {
  std::shared_ptr<data::Scaler> x_scaler, y_scaler;
  std::optional<data::CsvSchema> schema;
  std::string task;
};
// Loads `path` into `net`: missing, unexpected and mis-shaped tensors are errors naming them.
WeightsMetadata load_weights(const std::filesystem::path& path, nn::Module& net);
// The same in two steps, for a caller that needs the metadata before it can build the model.
struct WeightsFile {
  std::filesystem::path path;
  io::SafetensorsContent content;
  WeightsMetadata meta;
};
WeightsFile read_weights(const std::filesystem::path& path);
void load_weights(const WeightsFile& file, nn::Module& net);
// The per-sample input shape of a model trained on CSV rows encoded by `schema`.
Shape input_shape_of(const data::CsvSchema& schema);

// Another CSV file ("-": standard input) encoded and scaled like the training data. `y` is
// undefined when the file has no target columns.
struct Table {
  Tensor x, y;
};
Table read_table(const std::string& path, const Config& config, const WeightsMetadata& meta);
// Model outputs as CSV text: targets back in their units (regression), or the probability and
// the class (binary), or one probability per class (p_<class name>) and the class (multiclass).
std::string predictions_csv(const Tensor& outputs, const Config& config, const WeightsMetadata& meta);
// The name of class `id`: its category in the weights' CSV schema when the target is
// categorical, else the id itself ("0", "1", …). What predict's columns and classes say.
std::string class_name(const WeightsMetadata& meta, int64_t id);
std::vector<std::string> class_names(const WeightsMetadata& meta, int64_t num_classes);
// The confusion matrix of a classifier's outputs against class-id targets, with the classes
// predict writes (the arg-max, or probability > 0.5 for a binary model). Rows are the true
// classes; table(class_names(meta, cm.num_classes)) labels them. Regression models have none.
nn::metrics::ConfusionMatrix confusion_matrix(const Tensor& outputs, const Tensor& targets,
                                              const Config& config, const WeightsMetadata& meta);

}  // namespace neurona::app
