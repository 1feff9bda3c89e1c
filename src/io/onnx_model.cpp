// Protobuf encoding of an ONNX model (onnx_model.hpp) with the wire encoder the event files use.
#include "onnx_model.hpp"

#include <cstring>

#include "onnx_fields.hpp"
#include "protobuf_wire.hpp"

namespace neurona::io::onnx_model {

namespace pb = onnx_pb;
using wire::Encoder;

Attribute Attribute::of_float(std::string name, float v) {
  Attribute a;
  a.name = std::move(name), a.type = Float, a.f = v;
  return a;
}
Attribute Attribute::of_int(std::string name, int64_t v) {
  Attribute a;
  a.name = std::move(name), a.type = Int, a.i = v;
  return a;
}
Attribute Attribute::of_string(std::string name, std::string v) {
  Attribute a;
  a.name = std::move(name), a.type = String, a.s = std::move(v);
  return a;
}
Attribute Attribute::of_ints(std::string name, std::vector<int64_t> v) {
  Attribute a;
  a.name = std::move(name), a.type = Ints, a.ints = std::move(v);
  return a;
}

Initializer float_initializer(std::string name, std::vector<int64_t> dims, const float* values) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  Initializer t{std::move(name), pb::tensor::kFloat, std::move(dims), {}};
  t.raw.assign(reinterpret_cast<const char*>(values), static_cast<size_t>(n) * sizeof(float));
  return t;
}
Initializer int64_initializer(std::string name, const std::vector<int64_t>& values) {
  Initializer t{std::move(name), pb::tensor::kInt64, {static_cast<int64_t>(values.size())}, {}};
  t.raw.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(int64_t));
  return t;
}

namespace {

// Repeated scalars are written unpacked (one key per element), which every proto2 reader accepts.
Encoder attribute(const Attribute& a) {
  namespace f = pb::attribute;
  Encoder e;
  e.bytes(f::kName, a.name);
  switch (a.type) {
    case Attribute::Float:
      e.float32(f::kF, a.f);
      e.varint(f::kType, f::kFloat);
      break;
    case Attribute::Int:
      e.int64(f::kI, a.i);
      e.varint(f::kType, f::kInt);
      break;
    case Attribute::String:
      e.bytes(f::kS, a.s);
      e.varint(f::kType, f::kString);
      break;
    case Attribute::Floats:
      for (float v : a.floats) e.float32(f::kFloats, v);
      e.varint(f::kType, f::kFloatsType);
      break;
    case Attribute::Ints:
      for (int64_t v : a.ints) e.int64(f::kInts, v);
      e.varint(f::kType, f::kIntsType);
      break;
  }
  return e;
}

Encoder node(const Node& n) {
  namespace f = pb::node;
  Encoder e;
  for (const auto& s : n.inputs) e.bytes(f::kInput, s);
  for (const auto& s : n.outputs) e.bytes(f::kOutput, s);
  if (!n.name.empty()) e.bytes(f::kName, n.name);
  e.bytes(f::kOpType, n.op_type);
  for (const auto& a : n.attributes) e.message(f::kAttribute, attribute(a));
  return e;
}

Encoder initializer(const Initializer& t) {
  namespace f = pb::tensor;
  Encoder e;
  for (int64_t d : t.dims) e.int64(f::kDims, d);
  e.int64(f::kDataType, t.data_type);
  e.bytes(f::kName, t.name);
  e.bytes(f::kRawData, t.raw);
  return e;
}

Encoder value_info(const ValueInfo& v) {
  Encoder shape;
  for (const Dim& d : v.shape) {
    Encoder dim;
    if (d.param.empty())
      dim.int64(pb::shape::kDimValue, d.value);
    else
      dim.bytes(pb::shape::kDimParam, d.param);
    shape.message(pb::shape::kDim, dim);
  }
  Encoder tensor;
  tensor.int64(pb::type::kElemType, v.elem_type);
  tensor.message(pb::type::kShape, shape);
  Encoder type;
  type.message(pb::type::kTensorType, tensor);
  Encoder e;
  e.bytes(pb::value_info::kName, v.name);
  e.message(pb::value_info::kType, type);
  return e;
}

Encoder graph(const Graph& g) {
  namespace f = pb::graph;
  Encoder e;
  for (const Node& n : g.nodes) e.message(f::kNode, node(n));
  e.bytes(f::kName, g.name);
  for (const Initializer& t : g.initializers) e.message(f::kInitializer, initializer(t));
  for (const ValueInfo& v : g.inputs) e.message(f::kInput, value_info(v));
  for (const ValueInfo& v : g.outputs) e.message(f::kOutput, value_info(v));
  return e;
}

}  // namespace

std::string encode(const Model& m) {
  namespace f = pb::model;
  Encoder e;
  e.int64(f::kIrVersion, m.ir_version);
  if (!m.producer_name.empty()) e.bytes(f::kProducerName, m.producer_name);
  if (!m.producer_version.empty()) e.bytes(f::kProducerVersion, m.producer_version);
  if (!m.doc_string.empty()) e.bytes(f::kDocString, m.doc_string);
  e.message(f::kGraph, graph(m.graph));
  Encoder opset;
  opset.bytes(pb::opset_id::kDomain, "");
  opset.int64(pb::opset_id::kVersion, m.opset);
  e.message(f::kOpsetImport, opset);
  for (const auto& [k, v] : m.metadata) {
    Encoder entry;
    entry.bytes(pb::string_entry::kKey, k);
    entry.bytes(pb::string_entry::kValue, v);
    e.message(f::kMetadataProps, entry);
  }
  return e.str();
}

}  // namespace neurona::io::onnx_model
