#pragma once
// summary(): a Keras-style table of a model's layers, output shapes and parameter counts.
#include <string>
#include <vector>

#include "neurona/nn/module.hpp"

namespace neurona::nn {

struct SummaryRow {
  std::string name;    // dotted path ("0", "fc1", "layer1.0.conv1") and type, e.g. "0 (Linear)"
  Shape output_shape;  // batch dimension shown as None
  int64_t params = 0;
};

struct ModelSummary {
  std::vector<SummaryRow> rows;
  int64_t total = 0, trainable = 0, non_trainable = 0;  // parameters (buffers are not counted)
  std::string table;                                    // the printable text
};

// Runs one forward pass (eval mode, no gradient) on zeros of shape [2, input_shape…] and
// records the output of each layer called through operator(). The rows are the layers: the
// model's children, and in nested models (blocks, named Sequentials) every module without
// children under its dotted path, plus any container with parameters of its own.
ModelSummary summarize(Module& model, const Shape& input_shape, const std::string& title = "");
inline std::string summary(Module& model, const Shape& input_shape, const std::string& title = "") {
  return summarize(model, input_shape, title).table;
}

// "1,234"
std::string format_count(int64_t n);

}  // namespace neurona::nn
