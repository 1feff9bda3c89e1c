// ONNX export: walks the module tree (Sequential containers, layers by kind()) and writes one or a
// few ONNX nodes per layer, reading each layer's typed options; see docs/onnx.md.
#include <cmath>
#include <functional>
#include <set>

#include "neurona/autograd/node.hpp"
#include "neurona/core/error.hpp"
#include "neurona/io/files.hpp"
#include "neurona/io/onnx.hpp"
#include "neurona/nn/blocks.hpp"
#include "neurona/nn/image_layers.hpp"
#include "neurona/nn/layers.hpp"
#include "neurona/nn/zoo.hpp"
#include "onnx_model.hpp"

#ifndef NEURONA_VERSION
#define NEURONA_VERSION "0"
#endif

namespace neurona::io {

using onnx_model::Attribute;
using onnx_model::Graph;

int64_t onnx_ir_version(int64_t opset) { return opset <= 18 ? 8 : opset <= 20 ? 9 : 10; }

namespace {

constexpr int64_t kMinOpset = 11, kMaxOpset = 21;

std::vector<int64_t> dims_of(const Tensor& t) {
  std::vector<int64_t> d;
  for (int64_t i = 0; i < t.dim(); ++i) d.push_back(t.size(i));
  return d;
}

// The ONNX output length of a pooling window along one dimension (floor or ceil mode).
int64_t onnx_pool_length(int64_t in, int64_t pads, int64_t k, int64_t stride, int64_t dilation, bool ceil) {
  const int64_t span = in + pads - dilation * (k - 1) - 1;
  return (ceil ? (span + stride - 1) / stride : span / stride) + 1;
}

class Exporter {
 public:
  explicit Exporter(const OnnxExportOptions& o) : opts_(o), opset_(o.opset) {}

  onnx_model::Model run(nn::Module& root, const std::vector<int64_t>& input_shape) {
    check(opset_ >= kMinOpset && opset_ <= kMaxOpset, "ONNX export: opset ", opset_, " is not supported (",
          kMinOpset, " to ", kMaxOpset, ")");
    nn::EvalGuard eval(root);
    autograd::NoGradGuard no_grad;
    std::vector<int64_t> batch1 = {1};
    batch1.insert(batch1.end(), input_shape.begin(), input_shape.end());
    probe_ = Tensor::zeros(Shape(batch1));
    x_ = "input";
    names_.insert(x_);
    preprocess(input_shape);
    module(root, "");
    postprocess();
    if (x_ == "input") x_ = node("Identity", {x_}, {}, "");
    rename_output("output");

    onnx_model::Model m;
    m.ir_version = onnx_ir_version(opset_);
    m.opset = opset_;
    m.producer_name = "neurona";
    m.producer_version = NEURONA_VERSION;
    m.doc_string = opts_.doc_string;
    g_.name = "neurona";
    g_.inputs.push_back(value_info("input", batch1));
    g_.outputs.push_back(value_info("output", dims_of(probe_)));
    m.graph = std::move(g_);
    return m;
  }

 private:
  static onnx_model::ValueInfo value_info(const std::string& name, const std::vector<int64_t>& dims) {
    onnx_model::ValueInfo v{name, 1, {}};
    for (size_t i = 0; i < dims.size(); ++i)
      v.shape.push_back(i == 0 ? onnx_model::Dim{0, "batch"} : onnx_model::Dim{dims[i], ""});
    return v;
  }

  std::string fresh(const std::string& base) {
    std::string name = base;
    for (int k = 1; names_.count(name); ++k) name = base + "_" + std::to_string(k);
    names_.insert(name);
    return name;
  }

  // Appends a node of `op` and returns its output's name ("<path>/<op>").
  std::string node(const std::string& op, std::vector<std::string> inputs, std::vector<Attribute> attrs,
                   const std::string& path) {
    std::string scope = path;
    if (!scope.empty() && scope.back() == '.') scope.pop_back();
    const std::string base = (scope.empty() ? "" : scope + "/") + op;
    onnx_model::Node n;
    n.op_type = op;
    n.name = fresh(base);
    n.inputs = std::move(inputs);
    n.outputs = {fresh(base + ":0")};
    n.attributes = std::move(attrs);
    g_.nodes.push_back(n);
    return n.outputs[0];
  }

  // `named`: the name was reserved by fresh() already.
  std::string add_initializer(onnx_model::Initializer t, bool named = false) {
    if (!named) {
      check(!names_.count(t.name), "ONNX export: the name '", t.name, "' is used twice");
      names_.insert(t.name);
    }
    g_.initializers.push_back(std::move(t));
    return g_.initializers.back().name;
  }
  // A state_dict tensor under its own name, optionally with other dims of the same size.
  std::string tensor(const std::string& name, const Tensor& t, std::vector<int64_t> dims = {}) {
    if (dims.empty()) dims = dims_of(t);
    return add_initializer(onnx_model::float_initializer(name, std::move(dims), t.data()));
  }
  std::string constant(const std::string& name, std::vector<int64_t> dims, const std::vector<float>& v) {
    return add_initializer(onnx_model::float_initializer(fresh(name), std::move(dims), v.data()), true);
  }
  std::string scalar(const std::string& path, const std::string& what, float v) {
    return constant(path + "onnx_" + what, {}, {v});
  }
  std::string ints(const std::string& name, const std::vector<int64_t>& v) {
    return add_initializer(onnx_model::int64_initializer(fresh(name), v), true);
  }

  void rename_output(const std::string& name) {
    for (auto& n : g_.nodes)
      for (auto& o : n.outputs)
        if (o == x_) o = name;
    x_ = name;
  }

  void module(nn::Module& m, const std::string& path) {
    if (!m.kind().empty()) {
      leaf(m, path);
      probe_ = m.forward(probe_);
      return;
    }
    if (dynamic_cast<nn::Sequential*>(&m)) {
      for (const auto& [name, child] : m.named_children()) module(*child, path + name + ".");
      return;
    }
    if (auto* r = dynamic_cast<nn::Residual*>(&m)) {
      return residual([&] { module(*r->body(), path + "body."); },
                      [&] {
                        if (r->shortcut()) module(*r->shortcut(), path + "shortcut.");
                      },
                      r->activation(), path);
    }
    if (auto* b = dynamic_cast<nn::BasicBlock*>(&m)) {  // the zoo's ResNet block
      return residual(
          [&] {
            module(*b->conv1, path + "conv1.");
            module(*b->bn1, path + "bn1.");
            module(*b->relu, path + "relu.");
            module(*b->conv2, path + "conv2.");
            module(*b->bn2, path + "bn2.");
          },
          [&] {
            if (b->downsample) module(*b->downsample, path + "downsample.");
          },
          "relu", path);
    }
    if (auto* v = dynamic_cast<nn::InvertedResidual*>(&m)) {  // the zoo's MobileNetV2 block
      if (!v->residual()) return module(*v->conv, path + "conv.");
      return residual([&] { module(*v->conv, path + "conv."); }, [] {}, "linear", path);
    }
    if (dynamic_cast<nn::Concat*>(&m)) {  // each branch on the same input, joined along axis 1
      const std::string in = x_;
      const Tensor probe_in = probe_;
      std::vector<std::string> outs;
      std::vector<Tensor> probes;
      for (const auto& [name, child] : m.named_children()) {
        x_ = in;
        probe_ = probe_in;
        module(*child, path + name + ".");
        outs.push_back(x_);
        probes.push_back(probe_);
      }
      x_ = node("Concat", outs, {Attribute::of_int("axis", 1)}, path);
      probe_ = cat(probes, 1);
      return;
    }
    fail("ONNX export: module ", m.type_name(),
         path.empty() ? "" : " at '" + path.substr(0, path.size() - 1) + "'",
         " has no ONNX form (export supports Sequential, Residual, Concat, the zoo's blocks and the layers "
         "of nn::layers())");
  }

  // activation(Add(body(x), shortcut(x))): `body` and `shortcut` export from the same input (a
  // shortcut that adds no node is the identity).
  void residual(const std::function<void()>& body, const std::function<void()>& shortcut,
                const std::string& activation, const std::string& path) {
    const std::string in = x_;
    const Tensor probe_in = probe_;
    body();
    const std::string out = x_;
    const Tensor probe_out = probe_;
    x_ = in;
    probe_ = probe_in;
    shortcut();
    x_ = node("Add", {out, x_}, {}, path);
    probe_ = probe_out;
    activation_word(activation, path);
  }

  int64_t rank() const { return probe_.dim(); }
  [[noreturn]] void unsupported(const nn::Module& m, const std::string& path, const std::string& why) const {
    fail("ONNX export: ", m.type_name(), " at '", path.empty() ? "" : path.substr(0, path.size() - 1),
         "': ", why);
  }

  void leaf(nn::Module& m, const std::string& path) {
    const std::string k = m.kind();
    if (k == "dense") return dense(static_cast<nn::Linear&>(m), path);
    if (k == "conv2d") return conv(static_cast<nn::Conv2d&>(m), path);
    if (k == "max_pool2d" || k == "avg_pool2d") return pool(m, path, k == "max_pool2d");
    if (k == "adaptive_avg_pool2d") return adaptive_avg(static_cast<nn::AdaptiveAvgPool2d&>(m), path);
    if (k == "global_average_pooling2d" || k == "global_max_pooling2d") {
      x_ = node(k == "global_max_pooling2d" ? "GlobalMaxPool" : "GlobalAveragePool", {x_}, {}, path);
      x_ = node("Flatten", {x_}, {Attribute::of_int("axis", 1)}, path);
      return;
    }
    if (k == "batchnorm" || k == "batch_normalization" || k == "batchnorm2d")
      return batchnorm(static_cast<nn::BatchNorm1d&>(m), path);
    if (k == "layernorm") return layernorm(static_cast<nn::LayerNorm&>(m), path);
    if (k == "flatten") return flatten(static_cast<nn::Flatten&>(m).options().start_dim, path);
    if (k == "zero_pad2d") {
      const nn::Pad2d p = static_cast<nn::ZeroPad2d&>(m).options().padding;
      const std::string pads = ints(path + "onnx_pads", {0, 0, p.top, p.left, 0, 0, p.bottom, p.right});
      x_ = node("Pad", {x_, pads}, {}, path);
      return;
    }
    if (k == "dropout" || k == "dropout2d" || k == "gaussian_noise" || k == "identity") return;  // eval: x
    if (k == "prelu") {
      auto& l = static_cast<nn::PReLU&>(m);
      // The slope broadcasts against [N, C, …] from the right: [C, 1, …].
      std::vector<int64_t> dims = {l.weight.numel()};
      if (l.weight.numel() > 1)
        for (int64_t i = 2; i < rank(); ++i) dims.push_back(1);
      x_ = node("PRelu", {x_, tensor(path + "weight", l.weight, dims)}, {}, path);
      return;
    }
    activation_layer(m, path);
  }

  void activation_word(const std::string& word, const std::string& path) {
    if (word == "linear" || word == "identity" || word.empty()) return;
    auto act = nn::make_activation(word);
    activation_layer(*act, path);
  }

  // The parameter-free activations (their own layers, or fused into dense and conv2d).
  void activation_layer(nn::Module& m, const std::string& path) {
    const std::string k = m.kind();
    if (k == "identity") return;
    if (k == "relu") {
      x_ = node("Relu", {x_}, {}, path);
    } else if (k == "relu6") {
      x_ = node("Clip", {x_, scalar(path, "min", 0.f), scalar(path, "max", 6.f)}, {}, path);
    } else if (k == "sigmoid") {
      x_ = node("Sigmoid", {x_}, {}, path);
    } else if (k == "tanh") {
      x_ = node("Tanh", {x_}, {}, path);
    } else if (k == "selu") {
      x_ = node("Selu", {x_}, {}, path);
    } else if (k == "elu") {
      x_ = node("Elu", {x_}, {Attribute::of_float("alpha", static_cast<nn::ELU&>(m).options().alpha)}, path);
    } else if (k == "leaky_relu") {
      x_ =
          node("LeakyRelu", {x_},
               {Attribute::of_float("alpha", static_cast<nn::LeakyReLU&>(m).options().negative_slope)}, path);
    } else if (k == "softplus") {
      softplus(static_cast<nn::Softplus&>(m).options(), path);
    } else if (k == "gelu") {
      gelu(path);
    } else if (k == "softmax") {
      softmax("Softmax", static_cast<nn::Softmax&>(m).options().dim, path);
    } else if (k == "log_softmax") {
      softmax("LogSoftmax", static_cast<nn::LogSoftmax&>(m).options().dim, path);
    } else {
      fail("ONNX export: layer '", k, "' (", m.type_name(), ") has no ONNX form");
    }
  }

  void dense(nn::Linear& l, const std::string& path) {
    check(rank() == 2, "ONNX export: dense at '", path, "' needs inputs [N, features], got rank ", rank());
    std::vector<std::string> in = {x_, tensor(path + "weight", l.weight)};
    if (l.options().bias) in.push_back(tensor(path + "bias", l.bias));
    x_ = node("Gemm", in, {Attribute::of_int("transB", 1)}, path);
    activation_word(nn::activation_name(l.options().activation), path);
    if (auto* d = dynamic_cast<nn::DenseActivation*>(&l)) activation_word(d->activation_name, path);
  }

  void conv(nn::Conv2d& l, const std::string& path) {
    const auto& c = l.options();
    const nn::Pad2d p =
        c.padding.resolve({probe_.size(2), probe_.size(3)}, c.kernel_size, c.stride, c.dilation);
    std::vector<std::string> in = {x_, tensor(path + "weight", l.weight)};
    if (c.bias) in.push_back(tensor(path + "bias", l.bias));
    x_ = node("Conv", in,
              {Attribute::of_ints("kernel_shape", {c.kernel_size.h, c.kernel_size.w}),
               Attribute::of_ints("strides", {c.stride.h, c.stride.w}),
               Attribute::of_ints("dilations", {c.dilation.h, c.dilation.w}),
               Attribute::of_ints("pads", {p.top, p.left, p.bottom, p.right}),
               Attribute::of_int("group", c.groups)},
              path);
    activation_word(c.activation, path);
  }

  void pool(nn::Module& m, const std::string& path, bool max) {
    const nn::Pool2dOptions& o =
        max ? static_cast<nn::MaxPool2d&>(m).options() : static_cast<nn::AvgPool2d&>(m).options();
    const nn::Size2d stride = o.stride.value_or(o.kernel_size);
    const nn::Size2d dil = max ? o.dilation : nn::Size2d{1, 1};
    const int64_t h = probe_.size(2), w = probe_.size(3);
    const nn::Pad2d p = o.padding.resolve({h, w}, o.kernel_size, stride, dil);
    // PyTorch drops a ceil-mode window that would start in the padding; ONNX keeps it.
    const Tensor out = m.forward(probe_);
    const int64_t oh = onnx_pool_length(h, p.top + p.bottom, o.kernel_size.h, stride.h, dil.h, o.ceil_mode);
    const int64_t ow = onnx_pool_length(w, p.left + p.right, o.kernel_size.w, stride.w, dil.w, o.ceil_mode);
    if (oh != out.size(2) || ow != out.size(3))
      unsupported(m, path,
                  "ceil_mode gives " + std::to_string(out.size(2)) + "x" + std::to_string(out.size(3)) +
                      " windows here and ONNX " + std::to_string(oh) + "x" + std::to_string(ow));
    std::vector<Attribute> a = {Attribute::of_ints("kernel_shape", {o.kernel_size.h, o.kernel_size.w}),
                                Attribute::of_ints("strides", {stride.h, stride.w}),
                                Attribute::of_ints("pads", {p.top, p.left, p.bottom, p.right})};
    if (o.ceil_mode) a.push_back(Attribute::of_int("ceil_mode", 1));
    if (max) {
      a.push_back(Attribute::of_ints("dilations", {dil.h, dil.w}));
    } else {
      bool include_pad = o.count_include_pad && !o.padding.same;
      // A ceil-mode window past the padded edge: PyTorch divides by its part inside input and
      // padding, onnxruntime by the whole kernel. Without padding that part is the real values.
      const bool overhang =
          oh != onnx_pool_length(h, p.top + p.bottom, o.kernel_size.h, stride.h, 1, false) ||
          ow != onnx_pool_length(w, p.left + p.right, o.kernel_size.w, stride.w, 1, false);
      if (overhang && include_pad) {
        if (p.top || p.bottom || p.left || p.right)
          unsupported(m, path,
                      "ceil_mode with count_include_pad and padding averages the last windows over "
                      "fewer values than ONNX's AveragePool");
        include_pad = false;
      }
      a.push_back(Attribute::of_int("count_include_pad", include_pad ? 1 : 0));
    }
    x_ = node(max ? "MaxPool" : "AveragePool", {x_}, std::move(a), path);
  }

  void adaptive_avg(nn::AdaptiveAvgPool2d& l, const std::string& path) {
    const nn::Size2d s = l.options().output_size;
    const int64_t h = probe_.size(2), w = probe_.size(3);
    if (s.h == 1 && s.w == 1) {
      x_ = node("GlobalAveragePool", {x_}, {}, path);
      return;
    }
    if (h % s.h != 0 || w % s.w != 0)
      unsupported(l, path,
                  "output_size " + nn::size2d_text(s) + " does not divide the input " + std::to_string(h) +
                      "x" + std::to_string(w) + " (ONNX has no adaptive pooling with uneven bins)");
    const int64_t kh = h / s.h, kw = w / s.w;
    x_ = node("AveragePool", {x_},
              {Attribute::of_ints("kernel_shape", {kh, kw}), Attribute::of_ints("strides", {kh, kw})}, path);
  }

  void batchnorm(nn::BatchNorm1d& l, const std::string& path) {
    const int64_t c = l.num_features();
    const bool affine = l.options().affine;
    const std::string scale = affine ? tensor(path + "weight", l.weight)
                                     : constant(path + "onnx_scale", {c}, std::vector<float>(c, 1.f));
    const std::string bias = affine ? tensor(path + "bias", l.bias)
                                    : constant(path + "onnx_bias", {c}, std::vector<float>(c, 0.f));
    x_ = node("BatchNormalization",
              {x_, scale, bias, tensor(path + "running_mean", l.running_mean),
               tensor(path + "running_var", l.running_var)},
              {Attribute::of_float("epsilon", l.options().eps)}, path);
  }

  void layernorm(nn::LayerNorm& l, const std::string& path) {
    check(opset_ >= 17, "ONNX export: LayerNorm at '", path,
          "' needs opset 17 or newer (LayerNormalization), got ", opset_);
    const auto& o = l.options();
    const auto n = static_cast<int64_t>(o.normalized_shape.size());
    int64_t numel = 1;
    for (int64_t d : o.normalized_shape) numel *= d;
    std::vector<std::string> in = {x_};
    if (o.elementwise_affine) {
      in.push_back(tensor(path + "weight", l.weight));
      in.push_back(tensor(path + "bias", l.bias));
    } else {
      in.push_back(constant(path + "onnx_scale", o.normalized_shape, std::vector<float>(numel, 1.f)));
    }
    x_ = node("LayerNormalization", in,
              {Attribute::of_int("axis", -n), Attribute::of_float("epsilon", o.eps)}, path);
  }

  void flatten(int64_t start_dim, const std::string& path) {
    const int64_t d = start_dim < 0 ? start_dim + rank() : start_dim;
    if (d == 1) {
      x_ = node("Flatten", {x_}, {Attribute::of_int("axis", 1)}, path);
      return;
    }
    std::vector<int64_t> shape(static_cast<size_t>(d), 0);  // 0 keeps that dimension
    shape.push_back(-1);
    x_ = node("Reshape", {x_, ints(path + "onnx_shape", shape)}, {}, path);
  }

  // PyTorch's softplus is linear where beta·x > threshold: Where(beta·x > threshold, x, log(1 + e^(beta·x)) /
  // beta).
  void softplus(const nn::SoftplusOptions& o, const std::string& path) {
    const std::string x = x_;
    std::string bx = x;
    if (o.beta != 1.f) bx = node("Mul", {x, scalar(path, "beta", o.beta)}, {}, path);
    std::string sp = node("Softplus", {bx}, {}, path);
    if (o.beta != 1.f) sp = node("Div", {sp, scalar(path, "beta", o.beta)}, {}, path);
    const std::string linear = node("Greater", {bx, scalar(path, "threshold", o.threshold)}, {}, path);
    x_ = node("Where", {linear, x, sp}, {}, path);
  }

  // x·Φ(x): the Gelu operator from opset 20, before that x · (1 + erf(x / √2)) / 2.
  void gelu(const std::string& path) {
    if (opset_ >= 20) {
      x_ = node("Gelu", {x_}, {}, path);
      return;
    }
    const std::string x = x_;
    std::string t = node("Div", {x, scalar(path, "sqrt2", static_cast<float>(std::sqrt(2.0)))}, {}, path);
    t = node("Erf", {t}, {}, path);
    t = node("Add", {t, scalar(path, "one", 1.f)}, {}, path);
    t = node("Mul", {x, t}, {}, path);
    x_ = node("Mul", {t, scalar(path, "half", 0.5f)}, {}, path);
  }

  // Softmax along one axis. From opset 13 the axis is that axis; before, the input is coerced to 2-D
  // at the axis, which is the same only for the last axis, so another axis is swapped to the end.
  void softmax(const std::string& op, int64_t dim, const std::string& path) {
    const int64_t r = rank();
    const int64_t a = dim < 0 ? dim + r : dim;
    check(a >= 0 && a < r, "ONNX export: ", op, " dim ", dim, " is out of range for rank ", r);
    if (opset_ >= 13 || a == r - 1) {
      x_ = node(op, {x_}, {Attribute::of_int("axis", a)}, path);
      return;
    }
    std::vector<int64_t> perm;
    for (int64_t i = 0; i < r; ++i) perm.push_back(i);
    std::swap(perm[static_cast<size_t>(a)], perm.back());
    x_ = node("Transpose", {x_}, {Attribute::of_ints("perm", perm)}, path);
    x_ = node(op, {x_}, {Attribute::of_int("axis", r - 1)}, path);
    x_ = node("Transpose", {x_}, {Attribute::of_ints("perm", perm)}, path);
  }

  void preprocess(const std::vector<int64_t>& input_shape) {
    const auto& o = opts_;
    if (o.input_center.empty() && o.input_scale.empty()) return;
    const auto f = static_cast<int64_t>(o.input_scale.size());
    check(input_shape.size() == 1 && input_shape[0] == f && o.input_center.size() == o.input_scale.size(),
          "ONNX export: the input scaler has ", f, " features (centre ", o.input_center.size(),
          ") for samples of shape ", Shape(input_shape));
    x_ = node("Sub", {x_, constant("preprocess.center", {f}, o.input_center)}, {}, "preprocess");
    x_ = node("Mul", {x_, constant("preprocess.scale", {f}, o.input_scale)}, {}, "preprocess");
    if (o.input_offset != 0.f)
      x_ = node("Add", {x_, constant("preprocess.offset", {}, {o.input_offset})}, {}, "preprocess");
  }

  void postprocess() {
    const auto& o = opts_;
    const std::string& a = o.output_activation;
    if (a == "softmax") {
      check(rank() == 2, "ONNX export: the output softmax needs outputs [N, classes], got rank ", rank());
      softmax("Softmax", 1, "postprocess");
    } else if (a == "sigmoid") {
      x_ = node("Sigmoid", {x_}, {}, "postprocess");
    } else if (a == "exp") {
      x_ = node("Exp", {x_}, {}, "postprocess");
    } else {
      check(a.empty(), "ONNX export: output_activation '", a, "' is not one of softmax, sigmoid, exp");
    }
    if (o.output_center.empty() && o.output_scale.empty()) return;
    const auto f = static_cast<int64_t>(o.output_scale.size());
    check(rank() == 2 && probe_.size(1) == f && o.output_center.size() == o.output_scale.size(),
          "ONNX export: the target scaler has ", f, " features for outputs of shape ", probe_.shape());
    if (o.output_offset != 0.f)
      x_ = node("Sub", {x_, constant("postprocess.offset", {}, {o.output_offset})}, {}, "postprocess");
    x_ = node("Div", {x_, constant("postprocess.scale", {f}, o.output_scale)}, {}, "postprocess");
    x_ = node("Add", {x_, constant("postprocess.center", {f}, o.output_center)}, {}, "postprocess");
  }

  const OnnxExportOptions& opts_;
  int64_t opset_;
  Graph g_;
  std::set<std::string> names_;
  std::string x_;  // the value the next node reads
  Tensor probe_;   // zeros of the current value's shape (batch 1)
};

}  // namespace

std::string onnx_model_bytes(nn::Module& module, const std::vector<int64_t>& input_shape,
                             const OnnxExportOptions& options) {
  return onnx_model::encode(Exporter(options).run(module, input_shape));
}

void export_onnx(nn::Module& module, const std::vector<int64_t>& input_shape,
                 const std::filesystem::path& path, const OnnxExportOptions& options) {
  write_file_atomic(path, onnx_model_bytes(module, input_shape, options));
}

}  // namespace neurona::io
