// The rows of nn::layers(): every layer a user can name, with its options and defaults.
#include "neurona/nn/registry.hpp"

#include <algorithm>
#include <cstdlib>

#include "neurona/autograd/node.hpp"
#include "neurona/core/error.hpp"
#include "neurona/core/format.hpp"
#include "neurona/nn/blocks.hpp"
#include "neurona/nn/image_layers.hpp"
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

// A list kind: its entries come built in LayerInput::items.
LayerEntry list_row(std::string name, std::vector<OptionSpec> options, std::string summary,
                    std::function<std::shared_ptr<Module>(const Options&, const LayerInput&)> f) {
  LayerEntry e = row(std::move(name), {}, "", std::move(options), std::move(summary), std::move(f));
  e.list = true;
  return e;
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

// The option of two synonyms (PyTorch's and Keras's word) that was written, or "" when neither; an
// Error when both are.
std::string synonym(const Options& o, const std::string& a, const std::string& b) {
  check(!(o.has(a) && o.has(b)), "'", a, "' and '", b, "' are the same option; write one");
  return o.has(a) ? a : o.has(b) ? b : "";
}
// The same, falling back to the first word's default.
std::string synonym_or(const Options& o, const std::string& a, const std::string& b) {
  const std::string k = synonym(o, a, b);
  return k.empty() ? a : k;
}

// An Error unless the layer's samples are images [C, H, W] (or, when `or_1d`, [C, L]), naming
// the layer; flattened samples get a hint.
void check_images(const LayerInput& in, const std::string& layer, bool or_1d = false) {
  const size_t d = in.shape.size();
  check(d == 3 || (or_1d && d == 2), layer, " needs images [C, H, W]", or_1d ? " (or [C, L])" : "",
        ", got a sample of shape ", Shape(in.shape),
        d == 1 ? " (flattened data: drop the flatten before the image layers)" : "");
}

// MaxPool2d and AvgPool2d share their options (dilation is max pooling's only, count_include_pad
// average pooling's).
LayerEntry pool_row(std::string name, std::vector<std::string> aliases, std::string summary, bool max) {
  const Pool2dOptions d;
  std::vector<OptionSpec> opts = {{"kernel_size", T::List},
                                  {"pool_size", T::List},
                                  {"stride", T::List},
                                  {"strides", T::List},
                                  {"padding", T::Text, d.padding.text()},
                                  {"ceil_mode", T::Bool, text(d.ceil_mode)}};
  if (max)
    opts.push_back({"dilation", T::List, size2d_text(d.dilation)});
  else
    opts.push_back({"count_include_pad", T::Bool, text(d.count_include_pad)});
  const std::string layer = name;
  return row(std::move(name), std::move(aliases), "kernel_size", std::move(opts), std::move(summary),
             [max, layer](const Options& o, const LayerInput& in) -> std::shared_ptr<Module> {
               check_images(in, layer);
               Pool2dOptions p;
               const std::string k = synonym(o, "kernel_size", "pool_size");
               check(!k.empty(), layer, " needs kernel_size (Keras: pool_size), e.g. {", layer, ": 2}");
               p.kernel_size = size2d_from_numbers(o.numbers(k), k);
               const std::string s = synonym(o, "stride", "strides");
               if (!s.empty()) p.stride = size2d_from_numbers(o.numbers(s), s);
               p.padding = padding2d_from_text(o.text("padding"), "padding");
               p.ceil_mode = o.flag("ceil_mode");
               if (max) {
                 p.dilation = size2d_from_numbers(o.numbers("dilation"), "dilation");
                 return make<MaxPool2d>(p);
               }
               p.count_include_pad = o.flag("count_include_pad");
               return make<AvgPool2d>(p);
             });
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
  const Conv2dOptions conv;
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
          [](const Options& o, const LayerInput& in) -> std::shared_ptr<Module> {
            auto bn = BatchNormalization(in.channels(), static_cast<float>(o.number("momentum")),
                                         static_cast<float>(o.number("epsilon")));
            if (in.shape.size() == 3) return make<BatchNorm2d>(in.channels(), bn->options());  // per channel
            return bn;
          }),
      row("batchnorm2d", {"batch_norm2d"}, "",
          {{"momentum", T::Number, text(batchnorm.momentum)},
           {"eps", T::Number, text(batchnorm.eps)},
           {"affine", T::Bool, text(batchnorm.affine)}},
          "PyTorch's BatchNorm2d: per channel of images [C, H, W]",
          [](const Options& o, const LayerInput& in) {
            check_images(in, "batchnorm2d");
            BatchNormOptions c;
            c.momentum = static_cast<float>(o.number("momentum"));
            c.eps = static_cast<float>(o.number("eps"));
            c.affine = o.flag("affine");
            return make<BatchNorm2d>(in.channels(), c);
          }),
      row("layernorm", {"layer_norm", "layernormalization"}, "",
          {{"eps", T::Number, text(layernorm.eps)},
           {"elementwise_affine", T::Bool, text(layernorm.elementwise_affine)}},
          "nn::LayerNorm over the last dimension",
          [](const Options& o, const LayerInput& in) {
            return make<LayerNorm>(std::vector<int64_t>{in.features()}, static_cast<float>(o.number("eps")),
                                   o.flag("elementwise_affine"));
          }),
      row("conv2d", {"convolution2d"}, "out_channels",
          {{"out_channels", T::Int},
           {"filters", T::Int},
           {"kernel_size", T::List},
           {"stride", T::List, size2d_text(conv.stride)},
           {"strides", T::List},
           {"padding", T::Text, conv.padding.text()},
           {"dilation", T::List, size2d_text(conv.dilation)},
           {"dilation_rate", T::List},
           {"groups", T::Int, text(conv.groups)},
           {"bias", T::Bool, text(conv.bias)},
           {"use_bias", T::Bool},
           {"activation", T::Text, conv.activation, acts}},
          "PyTorch's Conv2d / Keras's Conv2D on images [C, H, W], activation fused",
          [](const Options& o, const LayerInput& in) {
            check_images(in, "conv2d");
            Conv2dOptions c;
            c.in_channels = in.channels();
            const std::string out_key = synonym(o, "out_channels", "filters");
            check(!out_key.empty(),
                  "conv2d needs out_channels (Keras: filters), e.g. {conv2d: 32, kernel_size: 3}");
            c.out_channels = o.integer(out_key);
            check(c.out_channels >= 1, "conv2d: out_channels must be >= 1, got ", c.out_channels);
            check(o.has("kernel_size"), "conv2d needs kernel_size, e.g. {conv2d: 32, kernel_size: 3}");
            c.kernel_size = size2d_from_numbers(o.numbers("kernel_size"), "kernel_size");
            c.stride = size2d_from_numbers(o.numbers(synonym_or(o, "stride", "strides")), "stride");
            c.dilation =
                size2d_from_numbers(o.numbers(synonym_or(o, "dilation", "dilation_rate")), "dilation");
            c.padding = padding2d_from_text(o.text("padding"), "padding");
            c.groups = o.integer("groups");
            c.bias = o.flag(synonym_or(o, "bias", "use_bias"));
            c.activation = o.text("activation");
            return make<Conv2d>(c);
          }),
      pool_row("max_pool2d", {"maxpool2d", "max_pooling2d", "maxpooling2d"},
               "PyTorch's MaxPool2d / Keras's MaxPooling2D: the maximum of each window", true),
      pool_row("avg_pool2d", {"avgpool2d", "average_pooling2d", "averagepooling2d"},
               "PyTorch's AvgPool2d / Keras's AveragePooling2D: the mean of each window", false),
      row("adaptive_avg_pool2d", {"adaptiveavgpool2d"}, "output_size",
          {{"output_size", T::List, size2d_text(AdaptiveAvgPool2dOptions{}.output_size)}},
          "PyTorch's AdaptiveAvgPool2d: means over output_size bins",
          [](const Options& o, const LayerInput& in) {
            check_images(in, "adaptive_avg_pool2d");
            return make<AdaptiveAvgPool2d>(
                AdaptiveAvgPool2dOptions{size2d_from_numbers(o.numbers("output_size"), "output_size")});
          }),
      row("global_average_pooling2d", {"globalaveragepooling2d", "global_avg_pool2d", "globalavgpool2d"}, "",
          {}, "Keras's GlobalAveragePooling2D: [C, H, W] -> [C]",
          [](const Options&, const LayerInput& in) {
            check_images(in, "global_average_pooling2d");
            return make<GlobalAvgPool2d>();
          }),
      row("global_max_pooling2d", {"globalmaxpooling2d", "global_max_pool2d", "globalmaxpool2d"}, "", {},
          "Keras's GlobalMaxPooling2D: [C, H, W] -> [C]",
          [](const Options&, const LayerInput& in) {
            check_images(in, "global_max_pooling2d");
            return make<GlobalMaxPool2d>();
          }),
      row("dropout2d", {"spatial_dropout2d", "spatialdropout2d"}, "p",
          {{"p", T::Number, text(Dropout2dOptions{}.p)}},
          "PyTorch's Dropout2d / Keras's SpatialDropout2D: zeroes whole channels while training",
          [](const Options& o, const LayerInput& in) {
            check_images(in, "dropout2d", true);
            const double p = o.number("p");
            check(p >= 0 && p < 1, "dropout2d p must be in [0, 1), got ", p);
            return make<Dropout2d>(Dropout2dOptions{static_cast<float>(p)});
          }),
      row("zero_pad2d", {"zeropad2d", "zero_padding2d", "zeropadding2d"}, "padding", {{"padding", T::List}},
          "PyTorch's ZeroPad2d / Keras's ZeroPadding2D: one size, (height, width), or (left, right, top, "
          "bottom)",
          [](const Options& o, const LayerInput& in) {
            check_images(in, "zero_pad2d");
            check(o.has("padding"), "zero_pad2d needs padding, e.g. {zero_pad2d: 1}");
            const std::vector<double> v = o.numbers("padding");
            check(v.size() == 1 || v.size() == 2 || v.size() == 4,
                  "zero_pad2d padding: expected 1, 2 (height, width) or 4 (left, right, top, bottom) sizes, "
                  "got ",
                  v.size());
            auto n = [&](size_t i) { return static_cast<int64_t>(v[i]); };
            Pad2d p = v.size() == 1   ? Pad2d::all(n(0))
                      : v.size() == 2 ? Pad2d::symmetric(n(0), n(1))
                                      : Pad2d{n(2), n(3), n(0), n(1)};
            return make<ZeroPad2d>(ZeroPad2dOptions{p});
          }),
      list_row("sequential", {}, "the listed layers one after another (a named group, torch.nn.Sequential)",
               [](const Options&, const LayerInput& in) -> std::shared_ptr<Module> {
                 auto seq = std::make_shared<Sequential>();
                 for (const auto& m : in.items) seq->add(m);
                 return seq;
               }),
      list_row("residual",
               {{"shortcut", T::Text, "identity", {"identity", "projection"}},
                {"activation", T::Text, "linear", acts}},
               "activation(body(x) + shortcut(x)): the listed layers with a skip connection (ResNet's block)",
               [](const Options& o, const LayerInput& in) -> std::shared_ptr<Module> {
                 auto body = std::make_shared<Sequential>();
                 for (const auto& m : in.items) body->add(m);
                 std::shared_ptr<Module> shortcut;
                 if (o.text("shortcut") == "projection") {
                   NoGradGuard no_grad;
                   EvalGuard eval(*body);
                   std::vector<int64_t> batch = {1};
                   batch.insert(batch.end(), in.shape.begin(), in.shape.end());
                   const Tensor y = body->forward(Tensor::zeros(Shape(batch)));
                   shortcut =
                       residual_projection(in.shape, {y.shape().dims().begin() + 1, y.shape().dims().end()});
                 }
                 return std::make_shared<Residual>(body, shortcut, o.text("activation"));
               }),
      list_row("concat", {}, "the listed branches on the same input, joined along the channels (torch.cat)",
               [](const Options&, const LayerInput& in) -> std::shared_ptr<Module> {
                 return std::make_shared<Concat>(in.items);
               }),
      row("flatten", {}, "start_dim", {{"start_dim", T::Int, text(flatten.start_dim)}},
          "nn::Flatten: merges dimensions start_dim… into one",
          [](const Options& o, const LayerInput&) { return make<Flatten>(o.integer("start_dim")); }),
      row("activation", {}, "activation", {{"activation", T::Text, "", acts}}, "Keras's Activation layer",
          [](const Options& o, const LayerInput&) { return make_activation(o.text("activation")); }),
      activation_row("relu", "max(0, x)", [] { return make<ReLU>(); }),
      activation_row("relu6", "min(max(0, x), 6)", [] { return make<ReLU6>(); }),
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

bool builds_branches(const std::string& kind) { return kind == "concat"; }

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
