#pragma once
// An ONNX model as plain data (the parts Neurona uses) and its protobuf encoding. The exporter
// fills these structs; an importer would decode into the same structs with the field tables of
// onnx_fields.hpp. Private to src/io.
#include <cstdint>
#include <string>
#include <vector>

namespace neurona::io::onnx_model {

struct Attribute {
  enum Type { Float, Int, String, Floats, Ints };
  std::string name;
  Type type = Int;
  float f = 0;
  int64_t i = 0;
  std::string s;
  std::vector<float> floats;
  std::vector<int64_t> ints;

  static Attribute of_float(std::string name, float v);
  static Attribute of_int(std::string name, int64_t v);
  static Attribute of_string(std::string name, std::string v);
  static Attribute of_ints(std::string name, std::vector<int64_t> v);
};

struct Node {
  std::string op_type, name;
  std::vector<std::string> inputs, outputs;
  std::vector<Attribute> attributes;
};

// An initializer: float32 or int64 values, little-endian in raw_data.
struct Initializer {
  std::string name;
  int64_t data_type = 1;  // onnx_pb::tensor::kFloat or kInt64
  std::vector<int64_t> dims;
  std::string raw;  // numel · 4 or 8 bytes
};
Initializer float_initializer(std::string name, std::vector<int64_t> dims, const float* values);
Initializer int64_initializer(std::string name, const std::vector<int64_t>& values);

// A dimension of a declared shape: a size, or a symbolic name ("batch") when param is set.
struct Dim {
  int64_t value = 0;
  std::string param;
};
struct ValueInfo {
  std::string name;
  int64_t elem_type = 1;
  std::vector<Dim> shape;
};

struct Graph {
  std::string name;
  std::vector<Node> nodes;
  std::vector<Initializer> initializers;
  std::vector<ValueInfo> inputs, outputs;
};

struct Model {
  int64_t ir_version = 8;
  int64_t opset = 17;  // of the default domain ""
  std::string producer_name, producer_version, doc_string;
  std::vector<std::pair<std::string, std::string>> metadata;
  Graph graph;
};

// The ModelProto bytes of a .onnx file.
std::string encode(const Model& m);

}  // namespace neurona::io::onnx_model
