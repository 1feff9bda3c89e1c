// Built-in layers: their parameters, buffers and forward passes.
#include "neurona/nn/layers.hpp"

#include <cmath>
#include <sstream>

#include "neurona/core/error.hpp"
#include "neurona/core/registry.hpp"
#include "neurona/nn/init.hpp"

namespace neurona::nn {

// --- Linear -----------------------------------------------------------------------------------

Linear::Linear(int64_t in, int64_t out, bool bias, Activation act, Generator* gen)
    : in_features(in), out_features(out), has_bias(bias), activation(act), gen_(gen) {
  check(in >= 0 && out >= 0, "Linear: feature counts must be non-negative, got in=", in, " out=", out);
  reset();
}

void Linear::reset() {
  // PyTorch: kaiming_uniform(a=√5) on the weight gives U(±1/√in); the bias uses the same bound.
  const float bound = in_features > 0 ? 1.f / std::sqrt(static_cast<float>(in_features)) : 0.f;
  Tensor w = Tensor::empty({out_features, in_features});
  init::uniform_(w, -bound, bound, gen_);
  weight = register_parameter("weight", w);
  if (has_bias) {
    Tensor b = Tensor::empty({out_features});
    init::uniform_(b, -bound, bound, gen_);
    bias = register_parameter("bias", b);
  } else {
    bias = Tensor();
  }
}

Tensor Linear::forward(const Tensor& x) {
  check(x.dim() >= 1 && x.size(-1) == in_features, "Linear(", in_features, " -> ", out_features, "): input ",
        x.shape(), " has ", x.dim() >= 1 ? x.size(-1) : 0, " features, expected ", in_features);
  return F::linear(x, weight, bias, activation);
}

std::string Linear::extra_repr() const {
  std::ostringstream os;
  os << "in_features=" << in_features << ", out_features=" << out_features
     << ", bias=" << (has_bias ? "true" : "false");
  if (activation != Activation::Identity) os << ", activation=" << activation_name(activation);
  return os.str();
}

namespace {
// The activations F::linear applies in its own kernel.
bool fusable(const std::string& activation) {
  return activation.empty() || activation == "linear" || activation == "identity" || activation == "relu" ||
         activation == "tanh" || activation == "sigmoid";
}
}  // namespace

std::shared_ptr<Linear> Dense(int64_t input_dim, int64_t units, const std::string& activation_word,
                              bool use_bias) {
  const std::string activation = lower_case(activation_word);
  if (fusable(activation))
    return std::make_shared<Linear>(input_dim, units, use_bias, activation_from_name(activation));
  return std::make_shared<DenseActivation>(input_dim, units, use_bias, activation);
}

DenseActivation::DenseActivation(int64_t in, int64_t out, bool bias, std::string activation)
    : Linear(in, out, bias), activation_name(std::move(activation)), act_(make_activation(activation_name)) {}

std::map<std::string, std::string> Linear::options() const {
  return {{"units", std::to_string(out_features)},
          {"activation", activation_name(activation)},
          {"use_bias", has_bias ? "true" : "false"}};
}

std::map<std::string, std::string> DenseActivation::options() const {
  auto o = Linear::options();
  o["activation"] = activation_name;
  return o;
}

std::shared_ptr<Module> DenseActivation::clone() const {
  auto copy = std::make_shared<DenseActivation>(*this);
  copy->clear_registrations();
  copy->reset();
  copy->copy_state_from(*this);
  return copy;
}

// --- PReLU, Dropout ---------------------------------------------------------------------------

PReLU::PReLU(int64_t n, float init_value) : num_parameters_(n), init(init_value) {
  check(n >= 1, "PReLU: num_parameters must be at least 1, got ", n);
  reset();
}

void PReLU::reset() { weight = register_parameter("weight", Tensor::full({num_parameters_}, init)); }

Dropout::Dropout(float p, Generator* gen) : p(p), gen_(gen) {
  check(p >= 0.f && p <= 1.f, "Dropout: probability ", p, " is not in [0, 1]");
}

std::string Dropout::extra_repr() const {
  std::ostringstream os;
  os << "p=" << p;
  return os.str();
}

// --- GaussianNoise ---------------------------------------------------------------------------

GaussianNoise::GaussianNoise(float stddev, Generator* gen) : stddev(stddev), gen_(gen) {
  check(stddev >= 0.f, "GaussianNoise: stddev must be >= 0, got ", stddev);
}

Tensor GaussianNoise::forward(const Tensor& x) {
  if (!is_training() || stddev == 0.f) return x;
  return x + Tensor::normal(x.shape(), 0.f, stddev, gen_);
}

// --- BatchNorm1d ------------------------------------------------------------------------------

BatchNorm1d::BatchNorm1d(int64_t n, BatchNormConfig c) : num_features(n), config(c) {
  check(n >= 1, "BatchNorm1d: num_features must be at least 1, got ", n);
  check(c.momentum >= 0.f && c.momentum <= 1.f, "BatchNorm1d: momentum ", c.momentum, " is not in [0, 1]");
  reset();
}

void BatchNorm1d::reset() {
  if (config.affine) {
    weight = register_parameter("weight", Tensor::ones({num_features}));
    bias = register_parameter("bias", Tensor::zeros({num_features}));
  }
  running_mean = register_buffer("running_mean", Tensor::zeros({num_features}));
  running_var = register_buffer("running_var", Tensor::ones({num_features}));
  num_batches_tracked = register_buffer("num_batches_tracked", Tensor::scalar(0.f), true);
}

Tensor BatchNorm1d::forward(const Tensor& x) {
  check((x.dim() == 2 || x.dim() == 3) && x.size(1) == num_features, "BatchNorm1d(", num_features,
        "): expected input [N, ", num_features, "] or [N, ", num_features, ", L], got ", x.shape());
  if (is_training()) {
    int64_t per_channel = x.size(0) * (x.dim() == 3 ? x.size(2) : 1);
    check(per_channel > 1, "BatchNorm1d(", num_features,
          "): expected more than 1 value per channel when training, got input ", x.shape(),
          " (use a batch size above 1 or call eval())");
  }
  F::BatchNormOptions o;
  o.momentum = config.momentum;
  o.eps = config.eps;
  o.unbiased_running_var = !config.keras;
  o.cumulative = config.cumulative;
  return F::batch_norm(x, running_mean, running_var, weight, bias, is_training(), o, num_batches_tracked);
}

std::string BatchNorm1d::extra_repr() const {
  std::ostringstream os;
  os << num_features << ", eps=" << config.eps << ", momentum=" << config.momentum
     << ", affine=" << (config.affine ? "true" : "false");
  return os.str();
}

std::string BatchNorm1d::kind() const { return config.keras ? "batch_normalization" : "batchnorm"; }

std::map<std::string, std::string> BatchNorm1d::options() const {
  if (config.keras)
    return {{"momentum", format_float(1.f - config.momentum)}, {"epsilon", format_float(config.eps)}};
  return {{"momentum", format_float(config.momentum)},
          {"eps", format_float(config.eps)},
          {"affine", config.affine ? "true" : "false"}};
}

std::shared_ptr<BatchNorm1d> BatchNormalization(int64_t num_features, float momentum, float epsilon) {
  BatchNormConfig c;
  c.momentum = 1.f - momentum;
  c.eps = epsilon;
  c.keras = true;
  return std::make_shared<BatchNorm1d>(num_features, c);
}

// --- LayerNorm --------------------------------------------------------------------------------

LayerNorm::LayerNorm(std::vector<int64_t> shape, float eps, bool affine)
    : normalized_shape(std::move(shape)), eps(eps), elementwise_affine(affine) {
  check(!normalized_shape.empty(), "LayerNorm: normalized_shape must not be empty");
  reset();
}

void LayerNorm::reset() {
  if (elementwise_affine) {
    weight = register_parameter("weight", Tensor::ones(Shape(normalized_shape)));
    bias = register_parameter("bias", Tensor::zeros(Shape(normalized_shape)));
  }
}

Tensor LayerNorm::forward(const Tensor& x) {
  const int64_t k = static_cast<int64_t>(normalized_shape.size());
  bool ok = x.dim() >= k;
  for (int64_t i = 0; ok && i < k; ++i) ok = x.size(x.dim() - k + i) == normalized_shape[i];
  check(ok, "LayerNorm(", Shape(normalized_shape), "): input ", x.shape(), " does not end with ",
        Shape(normalized_shape));
  return F::layer_norm(x, k, weight, bias, eps);
}

// --- Sequential -------------------------------------------------------------------------------

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules) {
  for (const auto& m : modules) add(m);
}

Sequential& Sequential::add(std::shared_ptr<Module> module) {
  add_child(std::to_string(children_.size()), std::move(module));
  return *this;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& [name, child] : children_) {
    try {
      h = (*child)(h);
    } catch (const Error& e) {
      const std::string msg = e.what();
      if (msg.rfind("Sequential layer ", 0) == 0) throw;
      fail("Sequential layer ", name, " (", child->type_name(), "): ", msg);
    }
  }
  return h;
}

std::shared_ptr<Module> Sequential::operator[](size_t i) const {
  check(i < children_.size(), "Sequential: index ", i, " is out of range for ", children_.size(), " layers");
  return children_[i].second;
}

void Sequential::throw_wrong_type(size_t i) const {
  fail("Sequential: layer ", i, " is a ", children_[i].second->type_name(), ", not the requested type");
}

std::shared_ptr<Module> Sequential::clone() const {
  auto copy = std::make_shared<Sequential>();
  for (const auto& [name, child] : children_) copy->add(child->clone());
  copy->training_ = training_;
  return copy;
}

}  // namespace neurona::nn
