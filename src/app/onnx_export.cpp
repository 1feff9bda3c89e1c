// The options of `neurona export`: the weights' scalers and predict's output transform as ONNX nodes.
#include "neurona/app/onnx_export.hpp"

#include "build_detail.hpp"

namespace neurona::app {

namespace {

// A scaler's transform is (x − center) · scale + base per column; the members are the
// protected state of data::Scaler, read through member pointers formed in a derived class.
struct ScalerParts : data::Scaler {
  static std::vector<float> values(const data::Scaler& s, Tensor data::Scaler::*member) {
    const Tensor& t = s.*member;
    return std::vector<float>(t.data(), t.data() + t.numel());
  }
  static std::vector<float> center(const data::Scaler& s) { return values(s, &ScalerParts::center_); }
  static std::vector<float> scale(const data::Scaler& s) { return values(s, &ScalerParts::scale_); }
  static float base(const data::Scaler& s) { return s.*(&ScalerParts::base_); }
};

}  // namespace

io::OnnxExportOptions onnx_export_options(const Config& c, const WeightsMetadata& meta, int64_t opset,
                                          bool with_preprocessing) {
  io::OnnxExportOptions o;
  o.opset = opset;
  o.doc_string = "Neurona model";
  if (!with_preprocessing) return o;
  if (meta.x_scaler && meta.x_scaler->fitted()) {
    o.input_center = ScalerParts::center(*meta.x_scaler);
    o.input_scale = ScalerParts::scale(*meta.x_scaler);
    o.input_offset = ScalerParts::base(*meta.x_scaler);
  }
  // The same cases as predict's prediction_values (weights.cpp).
  const std::string& loss = c.compile.loss.kind;
  const std::string& task = meta.task;
  if (loss == "bce_with_logits")
    o.output_activation = "sigmoid";
  else if (task == "multiclass" && loss == "cross_entropy" && !detail::ends_in_softmax(c.layers))
    o.output_activation = "softmax";
  else if (task == "multiclass" && loss == "nll")
    o.output_activation = "exp";
  if (meta.y_scaler && meta.y_scaler->fitted()) {
    o.output_center = ScalerParts::center(*meta.y_scaler);
    o.output_scale = ScalerParts::scale(*meta.y_scaler);
    o.output_offset = ScalerParts::base(*meta.y_scaler);
  }
  return o;
}

}  // namespace neurona::app
