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

// Every layer with constructor arguments takes them as one options struct, in LibTorch's style
// (Linear(LinearOptions{.in_features = 4, .out_features = 2, .bias = false})), keeps it
// (options()), and nn::layers() reads its defaults from a default-made struct. The shorter
// constructors fill the same struct.

struct LinearOptions {
  int64_t in_features = 0, out_features = 0;
  bool bias = true;
  Activation activation = Activation::Identity;  // the activations the kernel fuses
};
// y = act(x·Wᵀ + b), weight [out, in], bias [out]; PyTorch init W, b ~ U(±1/√in).
class Linear : public Cloneable<Linear> {
 public:
  explicit Linear(LinearOptions options, Generator* gen = nullptr);
  Linear(int64_t in_features, int64_t out_features, bool bias = true,
         Activation activation = Activation::Identity, Generator* gen = nullptr)
      : Linear(LinearOptions{in_features, out_features, bias, activation}, gen) {}
  void reset() override;
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Linear"; }
  std::string kind() const override { return "dense"; }
  std::map<std::string, std::string> option_values() const override;
  std::string extra_repr() const override;
  const LinearOptions& options() const { return options_; }

  Tensor weight, bias;

 private:
  LinearOptions options_;
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
struct LeakyReLUOptions {
  float negative_slope = 0.01f;
};
class LeakyReLU : public Cloneable<LeakyReLU> {
 public:
  explicit LeakyReLU(LeakyReLUOptions options = {}) : options_(options) {}
  explicit LeakyReLU(float negative_slope) : LeakyReLU(LeakyReLUOptions{negative_slope}) {}
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::leaky_relu(x, options_.negative_slope); }
  std::string type_name() const override { return "LeakyReLU"; }
  std::string kind() const override { return "leaky_relu"; }
  std::map<std::string, std::string> option_values() const override {
    return {{"negative_slope", format_float(options_.negative_slope)}};
  }
  const LeakyReLUOptions& options() const { return options_; }

 private:
  LeakyReLUOptions options_;
};
// Learnable slope: one shared (num_parameters = 1) or one per channel; init 0.25.
struct PReLUOptions {
  int64_t num_parameters = 1;
  float init = 0.25f;
};
class PReLU : public Cloneable<PReLU> {
 public:
  explicit PReLU(PReLUOptions options = {});
  PReLU(int64_t num_parameters, float init = 0.25f) : PReLU(PReLUOptions{num_parameters, init}) {}
  void reset() override;
  Tensor forward(const Tensor& x) override { return F::prelu(x, weight); }
  std::string type_name() const override { return "PReLU"; }
  std::string kind() const override { return "prelu"; }
  std::map<std::string, std::string> option_values() const override {
    return {{"num_parameters", std::to_string(options_.num_parameters)},
            {"init", format_float(options_.init)}};
  }
  const PReLUOptions& options() const { return options_; }
  Tensor weight;

 private:
  PReLUOptions options_;
};
struct ELUOptions {
  float alpha = 1.f;
};
class ELU : public Cloneable<ELU> {
 public:
  explicit ELU(ELUOptions options = {}) : options_(options) {}
  explicit ELU(float alpha) : ELU(ELUOptions{alpha}) {}
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::elu(x, options_.alpha); }
  std::string type_name() const override { return "ELU"; }
  std::string kind() const override { return "elu"; }
  std::map<std::string, std::string> option_values() const override {
    return {{"alpha", format_float(options_.alpha)}};
  }
  const ELUOptions& options() const { return options_; }

 private:
  ELUOptions options_;
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
// torch.nn.ReLU6: min(max(0, x), 6), gradient 1 strictly between 0 and 6 (PyTorch's hardtanh).
class ReLU6 : public Cloneable<ReLU6> {
 public:
  void reset() override {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ReLU6"; }
  std::string kind() const override { return "relu6"; }
};
struct SoftplusOptions {
  float beta = 1.f, threshold = 20.f;
};
class Softplus : public Cloneable<Softplus> {
 public:
  explicit Softplus(SoftplusOptions options = {}) : options_(options) {}
  Softplus(float beta, float threshold = 20.f) : Softplus(SoftplusOptions{beta, threshold}) {}
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::softplus(x, options_.beta, options_.threshold); }
  std::string type_name() const override { return "Softplus"; }
  std::string kind() const override { return "softplus"; }
  std::map<std::string, std::string> option_values() const override {
    return {{"beta", format_float(options_.beta)}, {"threshold", format_float(options_.threshold)}};
  }
  const SoftplusOptions& options() const { return options_; }

 private:
  SoftplusOptions options_;
};
// Softmax and LogSoftmax along `dim`.
struct SoftmaxOptions {
  int64_t dim = -1;
};
class Softmax : public Cloneable<Softmax> {
 public:
  explicit Softmax(SoftmaxOptions options = {}) : options_(options) {}
  explicit Softmax(int64_t dim) : Softmax(SoftmaxOptions{dim}) {}
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::softmax(x, options_.dim); }
  std::string type_name() const override { return "Softmax"; }
  std::string kind() const override { return "softmax"; }
  std::map<std::string, std::string> option_values() const override {
    return {{"dim", std::to_string(options_.dim)}};
  }
  const SoftmaxOptions& options() const { return options_; }

 private:
  SoftmaxOptions options_;
};
class LogSoftmax : public Cloneable<LogSoftmax> {
 public:
  explicit LogSoftmax(SoftmaxOptions options = {}) : options_(options) {}
  explicit LogSoftmax(int64_t dim) : LogSoftmax(SoftmaxOptions{dim}) {}
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::log_softmax(x, options_.dim); }
  std::string type_name() const override { return "LogSoftmax"; }
  std::string kind() const override { return "log_softmax"; }
  std::map<std::string, std::string> option_values() const override {
    return {{"dim", std::to_string(options_.dim)}};
  }
  const SoftmaxOptions& options() const { return options_; }

 private:
  SoftmaxOptions options_;
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
// The activation words the linear and convolution kernels apply in their own pass (linear,
// identity, relu, tanh, sigmoid; lower case).
bool is_fused_activation(const std::string& word);

// Keras's Dense(units, activation=…) with an activation the linear kernel cannot fuse (softmax,
// gelu, …): still one layer, so its tensors keep Linear's names "weight" and "bias". The
// activation words have no parameters (PReLU is a layer of its own: put it after the Dense).
class DenseActivation : public Linear {
 public:
  DenseActivation(int64_t in_features, int64_t out_features, bool bias, std::string activation);
  Tensor forward(const Tensor& x) override { return act_->forward(Linear::forward(x)); }
  std::string extra_repr() const override { return Linear::extra_repr() + ", activation=" + activation_name; }
  std::map<std::string, std::string> option_values() const override;
  std::shared_ptr<Module> clone() const override;
  std::string activation_name;

 private:
  std::shared_ptr<Module> act_;
};

// Inverted dropout with probability p; identity in eval mode. Uses `gen` (default generator if null).
struct DropoutOptions {
  float p = 0.5f;
};
class Dropout : public Cloneable<Dropout> {
 public:
  explicit Dropout(DropoutOptions options = {}, Generator* gen = nullptr);
  explicit Dropout(float p, Generator* gen = nullptr) : Dropout(DropoutOptions{p}, gen) {}
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::dropout(x, options_.p, is_training(), gen_); }
  std::string type_name() const override { return "Dropout"; }
  std::string kind() const override { return "dropout"; }
  std::map<std::string, std::string> option_values() const override {
    return {{"p", format_float(options_.p)}};
  }
  std::string extra_repr() const override { return "p=" + format_float(options_.p); }
  const DropoutOptions& options() const { return options_; }
  DropoutOptions& options() { return options_; }  // p may change between steps

 private:
  DropoutOptions options_;
  Generator* gen_;
};

// Keras's GaussianNoise(stddev): adds N(0, stddev²) noise while training (a regulariser);
// identity in eval mode. The noise is drawn from `gen` (the default generator if null).
struct GaussianNoiseOptions {
  float stddev = 0.f;  // required in the config
};
class GaussianNoise : public Cloneable<GaussianNoise> {
 public:
  explicit GaussianNoise(GaussianNoiseOptions options, Generator* gen = nullptr);
  explicit GaussianNoise(float stddev, Generator* gen = nullptr)
      : GaussianNoise(GaussianNoiseOptions{stddev}, gen) {}
  void reset() override {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "GaussianNoise"; }
  std::string kind() const override { return "gaussian_noise"; }
  std::map<std::string, std::string> option_values() const override {
    return {{"stddev", format_float(options_.stddev)}};
  }
  std::string extra_repr() const override { return "stddev=" + format_float(options_.stddev); }
  const GaussianNoiseOptions& options() const { return options_; }

 private:
  GaussianNoiseOptions options_;
  Generator* gen_;
};

// Batch normalisation over the channel dimension of [N, C] or [N, C, L] inputs, with the options
// of F::batch_norm (BatchNormOptions, functional.hpp). Buffers running_mean, running_var,
// num_batches_tracked; parameters weight (γ) and bias (β) when options.affine.
class BatchNorm1d : public Cloneable<BatchNorm1d> {
 public:
  explicit BatchNorm1d(int64_t num_features, BatchNormOptions options = {});
  void reset() override;
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "BatchNorm1d"; }
  // "batchnorm", or "batch_normalization" for Keras's (momentum of the old value, epsilon).
  std::string kind() const override;
  std::map<std::string, std::string> option_values() const override;
  std::string extra_repr() const override;
  const BatchNormOptions& options() const { return options_; }
  int64_t num_features() const { return num_features_; }
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 protected:
  // An Error unless x is this layer's input, [N, C] or [N, C, L], with C = num_features.
  virtual void check_input(const Tensor& x) const;

 private:
  int64_t num_features_;
  BatchNormOptions options_;
};
// torch.nn.BatchNorm2d: the same tensors and options on images [N, C, H, W], with statistics
// per channel over N·H·W values. Keras's BatchNormalization on images is this layer with
// Keras's options (kind "batch_normalization").
class BatchNorm2d : public BatchNorm1d {
 public:
  explicit BatchNorm2d(int64_t num_features, BatchNormOptions options = {})
      : BatchNorm1d(num_features, options) {}
  std::string type_name() const override { return "BatchNorm2d"; }
  std::string kind() const override;
  std::string extra_repr() const override { return BatchNorm1d::extra_repr(); }
  std::shared_ptr<Module> clone() const override;

 protected:
  void check_input(const Tensor& x) const override;
};
// Keras BatchNormalization(momentum=0.99, epsilon=1e-3): momentum is the weight of the OLD
// moving value and the moving variance uses the biased batch variance.
std::shared_ptr<BatchNorm1d> BatchNormalization(int64_t num_features, float momentum = 0.99f,
                                                float epsilon = 1e-3f);

// Normalises over the last dimensions given by normalized_shape; elementwise affine γ=1, β=0.
struct LayerNormOptions {
  std::vector<int64_t> normalized_shape;
  float eps = 1e-5f;
  bool elementwise_affine = true;
};
class LayerNorm : public Cloneable<LayerNorm> {
 public:
  explicit LayerNorm(LayerNormOptions options);
  explicit LayerNorm(std::vector<int64_t> normalized_shape, float eps = 1e-5f, bool elementwise_affine = true)
      : LayerNorm(LayerNormOptions{std::move(normalized_shape), eps, elementwise_affine}) {}
  void reset() override;
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "LayerNorm"; }
  std::string kind() const override { return "layernorm"; }
  std::map<std::string, std::string> option_values() const override {
    return {{"eps", format_float(options_.eps)},
            {"elementwise_affine", options_.elementwise_affine ? "true" : "false"}};
  }
  const LayerNormOptions& options() const { return options_; }
  Tensor weight, bias;

 private:
  LayerNormOptions options_;
};

// [N, a, b, …] -> [N, a·b·…] (dimensions start_dim..end are merged; PyTorch default start_dim 1).
struct FlattenOptions {
  int64_t start_dim = 1;
};
class Flatten : public Cloneable<Flatten> {
 public:
  explicit Flatten(FlattenOptions options = {}) : options_(options) {}
  explicit Flatten(int64_t start_dim) : Flatten(FlattenOptions{start_dim}) {}
  void reset() override {}
  Tensor forward(const Tensor& x) override { return x.flatten(options_.start_dim); }
  std::string type_name() const override { return "Flatten"; }
  std::string kind() const override { return "flatten"; }
  std::map<std::string, std::string> option_values() const override {
    return {{"start_dim", std::to_string(options_.start_dim)}};
  }
  const FlattenOptions& options() const { return options_; }

 private:
  FlattenOptions options_;
};

// Applies its children in order, like torch.nn.Sequential: add(module) names a child by its
// position ("0", "1", …), add(name, module) by a name of its own, as a Sequential built from an
// OrderedDict ("conv1", "layer1", …, so a whole network's state_dict keys can be its children's).
// size(), operator[] and at() go by position; a name given twice is an Error naming it.
class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  Sequential& add(std::shared_ptr<Module> module);
  Sequential& add(const std::string& name, std::shared_ptr<Module> module);
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
