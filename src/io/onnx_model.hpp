#pragma once
// An ONNX model as plain data (the parts Neurona uses) and its protobuf encoding and decoding.
// The exporter fills these structs and encode() writes them; decode() reads a ModelProto into the
// same structs with the field tables of onnx_fields.hpp. Private to src/io.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace neurona::io::onnx_model {

// A tensor value (an initializer, or the `value` of a Constant): its values little-endian in
// `raw`, numel · element size bytes whatever field of the TensorProto held them (float_data,
// int32_data, int64_data, double_data, uint64_data or raw_data).
struct Initializer {
  std::string name;
  int64_t data_type = 1;  // TensorProto.DataType: onnx_pb::tensor::kFloat, kInt64, …
  std::vector<int64_t> dims;
  std::string raw;
  int64_t numel() const;
};
Initializer float_initializer(std::string name, std::vector<int64_t> dims, const float* values);
Initializer int64_initializer(std::string name, const std::vector<int64_t>& values);
// The bytes of one element of `data_type`; 0 for strings and unknown types.
int64_t element_size(int64_t data_type);
// "float", "int64", … (the names of TensorProto.DataType, lower case); "type N" for unknown ones.
std::string data_type_name(int64_t data_type);

struct Attribute {
  // Graph(s), sparse tensors and type protos are read as their type only (Neurona runs none).
  enum Type { Float, Int, String, Floats, Ints, Tensor, Strings, Tensors, Graph, Other };
  std::string name;
  Type type = Int;
  float f = 0;
  int64_t i = 0;
  std::string s;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<Initializer> tensors;  // one for Tensor

  static Attribute of_float(std::string name, float v);
  static Attribute of_int(std::string name, int64_t v);
  static Attribute of_string(std::string name, std::string v);
  static Attribute of_ints(std::string name, std::vector<int64_t> v);
};

struct Node {
  std::string op_type, name, domain;
  std::vector<std::string> inputs, outputs;
  std::vector<Attribute> attributes;
};

// A dimension of a declared shape: a size, or a symbolic name ("batch") when param is set.
struct Dim {
  int64_t value = 0;
  std::string param;
};
struct ValueInfo {
  std::string name;
  int64_t elem_type = 1;  // 0: not a tensor (a sequence, map, …)
  std::vector<Dim> shape;
  bool has_shape = true;  // false: the rank is not declared
};

struct Graph {
  std::string name;
  std::vector<Node> nodes;
  std::vector<Initializer> initializers;
  std::vector<ValueInfo> inputs, outputs;
};

struct Model {
  int64_t ir_version = 8;
  int64_t opset = 17;  // of the default domain "" (ai.onnx); 0 when the file imports none
  std::vector<std::pair<std::string, int64_t>> other_opsets;  // other domains (decode only)
  std::string producer_name, producer_version, doc_string;
  std::vector<std::pair<std::string, std::string>> metadata;
  Graph graph;
};

// The ModelProto bytes of a .onnx file.
std::string encode(const Model& m);

// A ModelProto read back. Unknown fields are skipped, repeated scalars read packed or not, and
// every length is checked against the bytes left before anything is allocated, so malformed or
// hostile input is a neurona::Error ("malformed ONNX: …", naming the message and field) and never
// a crash. Tensors with external data (data_location EXTERNAL) are refused with an Error naming
// them; string tensors keep no values.
Model decode(std::string_view bytes);
// One TensorProto (the same checks).
Initializer decode_tensor(std::string_view bytes);

}  // namespace neurona::io::onnx_model
