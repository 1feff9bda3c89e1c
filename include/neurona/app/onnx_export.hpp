#pragma once
// What `neurona export` writes: a config's model with its weights as an ONNX file.
#include <cstdint>

#include "neurona/app/config.hpp"
#include "neurona/io/onnx.hpp"

namespace neurona::app {

// The export options for a model of `config` with weights metadata `meta`, at `opset`. With
// `with_preprocessing` the file computes what `neurona predict` writes from the encoded CSV
// features: the input scaler in front, then predict's output transform (sigmoid for
// bce_with_logits, softmax for cross_entropy on logits, exp for nll; see docs/config.md,
// "Predictions") and the target scaler's inverse.
io::OnnxExportOptions onnx_export_options(const Config& config, const WeightsMetadata& meta, int64_t opset,
                                          bool with_preprocessing);

}  // namespace neurona::app
