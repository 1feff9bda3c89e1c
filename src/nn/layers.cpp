// Built-in layers: their parameters, buffers and forward passes.
#include "neurona/nn/layers.hpp"

#include <cmath>
#include <sstream>

#include "neurona/core/error.hpp"
#include "neurona/core/registry.hpp"
#include "neurona/nn/init.hpp"

namespace neurona::nn {

// --- Linear -----------------------------------------------------------------------------------

Linear::Linear(LinearOptions o, Generator* gen) : options_(o), gen_(gen) {
  check(o.in_features >= 0 && o.out_features >= 0,
        "Linear: feature counts must be non-negative, got in=", o.in_features, " out=", o.out_features);
  reset();
}

void Linear::reset() {
  // PyTorch: kaiming_uniform(a=√5) on the weight gives U(±1/√in); the bias uses the same bound.
  const int64_t in = options_.in_features, out = options_.out_features;
  const float bound = in > 0 ? 1.f / std::sqrt(static_cast<float>(in)) : 0.f;
  Tensor w = Tensor::empty({out, in});
  init::uniform_(w, -bound, bound, gen_);
  weight = register_parameter("weight", w);
  if (options_.bias) {
    Tensor b = Tensor::empty({out});
    init::uniform_(b, -bound, bound, gen_);
    bias = register_parameter("bias", b);
  } else {
    bias = Tensor();
  }
}

Tensor Linear::forward(const Tensor& x) {
  const int64_t in = options_.in_features;
  check(x.dim() >= 1 && x.size(-1) == in, "Linear(", in, " -> ", options_.out_features, "): input ",
        x.shape(), " has ", x.dim() >= 1 ? x.size(-1) : 0, " features, expected ", in);
  return F::linear(x, weight, bias, options_.activation);
}

std::string Linear::extra_repr() const {
  std::ostringstream os;
  os << "in_features=" << options_.in_features << ", out_features=" << options_.out_features
     << ", bias=" << (options_.bias ? "true" : "false");
  if (options_.activation != Activation::Identity)
    os << ", activation=" << activation_name(options_.activation);
  return os.str();
}

bool is_fused_activation(const std::string& activation) {
  return activation.empty() || activation == "linear" || activation == "identity" || activation == "relu" ||
         activation == "tanh" || activation == "sigmoid";
}

std::shared_ptr<Linear> Dense(int64_t input_dim, int64_t units, const std::string& activation_word,
                              bool use_bias) {
  const std::string activation = lower_case(activation_word);
  if (is_fused_activation(activation))
    return std::make_shared<Linear>(input_dim, units, use_bias, activation_from_name(activation));
  return std::make_shared<DenseActivation>(input_dim, units, use_bias, activation);
}

DenseActivation::DenseActivation(int64_t in, int64_t out, bool bias, std::string activation)
    : Linear(in, out, bias), activation_name(std::move(activation)), act_(make_activation(activation_name)) {}

std::map<std::string, std::string> Linear::option_values() const {
  return {{"units", std::to_string(options_.out_features)},
          {"activation", activation_name(options_.activation)},
          {"use_bias", options_.bias ? "true" : "false"}};
}

std::map<std::string, std::string> DenseActivation::option_values() const {
  auto o = Linear::option_values();
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

PReLU::PReLU(PReLUOptions o) : options_(o) {
  check(o.num_parameters >= 1, "PReLU: num_parameters must be at least 1, got ", o.num_parameters);
  reset();
}

void PReLU::reset() {
  weight = register_parameter("weight", Tensor::full({options_.num_parameters}, options_.init));
}

Dropout::Dropout(DropoutOptions o, Generator* gen) : options_(o), gen_(gen) {
  check(o.p >= 0.f && o.p <= 1.f, "Dropout: probability ", o.p, " is not in [0, 1]");
}

// --- GaussianNoise ---------------------------------------------------------------------------

GaussianNoise::GaussianNoise(GaussianNoiseOptions o, Generator* gen) : options_(o), gen_(gen) {
  check(o.stddev >= 0.f, "GaussianNoise: stddev must be >= 0, got ", o.stddev);
}

Tensor GaussianNoise::forward(const Tensor& x) {
  if (!is_training() || options_.stddev == 0.f) return x;
  return x + Tensor::normal(x.shape(), 0.f, options_.stddev, gen_);
}

// --- BatchNorm1d ------------------------------------------------------------------------------

BatchNorm1d::BatchNorm1d(int64_t n, BatchNormOptions o) : num_features_(n), options_(o) {
  check(n >= 1, "BatchNorm1d: num_features must be at least 1, got ", n);
  check(o.momentum >= 0.f && o.momentum <= 1.f, "BatchNorm1d: momentum ", o.momentum, " is not in [0, 1]");
  reset();
}

void BatchNorm1d::reset() {
  const int64_t n = num_features_;
  if (options_.affine) {
    weight = register_parameter("weight", Tensor::ones({n}));
    bias = register_parameter("bias", Tensor::zeros({n}));
  }
  running_mean = register_buffer("running_mean", Tensor::zeros({n}));
  running_var = register_buffer("running_var", Tensor::ones({n}));
  num_batches_tracked = register_buffer("num_batches_tracked", Tensor::scalar(0.f), true);
}

void BatchNorm1d::check_input(const Tensor& x) const {
  const int64_t n = num_features_;
  check((x.dim() == 2 || x.dim() == 3) && x.size(1) == n, "BatchNorm1d(", n, "): expected input [N, ", n,
        "] or [N, ", n, ", L], got ", x.shape());
}

void BatchNorm2d::check_input(const Tensor& x) const {
  const int64_t n = num_features();
  check(x.dim() == 4 && x.size(1) == n, "BatchNorm2d(", n, "): expected images [N, ", n, ", H, W], got ",
        x.shape());
}

std::string BatchNorm2d::kind() const {
  return options().unbiased_running_var ? "batchnorm2d" : "batch_normalization";
}

std::shared_ptr<Module> BatchNorm2d::clone() const {
  auto copy = std::make_shared<BatchNorm2d>(*this);
  copy->clear_registrations();
  copy->reset();
  copy->copy_state_from(*this);
  return copy;
}

Tensor BatchNorm1d::forward(const Tensor& x) {
  check_input(x);
  if (is_training()) {
    int64_t per_channel = x.numel() / x.size(1);
    check(per_channel > 1, type_name(), "(", num_features_,
          "): expected more than 1 value per channel when training, got input ", x.shape(),
          " (use a batch size above 1 or call eval())");
  }
  return F::batch_norm(x, running_mean, running_var, weight, bias, is_training(), options_,
                       num_batches_tracked);
}

std::string BatchNorm1d::extra_repr() const {
  std::ostringstream os;
  os << num_features_ << ", eps=" << options_.eps << ", momentum=" << options_.momentum
     << ", affine=" << (options_.affine ? "true" : "false");
  return os.str();
}

// Keras's convention is the only one that feeds the biased variance to the moving average.
std::string BatchNorm1d::kind() const {
  return options_.unbiased_running_var ? "batchnorm" : "batch_normalization";
}

std::map<std::string, std::string> BatchNorm1d::option_values() const {
  if (!options_.unbiased_running_var)
    return {{"momentum", format_float(1.f - options_.momentum)}, {"epsilon", format_float(options_.eps)}};
  return {{"momentum", format_float(options_.momentum)},
          {"eps", format_float(options_.eps)},
          {"affine", options_.affine ? "true" : "false"}};
}

std::shared_ptr<BatchNorm1d> BatchNormalization(int64_t num_features, float momentum, float epsilon) {
  BatchNormOptions o;
  o.momentum = 1.f - momentum;
  o.eps = epsilon;
  o.unbiased_running_var = false;
  return std::make_shared<BatchNorm1d>(num_features, o);
}

// --- LayerNorm --------------------------------------------------------------------------------

LayerNorm::LayerNorm(LayerNormOptions o) : options_(std::move(o)) {
  check(!options_.normalized_shape.empty(), "LayerNorm: normalized_shape must not be empty");
  reset();
}

void LayerNorm::reset() {
  if (options_.elementwise_affine) {
    const Shape shape(options_.normalized_shape);
    weight = register_parameter("weight", Tensor::ones(shape));
    bias = register_parameter("bias", Tensor::zeros(shape));
  }
}

Tensor LayerNorm::forward(const Tensor& x) {
  const Shape shape(options_.normalized_shape);
  const int64_t k = static_cast<int64_t>(options_.normalized_shape.size());
  bool ok = x.dim() >= k;
  for (int64_t i = 0; ok && i < k; ++i) ok = x.size(x.dim() - k + i) == options_.normalized_shape[i];
  check(ok, "LayerNorm(", shape, "): input ", x.shape(), " does not end with ", shape);
  return F::layer_norm(x, k, weight, bias, options_.eps);
}

// --- Sequential -------------------------------------------------------------------------------

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules) {
  for (const auto& m : modules) add(m);
}

Sequential& Sequential::add(std::shared_ptr<Module> module) {
  return add(std::to_string(children_.size()), std::move(module));
}

Sequential& Sequential::add(const std::string& name, std::shared_ptr<Module> module) {
  add_child(name, std::move(module));
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
  for (const auto& [name, child] : children_) copy->add(name, child->clone());
  copy->training_ = training_;
  return copy;
}

Tensor ReLU6::forward(const Tensor& x) {
  const Tensor y = clamp(x, 0.f, 6.f);
  if (!x.requires_grad()) return y;
  // The values of clamp with PyTorch's gradient, which is 0 at the bounds too: y + (x − x)·inside.
  Tensor inside = Tensor::empty(x.shape());
  const float* v = x.data();
  float* m = inside.data();
  for (int64_t i = 0; i < x.numel(); ++i) m[i] = v[i] > 0.f && v[i] < 6.f ? 1.f : 0.f;
  return y.detach() + (x - x.detach()) * inside;
}

}  // namespace neurona::nn
