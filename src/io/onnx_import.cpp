// ONNX import: a decoded ModelProto (onnx_model.hpp) walked node by node as a chain, each node or
// group of nodes becoming a Neurona layer of an nn::Sequential; see docs/onnx.md, "Import".
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include "neurona/autograd/node.hpp"
#include "neurona/core/error.hpp"
#include "neurona/io/files.hpp"
#include "neurona/io/onnx.hpp"
#include "neurona/nn/image_layers.hpp"
#include "neurona/nn/layers.hpp"
#include "onnx_fields.hpp"
#include "onnx_model.hpp"

namespace neurona::io {

namespace {

namespace dt = onnx_pb::tensor;
using onnx_model::Attribute;
using onnx_model::Initializer;
using onnx_model::Node;

constexpr int64_t kMinOpset = 1, kMaxOpset = 21;
// Bounds on sizes a file declares without the data to back them: the values of one sample of the
// input, and a padding (shapes are probed on one sample, which must fit in memory).
constexpr int64_t kMaxSample = int64_t{1} << 26, kMaxPad = 4096;
// The batch dimension inside a shape computed from Shape(x).
constexpr int64_t kBatch = std::numeric_limits<int64_t>::min();

std::string dims_text(const std::vector<int64_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) {
    if (i) s += ", ";
    s += d[i] == kBatch ? std::string("batch") : std::to_string(d[i]);
  }
  return s + "]";
}

// The values of a numeric tensor as floats or as integers.
std::vector<double> numbers_of(const Initializer& t) {
  const int64_t es = onnx_model::element_size(t.data_type);
  const bool readable = t.data_type == dt::kFloat || t.data_type == dt::kDouble ||
                        t.data_type == dt::kInt64 || t.data_type == dt::kInt32 || t.data_type == dt::kInt8 ||
                        t.data_type == dt::kUint8 || t.data_type == dt::kBool;
  check(readable, "a tensor of ", onnx_model::data_type_name(t.data_type),
        " values (Neurona reads float, double and integer tensors)");
  const int64_t n = t.numel();
  // The decoder checked raw against the dims; a tensor made here is as long as its dims.
  check(static_cast<int64_t>(t.raw.size()) == n * es, "tensor '", t.name, "' holds ", t.raw.size(),
        " bytes for ", n, " values");
  std::vector<double> v(static_cast<size_t>(n));
  const char* p = t.raw.data();
  for (int64_t i = 0; i < n; ++i) {
    double x = 0;
    switch (t.data_type) {
      case dt::kFloat: {
        float f;
        std::memcpy(&f, p + 4 * i, 4);
        x = f;
        break;
      }
      case dt::kDouble:
        std::memcpy(&x, p + 8 * i, 8);
        break;
      case dt::kInt64: {
        int64_t k;
        std::memcpy(&k, p + 8 * i, 8);
        x = static_cast<double>(k);
        break;
      }
      case dt::kInt32: {
        int32_t k;
        std::memcpy(&k, p + 4 * i, 4);
        x = k;
        break;
      }
      case dt::kInt8:
        x = static_cast<int8_t>(p[i]);
        break;
      case dt::kUint8:
      case dt::kBool:
        x = static_cast<uint8_t>(p[i]);
        break;
      default:
        fail("a tensor of ", onnx_model::data_type_name(t.data_type),
             " values (Neurona reads float, "
             "double and integer tensors)");
    }
    v[static_cast<size_t>(i)] = x;
  }
  return v;
}

std::vector<int64_t> ints_of(const Initializer& t) {
  if (t.data_type == dt::kInt64) {
    std::vector<int64_t> v(static_cast<size_t>(t.numel()));
    if (!v.empty()) std::memcpy(v.data(), t.raw.data(), v.size() * 8);
    return v;
  }
  std::vector<int64_t> v;
  for (double d : numbers_of(t)) v.push_back(static_cast<int64_t>(d));
  return v;
}

Initializer float_tensor(std::string name, std::vector<int64_t> dims, const std::vector<float>& v) {
  return onnx_model::float_initializer(std::move(name), std::move(dims), v.data());
}

// `t` with its dimensions permuted (any element size).
Initializer transpose(const Initializer& t, std::vector<int64_t> perm) {
  const auto r = static_cast<int64_t>(t.dims.size());
  if (perm.empty())
    for (int64_t i = r - 1; i >= 0; --i) perm.push_back(i);
  check(static_cast<int64_t>(perm.size()) == r, "perm ", dims_text(perm), " for a tensor of rank ", r);
  std::vector<bool> seen(static_cast<size_t>(r));
  for (int64_t p : perm) {
    check(p >= 0 && p < r && !seen[static_cast<size_t>(p)], "perm ", dims_text(perm),
          " is not a permutation");
    seen[static_cast<size_t>(p)] = true;
  }
  Initializer out = t;
  const auto es = static_cast<size_t>(onnx_model::element_size(t.data_type));
  check(es > 0, "a transposed tensor of ", onnx_model::data_type_name(t.data_type));
  std::vector<int64_t> in_stride(static_cast<size_t>(r), 1);
  for (int64_t i = r - 2; i >= 0; --i) in_stride[i] = in_stride[i + 1] * t.dims[i + 1];
  for (int64_t i = 0; i < r; ++i) out.dims[i] = t.dims[perm[i]];
  const int64_t n = t.numel();
  std::vector<int64_t> idx(static_cast<size_t>(r), 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t src = 0;
    for (int64_t i = 0; i < r; ++i) src += idx[i] * in_stride[perm[i]];
    std::memcpy(out.raw.data() + k * es, t.raw.data() + src * es, es);
    for (int64_t i = r - 1; i >= 0; --i) {
      if (++idx[i] < out.dims[i]) break;
      idx[i] = 0;
    }
  }
  return out;
}

class Importer {
 public:
  Importer(const onnx_model::Model& m, const OnnxImportOptions& o) : m_(m), opts_(o), opset_(m.opset) {}

  OnnxModel run() {
    const auto& g = m_.graph;
    check(m_.ir_version >= 3 && m_.ir_version <= 10, "IR version ", m_.ir_version,
          " is not supported (Neurona reads IR versions 3 to 10)");
    check(opset_ >= kMinOpset, "the model imports no opset of the default ONNX domain");
    check(opset_ <= kMaxOpset, "opset ", opset_, " is newer than Neurona reads (up to ", kMaxOpset, ")");
    for (const auto& t : g.initializers) consts_[t.name] = t;
    for (const auto& [name, t] : opts_.constants) consts_[name] = tensor_initializer(name, t);
    size_t later = 0;
    bool first = true;
    for (const auto& v : g.inputs) {
      if (consts_.count(v.name)) continue;
      if (first) {
        first = false;
        continue;
      }
      if (later < opts_.later_inputs.size())
        consts_[v.name] = tensor_initializer(v.name, opts_.later_inputs[later++]);
    }
    // The real input: the one graph input that no initializer or given constant supplies.
    const onnx_model::ValueInfo* input = nullptr;
    for (const auto& v : g.inputs) {
      if (consts_.count(v.name)) continue;
      check(input == nullptr, "the graph has several inputs ('", input ? input->name : "", "', '", v.name,
            "'); Neurona imports networks of one input");
      input = &v;
    }
    check(input != nullptr, "the graph has no input");
    check(g.outputs.size() == 1, "the graph has ", g.outputs.size(),
          " outputs; Neurona imports networks of one output");
    check(input->elem_type == dt::kFloat, "input '", input->name, "' is ",
          input->elem_type ? onnx_model::data_type_name(input->elem_type) : "not a tensor",
          "; Neurona imports networks of float inputs");
    check(input->has_shape, "input '", input->name, "' has no declared shape");
    check(input->shape.size() >= 2, "input '", input->name, "' has rank ", input->shape.size(),
          "; Neurona needs [batch, …] with at least one sample dimension");
    dims_ = {1};
    int64_t sample = 1;
    for (size_t i = 1; i < input->shape.size(); ++i) {
      const auto& d = input->shape[i];
      check(d.param.empty() && d.value > 0, "input '", input->name, "' dimension ", i, " is ",
            d.param.empty() ? std::to_string(d.value) : "'" + d.param + "'",
            " (only the batch, the first, may be symbolic)");
      check(d.value <= kMaxSample / sample, "input '", input->name, "' has samples of more than ", kMaxSample,
            " values");
      sample *= d.value;
      dims_.push_back(d.value);
    }
    OnnxModel out;
    out.input_shape.assign(dims_.begin() + 1, dims_.end());
    x_ = input->name;
    for (const auto& n : g.nodes) {
      for (const auto& i : n.inputs) ++uses_[i];
    }
    for (const auto& o : g.outputs) ++uses_[o.name];
    // Constant nodes first, so that the patterns of several nodes (GELU's erf form) see their
    // values and run over the other nodes without them in between.
    for (size_t k = 0; k < g.nodes.size(); ++k) {
      const Node& n = g.nodes[k];
      if (n.op_type != "Constant" || !(n.domain.empty() || n.domain == "ai.onnx")) {
        chain_.push_back(n);
        index_.push_back(k);
        continue;
      }
      try {
        fold(n);
      } catch (const Error& e) {
        fail("node ", where(n, k), ": ", e.what());
      }
    }
    nodes_ = &chain_;
    for (i_ = 0; i_ < chain_.size();) {
      const Node& n = chain_[i_];
      const size_t at = index_[i_];
      try {
        step(n);
      } catch (const Error& e) {
        fail("node ", where(n, at), ": ", e.what());
      }
    }
    const std::string& y = g.outputs[0].name;
    check(y == x_, "the graph's output '", y, "' is not the end of the chain of layers (which ends at '", x_,
          "')");
    out.net = net_;
    out.opset = opset_;
    out.ir_version = m_.ir_version;
    out.producer_name = m_.producer_name;
    out.output_shape.assign(dims_.begin() + 1, dims_.end());
    return out;
  }

 private:
  std::string where(const Node& n, size_t index) const {
    return std::to_string(index) + (n.name.empty() ? "" : " '" + n.name + "'") + " (" + n.op_type +
           ", opset " + std::to_string(opset_) + ")";
  }

  static Initializer tensor_initializer(const std::string& name, const Tensor& t) {
    std::vector<int64_t> d;
    for (int64_t i = 0; i < t.dim(); ++i) d.push_back(t.size(i));
    return onnx_model::float_initializer(name, d, t.data());
  }

  // --- attributes and inputs ---

  static const Attribute* attr(const Node& n, const std::string& name) {
    for (const auto& a : n.attributes)
      if (a.name == name) return &a;
    return nullptr;
  }
  static int64_t attr_int(const Node& n, const std::string& name, int64_t def) {
    const Attribute* a = attr(n, name);
    if (!a) return def;
    check(a->type == Attribute::Int, "attribute '", name, "' is not an integer");
    return a->i;
  }
  static float attr_float(const Node& n, const std::string& name, float def) {
    const Attribute* a = attr(n, name);
    if (!a) return def;
    check(a->type == Attribute::Float || a->type == Attribute::Int, "attribute '", name, "' is not a number");
    return a->type == Attribute::Float ? a->f : static_cast<float>(a->i);
  }
  static std::string attr_string(const Node& n, const std::string& name, const std::string& def) {
    const Attribute* a = attr(n, name);
    if (!a) return def;
    check(a->type == Attribute::String, "attribute '", name, "' is not a string");
    return a->s;
  }
  static std::vector<int64_t> attr_ints(const Node& n, const std::string& name, std::vector<int64_t> def) {
    const Attribute* a = attr(n, name);
    if (!a) return def;
    check(a->type == Attribute::Ints || a->type == Attribute::Int, "attribute '", name, "' is not integers");
    return a->type == Attribute::Int ? std::vector<int64_t>{a->i} : a->ints;
  }

  bool is_const(const std::string& name) const { return consts_.count(name) || ints_.count(name); }
  const Initializer& constant(const Node& n, size_t k) const {
    check(k < n.inputs.size() && !n.inputs[k].empty(), "input ", k, " is missing");
    auto it = consts_.find(n.inputs[k]);
    if (it == consts_.end()) {
      check(!ints_.count(n.inputs[k]), "input ", k, " ('", n.inputs[k],
            "') is computed from the input's shape where Neurona needs a constant");
      fail("input ", k, " ('", n.inputs[k], "') is not a constant (an initializer or a Constant node)");
    }
    return it->second;
  }
  bool has_input(const Node& n, size_t k) const { return k < n.inputs.size() && !n.inputs[k].empty(); }
  // An integer vector input: a constant or a shape computed from Shape(x).
  std::vector<int64_t> int_input(const Node& n, size_t k) const {
    check(has_input(n, k), "input ", k, " is missing");
    auto it = ints_.find(n.inputs[k]);
    if (it != ints_.end()) return it->second;
    return ints_of(constant(n, k));
  }
  bool int_is_scalar(const Node& n, size_t k) const {
    auto it = consts_.find(n.inputs[k]);
    if (it != consts_.end()) return it->second.dims.empty();
    return scalar_ints_.count(n.inputs[k]) > 0;
  }
  double scalar_of(const Node& n, size_t k) const {
    const Initializer& t = constant(n, k);
    check(t.numel() == 1, "input ", k, " ('", n.inputs[k], "') has ", t.numel(),
          " values where one is needed");
    return numbers_of(t)[0];
  }
  std::vector<float> floats_of(const Initializer& t) const {
    std::vector<float> v;
    for (double d : numbers_of(t)) v.push_back(static_cast<float>(d));
    return v;
  }

  int64_t rank() const { return static_cast<int64_t>(dims_.size()); }
  const Node* next(size_t k = 1) const { return i_ + k < nodes_->size() ? &(*nodes_)[i_ + k] : nullptr; }
  bool used_once(const std::string& v) const {
    auto it = uses_.find(v);
    return it != uses_.end() && it->second == 1;
  }
  bool unused(const std::string& v) const { return v.empty() || !uses_.count(v); }
  void outputs_after_first_unused(const Node& n) const {
    for (size_t k = 1; k < n.outputs.size(); ++k)
      check(unused(n.outputs[k]), "output ", k, " ('", n.outputs[k],
            "') is used; Neurona's layer gives only the first output");
  }

  // The scope of a node name: "0/Gemm" and "/0/Gemm" -> "0"; "" when there is none.
  static std::string scope(const Node& n) {
    std::string s = n.name;
    if (!s.empty() && s[0] == '/') s = s.substr(1);
    const auto slash = s.rfind('/');
    return slash == std::string::npos ? std::string() : s.substr(0, slash);
  }
  static bool same_scope(const Node& a, const Node& b) {
    const std::string s = scope(a);
    return !s.empty() && s == scope(b);
  }

  // --- building ---

  // Appends `m` as the next layer (after Identity layers for the indices its node's scope or its
  // tensors' names skip, which were dropout layers of the exported network) and advances the
  // chain by `count` nodes to `out`.
  void add(std::shared_ptr<nn::Module> m, const Node& n, size_t count, const std::string& out,
           const std::string& tensor_name = "") {
    std::string index = scope(n);
    if (!tensor_name.empty() && tensor_name.find('.') != std::string::npos)
      index = tensor_name.substr(0, tensor_name.find('.'));
    if (!index.empty() && index.size() < 6 &&
        std::all_of(index.begin(), index.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      const auto k = static_cast<size_t>(std::stoul(index));
      while (net_->size() < k && k <= net_->size() + 64) net_->add(std::make_shared<nn::Identity>());
    }
    {
      nn::EvalGuard eval(*m);
      autograd::NoGradGuard no_grad;
      const Tensor y = m->forward(Tensor::zeros(Shape(dims_)));
      dims_.assign(y.shape().dims().begin(), y.shape().dims().end());
    }
    net_->add(std::move(m));
    advance(count, out);
  }
  void advance(size_t count, const std::string& out) {
    past_.insert(x_);
    x_ = out;
    i_ += count;
  }

  void copy(Tensor& dst, const Initializer& src, const std::string& what) const {
    check(src.data_type == dt::kFloat || src.data_type == dt::kDouble, what, " '", src.name, "' is ",
          onnx_model::data_type_name(src.data_type), ", not float");
    check(src.numel() == dst.numel(), what, " '", src.name, "' has ", src.numel(), " values ",
          dims_text(src.dims), " where the layer needs ", dst.shape());
    if (src.data_type == dt::kFloat) {
      std::memcpy(dst.data(), src.raw.data(), static_cast<size_t>(dst.numel()) * 4);
    } else {
      const auto v = floats_of(src);
      std::copy(v.begin(), v.end(), dst.data());
    }
  }

  // --- the walk ---

  void step(const Node& n) {
    check(n.domain.empty() || n.domain == "ai.onnx", "operators of domain '", n.domain,
          "' are not supported");
    bool reads_x = false;
    for (const auto& in : n.inputs) {
      if (in == x_) reads_x = true;
      check(!past_.count(in) || in.empty(), "the graph branches: '", in,
            "' is read again after the next layer (Neurona imports a chain of layers)");
    }
    if (!reads_x) return fold(n);
    if (n.op_type == "Shape") return shape_of_x(n);
    if (activation(n)) return;
    const std::string& op = n.op_type;
    if (op == "Identity") return advance(1, n.outputs.at(0));
    if (op == "Dropout") return dropout(n);
    if (op == "Gemm") return gemm(n);
    if (op == "MatMul") return matmul(n);
    if (op == "Conv") return conv(n);
    if (op == "MaxPool" || op == "AveragePool") return pool(n, op == "MaxPool");
    if (op == "GlobalAveragePool" || op == "GlobalMaxPool") return global_pool(n, op == "GlobalMaxPool");
    if (op == "BatchNormalization") return batchnorm(n);
    if (op == "LayerNormalization") return layernorm(n);
    if (op == "Flatten") return flatten(n);
    if (op == "Reshape") return reshape(n);
    if (op == "Pad") return pad(n);
    if (op == "Transpose") return transposed_softmax(n);
    if (op == "PRelu") return prelu(n);
    fail(
        "the operator is not supported on the network's data (see docs/onnx.md, \"Import\", for the "
        "operators Neurona reads)");
  }

  // Nodes that read constants only: their value is computed now.
  void fold(const Node& n) {
    const std::string& op = n.op_type;
    check(!n.outputs.empty(), "the node has no output");
    const std::string& out = n.outputs[0];
    ++i_;
    if (op == "Constant") {
      check(n.attributes.size() == 1, "a Constant needs one value attribute");
      const Attribute& a = n.attributes[0];
      if (a.name == "value" && a.type == Attribute::Tensor) {
        consts_[out] = a.tensors[0];
      } else if (a.name == "value_float") {
        consts_[out] = float_tensor(out, {}, {a.f});
      } else if (a.name == "value_floats") {
        consts_[out] = float_tensor(out, {static_cast<int64_t>(a.floats.size())}, a.floats);
      } else if (a.name == "value_int") {
        consts_[out] = onnx_model::int64_initializer(out, {a.i});
        consts_[out].dims.clear();
      } else if (a.name == "value_ints") {
        consts_[out] = onnx_model::int64_initializer(out, a.ints);
      } else {
        fail("a Constant of attribute '", a.name, "' is not supported");
      }
      consts_[out].name = out;
      return;
    }
    // Integer vectors (shapes, pads, axes), possibly holding the batch dimension.
    const bool any_shape = std::any_of(n.inputs.begin(), n.inputs.end(),
                                       [&](const std::string& s) { return ints_.count(s) > 0; });
    if (op == "Identity" || op == "Cast") {
      if (ints_.count(n.inputs.at(0))) {
        ints_[out] = ints_[n.inputs[0]];
        if (scalar_ints_.count(n.inputs[0])) scalar_ints_.insert(out);
        return;
      }
      Initializer t = constant(n, 0);
      t.name = out;
      if (op == "Cast") {
        const int64_t to = attr_int(n, "to", dt::kFloat);
        if (to == dt::kFloat) {
          t = float_tensor(out, t.dims, floats_of(t));
        } else if (to == dt::kInt64 || to == dt::kInt32) {
          const auto v = ints_of(t);
          const auto d = t.dims;
          t = onnx_model::int64_initializer(out, v);
          t.dims = d;
        } else {
          fail("Cast to ", onnx_model::data_type_name(to), " is not supported");
        }
      }
      consts_[out] = t;
      return;
    }
    if (op == "Transpose" && !any_shape) {
      Initializer t = transpose(constant(n, 0), attr_ints(n, "perm", {}));
      t.name = out;
      consts_[out] = t;
      return;
    }
    if (op == "Gather") {
      const int64_t axis = attr_int(n, "axis", 0);
      std::vector<int64_t> data = int_input(n, 0);
      check(axis == 0, "Gather along axis ", axis, " of constants is not supported");
      const std::vector<int64_t> idx = int_input(n, 1);
      std::vector<int64_t> v;
      for (int64_t k : idx) {
        const int64_t j = k < 0 ? k + static_cast<int64_t>(data.size()) : k;
        check(j >= 0 && j < static_cast<int64_t>(data.size()), "index ", k, " of ", data.size(), " values");
        v.push_back(data[j]);
      }
      set_ints(out, v, int_is_scalar(n, 1));
      return;
    }
    if (op == "Unsqueeze" || op == "Squeeze") {
      std::vector<int64_t> v = int_input(n, 0);
      set_ints(out, v, op == "Squeeze" && v.size() == 1);
      return;
    }
    if (op == "Concat") {
      std::vector<int64_t> v;
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        const auto p = int_input(n, k);
        v.insert(v.end(), p.begin(), p.end());
      }
      set_ints(out, v, false);
      return;
    }
    if ((op == "Mul" || op == "Div") && any_shape) {
      const auto a = int_input(n, 0), b = int_input(n, 1);
      check(a.size() == 1 && b.size() == 1 && a[0] != kBatch && b[0] != kBatch && b[0] != 0 &&
                std::abs(a[0]) <= kMaxSample && std::abs(b[0]) <= kMaxSample,
            "arithmetic on shapes other than two known sizes is not supported");
      set_ints(out, {op == "Mul" ? a[0] * b[0] : a[0] / b[0]}, int_is_scalar(n, 0) && int_is_scalar(n, 1));
      return;
    }
    fail(
        "the operator is not supported on constants (only Constant, Identity, Cast, Transpose and the "
        "Shape, Gather, Unsqueeze, Concat of a flatten are computed at import)");
  }
  void set_ints(const std::string& out, std::vector<int64_t> v, bool scalar) {
    const bool batch = std::find(v.begin(), v.end(), kBatch) != v.end();
    if (batch) {
      ints_[out] = v;
      if (scalar) scalar_ints_.insert(out);
      return;
    }
    consts_[out] = onnx_model::int64_initializer(out, v);
    if (scalar) consts_[out].dims.clear();
  }

  void shape_of_x(const Node& n) {
    std::vector<int64_t> v = dims_;
    v[0] = kBatch;
    int64_t start = attr_int(n, "start", 0), end = attr_int(n, "end", rank());
    if (start < 0) start += rank();
    if (end < 0) end += rank();
    start = std::clamp<int64_t>(start, 0, rank());
    end = std::clamp<int64_t>(end, start, rank());
    set_ints(n.outputs.at(0), std::vector<int64_t>(v.begin() + start, v.begin() + end), false);
    ++i_;  // x stays the chain's value
  }

  // --- activations ---

  struct Act {
    std::shared_ptr<nn::Module> module;
    std::string word;  // the make_activation word when the options are its defaults, else ""
    size_t count = 0;  // nodes
    std::string out;
  };

  static bool near(double a, double b) { return std::abs(a - b) <= 1e-6 * std::max(1.0, std::abs(b)); }
  // The other input of a binary node that reads `v`, when it is a scalar constant.
  bool binary_scalar(const Node* n, const std::string& op, const std::string& v, double& c) const {
    if (!n || n->op_type != op || n->inputs.size() != 2) return false;
    const int k = n->inputs[0] == v ? 1 : n->inputs[1] == v ? 0 : -1;
    if (k < 0) return false;
    auto it = consts_.find(n->inputs[k]);
    if (it == consts_.end() || it->second.numel() != 1) return false;
    if (op == "Div" && k == 0) return false;
    c = numbers_of(it->second)[0];
    return true;
  }

  // An activation at node i_ + from reading `v` (one node, or GELU's erf form, PyTorch's softplus).
  std::optional<Act> match_activation(size_t from, const std::string& v) const {
    const Node* n = next(from);
    if (!n || n->inputs.empty() || n->inputs[0] != v) {
      // the binary nodes of the patterns may read v second
      if (!n || n->inputs.size() != 2 || n->inputs[1] != v) return std::nullopt;
    }
    const std::string& op = n->op_type;
    const std::string out = n->outputs.empty() ? "" : n->outputs[0];
    auto one = [&](std::shared_ptr<nn::Module> m, std::string word) {
      return Act{std::move(m), std::move(word), 1, out};
    };
    if (op == "Relu") return one(std::make_shared<nn::ReLU>(), "relu");
    if (op == "Sigmoid") return one(std::make_shared<nn::Sigmoid>(), "sigmoid");
    if (op == "Tanh") return one(std::make_shared<nn::Tanh>(), "tanh");
    if (op == "Selu") {
      check(near(attr_float(*n, "alpha", 1.67326319217681884765625f), 1.6732632423543772) &&
                near(attr_float(*n, "gamma", 1.05070102214813232421875f), 1.0507009873554805),
            "Selu with alpha or gamma other than the standard ones has no Neurona layer");
      return one(std::make_shared<nn::SELU>(), "selu");
    }
    if (op == "Elu") {
      const float a = attr_float(*n, "alpha", 1.f);
      return one(std::make_shared<nn::ELU>(a), a == 1.f ? "elu" : "");
    }
    if (op == "LeakyRelu") {
      const float a = attr_float(*n, "alpha", 0.01f);
      return one(std::make_shared<nn::LeakyReLU>(a),
                 a == nn::LeakyReLUOptions{}.negative_slope ? "leaky_relu" : "");
    }
    if (op == "Gelu") {
      check(attr_string(*n, "approximate", "none") == "none",
            "Gelu with approximate='tanh' has no Neurona layer");
      return one(std::make_shared<nn::GELU>(), "gelu");
    }
    if (op == "Clip") {
      double lo = -INFINITY, hi = INFINITY;
      if (opset_ < 11) {
        lo = attr_float(*n, "min", -INFINITY);
        hi = attr_float(*n, "max", INFINITY);
      } else {
        if (has_input(*n, 1)) lo = scalar_of(*n, 1);
        if (has_input(*n, 2)) hi = scalar_of(*n, 2);
      }
      if (lo == 0 && hi == 6) return one(std::make_shared<nn::ReLU6>(), "");
      check(lo == 0 && std::isinf(hi) && hi > 0, "Clip to [", lo, ", ", hi,
            "] has no Neurona layer (Clip to [0, inf) is ReLU, to [0, 6] ReLU6)");
      return one(std::make_shared<nn::ReLU>(), "relu");
    }
    if (op == "Softmax" || op == "LogSoftmax") {
      const int64_t r = rank();
      int64_t axis = attr_int(*n, "axis", opset_ >= 13 ? -1 : 1);
      if (axis < 0) axis += r;
      check(axis >= 0 && axis < r, "axis ", attr_int(*n, "axis", 0), " for rank ", r);
      // Before opset 13 the input is flattened to 2-D at the axis: one softmax per row of
      // [prod(dims before), prod(dims from axis)], which is a softmax along `axis` only when it
      // is the last.
      check(opset_ >= 13 || axis == r - 1, op, " along axis ", axis, " of a rank-", r,
            " input before opset 13 normalises over all the dimensions from it (no Neurona layer)");
      std::shared_ptr<nn::Module> m;
      if (op == "Softmax")
        m = std::make_shared<nn::Softmax>(axis);
      else
        m = std::make_shared<nn::LogSoftmax>(axis);
      return one(m, axis == r - 1 ? (op == "Softmax" ? "softmax" : "log_softmax") : "");
    }
    if (op == "Softplus") {  // PyTorch's threshold 20 differs from log(1 + e^x) by under 1e-8 · x
      size_t count = 1;
      float threshold = 20.f;
      std::string y = out;
      // Neurona's export: Where(x > threshold, x, Softplus(x)).
      const Node* g = next(from + 1);
      const Node* w = next(from + 2);
      double t = 0;
      if (binary_scalar(g, "Greater", v, t) && w && w->op_type == "Where" && w->inputs.size() == 3 &&
          w->inputs[0] == g->outputs.at(0) && w->inputs[1] == v && w->inputs[2] == out) {
        threshold = static_cast<float>(t);
        count = 3;
        y = w->outputs.at(0);
      }
      return Act{std::make_shared<nn::Softplus>(1.f, threshold), threshold == 20.f ? "softplus" : "", count,
                 y};
    }
    // x · (1 + erf(x / √2)) / 2, as exporters write GELU before opset 20.
    double c = 0;
    if ((binary_scalar(n, "Div", v, c) && near(c, std::sqrt(2.0))) ||
        (binary_scalar(n, "Mul", v, c) && near(c, std::sqrt(0.5)))) {
      const Node* erf = next(from + 1);
      const Node* add = next(from + 2);
      const Node* mul = next(from + 3);
      const Node* half = next(from + 4);
      double one_c = 0, half_c = 0;
      if (erf && erf->op_type == "Erf" && erf->inputs.at(0) == out &&
          binary_scalar(add, "Add", erf->outputs.at(0), one_c) && one_c == 1.0 && mul &&
          mul->op_type == "Mul" && mul->inputs.size() == 2) {
        const std::string a = add->outputs.at(0);
        const bool xa =
            (mul->inputs[0] == v && mul->inputs[1] == a) || (mul->inputs[1] == v && mul->inputs[0] == a);
        if (xa && binary_scalar(half, "Mul", mul->outputs.at(0), half_c) && half_c == 0.5)
          return Act{std::make_shared<nn::GELU>(), "gelu", 5, half->outputs.at(0)};
        if (xa && binary_scalar(half, "Div", mul->outputs.at(0), half_c) && half_c == 2.0)
          return Act{std::make_shared<nn::GELU>(), "gelu", 5, half->outputs.at(0)};
      }
    }
    // Neurona's softplus with beta ≠ 1: Mul(x, beta), Softplus, Div(beta), Greater(x·beta, t), Where.
    if (binary_scalar(n, "Mul", v, c)) {
      const Node* sp = next(from + 1);
      const Node* div = next(from + 2);
      const Node* g = next(from + 3);
      const Node* w = next(from + 4);
      double c2 = 0, t = 0;
      if (sp && sp->op_type == "Softplus" && sp->inputs.at(0) == out &&
          binary_scalar(div, "Div", sp->outputs.at(0), c2) && c2 == c &&
          binary_scalar(g, "Greater", out, t) && w && w->op_type == "Where" && w->inputs.size() == 3 &&
          w->inputs[0] == g->outputs.at(0) && w->inputs[1] == v && w->inputs[2] == div->outputs.at(0))
        return Act{std::make_shared<nn::Softplus>(static_cast<float>(c), static_cast<float>(t)), "", 5,
                   w->outputs.at(0)};
    }
    return std::nullopt;
  }

  bool activation(const Node& n) {
    auto a = match_activation(0, x_);
    if (!a) return false;
    add(a->module, n, a->count, a->out);
    return true;
  }

  // An activation right after a Gemm or Conv in the same scope (one Neurona layer exported as
  // several nodes: "0/Gemm", "0/Relu"): fused into the layer so its tensors keep their names.
  std::optional<Act> fused_activation(const Node& n, const std::string& out) const {
    const Node* a = next(1);
    if (!a || !same_scope(n, *a) || !used_once(out)) return std::nullopt;
    auto act = match_activation(1, out);
    if (!act || act->word.empty()) return std::nullopt;
    return act;
  }

  // --- layers ---

  void dropout(const Node& n) {
    outputs_after_first_unused(n);
    float p = attr_float(n, "ratio", 0.5f);
    if (has_input(n, 1)) p = static_cast<float>(scalar_of(n, 1));
    if (has_input(n, 2)) check(scalar_of(n, 2) == 0, "Dropout with training_mode true is not supported");
    add(std::make_shared<nn::Dropout>(p), n, 1, n.outputs.at(0));
  }

  void linear(const Node& n, const Initializer& w, bool transposed, float alpha, const Initializer* b,
              float beta, size_t count, const std::string& out) {
    check(w.dims.size() == 2, "the weight '", w.name, "' has rank ", w.dims.size(), ", not 2");
    check(rank() == 2, "a dense layer needs inputs [N, features], got ", dims_text(dims_));
    const Initializer wt = transposed ? w : transpose(w, {1, 0});  // [out, in]
    const int64_t in = wt.dims[1], units = wt.dims[0];
    check(in == dims_[1], "the weight '", w.name, "' ", dims_text(wt.dims), " takes ", in,
          " features, the input has ", dims_[1]);
    if (b) {
      check(b->numel() == units, "the bias '", b->name, "' has ", b->numel(), " values for ", units,
            " units");
    }
    std::shared_ptr<nn::Linear> l;
    const Node* last = &(*nodes_)[i_ + count - 1];
    auto act = fused_activation(*last, out);
    std::string y = out;
    size_t total = count;
    if (act && nn::is_fused_activation(act->word)) {
      l = std::make_shared<nn::Linear>(in, units, b != nullptr, nn::activation_from_name(act->word));
    } else if (act) {
      l = nn::Dense(in, units, act->word, b != nullptr);
    } else {
      l = std::make_shared<nn::Linear>(in, units, b != nullptr);
    }
    if (act) total += act->count, y = act->out;
    copy(l->weight, wt, "weight");
    if (alpha != 1.f)
      for (int64_t k = 0; k < l->weight.numel(); ++k) l->weight.data()[k] *= alpha;
    if (b) {
      copy(l->bias, *b, "bias");
      if (beta != 1.f)
        for (int64_t k = 0; k < l->bias.numel(); ++k) l->bias.data()[k] *= beta;
    }
    add(l, n, total, y, w.name);
  }

  void gemm(const Node& n) {
    check(n.inputs.size() >= 2 && n.inputs[0] == x_, "Gemm needs the data as its first input");
    check(attr_int(n, "transA", 0) == 0, "Gemm with transA = 1 is not supported");
    const Initializer& w = constant(n, 1);
    const Initializer* b = has_input(n, 2) ? &constant(n, 2) : nullptr;
    linear(n, w, attr_int(n, "transB", 0) != 0, attr_float(n, "alpha", 1.f), b, attr_float(n, "beta", 1.f), 1,
           n.outputs.at(0));
  }

  // MatMul(x, W) and an Add of a bias right after: one dense layer.
  void matmul(const Node& n) {
    check(n.inputs.size() == 2 && n.inputs[0] == x_, "MatMul needs the data as its first input");
    const Initializer& w = constant(n, 1);
    const Node* add_node = next(1);
    const std::string mm = n.outputs.at(0);
    if (add_node && add_node->op_type == "Add" && add_node->inputs.size() == 2 && used_once(mm)) {
      const int k = add_node->inputs[0] == mm ? 1 : add_node->inputs[1] == mm ? 0 : -1;
      if (k >= 0 && consts_.count(add_node->inputs[k])) {
        const Initializer& b = consts_.at(add_node->inputs[k]);
        return linear(*add_node, w, false, 1.f, &b, 1.f, 2, add_node->outputs.at(0));
      }
    }
    linear(n, w, false, 1.f, nullptr, 1.f, 1, mm);
  }

  // Explicit pads [top, left, bottom, right] of a 2-D window from pads or auto_pad.
  nn::Pad2d window_pads(const Node& n, nn::Size2d k, nn::Size2d s, nn::Size2d d) const {
    const std::string auto_pad = attr_string(n, "auto_pad", "NOTSET");
    if (auto_pad == "VALID") return {};
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      auto total = [](int64_t in, int64_t k, int64_t s, int64_t d) {
        const int64_t out = (in + s - 1) / s;
        return std::max<int64_t>(0, (out - 1) * s + (k - 1) * d + 1 - in);
      };
      const int64_t th = total(dims_[2], k.h, s.h, d.h), tw = total(dims_[3], k.w, s.w, d.w);
      const bool upper = auto_pad == "SAME_UPPER";
      const int64_t top = upper ? th / 2 : th - th / 2, left = upper ? tw / 2 : tw - tw / 2;
      return {top, th - top, left, tw - left};
    }
    check(auto_pad == "NOTSET" || auto_pad.empty(), "auto_pad '", auto_pad, "' is not supported");
    const auto p = attr_ints(n, "pads", {0, 0, 0, 0});
    check(p.size() == 4, "pads ", dims_text(p), " for a 2-D window");
    for (int64_t v : p) check(v >= 0 && v <= kMaxPad, "pads ", dims_text(p), " (0 to ", kMaxPad, ")");
    return {p[0], p[2], p[1], p[3]};
  }
  nn::Size2d pair(const Node& n, const std::string& name, nn::Size2d def) const {
    const auto v = attr_ints(n, name, {def.h, def.w});
    check(v.size() == 2, name, " ", dims_text(v), ": Neurona imports 2-D windows (inputs [N, C, H, W])");
    for (int64_t x : v) check(x > 0 && x <= kMaxSample, name, " ", dims_text(v), " must be positive");
    return {v[0], v[1]};
  }

  void conv(const Node& n) {
    check(n.inputs[0] == x_, "Conv needs the data as its first input");
    check(rank() == 4, "Neurona imports 2-D convolutions (inputs [N, C, H, W]); the input is ",
          dims_text(dims_));
    const Initializer& w = constant(n, 1);
    check(w.dims.size() == 4, "the weight '", w.name, "' has rank ", w.dims.size(), ", not 4");
    nn::Conv2dOptions o;
    o.in_channels = dims_[1];
    o.out_channels = w.dims[0];
    o.kernel_size = pair(n, "kernel_shape", {w.dims[2], w.dims[3]});
    check(o.kernel_size.h == w.dims[2] && o.kernel_size.w == w.dims[3],
          "kernel_shape does not match the weight ", dims_text(w.dims));
    o.stride = pair(n, "strides", {1, 1});
    o.dilation = pair(n, "dilations", {1, 1});
    o.groups = attr_int(n, "group", 1);
    check(o.groups >= 1 && o.in_channels % o.groups == 0 && o.out_channels % o.groups == 0 &&
              w.dims[1] * o.groups == o.in_channels,
          "group ", o.groups, " with weight ", dims_text(w.dims), " on ", o.in_channels, " channels");
    o.padding.pad = window_pads(n, o.kernel_size, o.stride, o.dilation);
    const Initializer* b = has_input(n, 2) ? &constant(n, 2) : nullptr;
    o.bias = b != nullptr;
    const std::string out = n.outputs.at(0);
    auto act = fused_activation(n, out);
    if (act) o.activation = act->word;
    auto l = std::make_shared<nn::Conv2d>(o);
    copy(l->weight, w, "weight");
    if (b) copy(l->bias, *b, "bias");
    add(l, n, act ? 1 + act->count : 1, act ? act->out : out, w.name);
  }

  // `outer`: the zero padding of a Pad node before (counted in the average), `count` nodes.
  void pool(const Node& n, bool max, nn::Pad2d outer = {}, size_t count = 1) {
    outputs_after_first_unused(n);
    check(rank() == 4, "Neurona imports 2-D pooling (inputs [N, C, H, W]); the input is ", dims_text(dims_));
    check(attr_int(n, "storage_order", 0) == 0, "storage_order 1 is not supported");
    nn::Pool2dOptions o;
    o.kernel_size = pair(n, "kernel_shape", {0, 0});
    const nn::Size2d stride = pair(n, "strides", {1, 1});
    o.stride = stride;
    if (max) o.dilation = pair(n, "dilations", {1, 1});
    check(max || !attr(n, "dilations") ||
              (pair(n, "dilations", {1, 1}).h == 1 && pair(n, "dilations", {1, 1}).w == 1),
          "AveragePool with dilations is not supported");
    const bool padded = outer.top || outer.bottom || outer.left || outer.right;
    const nn::Pad2d p = padded ? outer : window_pads(n, o.kernel_size, stride, o.dilation);
    o.padding.pad = p;
    o.ceil_mode = attr_int(n, "ceil_mode", 0) != 0;
    if (!max) o.count_include_pad = padded || attr_int(n, "count_include_pad", 0) != 0;
    if (!max && !(p.top || p.bottom || p.left || p.right)) o.count_include_pad = true;
    std::shared_ptr<nn::Module> m;
    if (max)
      m = std::make_shared<nn::MaxPool2d>(o);
    else
      m = std::make_shared<nn::AvgPool2d>(o);
    // ONNX's output size; PyTorch (and Neurona) drop a ceil-mode window starting in the padding.
    auto length = [&](int64_t in, int64_t pads, int64_t k, int64_t s, int64_t d) {
      const int64_t span = in + pads - d * (k - 1) - 1;
      check(span >= 0, "the window ", k, " is larger than the padded input ", in + pads);
      return (o.ceil_mode ? (span + s - 1) / s : span / s) + 1;
    };
    const int64_t oh = length(dims_[2], p.top + p.bottom, o.kernel_size.h, stride.h, o.dilation.h);
    const int64_t ow = length(dims_[3], p.left + p.right, o.kernel_size.w, stride.w, o.dilation.w);
    const std::vector<int64_t> before = dims_;
    add(m, n, count, n.outputs.at(0));
    check(dims_[2] == oh && dims_[3] == ow, "ceil_mode gives ", oh, "x", ow, " windows in ONNX and ",
          dims_[2], "x", dims_[3], " in Neurona (a last window starting in the padding) on the input ",
          dims_text(before));
    if (!max && o.ceil_mode && o.count_include_pad &&
        (oh != length(before[2], p.top + p.bottom, o.kernel_size.h, stride.h, 1) ||
         ow != length(before[3], p.left + p.right, o.kernel_size.w, stride.w, 1)))
      check(!(p.top || p.bottom || p.left || p.right),
            "ceil_mode with count_include_pad and padding divides the last windows differently in ONNX");
  }

  void global_pool(const Node& n, bool max) {
    check(rank() == 4, "Neurona imports 2-D pooling (inputs [N, C, H, W]); the input is ", dims_text(dims_));
    const std::string out = n.outputs.at(0);
    const Node* f = next(1);
    if (f && f->op_type == "Flatten" && f->inputs.at(0) == out && same_scope(n, *f) && used_once(out) &&
        attr_int(*f, "axis", 1) == 1) {
      std::shared_ptr<nn::Module> m;
      if (max)
        m = std::make_shared<nn::GlobalMaxPool2d>();
      else
        m = std::make_shared<nn::GlobalAvgPool2d>();
      return add(m, n, 2, f->outputs.at(0));
    }
    if (max) {
      nn::Pool2dOptions o;
      o.kernel_size = {dims_[2], dims_[3]};
      return add(std::make_shared<nn::MaxPool2d>(o), n, 1, out);
    }
    add(std::make_shared<nn::AdaptiveAvgPool2d>(), n, 1, out);
  }

  static bool exporter_constant(const Initializer& t, float value) {
    if (t.name.find("onnx_") == std::string::npos || t.data_type != dt::kFloat) return false;
    const auto v = numbers_of(t);
    return std::all_of(v.begin(), v.end(), [&](double x) { return x == value; });
  }

  void batchnorm(const Node& n) {
    outputs_after_first_unused(n);
    check(n.inputs.size() == 5 && n.inputs[0] == x_, "BatchNormalization needs 5 inputs, the data first");
    check(attr_int(n, "training_mode", 0) == 0, "training_mode 1 is not supported");
    check(attr_int(n, "spatial", 1) == 1, "spatial 0 is not supported");
    check(rank() >= 2 && rank() <= 4, "BatchNormalization of a rank-", rank(), " input");
    const Initializer &scale = constant(n, 1), &bias = constant(n, 2), &mean = constant(n, 3),
                      &var = constant(n, 4);
    nn::BatchNormOptions o;
    o.eps = attr_float(n, "epsilon", 1e-5f);
    o.momentum = 1.f - attr_float(n, "momentum", 0.9f);
    o.affine = !(exporter_constant(scale, 1.f) && exporter_constant(bias, 0.f));
    const int64_t c = dims_[1];
    std::shared_ptr<nn::BatchNorm1d> l;
    if (rank() == 4)
      l = std::make_shared<nn::BatchNorm2d>(c, o);
    else
      l = std::make_shared<nn::BatchNorm1d>(c, o);
    if (o.affine) {
      copy(l->weight, scale, "scale");
      copy(l->bias, bias, "bias");
    }
    copy(l->running_mean, mean, "mean");
    copy(l->running_var, var, "var");
    add(l, n, 1, n.outputs.at(0), mean.name);
  }

  void layernorm(const Node& n) {
    outputs_after_first_unused(n);
    check(n.inputs[0] == x_, "LayerNormalization needs the data as its first input");
    int64_t axis = attr_int(n, "axis", -1);
    if (axis < 0) axis += rank();
    check(axis >= 1 && axis < rank(), "axis ", attr_int(n, "axis", -1), " of a rank-", rank(),
          " input (Neurona normalises sample dimensions)");
    nn::LayerNormOptions o;
    o.normalized_shape.assign(dims_.begin() + axis, dims_.end());
    o.eps = attr_float(n, "epsilon", 1e-5f);
    const Initializer& scale = constant(n, 1);
    const Initializer* b = has_input(n, 2) ? &constant(n, 2) : nullptr;
    o.elementwise_affine = !(b == nullptr && exporter_constant(scale, 1.f));
    auto l = std::make_shared<nn::LayerNorm>(o);
    if (o.elementwise_affine) {
      copy(l->weight, scale, "scale");
      if (b)
        copy(l->bias, *b, "bias");
      else
        std::fill(l->bias.data(), l->bias.data() + l->bias.numel(), 0.f);
    }
    add(l, n, 1, n.outputs.at(0), scale.name);
  }

  void flatten(const Node& n) {
    int64_t axis = attr_int(n, "axis", 1);
    if (axis < 0) axis += rank();
    check(axis == 1 || (axis == rank() - 1 && rank() == 2), "Flatten at axis ", attr_int(n, "axis", 1),
          " of a rank-", rank(), " input merges the batch with other dimensions (Neurona keeps the batch)");
    add(std::make_shared<nn::Flatten>(1), n, 1, n.outputs.at(0));
  }

  void reshape(const Node& n) {
    check(n.inputs[0] == x_, "Reshape needs the data as its first input");
    std::vector<int64_t> target;
    if (opset_ < 5) {
      target = attr_ints(n, "shape", {});
    } else {
      target = int_input(n, 1);
    }
    const bool allowzero = attr_int(n, "allowzero", 0) != 0;
    int64_t sample = 1;
    for (size_t k = 1; k < dims_.size(); ++k) sample *= dims_[k];
    // The target with 0 (copy) resolved; the batch must stay first.
    std::vector<int64_t> t;
    for (size_t k = 0; k < target.size(); ++k) {
      int64_t v = target[k];
      if (v == 0 && !allowzero) {
        check(k < dims_.size(), "shape ", dims_text(target), " copies dimension ", k, " of ",
              dims_text(dims_));
        v = k == 0 ? kBatch : dims_[k];
      }
      t.push_back(v);
    }
    check(!t.empty(), "Reshape to a scalar");
    int64_t known = 1, unknown = -1;
    for (size_t k = 1; k < t.size(); ++k) {
      if (t[k] == -1) {
        check(unknown < 0, "shape ", dims_text(target), " has two -1");
        unknown = static_cast<int64_t>(k);
      } else {
        check(t[k] > 0 && t[k] <= kMaxSample / known, "shape ", dims_text(target), " on the input ",
              dims_text(dims_));
        known *= t[k];
      }
    }
    if (t[0] == -1 && unknown < 0 && known == sample) t[0] = kBatch;  // [-1, 784]: the batch
    check(t[0] == kBatch, "Reshape to ", dims_text(target),
          " changes the batch dimension (Neurona keeps it)");
    if (unknown > 0) {
      check(sample % known == 0, "shape ", dims_text(target), " on the input ", dims_text(dims_));
      t[unknown] = sample / known;
    }
    std::vector<int64_t> want(t.begin() + 1, t.end());
    // A flatten from some dimension: dims 1..k kept, the rest merged.
    for (int64_t k = 1; k < rank(); ++k) {
      std::vector<int64_t> f(dims_.begin() + 1, dims_.begin() + k);
      int64_t rest = 1;
      for (int64_t j = k; j < rank(); ++j) rest *= dims_[j];
      f.push_back(rest);
      if (f == want) return add(std::make_shared<nn::Flatten>(k), n, 1, n.outputs.at(0));
    }
    if (want == std::vector<int64_t>(dims_.begin() + 1, dims_.end())) return advance(1, n.outputs.at(0));
    fail("Reshape of ", dims_text(dims_), " to ", dims_text(t), " is not a flatten (no Neurona layer)");
  }

  void pad(const Node& n) {
    check(n.inputs[0] == x_, "Pad needs the data as its first input");
    check(attr_string(n, "mode", "constant") == "constant", "Pad mode '", attr_string(n, "mode", ""),
          "' has no Neurona layer (constant only)");
    std::vector<int64_t> p;
    float value = 0;
    if (opset_ < 11) {
      p = attr_ints(n, opset_ < 2 ? "paddings" : "pads", {});
      value = attr_float(n, "value", 0.f);
    } else {
      p = int_input(n, 1);
      if (has_input(n, 2)) value = static_cast<float>(scalar_of(n, 2));
      if (has_input(n, 3)) {  // axes (opset 18): expand to all dimensions
        const auto axes = int_input(n, 3);
        check(p.size() == 2 * axes.size(), "pads ", dims_text(p), " for axes ", dims_text(axes));
        std::vector<int64_t> full(static_cast<size_t>(2 * rank()), 0);
        for (size_t k = 0; k < axes.size(); ++k) {
          const int64_t a = axes[k] < 0 ? axes[k] + rank() : axes[k];
          check(a >= 0 && a < rank(), "axis ", axes[k], " for rank ", rank());
          full[a] = p[k];
          full[a + rank()] = p[k + axes.size()];
        }
        p = full;
      }
    }
    check(value == 0, "Pad with the value ", value, " has no Neurona layer (zeros only)");
    check(rank() == 4 && p.size() == 8, "Neurona pads images [N, C, H, W]; pads ", dims_text(p), " on ",
          dims_text(dims_));
    check(p[0] == 0 && p[1] == 0 && p[4] == 0 && p[5] == 0, "pads ", dims_text(p),
          " pad the batch or the channels");
    for (int64_t v : p)
      check(v >= 0 && v <= kMaxPad, "pads ", dims_text(p), " (0 to ", kMaxPad,
            "; cropping is not supported)");
    // Pad then AveragePool of one layer (how PyTorch writes AvgPool2d): one average pooling
    // whose padding is counted.
    const Node* ap = next(1);
    const std::string padded = n.outputs.at(0);
    if (ap && ap->op_type == "AveragePool" && same_scope(n, *ap) && ap->inputs.at(0) == padded &&
        used_once(padded)) {
      const auto inner = attr_ints(*ap, "pads", {0, 0, 0, 0});
      const std::string auto_pad = attr_string(*ap, "auto_pad", "NOTSET");
      if (std::all_of(inner.begin(), inner.end(), [](int64_t v) { return v == 0; }) &&
          (auto_pad == "NOTSET" || auto_pad == "VALID" || auto_pad.empty()))
        return pool(*ap, false, nn::Pad2d{p[2], p[6], p[3], p[7]}, 2);
    }
    add(std::make_shared<nn::ZeroPad2d>(nn::ZeroPad2dOptions{{p[2], p[6], p[3], p[7]}}), n, 1,
        n.outputs.at(0));
  }

  // Transpose(perm) · Softmax(last axis) · Transpose(perm), perm swapping one axis with the
  // last: a softmax along that axis (how opsets before 13 write it).
  void transposed_softmax(const Node& n) {
    auto perm = attr_ints(n, "perm", {});
    const int64_t r = rank();
    std::vector<int64_t> id(static_cast<size_t>(r));
    for (int64_t k = 0; k < r; ++k) id[k] = k;
    if (perm == id) return advance(1, n.outputs.at(0));
    check(static_cast<int64_t>(perm.size()) == r, "perm ", dims_text(perm), " for rank ", r);
    int64_t a = -1;
    for (int64_t k = 0; k < r - 1; ++k)
      if (perm[k] != k) a = k;
    std::vector<int64_t> swap = id;
    if (a >= 0) std::swap(swap[a], swap[r - 1]);
    const Node* sm = next(1);
    const Node* back = next(2);
    const std::string t = n.outputs.at(0);
    if (a > 0 && perm == swap && sm && (sm->op_type == "Softmax" || sm->op_type == "LogSoftmax") &&
        sm->inputs.at(0) == t && used_once(t) && back && back->op_type == "Transpose" &&
        back->inputs.at(0) == sm->outputs.at(0) && attr_ints(*back, "perm", {}) == perm) {
      int64_t axis = attr_int(*sm, "axis", opset_ >= 13 ? -1 : 1);
      if (axis < 0) axis += r;
      if (axis == r - 1) {
        std::shared_ptr<nn::Module> m;
        if (sm->op_type == "Softmax")
          m = std::make_shared<nn::Softmax>(a);
        else
          m = std::make_shared<nn::LogSoftmax>(a);
        return add(m, n, 3, back->outputs.at(0));
      }
    }
    fail("Transpose of the data by ", dims_text(perm), " has no Neurona layer");
  }

  void prelu(const Node& n) {
    check(n.inputs.size() == 2 && n.inputs[0] == x_, "PRelu needs the data first and a constant slope");
    const Initializer& s = constant(n, 1);
    const int64_t c = s.numel();
    check(c == 1 || (rank() >= 2 && c == dims_[1]), "the slope '", s.name, "' ", dims_text(s.dims),
          " is neither one value nor one per channel of ", dims_text(dims_));
    auto l = std::make_shared<nn::PReLU>(c);
    copy(l->weight, s, "slope");
    add(l, n, 1, n.outputs.at(0), s.name);
  }

  const onnx_model::Model& m_;
  const OnnxImportOptions& opts_;
  int64_t opset_;
  std::map<std::string, Initializer> consts_;
  std::map<std::string, std::vector<int64_t>> ints_;  // shapes holding the batch
  std::set<std::string> scalar_ints_;
  std::map<std::string, int> uses_;
  std::set<std::string> past_;
  std::string x_;
  std::vector<int64_t> dims_;  // the chain's value, batch 1 first
  std::vector<Node> chain_;    // the nodes but Constants
  std::vector<size_t> index_;  // their indices in the graph
  const std::vector<Node>* nodes_ = nullptr;
  size_t i_ = 0;
  std::shared_ptr<nn::Sequential> net_ = std::make_shared<nn::Sequential>();
};

}  // namespace

OnnxModel import_onnx_bytes(std::string_view bytes, const OnnxImportOptions& options) {
  const std::string source = options.source.empty() ? "ONNX model" : options.source;
  onnx_model::Model m;
  try {
    m = onnx_model::decode(bytes);
  } catch (const Error& e) {
    fail("ONNX import of ", source, ": malformed file: ", e.what());
  }
  try {
    return Importer(m, options).run();
  } catch (const Error& e) {
    fail("ONNX import of ", source, ": ", e.what());
  } catch (const std::out_of_range&) {  // .at() of a node's inputs or outputs
    fail("ONNX import of ", source, ": a node lacks an input or output its operator needs");
  }
}

Tensor onnx_tensor_from_bytes(std::string_view bytes) {
  const Initializer t = onnx_model::decode_tensor(bytes);
  const std::vector<double> v = numbers_of(t);
  std::vector<float> f(v.begin(), v.end());
  return Tensor::from(f, Shape(t.dims));
}

Tensor read_onnx_tensor(const std::filesystem::path& path) {
  try {
    return onnx_tensor_from_bytes(read_file(path));
  } catch (const Error& e) {
    fail("ONNX tensor ", path.string(), ": ", e.what());
  }
}

OnnxModel import_onnx(const std::filesystem::path& path, OnnxImportOptions options) {
  std::string bytes;
  try {
    bytes = read_file(path);
  } catch (const Error& e) {
    fail("ONNX import: cannot read ", path.string(), ": ", e.what());
  }
  if (options.source.empty()) options.source = path.string();
  return import_onnx_bytes(bytes, options);
}

}  // namespace neurona::io
