// The rows of nn::layers(): every layer a user can name, with its options and defaults.
#include "neurona/nn/registry.hpp"

#include <algorithm>
#include <cstdlib>

#include "neurona/core/error.hpp"
#include "neurona/core/format.hpp"
#include "neurona/nn/layers.hpp"

namespace neurona::nn {

namespace {

using T = OptionType;

template <class M, class... A>
std::shared_ptr<Module> make(A&&... args) {
  return std::make_shared<M>(std::forward<A>(args)...);
}

LayerEntry row(std::string name, std::vector<std::string> aliases, std::string main_key,
               std::vector<OptionSpec> options, std::string summary,
               std::function<std::shared_ptr<Module>(const Options&, const LayerInput&)> f) {
  return make_entry<LayerEntry>(
      {std::move(name), std::move(aliases), std::move(main_key), std::move(options), std::move(summary)},
      std::move(f));
}

std::string text(bool v) { return v ? "true" : "false"; }
// A float option's default as the config writes it: 1e-5f is "1e-5", not 1.0000000000000001e-05.
std::string text(float v) { return format_default(std::strtod(format_float(v).c_str(), nullptr)); }
std::string text(int64_t v) { return std::to_string(v); }

// An activation layer without options.
LayerEntry activation_row(std::string name, std::string summary, std::function<std::shared_ptr<Module>()> f) {
  return row(std::move(name), {}, "", {}, std::move(summary),
             [f](const Options&, const LayerInput&) { return f(); });
}

// Every default below is read from a default-made options struct of the layer.
std::vector<LayerEntry> rows() {
  const std::vector<std::string>& acts = activation_names();
  const LinearOptions linear;
  const DropoutOptions dropout;
  const BatchNormOptions batchnorm;
  const LayerNormOptions layernorm;
  const FlattenOptions flatten;
  const LeakyReLUOptions leaky;
  const PReLUOptions prelu;
  const ELUOptions elu;
  const SoftplusOptions softplus;
  const SoftmaxOptions softmax;
  return {
      row("dense", {"linear"}, "units",
          {{"units", T::Int},
           {"activation", T::Text, "linear", acts},
           {"use_bias", T::Bool, text(linear.bias)},
           {"kernel_regularizer", T::Regularizer},
           {"bias_regularizer", T::Regularizer}},
          "Keras's Dense: nn::Linear with the activation fused (tensors weight [units, in], bias [units])",
          [](const Options& o, const LayerInput& in) {
            const int64_t units = o.integer("units");
            check(units >= 1, "dense needs units >= 1, e.g. {dense: 64}");
            return std::static_pointer_cast<Module>(
                Dense(in.features(), units, o.text("activation"), o.flag("use_bias")));
          }),
      row("dropout", {}, "p", {{"p", T::Number, text(dropout.p)}},
          "nn::Dropout(p): zeroes a fraction p while training",
          [](const Options& o, const LayerInput&) {
            const double p = o.number("p");
            check(p >= 0 && p < 1, "dropout p must be in [0, 1), got ", p);
            return make<Dropout>(static_cast<float>(p));
          }),
      row("gaussian_noise", {"gaussiannoise"}, "stddev", {{"stddev", T::Number}},
          "Keras's GaussianNoise: adds N(0, stddev²) noise while training",
          [](const Options& o, const LayerInput&) {
            return make<GaussianNoise>(static_cast<float>(o.number("stddev")));
          }),
      row("batchnorm", {"batchnorm1d", "batch_norm"}, "",
          {{"momentum", T::Number, text(batchnorm.momentum)},
           {"eps", T::Number, text(batchnorm.eps)},
           {"affine", T::Bool, text(batchnorm.affine)}},
          "PyTorch's BatchNorm1d over the first dimension of a sample",
          [](const Options& o, const LayerInput& in) {
            BatchNormOptions c;
            c.momentum = static_cast<float>(o.number("momentum"));
            c.eps = static_cast<float>(o.number("eps"));
            c.affine = o.flag("affine");
            return make<BatchNorm1d>(in.channels(), c);
          }),
      row("batch_normalization", {"batchnormalization"}, "",
          {{"momentum", T::Number, "0.99"}, {"epsilon", T::Number, "0.001"}},
          "Keras's BatchNormalization (the same tensors as batchnorm)",
          [](const Options& o, const LayerInput& in) {
            return std::static_pointer_cast<Module>(
                BatchNormalization(in.channels(), static_cast<float>(o.number("momentum")),
                                   static_cast<float>(o.number("epsilon"))));
          }),
      row("layernorm", {"layer_norm", "layernormalization"}, "",
          {{"eps", T::Number, text(layernorm.eps)},
           {"elementwise_affine", T::Bool, text(layernorm.elementwise_affine)}},
          "nn::LayerNorm over the last dimension",
          [](const Options& o, const LayerInput& in) {
            return make<LayerNorm>(std::vector<int64_t>{in.features()}, static_cast<float>(o.number("eps")),
                                   o.flag("elementwise_affine"));
          }),
      row("flatten", {}, "start_dim", {{"start_dim", T::Int, text(flatten.start_dim)}},
          "nn::Flatten: merges dimensions start_dim… into one",
          [](const Options& o, const LayerInput&) { return make<Flatten>(o.integer("start_dim")); }),
      row("activation", {}, "activation", {{"activation", T::Text, "", acts}}, "Keras's Activation layer",
          [](const Options& o, const LayerInput&) { return make_activation(o.text("activation")); }),
      activation_row("relu", "max(0, x)", [] { return make<ReLU>(); }),
      activation_row("sigmoid", "1 / (1 + e^-x)", [] { return make<Sigmoid>(); }),
      activation_row("tanh", "tanh(x)", [] { return make<Tanh>(); }),
      activation_row("selu", "scaled ELU", [] { return make<SELU>(); }),
      activation_row("gelu", "x·Φ(x), exact", [] { return make<GELU>(); }),
      activation_row("identity", "x (Keras's linear activation)", [] { return make<Identity>(); }),
      row("leaky_relu", {"leakyrelu"}, "negative_slope",
          {{"negative_slope", T::Number, text(leaky.negative_slope)}}, "max(0, x) + slope·min(0, x)",
          [](const Options& o, const LayerInput&) {
            return make<LeakyReLU>(static_cast<float>(o.number("negative_slope")));
          }),
      row("prelu", {}, "",
          {{"num_parameters", T::Int, text(prelu.num_parameters)}, {"init", T::Number, text(prelu.init)}},
          "leaky ReLU with a learned slope (weight)",
          [](const Options& o, const LayerInput&) {
            return make<PReLU>(o.integer("num_parameters"), static_cast<float>(o.number("init")));
          }),
      row("elu", {}, "alpha", {{"alpha", T::Number, text(elu.alpha)}},
          "x for x > 0, alpha·(e^x − 1) otherwise",
          [](const Options& o, const LayerInput&) {
            return make<ELU>(static_cast<float>(o.number("alpha")));
          }),
      row("softplus", {}, "",
          {{"beta", T::Number, text(softplus.beta)}, {"threshold", T::Number, text(softplus.threshold)}},
          "log(1 + e^(beta·x)) / beta",
          [](const Options& o, const LayerInput&) {
            return make<Softplus>(static_cast<float>(o.number("beta")),
                                  static_cast<float>(o.number("threshold")));
          }),
      row("softmax", {}, "dim", {{"dim", T::Int, text(softmax.dim)}}, "probabilities along dim",
          [](const Options& o, const LayerInput&) { return make<Softmax>(o.integer("dim")); }),
      row("log_softmax", {"logsoftmax"}, "dim", {{"dim", T::Int, text(softmax.dim)}},
          "log-probabilities along dim",
          [](const Options& o, const LayerInput&) { return make<LogSoftmax>(o.integer("dim")); }),
  };
}

}  // namespace

const Registry<LayerEntry>& layers() {
  static const Registry<LayerEntry> r("layer", rows());
  return r;
}

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> v = {"linear",  "identity", "relu",        "tanh",
                                             "sigmoid", "softmax",  "log_softmax", "gelu",
                                             "selu",    "elu",      "leaky_relu",  "softplus"};
  return v;
}

std::shared_ptr<Module> make_activation(const std::string& name_in) {
  const std::string name = lower_case(name_in);
  const auto& acts = activation_names();
  if (std::find(acts.begin(), acts.end(), name) == acts.end())
    fail_unknown_component("activation", name_in, acts);
  // Keras's activation="linear" is the identity ("linear" alone names the dense layer).
  const LayerEntry& e = layers().get(name == "linear" ? "identity" : name);
  return e.make(e.options_from({}), LayerInput{});
}

}  // namespace neurona::nn
