// Protobuf encoding and decoding of an ONNX model (onnx_model.hpp) with the wire codec the event
// files use.
#include "onnx_model.hpp"

#include <cstring>
#include <limits>

#include "neurona/core/error.hpp"
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

int64_t element_size(int64_t t) {
  namespace d = pb::tensor;
  switch (t) {
    case d::kFloat:
    case d::kInt32:
    case d::kUint32:
      return 4;
    case d::kInt64:
    case d::kUint64:
    case d::kDouble:
    case d::kComplex64:
      return 8;
    case d::kUint8:
    case d::kInt8:
    case d::kBool:
      return 1;
    case d::kUint16:
    case d::kInt16:
    case d::kFloat16:
    case d::kBfloat16:
      return 2;
    case d::kComplex128:
      return 16;
    default:
      return 0;
  }
}

std::string data_type_name(int64_t t) {
  static const char* names[] = {"undefined", "float",  "uint8",     "int8",       "uint16",  "int16",
                                "int32",     "int64",  "string",    "bool",       "float16", "double",
                                "uint32",    "uint64", "complex64", "complex128", "bfloat16"};
  if (t >= 0 && t < static_cast<int64_t>(std::size(names))) return names[t];
  return "type " + std::to_string(t);
}

int64_t Initializer::numel() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

namespace {

Encoder initializer(const Initializer& t);

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
    case Attribute::Tensor:
      check(a.tensors.size() == 1, "ONNX export: tensor attribute '", a.name, "' needs one tensor");
      e.message(f::kT, initializer(a.tensors[0]));
      e.varint(f::kType, f::kTensor);
      break;
    case Attribute::Strings:
      for (const auto& v : a.strings) e.bytes(f::kStrings, v);
      e.varint(f::kType, f::kStringsType);
      break;
    case Attribute::Tensors:
      for (const auto& t : a.tensors) e.message(f::kTensors, initializer(t));
      e.varint(f::kType, f::kTensorsType);
      break;
    case Attribute::Graph:
    case Attribute::Other:
      fail("ONNX export: attribute '", a.name, "' has a type the encoder does not write");
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

// --- decoding ---------------------------------------------------------------------------------

namespace {

using wire::Decoder;
using wire::Field;

int64_t varint_of(const Field& f, const char* what) {
  check(f.type == wire::kVarint, "malformed ONNX: ", what, " (field ", f.number, ") is not an integer");
  return f.as_int64();
}
std::string_view bytes_of(const Field& f, const char* what) {
  check(f.type == wire::kLengthDelimited, "malformed ONNX: ", what, " (field ", f.number,
        ") is not a string or message");
  return f.bytes;
}

// Runs `f`, prefixing an Error's message with where it happened.
template <class F>
auto within(const std::string& where, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    fail(where, ": ", e.what());
  }
}

template <class T>
void put(std::string& raw, const std::vector<T>& v) {
  raw.assign(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

Initializer decode_tensor_proto(std::string_view b) {
  namespace f = pb::tensor;
  Initializer t;
  std::vector<float> floats;
  std::vector<double> doubles;
  std::vector<int64_t> int32s, int64s, uint64s;
  bool has_raw = false, external = false;
  int64_t location = 0, strings = 0;
  Decoder d(b);
  Field fd;
  while (d.next(fd)) {
    switch (fd.number) {
      case f::kDims:
        wire::append_varints(fd, t.dims);
        break;
      case f::kDataType:
        t.data_type = varint_of(fd, "TensorProto.data_type");
        break;
      case f::kSegment:
        fail("tensor '", t.name, "' is stored in segments (not supported)");
      case f::kFloatData:
        wire::append_float32s(fd, floats);
        break;
      case f::kInt32Data:
        wire::append_varints(fd, int32s);
        break;
      case f::kStringData:
        ++strings;
        break;
      case f::kInt64Data:
        wire::append_varints(fd, int64s);
        break;
      case f::kName:
        t.name = bytes_of(fd, "TensorProto.name");
        break;
      case f::kRawData:
        t.raw = bytes_of(fd, "TensorProto.raw_data");
        has_raw = true;
        break;
      case f::kDoubleData:
        wire::append_float64s(fd, doubles);
        break;
      case f::kUint64Data:
        wire::append_varints(fd, uint64s);
        break;
      case f::kExternalData:
        external = true;
        break;
      case f::kDataLocation:
        location = varint_of(fd, "TensorProto.data_location");
        break;
      default:
        break;  // doc_string and fields of newer versions
    }
  }
  const std::string label = "tensor '" + t.name + "'";
  check(!external && location != f::kExternal, label,
        " keeps its values in an external file, which Neurona does not read (save the model with "
        "the data inside: onnx.save_model(model, path, save_as_external_data=False))");
  int64_t n = 1;
  for (int64_t dim : t.dims) {
    check(dim >= 0, label, " has a negative dimension ", dim);
    check(dim == 0 || n <= std::numeric_limits<int64_t>::max() / dim, label, " has too many elements");
    n *= dim;
  }
  const int64_t es = element_size(t.data_type);
  if (t.data_type == f::kString || es == 0) {  // no numeric values to keep
    t.raw.clear();
    return t;
  }
  const auto want = [&](size_t have, int64_t per = 1) {
    check(static_cast<uint64_t>(have) == static_cast<uint64_t>(n) * static_cast<uint64_t>(per) &&
              (per == 1 || n <= std::numeric_limits<int64_t>::max() / per),
          label, " (", data_type_name(t.data_type), ") has ", have, " values where its dims say ", n);
  };
  if (has_raw) {
    check(t.raw.size() % static_cast<size_t>(es) == 0, label, ": raw_data of ", t.raw.size(),
          " bytes is not a whole number of ", es, "-byte ", data_type_name(t.data_type), " values");
    want(t.raw.size() / static_cast<size_t>(es));
    return t;
  }
  switch (t.data_type) {
    case f::kFloat:
      want(floats.size()), put(t.raw, floats);
      break;
    case f::kComplex64:
      want(floats.size(), 2), put(t.raw, floats);
      break;
    case f::kDouble:
      want(doubles.size()), put(t.raw, doubles);
      break;
    case f::kComplex128:
      want(doubles.size(), 2), put(t.raw, doubles);
      break;
    case f::kInt64:
      want(int64s.size()), put(t.raw, int64s);
      break;
    case f::kUint64:
      want(uint64s.size()), put(t.raw, uint64s);
      break;
    case f::kUint32: {
      want(uint64s.size());
      std::vector<uint32_t> v(uint64s.begin(), uint64s.end());
      put(t.raw, v);
      break;
    }
    default: {  // int32 and the narrower types ride in int32_data, little-endian low bytes
      want(int32s.size());
      t.raw.resize(int32s.size() * static_cast<size_t>(es));
      for (size_t i = 0; i < int32s.size(); ++i) {
        const auto v = static_cast<uint32_t>(int32s[i]);
        std::memcpy(t.raw.data() + i * static_cast<size_t>(es), &v, static_cast<size_t>(es));
      }
    }
  }
  return t;
}

Attribute decode_attribute(std::string_view b) {
  namespace f = pb::attribute;
  Attribute a;
  uint64_t type = 0;
  bool has_f = false, has_i = false, has_s = false, has_g = false;
  Decoder d(b);
  Field fd;
  while (d.next(fd)) {
    switch (fd.number) {
      case f::kName:
        a.name = bytes_of(fd, "AttributeProto.name");
        break;
      case f::kF:
        a.f = fd.as_float();
        has_f = true;
        break;
      case f::kI:
        a.i = varint_of(fd, "AttributeProto.i");
        has_i = true;
        break;
      case f::kS:
        a.s = bytes_of(fd, "AttributeProto.s");
        has_s = true;
        break;
      case f::kT:
        a.tensors.push_back(within("attribute '" + a.name + "'",
                                   [&] { return decode_tensor_proto(bytes_of(fd, "AttributeProto.t")); }));
        break;
      case f::kG:
      case f::kGraphs:
        has_g = true;
        break;  // subgraphs are not read
      case f::kFloats:
        wire::append_float32s(fd, a.floats);
        break;
      case f::kInts:
        wire::append_varints(fd, a.ints);
        break;
      case f::kStrings:
        a.strings.emplace_back(bytes_of(fd, "AttributeProto.strings"));
        break;
      case f::kTensors:
        a.tensors.push_back(within("attribute '" + a.name + "'", [&] {
          return decode_tensor_proto(bytes_of(fd, "AttributeProto.tensors"));
        }));
        break;
      case f::kType:
        type = static_cast<uint64_t>(varint_of(fd, "AttributeProto.type"));
        break;
      default:
        break;
    }
  }
  if (type == 0)  // files before IR version 2 leave the type out: infer it from the field set
    type = has_f                ? f::kFloat
           : has_i              ? f::kInt
           : has_s              ? f::kString
           : !a.tensors.empty() ? f::kTensor
           : has_g              ? f::kGraph
           : !a.floats.empty()  ? f::kFloatsType
           : !a.ints.empty()    ? f::kIntsType
           : !a.strings.empty() ? f::kStringsType
                                : 0;
  switch (type) {
    case f::kFloat:
      a.type = Attribute::Float;
      break;
    case f::kInt:
      a.type = Attribute::Int;
      break;
    case f::kString:
      a.type = Attribute::String;
      break;
    case f::kTensor:
      check(a.tensors.size() == 1, "attribute '", a.name, "' of type tensor holds ", a.tensors.size(),
            " tensors");
      a.type = Attribute::Tensor;
      break;
    case f::kGraph:
    case f::kGraphsType:
      a.type = Attribute::Graph;
      break;
    case f::kFloatsType:
      a.type = Attribute::Floats;
      break;
    case f::kIntsType:
      a.type = Attribute::Ints;
      break;
    case f::kStringsType:
      a.type = Attribute::Strings;
      break;
    case f::kTensorsType:
      a.type = Attribute::Tensors;
      break;
    default:
      a.type = Attribute::Other;
  }
  return a;
}

Node decode_node(std::string_view b) {
  namespace f = pb::node;
  Node n;
  Decoder d(b);
  Field fd;
  while (d.next(fd)) {
    switch (fd.number) {
      case f::kInput:
        n.inputs.emplace_back(bytes_of(fd, "NodeProto.input"));
        break;
      case f::kOutput:
        n.outputs.emplace_back(bytes_of(fd, "NodeProto.output"));
        break;
      case f::kName:
        n.name = bytes_of(fd, "NodeProto.name");
        break;
      case f::kOpType:
        n.op_type = bytes_of(fd, "NodeProto.op_type");
        break;
      case f::kDomain:
        n.domain = bytes_of(fd, "NodeProto.domain");
        break;
      case f::kAttribute:
        n.attributes.push_back(decode_attribute(bytes_of(fd, "NodeProto.attribute")));
        break;
      default:
        break;
    }
  }
  return n;
}

// TensorShapeProto: dims of a size or a symbolic name (neither: an unknown size, kept as param "?").
std::vector<Dim> decode_shape(std::string_view b) {
  std::vector<Dim> dims;
  Decoder d(b);
  Field fd;
  while (d.next(fd)) {
    if (fd.number != pb::shape::kDim) continue;
    Dim dim;
    bool has_value = false;
    std::string_view param;
    Decoder dd(bytes_of(fd, "TensorShapeProto.dim"));
    Field df;
    while (dd.next(df)) {
      if (df.number == pb::shape::kDimValue) {
        dim.value = varint_of(df, "Dimension.dim_value");
        has_value = true;
      } else if (df.number == pb::shape::kDimParam) {
        param = bytes_of(df, "Dimension.dim_param");
        has_value = false;
      }
    }
    if (!has_value) dim.param = param.empty() ? std::string("?") : std::string(param);
    dims.push_back(std::move(dim));
  }
  return dims;
}

ValueInfo decode_value_info(std::string_view b) {
  ValueInfo v;
  v.elem_type = 0;
  v.has_shape = false;
  Decoder d(b);
  Field fd;
  while (d.next(fd)) {
    if (fd.number == pb::value_info::kName) {
      v.name = bytes_of(fd, "ValueInfoProto.name");
    } else if (fd.number == pb::value_info::kType) {
      Decoder td(bytes_of(fd, "ValueInfoProto.type"));
      Field tf;
      while (td.next(tf)) {
        if (tf.number != pb::type::kTensorType) continue;  // sequences, maps, …: elem_type stays 0
        Decoder tt(bytes_of(tf, "TypeProto.tensor_type"));
        Field f2;
        while (tt.next(f2)) {
          if (f2.number == pb::type::kElemType) {
            v.elem_type = varint_of(f2, "TypeProto.Tensor.elem_type");
          } else if (f2.number == pb::type::kShape) {
            v.shape = decode_shape(bytes_of(f2, "TypeProto.Tensor.shape"));
            v.has_shape = true;
          }
        }
      }
    }
  }
  return v;
}

Graph decode_graph(std::string_view b) {
  namespace f = pb::graph;
  Graph g;
  Decoder d(b);
  Field fd;
  while (d.next(fd)) {
    switch (fd.number) {
      case f::kNode: {
        const std::string where = "graph node " + std::to_string(g.nodes.size());
        g.nodes.push_back(within(where, [&] { return decode_node(bytes_of(fd, "GraphProto.node")); }));
        break;
      }
      case f::kName:
        g.name = bytes_of(fd, "GraphProto.name");
        break;
      case f::kInitializer: {
        const std::string where = "graph initializer " + std::to_string(g.initializers.size());
        g.initializers.push_back(
            within(where, [&] { return decode_tensor_proto(bytes_of(fd, "GraphProto.initializer")); }));
        break;
      }
      case f::kInput:
        g.inputs.push_back(decode_value_info(bytes_of(fd, "GraphProto.input")));
        break;
      case f::kOutput:
        g.outputs.push_back(decode_value_info(bytes_of(fd, "GraphProto.output")));
        break;
      default:
        break;  // value_info, doc_string, sparse initializers, quantization annotations
    }
  }
  return g;
}

}  // namespace

Initializer decode_tensor(std::string_view bytes) { return decode_tensor_proto(bytes); }

Model decode(std::string_view bytes) {
  namespace f = pb::model;
  Model m;
  m.ir_version = 0;
  m.opset = 0;
  bool has_graph = false;
  Decoder d(bytes);
  Field fd;
  while (d.next(fd)) {
    switch (fd.number) {
      case f::kIrVersion:
        m.ir_version = varint_of(fd, "ModelProto.ir_version");
        break;
      case f::kProducerName:
        m.producer_name = bytes_of(fd, "ModelProto.producer_name");
        break;
      case f::kProducerVersion:
        m.producer_version = bytes_of(fd, "ModelProto.producer_version");
        break;
      case f::kDocString:
        m.doc_string = bytes_of(fd, "ModelProto.doc_string");
        break;
      case f::kGraph:
        m.graph = decode_graph(bytes_of(fd, "ModelProto.graph"));
        has_graph = true;
        break;
      case f::kOpsetImport: {
        std::string domain;
        int64_t version = 0;
        Decoder od(bytes_of(fd, "ModelProto.opset_import"));
        Field of;
        while (od.next(of)) {
          if (of.number == pb::opset_id::kDomain)
            domain = bytes_of(of, "OperatorSetIdProto.domain");
          else if (of.number == pb::opset_id::kVersion)
            version = varint_of(of, "OperatorSetIdProto.version");
        }
        if (domain.empty() || domain == "ai.onnx")
          m.opset = version;
        else
          m.other_opsets.emplace_back(domain, version);
        break;
      }
      case f::kMetadataProps: {
        std::string key, value;
        Decoder ed(bytes_of(fd, "ModelProto.metadata_props"));
        Field ef;
        while (ed.next(ef)) {
          if (ef.number == pb::string_entry::kKey) key = bytes_of(ef, "StringStringEntryProto.key");
          if (ef.number == pb::string_entry::kValue) value = bytes_of(ef, "StringStringEntryProto.value");
        }
        m.metadata.emplace_back(key, value);
        break;
      }
      default:
        break;  // domain, model_version, training_info, functions, …
    }
  }
  check(has_graph, "not an ONNX model: no graph (ModelProto field 7) in ", bytes.size(), " bytes");
  return m;
}

}  // namespace neurona::io::onnx_model
