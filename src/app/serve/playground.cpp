// The Playground's sessions: data, network, training thread, state snapshots and exports.
#include "playground.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api.hpp"
#include "neurona/autograd/node.hpp"
#include "neurona/core/error.hpp"
#include "neurona/core/random.hpp"
#include "neurona/data/synthetic.hpp"
#include "neurona/io/safetensors.hpp"
#include "neurona/nn/functional.hpp"
#include "neurona/nn/registry.hpp"
#include "neurona/optim/regularization.hpp"

namespace neurona::app::playground {

const char* const kFeatureNames[7] = {"x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY"};

namespace {

constexpr int kGrid = 100;  // output heat map: kGrid × kGrid over [-6, 6]²
constexpr int kThumb = 20;  // neuron thumbnails
constexpr double kDomain = 6.0;
constexpr size_t kMaxHistory = 4000;  // loss-chart points kept; older ones are thinned
constexpr int64_t kMaxCsvRows = 2000;

using Choices = std::vector<std::string>;

bool one_of(const std::string& v, const Choices& choices) {
  return std::find(choices.begin(), choices.end(), v) != choices.end();
}

std::string choices_text(const Choices& choices) {
  std::string s;
  for (const auto& c : choices) s += (s.empty() ? "" : ", ") + c;
  return s;
}

// Readers that name the field and the accepted range in their errors.
std::string get_string(const json& v, const char* key, const Choices& choices) {
  check(v.is_string(), "'", key, "' must be a string (one of ", choices_text(choices), ")");
  const std::string s = v.get<std::string>();
  check(one_of(s, choices), "'", key, "' is '", s, "'; expected one of ", choices_text(choices));
  return s;
}
double get_number(const json& v, const char* key, double lo, double hi) {
  check(v.is_number(), "'", key, "' must be a number in [", lo, ", ", hi, "]");
  const double d = v.get<double>();
  check(std::isfinite(d) && d >= lo && d <= hi, "'", key, "' is ", d, "; expected a number in [", lo, ", ",
        hi, "]");
  return d;
}
int get_int(const json& v, const char* key, int lo, int hi) {
  check(v.is_number_integer() || v.is_number_unsigned(), "'", key, "' must be an integer in [", lo, ", ", hi,
        "]");
  const int64_t d = v.get<int64_t>();
  check(d >= lo && d <= hi, "'", key, "' is ", d, "; expected an integer in [", lo, ", ", hi, "]");
  return int(d);
}

json round_floats(const std::vector<float>& v, float scale = 1000.f) {
  json a = json::array();
  for (float f : v) a.push_back(std::isfinite(f) ? std::round(double(f) * scale) / scale : 0.0);
  return a;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Config

Config Config::from_json(const json& j) {
  check(j.is_object(), "the configuration must be a JSON object");
  Config c;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "problem")
      c.problem = get_string(v, "problem", {"classification", "regression", "multiclass"});
    else if (k == "dataset")
      c.dataset = get_string(v, "dataset",
                             {"circle", "xor", "gauss", "spiral", "reg-plane", "reg-gauss", "blobs", "csv"});
    else if (k == "classes")
      c.classes = get_int(v, "classes", 2, 6);
    else if (k == "noise")
      c.noise = get_int(v, "noise", 0, 80);
    else if (k == "percTrainData")
      c.percTrainData = get_int(v, "percTrainData", 10, 90);
    else if (k == "batchSize")
      c.batchSize = get_int(v, "batchSize", 1, 100);
    else if (k == "features") {
      check(v.is_array() && v.size() <= 7, "'features' must be a list of at most 7 feature names");
      c.features.clear();
      for (const auto& f : v) {
        const std::string name =
            get_string(f, "features[]", {"x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY"});
        check(std::find(c.features.begin(), c.features.end(), name) == c.features.end(), "'features' lists '",
              name, "' twice");
        c.features.push_back(name);
      }
      check(!c.features.empty(), "'features' must enable at least one input feature");
    } else if (k == "networkShape") {
      check(v.is_array() && v.size() <= 6, "'networkShape' must be a list of 0 to 6 layer sizes");
      c.networkShape.clear();
      for (const auto& n : v) c.networkShape.push_back(get_int(n, "networkShape[]", 1, 8));
    } else if (k == "activation")
      c.activation = get_string(v, "activation", {"relu", "tanh", "sigmoid", "linear"});
    else if (k == "learningRate")
      c.learningRate = get_number(v, "learningRate", 1e-6, 10);
    else if (k == "regularization")
      c.regularization = get_string(v, "regularization", {"none", "L1", "L2"});
    else if (k == "regularizationRate")
      c.regularizationRate = get_number(v, "regularizationRate", 0, 10);
    else if (k == "optimizer")
      c.optimizer = get_string(v, "optimizer", web_optimizer_words());
    else if (k == "seed")
      c.seed = uint32_t(get_number(v, "seed", 0, 4294967295.0));
    else if (k == "stopLoss")
      c.stopLoss = get_number(v, "stopLoss", 0, 100);
    else if (k == "maxEpochs")
      c.maxEpochs = get_int(v, "maxEpochs", 0, 1000000);
    else if (k == "speed")
      c.speed = get_int(v, "speed", 1, 1000);
    else if (k == "initZero") {
      check(v.is_boolean(), "'initZero' must be true or false");
      c.initZero = v.get<bool>();
    } else
      fail("unknown field '", k, "' in the configuration");
  }
  const bool reg_set = c.dataset == "reg-plane" || c.dataset == "reg-gauss";
  if (c.problem == "regression")
    check(reg_set || c.dataset == "csv", "dataset '", c.dataset, "' is not a regression data set");
  else if (c.problem == "classification")
    check(!reg_set && c.dataset != "blobs", "dataset '", c.dataset, "' is not a two-class data set");
  else
    check(c.dataset == "blobs" || c.dataset == "spiral" || c.dataset == "csv", "dataset '", c.dataset,
          "' has no multiclass version (blobs, spiral or csv)");
  return c;
}

json Config::to_json() const {
  return json{{"problem", problem},
              {"dataset", dataset},
              {"classes", classes},
              {"noise", noise},
              {"percTrainData", percTrainData},
              {"batchSize", batchSize},
              {"features", features},
              {"networkShape", networkShape},
              {"activation", activation},
              {"learningRate", learningRate},
              {"regularization", regularization},
              {"regularizationRate", regularizationRate},
              {"optimizer", optimizer},
              {"seed", seed},
              {"stopLoss", stopLoss},
              {"maxEpochs", maxEpochs},
              {"speed", speed},
              {"initZero", initZero}};
}

bool Config::same_data(const Config& o) const {
  return problem == o.problem && dataset == o.dataset && (problem != "multiclass" || classes == o.classes) &&
         noise == o.noise && percTrainData == o.percTrainData && seed == o.seed;
}

bool Config::same_network(const Config& o) const {
  return same_data(o) && batchSize == o.batchSize && features == o.features &&
         networkShape == o.networkShape && activation == o.activation && optimizer == o.optimizer &&
         initZero == o.initZero;
}

// ---------------------------------------------------------------------------------------------
// Session

Session::Session(std::string id, const Config& config)
    : id_(std::move(id)), config_(config), created_(std::chrono::steady_clock::now()) {
  touch();
  check(config_.dataset != "csv", "a new session cannot start on 'csv' data: upload a CSV to a session");
  generate_data();
  split_data();
  build_network();
  thread_ = std::thread([this] { loop(); });
}

Session::~Session() {
  {
    std::lock_guard lk(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Session::generate_data() {
  data_seed_ = config_.seed;
  const float noise = float(config_.noise) / 100.f;
  data::Points p;
  if (config_.problem == "multiclass") {
    p = config_.dataset == "blobs" ? data::playground_blobs(config_.classes, noise, data_seed_)
                                   : data::playground_spiral_arms(config_.classes, noise, data_seed_);
    data::shuffle_points(p.x, p.y, data_seed_);
  } else {
    data::PlaygroundOptions o;
    o.noise = noise;
    o.seed = data_seed_;
    o.labels = data::Labels::PlusMinusOne;
    p = data::playground(config_.dataset, o);
  }
  all_x_ = p.x;
  all_y_ = p.y;
  ++data_version_;
}

Tensor Session::features_of(const Tensor& xy) const {
  const int64_t n = xy.size(0), f = int64_t(config_.features.size());
  std::vector<float> out(n * f);
  const float* p = xy.data();
  for (int64_t i = 0; i < n; ++i) {
    const float x = p[2 * i], y = p[2 * i + 1];
    for (int64_t k = 0; k < f; ++k) {
      const std::string& name = config_.features[k];
      float v = 0;
      if (name == "x")
        v = x;
      else if (name == "y")
        v = y;
      else if (name == "xSquared")
        v = x * x;
      else if (name == "ySquared")
        v = y * y;
      else if (name == "xTimesY")
        v = x * y;
      else if (name == "sinX")
        v = std::sin(x);
      else if (name == "sinY")
        v = std::sin(y);
      out[i * f + k] = v;
    }
  }
  return Tensor::from(out, {n, f});
}

void Session::split_data() {
  const int64_t n = all_x_.size(0);
  const int64_t n_train = std::max<int64_t>(1, std::min<int64_t>(n - 1, n * config_.percTrainData / 100));
  train_xy_ = all_x_.slice(0, n_train).clone();
  test_xy_ = all_x_.slice(n_train, n).clone();
  train_x_ = features_of(train_xy_);
  test_x_ = features_of(test_xy_);
  Tensor ty = all_y_.slice(0, n_train).clone(), sy = all_y_.slice(n_train, n).clone();
  if (config_.problem == "multiclass") {  // class indices [N], as cross_entropy wants
    ty = ty.reshape({n_train});
    sy = sy.reshape({n - n_train});
  }
  train_y_ = ty;
  test_y_ = sy;
}

void Session::build_network() {
  layers_.clear();
  // Initial weights come from the seed alone, so a URL reproduces them (the Playground's rule:
  // weights uniform in [-0.5, 0.5], biases 0.1; initZero makes all of them 0).
  Generator g(config_.seed * 2654435761u + 12345u);
  int64_t in = int64_t(config_.features.size());
  const nn::Activation hidden = nn::activation_from_name(config_.activation);
  std::vector<int64_t> sizes(config_.networkShape.begin(), config_.networkShape.end());
  const int64_t outputs = config_.problem == "multiclass" ? config_.classes : 1;
  sizes.push_back(outputs);
  for (size_t i = 0; i < sizes.size(); ++i) {
    const bool last = i + 1 == sizes.size();
    nn::Activation act = hidden;
    if (last) act = config_.problem == "classification" ? nn::Activation::Tanh : nn::Activation::Identity;
    auto layer = std::make_shared<nn::Linear>(in, sizes[i], true, act);
    float* w = layer->weight.data();
    for (int64_t k = 0; k < layer->weight.numel(); ++k)
      w[k] = config_.initZero ? 0.f : g.uniform(-0.5f, 0.5f);
    float* b = layer->bias.data();
    for (int64_t k = 0; k < layer->bias.numel(); ++k) b[k] = config_.initZero ? 0.f : 0.1f;
    layers_.push_back(layer);
    in = sizes[i];
  }
  build_optimizer();
  epoch_ = 0;
  ++run_;
  history_.clear();
  stop_reason_.clear();
  evaluate();
  history_.push_back({0.0, train_loss_, test_loss_});
}

void Session::build_optimizer() {
  std::vector<Tensor> params;
  for (auto& l : layers_) {
    params.push_back(l->weight);
    params.push_back(l->bias);
  }
  optimizer_ = make_web_optimizer(config_.optimizer, config_.learningRate, std::move(params));
}

Tensor Session::forward(const Tensor& x, std::vector<Tensor>* hidden) const {
  Tensor h = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    h = layers_[i]->forward(h);
    if (hidden && i + 1 < layers_.size()) hidden->push_back(h);
  }
  return h;
}

// The loss the exported config names, so the number shown, `neurona evaluate` of the export and
// the gradient of a retrain agree: mean squared error (no ½ factor); multiclass: softmax
// cross-entropy on logits. Both come from nn::losses(), as a config's would.
const char* Session::loss_name() const { return config_.problem == "multiclass" ? "cross_entropy" : "mse"; }

Tensor Session::loss_of(const Tensor& out, const Tensor& y) const {
  auto make = [](const char* name) {
    const nn::LossEntry& e = nn::losses().get(name);
    return e.make(e.options_from({}));
  };
  static const std::shared_ptr<nn::Loss> mse = make("mse"), cross_entropy = make("cross_entropy");
  return config_.problem == "multiclass" ? (*cross_entropy)(out, y) : (*mse)(out, y);
}

void Session::train_epoch() {
  const int64_t n = train_x_.size(0), b = config_.batchSize;
  const bool reg = config_.regularization != "none" && config_.regularizationRate > 0;
  // Playground: L1 penalty rate·|w|, L2 penalty rate·½w²; Regularizer's l2 term is l2·w².
  const optim::Regularizer r{config_.regularization == "L1" ? config_.regularizationRate : 0.0,
                             config_.regularization == "L2" ? config_.regularizationRate / 2 : 0.0};
  for (int64_t s = 0; s < n; s += b) {
    const int64_t e = std::min(n, s + b);
    optimizer_->zero_grad();
    Tensor loss = loss_of(forward(train_x_.slice(s, e)), train_y_.slice(s, e));
    if (reg)
      for (auto& l : layers_) loss = loss + r.penalty(l->weight);
    loss.backward();
    optimizer_->step();
  }
  ++epoch_;
  evaluate();
  history_.push_back({double(epoch_), train_loss_, test_loss_});
  if (history_.size() > kMaxHistory) {  // keep every other point of the older half
    std::vector<std::array<double, 3>> thin;
    for (size_t i = 0; i < history_.size(); ++i)
      if (i >= history_.size() / 2 || i % 2 == 0) thin.push_back(history_[i]);
    history_ = std::move(thin);
  }
}

void Session::evaluate() {
  NoGradGuard ng;
  const bool classify = config_.problem != "regression";
  const int classes = config_.problem == "multiclass" ? config_.classes : 2;
  auto run = [&](const Tensor& x, const Tensor& y, double& loss, double& acc, bool fill_confusion) {
    if (x.size(0) == 0) {
      loss = acc = 0;
      return;
    }
    Tensor out = forward(x);
    loss = loss_of(out, y).item();
    if (!classify) return;
    const int64_t n = x.size(0);
    const float* o = out.data();
    const float* t = y.data();
    int64_t right = 0;
    for (int64_t i = 0; i < n; ++i) {
      int truth, pred;
      if (config_.problem == "multiclass") {
        truth = int(t[i]);
        pred = 0;
        for (int k = 1; k < classes; ++k)
          if (o[i * classes + k] > o[i * classes + pred]) pred = k;
      } else {  // class 0 = orange (−1), class 1 = blue (+1)
        truth = t[i] > 0 ? 1 : 0;
        pred = o[i] >= 0 ? 1 : 0;
      }
      right += truth == pred;
      if (fill_confusion) ++confusion_[truth][pred];
    }
    acc = double(right) / double(n);
  };
  confusion_.assign(classify ? classes : 0, std::vector<int64_t>(classify ? classes : 0, 0));
  run(train_x_, train_y_, train_loss_, train_acc_, false);
  run(test_x_, test_y_, test_loss_, test_acc_, true);
}

void Session::loop() {
  std::unique_lock lk(mu_);
  while (!quit_) {
    cv_.wait(lk, [&] { return quit_ || playing_; });
    if (quit_) break;
    const auto t0 = std::chrono::steady_clock::now();
    train_epoch();
    if (config_.maxEpochs > 0 && epoch_ >= config_.maxEpochs) {
      playing_ = false;
      stop_reason_ = "reached " + std::to_string(config_.maxEpochs) + " epochs";
    } else if (config_.stopLoss > 0 && test_loss_ < config_.stopLoss) {
      playing_ = false;
      std::ostringstream s;
      s << "test loss below " << config_.stopLoss;
      stop_reason_ = s.str();
    } else if (!std::isfinite(train_loss_)) {
      playing_ = false;
      stop_reason_ = "the loss is not finite (learning rate too high?)";
    }
    // Paces epochs to the chosen speed; the lock is free while waiting.
    const auto next = t0 + std::chrono::microseconds(1000000 / config_.speed);
    cv_.wait_until(lk, next, [&] { return quit_; });
  }
}

void Session::configure(const Config& c) {
  std::lock_guard lk(mu_);
  const Config old = config_;
  config_ = c;
  if (c.dataset == "csv") {
    check(old.dataset == "csv", "upload a CSV to use dataset 'csv'");
    check(old.problem == c.problem && (c.problem != "multiclass" || old.classes == c.classes),
          "the uploaded CSV was read for problem '", old.problem, "': upload it again");
    if (old.percTrainData != c.percTrainData) split_data();
  } else if (!old.same_data(c)) {
    generate_data();
    split_data();
  }
  if (!old.same_network(c) || old.features != c.features) {
    split_data();
    build_network();
    playing_ = false;
  } else {
    optimizer_->set_lr(c.learningRate);  // on the fly, as the Playground
    evaluate();
  }
}

void Session::play() {
  {
    std::lock_guard lk(mu_);
    playing_ = true;
    stop_reason_.clear();
  }
  cv_.notify_all();
}

void Session::pause() {
  std::lock_guard lk(mu_);
  playing_ = false;
}

json Session::step() {
  std::lock_guard lk(mu_);
  playing_ = false;
  train_epoch();
  return status_locked();
}

void Session::reset() {
  std::lock_guard lk(mu_);
  playing_ = false;
  build_network();
}

void Session::upload_csv(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::vector<float> xs, ys;
  int64_t row = 0, max_class = 0;
  std::lock_guard lk(mu_);
  const std::string problem = config_.problem;
  while (std::getline(in, line)) {
    ++row;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    float v[3];
    char extra;
    if (std::sscanf(line.c_str(), "%f,%f,%f %c", &v[0], &v[1], &v[2], &extra) != 3) {
      check(row == 1, "CSV line ", row, ": expected three numbers 'x1,x2,label'");
      continue;  // a header
    }
    for (float f : v) check(std::isfinite(f), "CSV line ", row, ": a value is not finite");
    check(std::abs(v[0]) <= 1000 && std::abs(v[1]) <= 1000, "CSV line ", row, ": |x| must be at most 1000");
    float label = v[2];
    if (problem == "classification") {
      check(label == 1 || label == -1 || label == 0, "CSV line ", row, ": a class label must be -1/0 or 1");
      label = label > 0 ? 1.f : -1.f;
    } else if (problem == "multiclass") {
      check(label >= 0 && label <= 5 && label == std::floor(label), "CSV line ", row,
            ": a class label must be 0 … 5");
      max_class = std::max<int64_t>(max_class, int64_t(label));
    }
    xs.push_back(v[0]);
    xs.push_back(v[1]);
    ys.push_back(label);
    check(int64_t(ys.size()) <= kMaxCsvRows, "the CSV has more than ", kMaxCsvRows, " rows");
  }
  const int64_t n = int64_t(ys.size());
  check(n >= 4, "the CSV needs at least 4 rows 'x1,x2,label'");
  all_x_ = Tensor::from(xs, {n, 2});
  all_y_ = Tensor::from(ys, {n, 1});
  data::shuffle_points(all_x_, all_y_, config_.seed);
  config_.dataset = "csv";
  if (problem == "multiclass") config_.classes = int(std::max<int64_t>(2, max_class + 1));
  ++data_version_;
  split_data();
  build_network();
  playing_ = false;
}

void Session::set_weight(int layer, int to, int from, double value) {
  std::lock_guard lk(mu_);
  check(layer >= 0 && layer < int(layers_.size()), "layer ", layer, " does not exist (0 … ",
        layers_.size() - 1, ")");
  nn::Linear& l = *layers_[layer];
  check(to >= 0 && to < l.options().out_features, "neuron ", to, " does not exist in layer ", layer);
  check(from >= -1 && from < l.options().in_features, "input ", from, " does not exist for layer ", layer);
  check(std::isfinite(value) && std::abs(value) <= 100, "a weight must be a number in [-100, 100]");
  if (from < 0)
    l.bias.data()[to] = float(value);
  else
    l.weight.data()[to * l.options().in_features + from] = float(value);
  evaluate();
}

json Session::status_locked() const {
  json s{{"epoch", epoch_},
         {"playing", playing_},
         {"run", run_},
         {"trainLoss", train_loss_},
         {"testLoss", test_loss_},
         {"stopReason", stop_reason_},
         {"dataVersion", data_version_},
         {"lossName", config_.problem == "multiclass" ? "cross-entropy" : "MSE"}};  // the page's label
  for (const char* k : {"trainLoss", "testLoss"})
    if (!std::isfinite(s[k].get<double>())) s[k] = nullptr;
  if (config_.problem != "regression") {
    s["trainAccuracy"] = train_acc_;
    s["testAccuracy"] = test_acc_;
    s["confusion"] = confusion_;
  }
  return s;
}

json Session::state(int64_t history_from, bool with_points) {
  touch();
  std::lock_guard lk(mu_);
  json s = status_locked();
  s["config"] = config_.to_json();
  json hist = json::array();
  for (const auto& h : history_)
    if (h[0] > double(history_from)) hist.push_back(json::array({h[0], h[1], h[2]}));
  s["history"] = hist;

  json layers = json::array();
  for (auto& l : layers_)
    layers.push_back({{"weights", round_floats(l->weight.to_vector())},
                      {"biases", round_floats(l->bias.to_vector())},
                      {"in", l->options().in_features},
                      {"out", l->options().out_features}});
  s["network"] = {{"inputs", config_.features}, {"layers", layers}};

  // Heat maps: the output over a kGrid² grid (row 0 at y = +6) and every hidden neuron over kThumb².
  NoGradGuard ng;
  auto grid = [&](int n) {
    std::vector<float> xy(size_t(n) * n * 2);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        xy[2 * (i * n + j)] = float(-kDomain + 2 * kDomain * (j + 0.5) / n);
        xy[2 * (i * n + j) + 1] = float(kDomain - 2 * kDomain * (i + 0.5) / n);
      }
    return features_of(Tensor::from(xy, {int64_t(n) * n, 2}));
  };
  Tensor out = forward(grid(kGrid));
  if (config_.problem == "multiclass") {
    const int k = config_.classes;
    std::vector<float> cls(kGrid * kGrid), conf(kGrid * kGrid);
    Tensor p = nn::F::softmax(out, 1);
    const float* pp = p.data();
    for (int i = 0; i < kGrid * kGrid; ++i) {
      int best = 0;
      for (int c = 1; c < k; ++c)
        if (pp[i * k + c] > pp[i * k + best]) best = c;
      cls[i] = float(best);
      conf[i] = pp[i * k + best];
    }
    s["heatmap"] = {{"n", kGrid}, {"class", round_floats(cls)}, {"confidence", round_floats(conf, 100.f)}};
  } else {
    s["heatmap"] = {{"n", kGrid}, {"values", round_floats(out.to_vector())}};
  }
  std::vector<Tensor> hidden;
  forward(grid(kThumb), &hidden);
  json neurons = json::array();
  for (const Tensor& h : hidden) {
    const int64_t units = h.size(1);
    json layer = json::array();
    const float* p = h.data();
    for (int64_t u = 0; u < units; ++u) {
      std::vector<float> v(kThumb * kThumb);
      for (int i = 0; i < kThumb * kThumb; ++i) v[i] = p[i * units + u];
      layer.push_back(round_floats(v, 100.f));
    }
    neurons.push_back(layer);
  }
  s["neurons"] = {{"n", kThumb}, {"layers", neurons}};

  if (with_points) {
    auto pts = [&](const Tensor& xy, const Tensor& y) {
      json a = json::array();
      const float* p = xy.data();
      const float* t = y.data();
      for (int64_t i = 0; i < xy.size(0); ++i)
        a.push_back(json::array({std::round(p[2 * i] * 1000) / 1000, std::round(p[2 * i + 1] * 1000) / 1000,
                                 std::round(t[i] * 1000) / 1000}));
      return a;
    };
    s["points"] = {{"train", pts(train_xy_, train_y_)}, {"test", pts(test_xy_, test_y_)}};
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Exports: a Neurona config (issue 7's shape) whose data is the exported CSV of engineered
// features, and the weights under the config's layer indices ("0.weight" is [out, in]).

std::string Session::export_data_csv() {
  std::lock_guard lk(mu_);
  std::ostringstream out;
  for (const auto& f : config_.features) out << f << ",";
  out << "label\n";
  auto rows = [&](const Tensor& x, const Tensor& y) {
    const int64_t f = x.size(1);
    for (int64_t i = 0; i < x.size(0); ++i) {
      for (int64_t k = 0; k < f; ++k) out << x.data()[i * f + k] << ",";
      out << y.data()[i] << "\n";
    }
  };
  rows(train_x_, train_y_);  // training rows first: the config's val split takes the last rows
  rows(test_x_, test_y_);
  return out.str();
}

std::string Session::export_config_yaml() {
  std::lock_guard lk(mu_);
  std::ostringstream y;
  const bool multi = config_.problem == "multiclass";
  y << "# Exported by the Neurona Playground (neurona serve). data.csv holds the engineered input\n"
    << "# features (";
  for (size_t i = 0; i < config_.features.size(); ++i) y << (i ? ", " : "") << config_.features[i];
  y << ") and the label; the first " << train_x_.size(0) << " rows were the training set.\n";
  if (config_.problem == "classification")
    y << "# Two classes as the Playground has them: labels -1/+1, tanh output, mean squared error.\n";
  if (config_.regularization != "none")
    y << "# Trained with " << config_.regularization << " regularisation, rate " << config_.regularizationRate
      << ".\n";
  y << "name: playground-" << config_.dataset << "\n"
    << "seed: " << config_.seed << "\n"
    << "data:\n"
    << "  csv: data.csv\n"
    << "  target: label\n"
    << "  task: " << (multi ? "multiclass" : "regression") << "\n"
    << "  split: {val: " << double(test_x_.size(0)) / double(train_x_.size(0) + test_x_.size(0))
    << ", shuffle: false}\n"
    << "  scale: {features: none, target: none}\n"
    << "model:\n"
    << "  layers:\n";
  for (size_t i = 0; i < layers_.size(); ++i) {
    const bool last = i + 1 == layers_.size();
    std::string act = nn::activation_name(layers_[i]->options().activation);
    if (act == "identity") act = "linear";
    y << "    - {dense: " << layers_[i]->options().out_features;
    if (!(last && multi) && act != "linear") y << ", activation: " << act;
    y << "}\n";
  }
  const OptimizerChoice choice = optimizer_choice(config_.optimizer);
  const std::string& opt = choice.name;
  std::string extra;
  for (const auto& [key, value] : choice.options) {
    extra += ", ";
    extra += key;
    extra += ": ";
    extra += value;
  }
  y << "compile:\n"
    << "  optimizer: {" << opt << ": {lr: " << config_.learningRate << extra << "}}\n"
    << "  loss: " << loss_name() << "\n"
    << "  metrics: [" << (multi ? "accuracy" : "mae") << "]\n"
    << "fit: {batch_size: " << config_.batchSize << ", epochs: " << std::max<int64_t>(1, epoch_)
    << ", shuffle: false}\n";
  return y.str();
}

std::string Session::export_weights_safetensors() {
  std::vector<io::NamedTensor> tensors;
  {
    std::lock_guard lk(mu_);
    for (size_t i = 0; i < layers_.size(); ++i) {
      tensors.push_back({std::to_string(i) + ".weight", layers_[i]->weight.detach().clone()});
      tensors.push_back({std::to_string(i) + ".bias", layers_[i]->bias.detach().clone()});
    }
  }
  // save_safetensors writes files; go through a private temporary one.
  const auto path =
      std::filesystem::temp_directory_path() /
      ("neurona-serve-" + id_ + "-" +
       std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id())) + ".safetensors");
  io::save_safetensors(path, tensors, {{"format", "pt"}, {"source", "neurona playground"}});
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  std::filesystem::remove(path);
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// SessionManager

SessionManager::SessionManager(int max_sessions, double idle_s, double max_s)
    : max_sessions_(max_sessions), idle_s_(idle_s), max_s_(max_s) {
  reaper_ = std::thread([this] { reap(); });
}

SessionManager::~SessionManager() {
  {
    std::lock_guard lk(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  reaper_.join();
  std::map<std::string, std::shared_ptr<Session>> doomed;
  {
    std::lock_guard lk(mu_);
    doomed.swap(sessions_);
  }
}

std::shared_ptr<Session> SessionManager::create(const Config& config) {
  std::string id;
  {
    std::lock_guard lk(mu_);
    check(int(sessions_.size()) < max_sessions_, "too many Playground sessions (", max_sessions_,
          " at most); close a page or wait for idle ones to end");
    // Ids are not secrets (loopback only); a counter plus random bits keeps them unguessable enough
    // that two pages never collide.
    static Generator g(uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()));
    id = std::to_string(next_id_++) + "-" + std::to_string(g.next_u32() % 1000000);
  }
  auto s = std::make_shared<Session>(id, config);  // outside the lock: it trains nothing yet
  std::lock_guard lk(mu_);
  check(int(sessions_.size()) < max_sessions_, "too many Playground sessions (", max_sessions_, " at most)");
  sessions_[id] = s;
  return s;
}

std::shared_ptr<Session> SessionManager::find(const std::string& id) {
  std::lock_guard lk(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return nullptr;
  it->second->touch();
  return it->second;
}

bool SessionManager::remove(const std::string& id) {
  std::shared_ptr<Session> doomed;
  std::lock_guard lk(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return false;
  doomed = it->second;
  sessions_.erase(it);
  return true;
}

size_t SessionManager::size() const {
  std::lock_guard lk(mu_);
  return sessions_.size();
}

void SessionManager::reap() {
  std::unique_lock lk(mu_);
  while (!quit_) {
    cv_.wait_for(lk, std::chrono::seconds(1), [&] { return quit_; });
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<Session>> doomed;  // destroyed outside the lock
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      const double idle = std::chrono::duration<double>(now - it->second->last_seen()).count();
      const double age = std::chrono::duration<double>(now - it->second->created()).count();
      if (idle > idle_s_ || age > max_s_) {
        doomed.push_back(it->second);
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
    lk.unlock();
    doomed.clear();
    lk.lock();
  }
}

}  // namespace neurona::app::playground
