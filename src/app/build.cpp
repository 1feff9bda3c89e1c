// A validated app::Config turned into objects: data, model, compile and fit options, loggers, and
// the train / lr-find jobs (weights files and predictions: src/app/weights.cpp).
#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <new>
#include <nlohmann/json.hpp>
#include <sstream>

#include "build_detail.hpp"
#include "neurona/app/config.hpp"
#include "neurona/autograd/node.hpp"
#include "neurona/core/error.hpp"
#include "neurona/core/format.hpp"
#include "neurona/core/precision.hpp"
#include "neurona/core/random.hpp"
#include "neurona/data/augment.hpp"
#include "neurona/data/idx.hpp"
#include "neurona/data/image_folder.hpp"
#include "neurona/data/npy.hpp"
#include "neurona/data/split.hpp"
#include "neurona/data/synthetic.hpp"
#include "neurona/io/files.hpp"
#include "neurona/io/logger.hpp"
#include "neurona/io/onnx.hpp"
#include "neurona/io/safetensors.hpp"
#include "neurona/nn/blocks.hpp"
#include "neurona/nn/registry.hpp"
#include "neurona/nn/summary.hpp"
#include "neurona/nn/zoo.hpp"
#include "neurona/optim/optimizers.hpp"
#include "neurona/optim/registry.hpp"
#include "neurona/optim/schedulers.hpp"
#include "neurona/train/callback_registry.hpp"
#include "neurona/train/callbacks.hpp"

namespace neurona::app {

namespace detail {

bool ends_in_softmax(const std::vector<Named>& layers) {
  if (layers.empty()) return false;  // model.arch: the zoo's networks end in logits
  const Named& last = layers.back();
  return last.kind == "softmax" ||
         ((last.kind == "dense" || last.kind == "activation") && last.text("activation", "") == "softmax");
}

// A configured loss with a list option (`key`: cross-entropy's class weights, pos_weight's per
// output values) that must match the model's output width. The model is built apart from the
// loss, so the width is checked on each call, in the config's words. Named by the canonical
// loss (or cross_entropy_on_probabilities), which the metrics read (bce_with_logits: they see
// sigmoid(logits)).
class ListOptionLoss : public nn::Loss {
 public:
  ListOptionLoss(std::shared_ptr<nn::Loss> inner, std::string kind, std::string key, int64_t size,
                 bool per_class)
      : Loss(inner->reduction),
        inner_(std::move(inner)),
        kind_(std::move(kind)),
        key_(std::move(key)),
        size_(size),
        per_class_(per_class) {}
  Tensor forward(const Tensor& x, const Tensor& y) const override {
    const int64_t width = x.dim() == 0 ? 1 : x.size(x.dim() - 1);
    // One pos_weight value applies to every output, as PyTorch broadcasts it.
    check(size_ == width || (!per_class_ && size_ == 1), key_, ": ", size_, " values for ", width,
          per_class_ ? " classes" : " outputs", " (the model's output width)");
    inner_->reduction = reduction;  // the trainer asks for per-sample losses through this object
    return (*inner_)(x, y);
  }
  std::string type_name() const override { return kind_; }

 private:
  std::shared_ptr<nn::Loss> inner_;
  std::string kind_, key_;
  int64_t size_;
  bool per_class_;
};

// Targets in the layout the loss wants: class ids [N] for multiclass, [N, T] otherwise.
Tensor shape_targets(const Tensor& y, const std::string& task) {
  if (!y.defined()) return y;
  if (task == "multiclass") return y.dim() == 2 && y.size(1) == 1 ? y.reshape({y.size(0)}) : y;
  return y.dim() == 1 ? y.reshape({y.size(0), 1}) : y;
}

data::CsvOptions csv_options(const DataConfig& d, const data::CsvSchema* schema) {
  data::CsvOptions o;
  o.target = d.target;
  o.features = d.features;
  o.categorical = d.categorical;
  o.missing = d.missing == "drop"   ? data::Missing::DropRow
              : d.missing == "mean" ? data::Missing::FillMean
                                    : data::Missing::Error;
  o.schema = schema;
  return o;
}

}  // namespace detail

using namespace detail;

namespace {

using json = nlohmann::json;

Tensor list_tensor(const std::vector<double>& v) {
  return Tensor::from(std::vector<float>(v.begin(), v.end()), Shape{static_cast<int64_t>(v.size())});
}

std::vector<int64_t> first_rows(int64_t n, int64_t limit) {
  const int64_t m = limit > 0 ? std::min(n, limit) : n;
  std::vector<int64_t> v(static_cast<size_t>(m));
  for (int64_t i = 0; i < m; ++i) v[static_cast<size_t>(i)] = i;
  return v;
}

// x times `scale` (Keras's Rescaling), computed in double so 1/255 gives ToTensor's x / 255.
Tensor rescaled(const Tensor& x, double scale) {
  Tensor out = Tensor::empty(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) out.data()[i] = static_cast<float>(x.data()[i] * scale);
  return out;
}

// data.augment as a pipeline of data::augmentations()'s steps, for samples of `sample` shape.
std::shared_ptr<const data::ImagePipeline> make_augment(const std::vector<Named>& steps,
                                                        const Shape& sample) {
  if (steps.empty()) return nullptr;
  check(sample.dims().size() == 2 || sample.dims().size() == 3,
        "data.augment: needs images [N, C, H, W] (or [N, H, W]), got samples ", sample);
  std::vector<data::ImageStep> made;
  for (const Named& s : steps) {
    try {
      const data::AugmentEntry& entry = data::augmentations().get(s.kind);
      made.push_back(entry.make(entry.options_from(s.options)));
      made.back()->output_shape(sample);  // a crop that does not fit is named here
    } catch (const Error& e) {
      fail(s.path, ": ", e.what());
    }
  }
  return std::make_shared<data::ImagePipeline>(std::move(made));
}

data::TensorDataset limited(const Tensor& x, const Tensor& y, int64_t limit) {
  if (limit <= 0 || x.size(0) <= limit) return data::TensorDataset(x, y);
  const auto rows = first_rows(x.size(0), limit);
  return data::TensorDataset(x.index_select(rows), y.defined() ? y.index_select(rows) : Tensor());
}

// A Logger made on first use, in the run directory the trainer picked when fit started.
class DeferredLogger : public io::Logger {
 public:
  explicit DeferredLogger(std::function<std::unique_ptr<io::Logger>()> make) : make_(std::move(make)) {}
  void log_metrics(const io::Metrics& m, int64_t step) override { get().log_metrics(m, step); }
  void log_epoch_metrics(const io::Metrics& m, int64_t epoch, int64_t global_step) override {
    get().log_epoch_metrics(m, epoch, global_step);
  }
  void log_hyperparams(const io::HParams& p) override { get().log_hyperparams(p); }
  void log_histogram(const std::string& tag, const Tensor& v, int64_t step) override {
    get().log_histogram(tag, v, step);
  }
  void log_text(const std::string& tag, const std::string& md, int64_t step) override {
    get().log_text(tag, md, step);
  }
  void log_artifact(const std::filesystem::path& file) override { get().log_artifact(file); }
  void finalize(io::RunStatus status) override {
    if (real_) real_->finalize(status);
  }

 private:
  io::Logger& get() {
    if (!real_) real_ = make_();
    return *real_;
  }
  std::function<std::unique_ptr<io::Logger>()> make_;
  std::unique_ptr<io::Logger> real_;
};

// One schedule from the config on `opt`, from optim::schedules(); `epochs` and `steps_per_epoch`
// fill in cosine's t_max and onecycle's length when they are not written. A list entry
// (sequential) gets its schedules built first, in order on the same optimizer, as SequentialLR
// requires (the parser checked the counts).
std::shared_ptr<optim::LRScheduler> make_schedule(const Named& s, optim::Optimizer& opt, int64_t epochs,
                                                  int64_t steps_per_epoch) {
  optim::ScheduleContext context{epochs, steps_per_epoch, {}};
  for (const auto& item : s.items) context.items.push_back(make_schedule(item, opt, epochs, steps_per_epoch));
  const optim::ScheduleEntry& entry = optim::schedules().get(s.kind);
  return entry.make(entry.options_from(s.options), opt, context);
}

bool glob_match(const std::string& pattern, const std::string& name) {
  return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

// Keeps the given layers in inference mode during training: the trainer switches the model to
// training mode each epoch (and after mid-epoch validation), so this runs before each batch.
class FrozenBatchNorm : public train::Callback {
 public:
  explicit FrozenBatchNorm(std::vector<std::shared_ptr<nn::Module>> layers) : layers_(std::move(layers)) {}
  std::string name() const override { return "FrozenBatchNorm"; }
  void on_batch_begin(train::Trainer&, int64_t) override {
    for (auto& l : layers_) l->eval();
  }

 private:
  std::vector<std::shared_ptr<nn::Module>> layers_;
};

// data.classes and data.per_class on one set of samples with class-id targets: the rows kept
// (the listed classes, the first `per_class` of each), their targets renumbered in the listed
// order. `what` names the set in errors; `check_present` makes a listed class without samples one.
void select_classes(Tensor& x, Tensor& y, const DataConfig& d, int64_t per_class, const std::string& what,
                    bool check_present) {
  const std::vector<int64_t>& classes = d.classes;
  check(y.defined() && y.numel() == x.size(0), "data.", classes.empty() ? "per_class" : "classes", ": ", what,
        " needs one class id per sample");
  std::map<int64_t, int64_t> count;  // by position in `classes` (or class id)
  std::vector<int64_t> rows;
  std::vector<float> ids;
  for (int64_t i = 0; i < y.numel(); ++i) {
    const int64_t id = static_cast<int64_t>(y.data()[i]);
    int64_t pos = id;
    if (!classes.empty()) {
      const auto it = std::find(classes.begin(), classes.end(), id);
      if (it == classes.end()) continue;
      pos = it - classes.begin();
    }
    if (per_class > 0 && count[pos] >= per_class) continue;
    ++count[pos];
    rows.push_back(i);
    ids.push_back(static_cast<float>(pos));
  }
  if (check_present)
    for (size_t k = 0; k < classes.size(); ++k)
      check(count.count(static_cast<int64_t>(k)), "data.classes[", k, "]: class ", classes[k],
            " has no sample in ", what);
  check(!rows.empty(), "data.classes: no sample of the listed classes in ", what);
  x = x.index_select(rows);
  std::vector<int64_t> dims = y.shape().dims();
  dims[0] = static_cast<int64_t>(rows.size());
  y = Tensor::from(ids, Shape(dims));
}

// One entry of model.layers on samples of shape `dims`, which becomes its output's shape. A list
// kind (sequential, residual, concat) has its entries built first: concat's branches each on the
// block's input, the others' entries one after another.
std::shared_ptr<nn::Module> build_layer(const Named& l, std::vector<int64_t>& dims) {
  std::shared_ptr<nn::Module> m;
  nn::LayerInput input{dims};
  std::vector<int64_t> inner = dims;
  for (const Named& item : l.items) {
    if (nn::builds_branches(l.kind)) inner = dims;
    input.items.push_back(build_layer(item, inner));
  }
  try {
    const nn::LayerEntry& entry = nn::layers().get(l.kind);
    m = entry.make(entry.options_from(l.options), input);
  } catch (const Error& e) {
    fail(l.path, ": ", e.what());
  } catch (const std::bad_alloc&) {  // a size in the file far beyond the machine's memory
    fail(l.path, ": ", l.kind, " is too large: its parameters cannot be allocated");
  }
  // The next layer's input size comes from running this one on a zero sample.
  try {
    nn::EvalGuard eval(*m);
    NoGradGuard no_grad;
    std::vector<int64_t> batch = {1};
    batch.insert(batch.end(), dims.begin(), dims.end());
    const Tensor out = m->forward(Tensor::zeros(Shape(batch)));
    dims.assign(out.shape().dims().begin() + 1, out.shape().dims().end());
  } catch (const Error& e) {
    fail(l.path, ": ", e.what());
  } catch (const std::bad_alloc&) {
    fail(l.path, ": ", l.kind, " is too large: its output for one sample cannot be allocated");
  }
  return m;
}

}  // namespace

std::string task_of(const Config& c) {
  if (!c.data.task.empty()) return c.data.task;
  if (c.data.source == "idx" || c.data.source == "images") return "multiclass";
  const std::string task = train::loss_task(c.compile.loss.kind).task;
  return task.empty() ? "regression" : task;
}

PreparedData load_data(const Config& c) {
  const DataConfig& d = c.data;
  PreparedData out;
  out.task = task_of(c);
  Tensor x, y;
  std::optional<data::TensorDataset> val, test;
  if (d.source == "csv") {
    data::CsvData train = data::read_csv(d.csv, csv_options(d, nullptr));
    x = train.x, y = train.y;
    out.schema = train.schema;
    out.target_names = train.target_names;
    if (!d.val_csv.empty()) {
      auto v = data::read_csv(d.val_csv, csv_options(d, &*out.schema));
      val = data::TensorDataset(v.x, v.y);
    }
    if (!d.test_csv.empty()) {
      auto t = data::read_csv(d.test_csv, csv_options(d, &*out.schema));
      test = data::TensorDataset(t.x, t.y);
    }
  } else if (d.source == "idx") {
    data::ImageOptions io;
    io.rescale = d.rescale.value_or(io.rescale);
    data::MnistData m = data::load_fashion_mnist(d.idx == "fashion-mnist" ? "" : d.idx, io);
    x = m.train.images, y = m.train.labels;
    test = limited(m.test.images, m.test.labels, d.limit);
  } else if (d.source == "images") {
    data::ImageFolderOptions io;
    io.height = d.image_height;
    io.width = d.image_width;
    io.color = d.image_color == "grayscale" ? data::ColorMode::Grayscale : data::ColorMode::RGB;
    io.rescale = d.rescale.value_or(io.rescale);
    data::ImageFolderData f = data::read_image_folder(d.images, io);
    x = f.images, y = f.labels;
    out.class_names = f.classes;
  } else if (d.source == "npy") {
    const data::NpyArray a = data::read_npy_array(d.npy_x);
    // Bytes are pixels: into [0, 1] as ToTensor does, unless data.rescale says otherwise.
    x = d.rescale ? rescaled(a.data, *d.rescale) : a.dtype == "uint8" ? rescaled(a.data, 1.0 / 255) : a.data;
    if (!d.npy_y.empty()) y = data::read_npy(d.npy_y);
    check(y.defined(), "data.npy: needs y: path/to/targets.npy to train");
    check(x.size(0) == y.size(0), "data.npy: x has ", x.size(0), " rows but y has ", y.size(0));
  } else {
    const Named& s = d.synthetic;
    data::Points p;
    if (s.kind == "pass_the_class") {
      p = data::pass_the_class(s.integer("n", 200), static_cast<float>(s.number("noise", 0.5)),
                               static_cast<uint64_t>(s.integer("seed", 0)));
    } else {
      data::PlaygroundOptions po;
      po.samples = s.integer("n", -1);
      po.noise = static_cast<float>(s.number("noise", 0));
      po.seed = static_cast<uint64_t>(s.integer("seed", 0));
      po.labels = s.text("labels", "zero_one") == "plus_minus_one" ? data::Labels::PlusMinusOne
                                                                   : data::Labels::ZeroOne;
      p = data::playground(s.kind, po);
    }
    x = p.x, y = p.y;
  }
  if (!d.classes.empty() || d.per_class > 0) {
    check(out.task != "regression", "data.", d.classes.empty() ? "per_class" : "classes",
          ": needs class targets; the task is regression");
    select_classes(x, y, d, d.per_class, "the training data", true);
    auto keep_classes = [&d](std::optional<data::TensorDataset>& set, const char* what) {
      if (!set || d.classes.empty()) return;
      Tensor sx = set->features(), sy = set->targets();
      select_classes(sx, sy, d, -1, what, false);
      set = data::TensorDataset(sx, sy);
    };
    keep_classes(val, "the validation data");
    keep_classes(test, "the test data");
    if (!out.class_names.empty() && !d.classes.empty()) {
      std::vector<std::string> names;
      for (int64_t id : d.classes) {
        check(id < static_cast<int64_t>(out.class_names.size()), "data.classes: class ", id, " is past the ",
              out.class_names.size(), " classes of the data");
        names.push_back(out.class_names[static_cast<size_t>(id)]);
      }
      out.class_names = names;
    }
  }
  if (d.limit > 0 && x.size(0) > d.limit) {
    const auto rows = first_rows(x.size(0), d.limit);
    x = x.index_select(rows), y = y.index_select(rows);
  }
  y = shape_targets(y, out.task);

  // Splits: a separate validation file, a seeded shuffled split, or Keras's last-rows rule.
  const int64_t n = x.size(0);
  data::SplitIndices split;
  if (val || !d.split || (d.val == 0 && d.test == 0)) {
    split.train = first_rows(n, -1);
  } else if (d.shuffle) {
    split = data::train_val_test_split(n, d.val, d.test, c.seed,
                                       d.stratify ? data::class_ids(y) : std::vector<int64_t>{});
  } else {
    const int64_t n_test = static_cast<int64_t>(std::ceil(n * d.test)),
                  n_val = static_cast<int64_t>(std::ceil(n * d.val));
    for (int64_t i = 0; i < n; ++i)
      (i < n - n_val - n_test ? split.train : i < n - n_test ? split.val : split.test).push_back(i);
  }
  check(!split.train.empty(), "data: no rows left for training (", n, " rows)");
  Tensor x_train = x.index_select(split.train), y_train = y.index_select(split.train);
  if (!split.val.empty()) val = data::TensorDataset(x.index_select(split.val), y.index_select(split.val));
  if (!split.test.empty()) test = data::TensorDataset(x.index_select(split.test), y.index_select(split.test));
  if (val) val = data::TensorDataset(val->features(), shape_targets(val->targets(), out.task));
  if (test) test = data::TensorDataset(test->features(), shape_targets(test->targets(), out.task));

  // Scalers see the training rows only.
  if (d.scale_features != "none") {
    check(x_train.dim() == 2, "data.scale.features: scaling needs features as a table, got samples of shape ",
          Shape(std::vector<int64_t>(x_train.shape().dims().begin() + 1, x_train.shape().dims().end())));
    out.x_scaler = std::shared_ptr<data::Scaler>(data::make_scaler(d.scale_features));
    x_train = out.x_scaler->fit_transform(x_train);
    if (val) val = data::TensorDataset(out.x_scaler->transform(val->features()), val->targets());
    if (test) test = data::TensorDataset(out.x_scaler->transform(test->features()), test->targets());
  }
  if (d.scale_target != "none") {
    check(out.task == "regression", "data.scale.target: only regression targets are scaled (task is ",
          out.task, ")");
    out.y_scaler = std::shared_ptr<data::Scaler>(data::make_scaler(d.scale_target));
    y_train = out.y_scaler->fit_transform(y_train);
    if (val) val = data::TensorDataset(val->features(), out.y_scaler->transform(val->targets()));
    if (test) test = data::TensorDataset(test->features(), out.y_scaler->transform(test->targets()));
  }
  out.train = data::TensorDataset(x_train, y_train);
  out.val = val;
  out.test = test;
  const Shape sample(std::vector<int64_t>(x.shape().dims().begin() + 1, x.shape().dims().end()));
  out.augment = make_augment(d.augment, sample);
  out.input_shape = out.augment ? out.augment->output_shape(sample) : sample;
  if (out.task == "multiclass") {
    float top = 0;
    for (int64_t i = 0; i < y.numel(); ++i) top = std::max(top, y.data()[i]);
    out.num_classes = static_cast<int64_t>(top) + 1;
    if (out.schema && !out.schema->targets.empty() && out.schema->targets[0].categorical)
      out.num_classes = static_cast<int64_t>(out.schema->targets[0].categories.size());
    if (!out.class_names.empty()) out.num_classes = static_cast<int64_t>(out.class_names.size());
  }
  if (out.target_names.empty()) out.target_names = {"y"};
  return out;
}

std::shared_ptr<nn::Sequential> build_model(const Config& c, const Shape& input_shape) {
  manual_seed(c.seed);
  if (!c.model_from.empty()) {
    io::OnnxModel m = io::import_onnx(c.model_from);
    const std::vector<int64_t> want(input_shape.dims().begin(), input_shape.dims().end());
    check(m.input_shape == want, "model.from: ", c.model_from, " takes samples of shape ",
          Shape(m.input_shape), ", the data gives ", input_shape);
    return m.net;
  }
  if (c.arch) {
    const Named& a = *c.arch;
    const nn::ArchitectureEntry& entry = nn::architectures().get(a.kind);
    Options options = a.options;
    check(options.count("num_classes"), "model.num_classes: required with model.arch (", a.kind,
          "'s outputs: the number of classes, or of targets)");
    // The input channels (and the course CNN's image size) are the data's unless written.
    if (!options.count("in_channels") && entry.option("in_channels") && input_shape.rank() == 3)
      options["in_channels"] = std::to_string(input_shape.dims()[0]);
    if (!options.count("image_size") && entry.option("image_size") && input_shape.rank() == 3)
      options["image_size"] = std::to_string(input_shape.dims()[1]);
    std::shared_ptr<nn::Sequential> net;
    try {
      net = entry.make(entry.options_from(options));
      nn::EvalGuard eval(*net);
      NoGradGuard no_grad;
      std::vector<int64_t> batch = {1};
      batch.insert(batch.end(), input_shape.dims().begin(), input_shape.dims().end());
      net->forward(Tensor::zeros(Shape(batch)));
    } catch (const Error& e) {
      fail("model.arch: ", a.kind, " on samples of shape ", input_shape, ": ", e.what());
    }
    return net;
  }
  auto net = std::make_shared<nn::Sequential>();
  std::vector<int64_t> dims = input_shape.dims();
  for (const Named& l : c.layers) net->add(build_layer(l, dims));
  return net;
}

void apply_model_transfer(const Config& c, nn::Sequential& net, std::string* report) {
  if (c.model_init) {
    const Config::Init& init = *c.model_init;
    // A safetensors file (weights, or a checkpoint's weights file), or an ONNX model whose
    // initializers the importer names as Neurona does.
    std::map<std::string, Tensor> in_file;
    const bool onnx = init.weights.extension() == ".onnx";
    if (onnx) {
      for (const auto& [name, t] : io::import_onnx(init.weights).net->state_dict()) in_file[name] = t;
    }
    if (!onnx && init.strict && init.skip.empty()) {
      load_weights(read_weights(init.weights), net);
    } else {
      if (!onnx)
        for (const auto& t : read_weights(init.weights).content.tensors) in_file[t.name] = t.tensor;
      const nn::StateDict own = net.state_dict();
      std::vector<std::string> loaded, skipped, left;
      size_t by_pattern = 0;  // skipped names strict: true allows
      nn::StateDict load;
      for (const auto& [name, t] : own) {
        // (n: clang 14's lambdas cannot capture a structured binding itself)
        const auto pattern = std::find_if(init.skip.begin(), init.skip.end(),
                                          [&n = name](const std::string& p) { return glob_match(p, n); });
        const auto it = in_file.find(name);
        if (pattern != init.skip.end()) {
          skipped.push_back(name + " (skip: " + *pattern + ")");
          left.push_back(name);
          ++by_pattern;
        } else if (it == in_file.end()) {
          left.push_back(name);
        } else if (it->second.shape() != t.shape()) {
          std::ostringstream why;
          why << name << " (shape " << it->second.shape() << " in the file, " << t.shape()
              << " in the model)";
          skipped.push_back(why.str());
          left.push_back(name);
        } else {
          load.insert(name, it->second);
          loaded.push_back(name);
        }
      }
      std::vector<std::string> unused;
      size_t unused_skipped = 0;
      for (const auto& [name, t] : in_file) {
        if (own.contains(name)) continue;
        unused.push_back(name);
        const std::string& n = name;
        if (std::any_of(init.skip.begin(), init.skip.end(),
                        [&](const std::string& p) { return glob_match(p, n); }))
          ++unused_skipped;
      }
      if (init.strict) {
        // strict with skip: the skipped names may be absent or differ; everything else must match.
        check(left.size() == by_pattern && unused.size() == unused_skipped,
              "model.init: ", init.weights.string(),
              " does not fit the model exactly (strict: true): ", skipped.size() - by_pattern,
              " mis-shaped, ", left.size() - skipped.size(), " missing, ", unused.size() - unused_skipped,
              " not in the model; strict: false loads the tensors that match");
      }
      net.load_state_dict(load, false);
      std::ostringstream r;
      auto list = [&r](const char* title, const std::vector<std::string>& names) {
        r << "  " << title << " (" << names.size() << ")" << (names.empty() ? "\n" : ":\n");
        for (const auto& n : names) r << "    " << n << "\n";
      };
      r << "model.init: " << init.weights.string() << "\n";
      list("loaded", loaded);
      list("skipped", skipped);
      list("left at initialisation", left);
      list("in the file, not in the model", unused);
      if (report) *report = r.str();
    }
  }
  // model.freeze, then model.unfreeze (freeze: ["*"], unfreeze: ["fc.*"] trains the head alone).
  auto select = [&net](const std::vector<std::string>& entries, const char* key, bool trainable) {
    std::vector<bool> used(entries.size(), false);
    for (auto& [name, p] : net.named_parameters()) {
      for (size_t i = 0; i < entries.size(); ++i) {
        if (!train::parameter_selected(entries[i], name, net)) continue;
        used[i] = true;
        p.requires_grad_(trainable);
      }
    }
    for (size_t i = 0; i < entries.size(); ++i)
      check(used[i], "model.", key, "[", i, "]: '", entries[i], "' matches no parameter of the model");
  };
  select(c.freeze, "freeze", false);
  select(c.unfreeze, "unfreeze", true);
}

std::vector<std::shared_ptr<nn::Module>> frozen_batchnorm_layers(const Config& c, nn::Sequential& net) {
  std::vector<std::shared_ptr<nn::Module>> out;
  if (c.batchnorm != "frozen") return out;
  for (auto& [name, m] : net.named_modules()) {
    if (!dynamic_cast<nn::BatchNorm1d*>(m.get())) continue;
    const auto params = m->parameters();
    if (params.empty()) continue;
    const bool all_frozen =
        std::none_of(params.begin(), params.end(), [](const Tensor& p) { return p.requires_grad(); });
    if (all_frozen) out.push_back(m);
  }
  return out;
}

// The modules a list kind's entries became, in the order of its items: a residual block's body
// layers, the children of sequential and concat.
static std::vector<std::shared_ptr<nn::Module>> item_modules(const nn::Module& block) {
  if (const auto* r = dynamic_cast<const nn::Residual*>(&block)) return r->body()->children();
  return block.children();
}

// The (parameter, penalty) pairs of the layers' kernel_regularizer and bias_regularizer: entry i
// of a list of layers is child i of the module built from it (nested lists included).
static void layer_regularizers(const std::vector<Named>& layers,
                               const std::vector<std::shared_ptr<nn::Module>>& modules,
                               std::vector<std::pair<Tensor, optim::Regularizer>>& out) {
  for (size_t i = 0; i < layers.size(); ++i) {
    const Named& l = layers[i];
    check(i < modules.size(), l.path, ": the model has ", modules.size(),
          " layers here, not one per config entry");
    if (!l.items.empty()) layer_regularizers(l.items, item_modules(*modules[i]), out);
    for (const char* key : {"kernel_regularizer", "bias_regularizer"}) {
      if (!l.has(key)) continue;
      const auto* linear = dynamic_cast<const nn::Linear*>(modules[i].get());
      check(linear != nullptr, l.path, ".", key, ": layer ", i, " of the model is not a dense layer");
      const std::vector<double> v = l.numbers(key);
      const optim::Regularizer r{v.at(0), v.at(1)};
      if (r.l1 == 0 && r.l2 == 0) continue;
      const bool kernel = std::string(key) == "kernel_regularizer";
      check(kernel || linear->options().bias, l.path,
            ".bias_regularizer: the layer has no bias (use_bias: false)");
      out.emplace_back(kernel ? linear->weight : linear->bias, r);
    }
  }
}

// The path of the first layer with a kernel_regularizer or bias_regularizer ("" when none).
static std::string regularized_layer(const std::vector<Named>& layers) {
  for (const Named& l : layers) {
    for (const char* key : {"kernel_regularizer", "bias_regularizer"})
      if (l.has(key)) return l.path + "." + key;
    const std::string inner = regularized_layer(l.items);
    if (!inner.empty()) return inner;
  }
  return "";
}

static std::vector<std::pair<Tensor, optim::Regularizer>> layer_regularizers(const Config& c,
                                                                             nn::Sequential* net) {
  std::vector<std::pair<Tensor, optim::Regularizer>> out;
  const std::string first = regularized_layer(c.layers);
  if (first.empty()) return out;
  check(net != nullptr, first, ": compile_options needs the model built from this config");
  layer_regularizers(c.layers, net->children(), out);
  return out;
}

train::CompileOptions compile_options(const Config& c, nn::Sequential* net) {
  const CompileConfig& cc = c.compile;
  train::CompileOptions o;
  o.regularizers = layer_regularizers(c, net);
  // The optimizer of optim::optimizers(), made when training starts; an error about one option
  // ("betas: expected two numbers") names it by its config key.
  const optim::OptimizerEntry* entry = &optim::optimizers().get(cc.optimizer.kind);
  const neurona::Options options = entry->options_from(cc.optimizer.options);
  const std::string path = cc.optimizer.path;
  std::vector<std::pair<std::string, Tensor>> named;
  if (!cc.param_groups.empty()) {
    check(net != nullptr, "compile.param_groups: compile_options needs the model built from this config");
    named = net->named_parameters();
  }
  // A backbone_finetuning callback needs the backbone's parameters as a group of their own, last.
  std::vector<Tensor> backbone;
  for (const Named& cb : c.callbacks) {
    if (cb.kind != "backbone_finetuning") continue;
    check(net != nullptr, cb.path, ": compile_options needs the model built from this config");
    const auto& e = train::callbacks().get(cb.kind);
    try {
      for (const auto& [name, t] : train::backbone_parameters(
               *net, train::backbone_finetuning_options(e.options_from(cb.options), {}).backbone))
        backbone.push_back(t);
    } catch (const Error& err) {
      fail(cb.path, ".", err.what());
    }
  }
  const std::vector<ParamGroupConfig> groups = cc.param_groups;
  o.optimizer = [entry, options, path, named, groups,
                 backbone](std::vector<Tensor> p) -> std::shared_ptr<optim::Optimizer> {
    try {
      auto in_backbone = [&backbone](const Tensor& t) {
        return std::any_of(backbone.begin(), backbone.end(), [&t](const Tensor& b) { return b.same(t); });
      };
      std::vector<Tensor> rest;
      for (const Tensor& t : p)
        if (!in_backbone(t)) rest.push_back(t);
      if (groups.empty()) {
        std::shared_ptr<optim::Optimizer> opt = entry->make(options, rest);
        if (!backbone.empty()) opt->add_param_group(backbone);
        return opt;
      }
      // Each parameter joins the first group whose glob matches its name; the rest train with the
      // optimizer's own settings, in a last group.
      std::vector<std::vector<Tensor>> members(groups.size() + 1);
      for (const Tensor& t : rest) {
        std::string name;
        for (const auto& [n, q] : named)
          if (q.same(t)) name = n;
        size_t g = 0;
        while (g < groups.size() && !glob_match(groups[g].params, name)) ++g;
        members[g].push_back(t);
      }
      for (size_t g = 0; g < groups.size(); ++g)
        check(!members[g].empty(), groups[g].path, ".params: '", groups[g].params,
              "' matches no trainable parameter of the model");
      std::shared_ptr<optim::Optimizer> opt = entry->make(options, members[0]);
      for (size_t g = 1; g < members.size(); ++g)
        if (!members[g].empty()) opt->add_param_group(members[g]);
      for (size_t g = 0; g < groups.size(); ++g) {
        if (groups[g].lr) opt->set(g, "lr", *groups[g].lr);
        if (groups[g].weight_decay) {
          check(opt->hparam(g, "weight_decay") != nullptr, groups[g].path,
                ".weight_decay: ", opt->type_name(), " has no weight_decay");
          opt->set(g, "weight_decay", *groups[g].weight_decay);
        }
      }
      if (!backbone.empty()) opt->add_param_group(backbone);
      return opt;
    } catch (const Error& e) {
      const std::string message = e.what();
      for (const auto& key : entry->option_names())
        if (message.rfind(key + ": ", 0) == 0) fail(path, ".", message);
      throw;
    }
  };
  // The loss is its registry row's, with the config's options. Cross-entropy after a softmax
  // layer needs the model: Keras's cross-entropy on the probabilities (with the class weights).
  const Named& loss = cc.loss;
  const std::string list_key = loss.kind == "cross_entropy" ? "weight" : "pos_weight";
  const Tensor list = loss.has(list_key) ? list_tensor(loss.numbers(list_key)) : Tensor();
  if (loss.kind == "cross_entropy" && ends_in_softmax(c.layers)) {
    o.loss_object = std::make_shared<nn::ProbabilityCrossEntropyLoss>(list);
  } else {
    try {
      const nn::LossEntry& entry = nn::losses().get(loss.kind);
      o.loss_object = entry.make(entry.options_from(loss.options));
    } catch (const Error& e) {
      fail(loss.path, ": ", e.what());
    }
  }
  if (list.defined()) {
    // Named as the loss it wraps for the metrics: the canonical name, or the probability form's.
    const std::string named = dynamic_cast<const nn::ProbabilityCrossEntropyLoss*>(o.loss_object.get())
                                  ? o.loss_object->type_name()
                                  : loss.kind;
    o.loss_object =
        std::make_shared<ListOptionLoss>(o.loss_object, named, loss.path + "." + loss.kind + "." + list_key,
                                         list.numel(), loss.kind == "cross_entropy");
  }
  o.loss = loss.kind;
  o.metrics = cc.metrics;
  if (cc.schedule) {
    const Named s = *cc.schedule;
    const int64_t epochs = c.fit.epochs;
    o.schedule = [s, epochs](optim::Optimizer& opt, int64_t steps_per_epoch) {
      return make_schedule(s, opt, epochs, steps_per_epoch);
    };
    o.schedule_interval = cc.interval;
    o.schedule_frequency = cc.frequency;
    o.schedule_monitor = cc.monitor;
  }
  return o;
}

std::vector<std::shared_ptr<train::Callback>> make_callbacks(const Config& c) {
  std::vector<std::shared_ptr<train::Callback>> out;
  train::CallbackContext context;
  context.verbose = c.fit.verbose != 0;
  context.has_log_dir = !c.logging.dir.empty();
  for (const Named& cb : c.callbacks) {
    try {
      const train::CallbackEntry& entry = train::callbacks().get(cb.kind);
      out.push_back(entry.make(entry.options_from(cb.options), context));
    } catch (const Error& e) {
      fail(cb.path, ": ", e.what());
    }
  }
  return out;
}

train::FitOptions fit_options(const Config& c, const PreparedData& d, nn::Module& net) {
  train::FitOptions f;
  f.epochs = c.fit.epochs;
  f.batch_size = c.fit.batch_size;
  f.shuffle = c.fit.shuffle;
  f.verbose = c.fit.verbose;
  f.seed = c.seed;
  f.callbacks = make_callbacks(c);
  if (auto* seq = dynamic_cast<nn::Sequential*>(&net)) {
    auto bn = frozen_batchnorm_layers(c, *seq);
    if (!bn.empty()) f.callbacks.push_back(std::make_shared<FrozenBatchNorm>(std::move(bn)));
  }
  f.validation_data = d.val;
  f.transform = d.augment;
  f.eval_transform = d.eval_transform();
  auto& t = f.trainer;
  t.gradient_clip_val = c.fit.gradient_clip_val;
  t.gradient_clip_algorithm = c.fit.gradient_clip_algorithm;
  t.accumulate_grad_batches = c.fit.accumulate_grad_batches;
  t.min_epochs = c.fit.min_epochs;
  t.max_steps = c.fit.max_steps;
  t.limit_train_batches = c.fit.limit_train_batches;
  t.deterministic = c.fit.deterministic;
  t.strategy = c.fit.strategy;
  t.bucket_cap_mb = c.fit.bucket_cap_mb;
  t.ddp_timeout = c.fit.ddp_timeout;
  t.sync_batchnorm = c.fit.sync_batchnorm;
  if (!c.logging.dir.empty()) {
    f.run_root = c.logging.dir;
    f.name = c.name;
    t.log_every_n_steps = c.logging.log_every_n_steps;
    t.histogram_every_n_epochs = c.logging.histogram_every_n_epochs;
    t.hparams = c.hparams;
    t.config_text = c.text;
    t.summary_text = nn::summary(net, d.input_shape, c.name);
  }
  return f;
}

void attach_loggers(const Config& c, const train::Model& model, train::FitOptions& f) {
  if (c.logging.dir.empty()) return;
  const train::Model* m = &model;
  auto log_dir = [m] {
    check(m->last_trainer() && !m->last_trainer()->log_dir().empty(),
          "logging: the run directory is not known yet");
    return m->last_trainer()->log_dir();
  };
  if (c.logging.tensorboard)
    f.trainer.loggers.push_back(std::make_shared<DeferredLogger>(
        [log_dir] { return std::make_unique<io::TensorBoardLogger>(log_dir()); }));
  if (c.logging.csv)
    f.trainer.loggers.push_back(
        std::make_shared<DeferredLogger>([log_dir] { return std::make_unique<io::CsvLogger>(log_dir()); }));
  if (c.logging.mlflow) {
    const auto root = c.logging.dir / "mlruns";
    const std::string name = c.name;
    f.trainer.loggers.push_back(std::make_shared<DeferredLogger>([log_dir, root, name] {
      return std::make_unique<io::MlflowLogger>(root, name, log_dir().filename().string());
    }));
  }
}

// Which epoch's weights a fit leaves in the net: EarlyStopping(restore_best_weights) puts back
// its best epoch's (the last that improved by more than min_delta, not always the raw minimum);
// otherwise they are the last epoch's. The value shown is the early-stopping monitor's, or the
// validation loss (the training loss without validation).
static TrainResult saved_weights_of(const train::History& h,
                                    const std::vector<std::shared_ptr<train::Callback>>& cbs) {
  TrainResult s;
  s.saved_epoch = static_cast<int64_t>(h.size());
  s.saved_monitor = h.has("val_loss") ? "val_loss" : "loss";
  for (const auto& cb : cbs) {
    const auto* es = dynamic_cast<const train::EarlyStopping*>(cb.get());
    if (!es) continue;
    s.saved_monitor = es->options().monitor;
    if (es->options().restore_best_weights && es->best_epoch() >= 0) {
      s.saved_restored = true;
      s.saved_epoch = es->best_epoch() + 1;
      s.saved_value = es->best();
      return s;
    }
  }
  if (h.has(s.saved_monitor) && !h[s.saved_monitor].empty()) s.saved_value = h[s.saved_monitor].back();
  return s;
}

TrainResult run_training(const Config& c, const TrainRequest& r) {
  TrainResult out;
  out.data = load_data(c);
  const PreparedData& d = out.data;
  Config run = c;
  run.fit.verbose = r.verbose;
  // bf16 falls back to fp32 with a message on a CPU without AVX-512 BF16.
  set_matmul_precision(c.fit.precision);

  // One fit with the config's seed; random restarts repeat it with seeds seed, seed+1, … and keep
  // the best by restart_monitor.
  std::vector<std::shared_ptr<nn::Sequential>> nets;
  std::vector<train::History> histories;
  std::vector<std::filesystem::path> log_dirs;
  std::vector<TrainResult> saved;  // per fit: only the saved_* fields
  auto fit_once = [&](uint64_t seed) {
    Config rc = run;
    rc.seed = seed;
    auto net = build_model(rc, d.input_shape);
    if (!r.init_weights.empty()) load_weights(r.init_weights, *net);
    std::string report;
    apply_model_transfer(rc, *net, &report);
    if (!report.empty() && r.verbose) std::cout << report << std::flush;
    train::Model model(net);
    model.compile(compile_options(rc, net.get()));
    train::FitOptions f = fit_options(rc, d, *net);
    f.resume_from = r.resume;
    attach_loggers(rc, model, f);
    train::History h = model.fit(d.train, f);
    nets.push_back(net);
    histories.push_back(h);
    log_dirs.push_back(model.last_trainer() ? model.last_trainer()->log_dir() : std::filesystem::path());
    saved.push_back(saved_weights_of(h, f.callbacks));
    return h;
  };
  if (c.restarts > 1) {
    const bool minimize = train::infer_mode(c.restart_monitor) == "min";
    auto rr = train::random_restarts(static_cast<int>(c.restarts), c.seed, c.restart_monitor, minimize,
                                     [&](uint64_t seed, int) { return fit_once(seed); });
    out.restart_scores = rr.scores;
    out.best_restart = rr.best;
  } else {
    fit_once(c.seed);
  }
  const size_t best = out.best_restart >= 0 ? static_cast<size_t>(out.best_restart) : 0;
  out.net = nets[best];
  out.history = histories[best];
  out.log_dir = log_dirs[best];
  out.saved_epoch = saved[best].saved_epoch;
  out.saved_restored = saved[best].saved_restored;
  out.saved_monitor = saved[best].saved_monitor;
  out.saved_value = saved[best].saved_value;

  train::Model model(out.net);
  model.compile(compile_options(c, out.net.get()));
  if (d.test) out.test = model.evaluate(*d.test, c.fit.batch_size, d.eval_transform());
  // Data-parallel, rank 0 writes (every rank holds the same weights).
  train::TrainerOptions strategy;
  strategy.strategy = c.fit.strategy;
  const bool writer = train::strategy_world_size(strategy) == 1 || dist::Communicator::world().is_root();
  if (!r.save_weights.empty() && writer) save_weights(r.save_weights, *out.net, d, c.text);
  if (!out.log_dir.empty()) save_weights(out.log_dir / "model.safetensors", *out.net, d, c.text);
  if (!out.log_dir.empty() && c.logging.onnx) {
    const auto dims = d.input_shape.dims();
    io::export_onnx(*out.net, std::vector<int64_t>(dims.begin(), dims.end()), out.log_dir / "model.onnx");
  }
  return out;
}

optim::LRFinderResult run_lr_find(const Config& c) {
  PreparedData d = load_data(c);
  auto net = build_model(c, d.input_shape);
  apply_model_transfer(c, *net);
  train::CompileOptions co = compile_options(c, net.get());
  auto loss = co.loss_object ? co.loss_object : train::make_loss(co.loss);
  auto opt = co.optimizer(net->parameters());
  data::LoaderOptions lo;
  lo.batch_size = c.fit.batch_size;
  lo.shuffle = true;
  lo.seed = c.seed;
  lo.transform = d.augment;
  data::DataLoader loader(std::make_shared<data::TensorDataset>(d.train), lo);
  std::vector<data::Batch> batches;
  int64_t epoch = 0;
  size_t next = 0;
  auto next_loss = [&]() -> Tensor {
    if (next == batches.size()) {
      batches.clear();
      loader.set_epoch(epoch++);
      for (const data::Batch& b : loader) batches.push_back(b);
      next = 0;
    }
    const data::Batch& b = batches[next++];
    // The range test follows the loss training minimises, penalties included.
    return (*loss)((*net)(b.x), b.y) + optim::regularization_penalty(co.regularizers);
  };
  optim::LRFinderOptions o;
  o.min_lr = c.lr_find.number("min_lr", o.min_lr);
  o.max_lr = c.lr_find.number("max_lr", o.max_lr);
  o.num_training = c.lr_find.integer("num_training", o.num_training);
  net->train();
  return optim::lr_find(*opt, next_loss, o);
}

}  // namespace neurona::app
