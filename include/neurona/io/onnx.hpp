#pragma once
// ONNX export and import. Export: a Neurona network as a .onnx file (ModelProto) that onnxruntime
// and other ONNX tools run. The graph is read from the module tree (Module::kind(), the layers' options() and
// their named parameters and buffers); initializers keep the state_dict names ("0.weight") and the
// batch dimension is symbolic ("batch"). See docs/onnx.md for the operators each layer becomes.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "neurona/nn/layers.hpp"
#include "neurona/nn/module.hpp"

namespace neurona::io {

struct OnnxExportOptions {
  // The default domain's opset, 11 to 21. 17 (with IR version 8) is the newest pair ONNX 1.12's
  // checker accepts; 18 keeps IR 8, 19 and 20 use IR 9, 21 uses IR 10.
  int64_t opset = 17;
  // An input transform in front of the network, per feature of 1-D samples (a fitted scaler's):
  // (x - input_center) · input_scale + input_offset. Empty: none.
  std::vector<float> input_center, input_scale;
  float input_offset = 0.f;
  // The inverse transform of a target scaler applied to the outputs:
  // (y - output_offset) / output_scale + output_center. Empty: none.
  std::vector<float> output_center, output_scale;
  float output_offset = 0.f;
  // Applied to the network's output: "" (none), "softmax" (over dim 1), "sigmoid" or "exp".
  std::string output_activation;
  std::string doc_string;
};

// The IR version written with `opset`.
int64_t onnx_ir_version(int64_t opset);

// The .onnx bytes of `module` (evaluated in eval mode) on samples of `input_shape` (without the
// batch dimension, e.g. {4} or {1, 28, 28}). A module without an ONNX form (a user module, a
// container other than Sequential, a layer option ONNX cannot express) is an Error naming it.
std::string onnx_model_bytes(nn::Module& module, const std::vector<int64_t>& input_shape,
                             const OnnxExportOptions& options = {});
// The same, written to `path` (atomically).
void export_onnx(nn::Module& module, const std::vector<int64_t>& input_shape,
                 const std::filesystem::path& path, const OnnxExportOptions& options = {});

// ONNX import: a .onnx file whose graph is a chain of supported operators (docs/onnx.md, "Import")
// as an nn::Sequential with the file's weights loaded, one layer per operator (or per group of
// nodes of one exported layer, such as GELU's erf form or Neurona's "0/Gemm", "0/Relu"), so the
// tensors are named "<index>.weight" as torch.nn.Sequential's. Anything else (an unsupported
// operator, a branching graph, a malformed file) is an Error naming the file and the node.
struct OnnxImportOptions {
  // Values for graph inputs other than the network's input (weights some files take as inputs):
  // by name, or in the order of the graph's inputs after the first that no initializer supplies.
  std::map<std::string, Tensor> constants;
  std::vector<Tensor> later_inputs;
  std::string source;  // what errors call the model; import_onnx sets the path
};
struct OnnxModel {
  std::shared_ptr<nn::Sequential> net;
  std::vector<int64_t> input_shape, output_shape;  // per sample, without the batch
  int64_t opset = 0, ir_version = 0;
  std::string producer_name;
};
OnnxModel import_onnx(const std::filesystem::path& path, OnnxImportOptions options = {});
OnnxModel import_onnx_bytes(std::string_view bytes, const OnnxImportOptions& options = {});

// A TensorProto file (the input_0.pb / output_0.pb of ONNX's test data) as a float tensor;
// other element types are converted from double and integers, strings are an Error.
Tensor read_onnx_tensor(const std::filesystem::path& path);
Tensor onnx_tensor_from_bytes(std::string_view bytes);

}  // namespace neurona::io
