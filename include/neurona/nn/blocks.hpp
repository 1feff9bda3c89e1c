#pragma once
// Non-sequential building blocks, usable from C++ and from configs (the list kinds `residual` and
// `concat` of nn::layers()):
//   Residual: activation(body(x) + shortcut(x)), the shortcut the identity or a projection, as in
//             ResNet's blocks (Keras's functional `layers.add([x, y])`).
//   Concat:   the branches applied to the same input, their outputs joined along dimension 1
//             (channels of images, features of vectors), as in Inception's blocks (Keras's
//             `layers.concatenate`, torch.cat(dim=1)).
// Children are named so the state_dict reads like the config: `body.0.weight`, `shortcut.0.weight`,
// `0.1.weight` (branch 0, its layer 1).
#include <memory>
#include <string>
#include <vector>

#include "neurona/nn/layers.hpp"

namespace neurona::nn {

class Residual : public Module {
 public:
  // `shortcut` null: the identity (body must keep the input's shape). `activation`: a word of
  // make_activation applied after the sum ("linear": none).
  Residual(std::shared_ptr<Sequential> body, std::shared_ptr<Module> shortcut,
           std::string activation = "linear");
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Residual"; }
  std::string extra_repr() const override;
  std::shared_ptr<Module> clone() const override;

  const std::shared_ptr<Sequential>& body() const { return body_; }
  const std::shared_ptr<Module>& shortcut() const { return shortcut_; }  // null: identity
  const std::string& activation() const { return activation_; }

 private:
  std::shared_ptr<Sequential> body_;
  std::shared_ptr<Module> shortcut_;
  std::string activation_;
  std::shared_ptr<Module> after_;  // the activation layer, null for "linear"
};

// The projection a residual block needs when its body changes the sample's shape from `in` to
// `out`: for images [C, H, W] a 1×1 convolution without bias (its stride the downsampling) and
// BatchNorm2d, as ResNet's downsample; for vectors [F] a dense layer without bias. An Error naming
// both shapes when no 1×1 stride maps one onto the other.
std::shared_ptr<Module> residual_projection(const std::vector<int64_t>& in, const std::vector<int64_t>& out);

class Concat : public Module {
 public:
  explicit Concat(std::vector<std::shared_ptr<Module>> branches);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Concat"; }
  std::shared_ptr<Module> clone() const override;
  std::vector<std::shared_ptr<Module>> branches() const { return children(); }
};

}  // namespace neurona::nn
