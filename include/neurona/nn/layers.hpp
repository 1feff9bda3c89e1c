#pragma once
// The layers of the course: Linear (Keras Dense), activations, Dropout, BatchNorm1d, LayerNorm,
// Flatten and the Sequential container. Each is a Module with PyTorch's parameter names.
#include <memory>
#include <string>
#include <vector>

#include "neurona/core/format.hpp"
#include "neurona/nn/functional.hpp"
#include "neurona/nn/module.hpp"

namespace neurona::nn {

// y = act(x·Wᵀ + b), weight [out, in], bias [out]; PyTorch init W, b ~ U(±1/√in).
class Linear : public Cloneable<Linear> {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true,
         Activation activation = Activation::Identity, Generator* gen = nullptr);
  void reset() override;
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Linear"; }
  std::string kind() const override { return "dense"; }
  std::map<std::string, std::string> options() const override;
  std::string extra_repr() const override;

  int64_t in_features, out_features;
  bool has_bias;
  Activation activation;
  Tensor weight, bias;

 private:
  Generator* gen_;
};

// Keras words: Dense(units, activation) on `input_dim` features, for every activation word of
// make_activation (relu, tanh and sigmoid run fused in the linear kernel).
std::shared_ptr<Linear> Dense(int64_t input_dim, int64_t units, const std::string& activation = "linear",
                              bool use_bias = true);

// Activation layers without parameters.
class ReLU : public Cloneable<ReLU> {
 public:
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::relu(x); }
  std::string type_name() const override { return "ReLU"; }
  std::string kind() const override { return "relu"; }
};
class LeakyReLU : public Cloneable<LeakyReLU> {
 public:
  explicit LeakyReLU(float negative_slope = 0.01f) : negative_slope(negative_slope) {}
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::leaky_relu(x, negative_slope); }
  std::string type_name() const override { return "LeakyReLU"; }
  std::string kind() const override { return "leaky_relu"; }
  std::map<std::string, std::string> options() const override {
    return {{"negative_slope", format_float(negative_slope)}};
  }
  float negative_slope;
};
// Learnable slope: one shared (num_parameters = 1) or one per channel; init 0.25.
class PReLU : public Cloneable<PReLU> {
 public:
  explicit PReLU(int64_t num_parameters = 1, float init = 0.25f);
  void reset() override;
  Tensor forward(const Tensor& x) override { return F::prelu(x, weight); }
  std::string type_name() const override { return "PReLU"; }
  std::string kind() const override { return "prelu"; }
  std::map<std::string, std::string> options() const override {
    return {{"num_parameters", std::to_string(num_parameters_)}, {"init", format_float(init)}};
  }
  int64_t num_parameters_;
  float init;
  Tensor weight;
};
class ELU : public Cloneable<ELU> {
 public:
  explicit ELU(float alpha = 1.f) : alpha(alpha) {}
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::elu(x, alpha); }
  std::string type_name() const override { return "ELU"; }
  std::string kind() const override { return "elu"; }
  std::map<std::string, std::string> options() const override { return {{"alpha", format_float(alpha)}}; }
  float alpha;
};
class SELU : public Cloneable<SELU> {
 public:
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::selu(x); }
  std::string type_name() const override { return "SELU"; }
  std::string kind() const override { return "selu"; }
};
class GELU : public Cloneable<GELU> {
 public:
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::gelu(x); }
  std::string type_name() const override { return "GELU"; }
  std::string kind() const override { return "gelu"; }
};
class Sigmoid : public Cloneable<Sigmoid> {
 public:
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::sigmoid(x); }
  std::string type_name() const override { return "Sigmoid"; }
  std::string kind() const override { return "sigmoid"; }
};
class Tanh : public Cloneable<Tanh> {
 public:
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::tanh(x); }
  std::string type_name() const override { return "Tanh"; }
  std::string kind() const override { return "tanh"; }
};
class Softplus : public Cloneable<Softplus> {
 public:
  explicit Softplus(float beta = 1.f, float threshold = 20.f) : beta(beta), threshold(threshold) {}
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::softplus(x, beta, threshold); }
  std::string type_name() const override { return "Softplus"; }
  std::string kind() const override { return "softplus"; }
  std::map<std::string, std::string> options() const override {
    return {{"beta", format_float(beta)}, {"threshold", format_float(threshold)}};
  }
  float beta, threshold;
};
class Softmax : public Cloneable<Softmax> {
 public:
  explicit Softmax(int64_t dim = -1) : dim(dim) {}
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::softmax(x, dim); }
  std::string type_name() const override { return "Softmax"; }
  std::string kind() const override { return "softmax"; }
  std::map<std::string, std::string> options() const override { return {{"dim", std::to_string(dim)}}; }
  int64_t dim;
};
class LogSoftmax : public Cloneable<LogSoftmax> {
 public:
  explicit LogSoftmax(int64_t dim = -1) : dim(dim) {}
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::log_softmax(x, dim); }
  std::string type_name() const override { return "LogSoftmax"; }
  std::string kind() const override { return "log_softmax"; }
  std::map<std::string, std::string> options() const override { return {{"dim", std::to_string(dim)}}; }
  int64_t dim;
};
class Identity : public Cloneable<Identity> {
 public:
  void reset() override {}
  Tensor forward(const Tensor& x) override { return x; }
  std::string type_name() const override { return "Identity"; }
  std::string kind() const override { return "identity"; }
};

// The activation words of Keras and PyTorch, as layers with their default options: linear
// (identity), identity, relu, sigmoid, tanh, softmax, log_softmax, gelu, selu, elu, leaky_relu,
// softplus. They are the rows of nn::layers() of the same name; an unknown word is an error that
// lists these.
std::shared_ptr<Module> make_activation(const std::string& name);
const std::vector<std::string>& activation_names();

// Keras's Dense(units, activation=…) with an activation the linear kernel cannot fuse (softmax,
// gelu, …): still one layer, so its tensors keep Linear's names "weight" and "bias". The
// activation words have no parameters (PReLU is a layer of its own: put it after the Dense).
class DenseActivation : public Linear {
 public:
  DenseActivation(int64_t in_features, int64_t out_features, bool bias, std::string activation);
  Tensor forward(const Tensor& x) override { return act_->forward(Linear::forward(x)); }
  std::string extra_repr() const override { return Linear::extra_repr() + ", activation=" + activation_name; }
  std::map<std::string, std::string> options() const override;
  std::shared_ptr<Module> clone() const override;
  std::string activation_name;

 private:
  std::shared_ptr<Module> act_;
};

// Inverted dropout with probability p; identity in eval mode. Uses `gen` (default generator if null).
class Dropout : public Cloneable<Dropout> {
 public:
  explicit Dropout(float p = 0.5f, Generator* gen = nullptr);
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::dropout(x, p, is_training(), gen_); }
  std::string type_name() const override { return "Dropout"; }
  std::string kind() const override { return "dropout"; }
  std::map<std::string, std::string> options() const override { return {{"p", format_float(p)}}; }
  std::string extra_repr() const override;
  float p;

 private:
  Generator* gen_;
};

// Keras's GaussianNoise(stddev): adds N(0, stddev²) noise while training (a regulariser);
// identity in eval mode. The noise is drawn from `gen` (the default generator if null).
class GaussianNoise : public Cloneable<GaussianNoise> {
 public:
  explicit GaussianNoise(float stddev, Generator* gen = nullptr);
  void reset() override {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "GaussianNoise"; }
  std::string kind() const override { return "gaussian_noise"; }
  std::map<std::string, std::string> options() const override { return {{"stddev", format_float(stddev)}}; }
  std::string extra_repr() const override { return "stddev=" + format_float(stddev); }
  float stddev;

 private:
  Generator* gen_;
};

// Batch normalisation over the channel dimension of [N, C] or [N, C, L] inputs.
// Buffers running_mean, running_var, num_batches_tracked; parameters weight (γ) and bias (β).
struct BatchNormConfig {
  float eps = 1e-5f;
  float momentum = 0.1f;  // PyTorch meaning (weight of the new batch)
  bool affine = true;
  bool keras = false;       // moving variance from the biased batch variance
  bool cumulative = false;  // PyTorch momentum=None
};
class BatchNorm1d : public Cloneable<BatchNorm1d> {
 public:
  explicit BatchNorm1d(int64_t num_features, BatchNormConfig config = {});
  void reset() override;
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "BatchNorm1d"; }
  // "batchnorm", or "batch_normalization" for Keras's (momentum of the old value, epsilon).
  std::string kind() const override;
  std::map<std::string, std::string> options() const override;
  std::string extra_repr() const override;
  int64_t num_features;
  BatchNormConfig config;
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;
};
// Keras BatchNormalization(momentum=0.99, epsilon=1e-3): momentum is the weight of the OLD
// moving value and the moving variance uses the biased batch variance.
std::shared_ptr<BatchNorm1d> BatchNormalization(int64_t num_features, float momentum = 0.99f,
                                                float epsilon = 1e-3f);

// Normalises over the last dimensions given by normalized_shape; elementwise affine γ=1, β=0.
class LayerNorm : public Cloneable<LayerNorm> {
 public:
  explicit LayerNorm(std::vector<int64_t> normalized_shape, float eps = 1e-5f,
                     bool elementwise_affine = true);
  void reset() override;
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "LayerNorm"; }
  std::string kind() const override { return "layernorm"; }
  std::map<std::string, std::string> options() const override {
    return {{"eps", format_float(eps)}, {"elementwise_affine", elementwise_affine ? "true" : "false"}};
  }
  std::vector<int64_t> normalized_shape;
  float eps;
  bool elementwise_affine;
  Tensor weight, bias;
};

// [N, a, b, …] -> [N, a·b·…] (dimensions start_dim..end are merged; PyTorch default start_dim 1).
class Flatten : public Cloneable<Flatten> {
 public:
  explicit Flatten(int64_t start_dim = 1) : start_dim(start_dim) {}
  void reset() override {}
  Tensor forward(const Tensor& x) override { return x.flatten(start_dim); }
  std::string type_name() const override { return "Flatten"; }
  std::string kind() const override { return "flatten"; }
  std::map<std::string, std::string> options() const override {
    return {{"start_dim", std::to_string(start_dim)}};
  }
  int64_t start_dim;
};

// Applies its children in order; they are named "0", "1", … like torch.nn.Sequential.
class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  Sequential& add(std::shared_ptr<Module> module);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sequential"; }
  size_t size() const { return children_.size(); }
  std::shared_ptr<Module> operator[](size_t i) const;
  template <class M>
  std::shared_ptr<M> at(size_t i) const {
    auto m = std::dynamic_pointer_cast<M>((*this)[i]);
    if (!m) throw_wrong_type(i);
    return m;
  }
  std::shared_ptr<Module> clone() const override;

 private:
  [[noreturn]] void throw_wrong_type(size_t i) const;
};

}  // namespace neurona::nn
