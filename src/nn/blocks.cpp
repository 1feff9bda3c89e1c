// Residual and Concat blocks (see nn/blocks.hpp).
#include "neurona/nn/blocks.hpp"

#include "neurona/core/error.hpp"
#include "neurona/nn/image_layers.hpp"

namespace neurona::nn {

Residual::Residual(std::shared_ptr<Sequential> body, std::shared_ptr<Module> shortcut, std::string activation)
    : body_(std::move(body)), shortcut_(std::move(shortcut)), activation_(std::move(activation)) {
  check(body_ != nullptr, "Residual: the body is missing");
  register_module("body", body_);
  if (shortcut_) register_module("shortcut", shortcut_);
  if (activation_ != "linear") after_ = make_activation(activation_);
}

Tensor Residual::forward(const Tensor& x) {
  const Tensor y = (*body_)(x);
  const Tensor s = shortcut_ ? (*shortcut_)(x) : x;
  check(y.shape() == s.shape(), "Residual: the body gives ", y.shape(), " and the shortcut ", s.shape(),
        " for an input of ", x.shape(), "; they must agree to be added",
        shortcut_ ? "" : " (shortcut: projection adapts the input)");
  const Tensor sum = y + s;
  return after_ ? (*after_)(sum) : sum;
}

std::string Residual::extra_repr() const {
  return std::string("shortcut=") + (shortcut_ ? "projection" : "identity") + ", activation=" + activation_;
}

std::shared_ptr<Module> Residual::clone() const {
  auto copy = std::make_shared<Residual>(std::static_pointer_cast<Sequential>(body_->clone()),
                                         shortcut_ ? shortcut_->clone() : nullptr, activation_);
  copy->train(is_training());
  return copy;
}

std::shared_ptr<Module> residual_projection(const std::vector<int64_t>& in, const std::vector<int64_t>& out) {
  if (in.size() == 1 && out.size() == 1) {
    LinearOptions o;
    o.in_features = in[0];
    o.out_features = out[0];
    o.bias = false;
    return std::make_shared<Linear>(o);
  }
  check(in.size() == 3 && out.size() == 3, "residual: the body turns samples of shape ", Shape(in), " into ",
        Shape(out), "; a projection shortcut needs images [C, H, W] or vectors [F] on both sides");
  // A 1×1 convolution without padding gives ⌊(in − 1) / stride⌋ + 1 rows.
  auto stride_for = [](int64_t a, int64_t b) -> int64_t {
    for (int64_t s = 1; s <= a; ++s)
      if ((a - 1) / s + 1 == b) return s;
    return 0;
  };
  const int64_t sh = stride_for(in[1], out[1]), sw = stride_for(in[2], out[2]);
  check(sh > 0 && sw > 0, "residual: no 1×1 convolution turns samples of shape ", Shape(in), " into ",
        Shape(out), " (the body's output), so the shortcut cannot be projected");
  Conv2dOptions c;
  c.in_channels = in[0];
  c.out_channels = out[0];
  c.kernel_size = {1, 1};
  c.stride = {sh, sw};
  c.bias = false;
  auto projection = std::make_shared<Sequential>();
  projection->add(std::make_shared<Conv2d>(c));
  projection->add(std::make_shared<BatchNorm2d>(out[0]));
  return projection;
}

Concat::Concat(std::vector<std::shared_ptr<Module>> branches) {
  check(!branches.empty(), "Concat: no branches");
  for (size_t i = 0; i < branches.size(); ++i) add_child(std::to_string(i), std::move(branches[i]));
}

Tensor Concat::forward(const Tensor& x) {
  std::vector<Tensor> outs;
  for (const auto& [name, branch] : named_children()) {
    outs.push_back((*branch)(x));
    check(outs.back().dim() >= 2, "Concat: branch ", name, " gives ", outs.back().shape(),
          "; branches must keep the batch dimension and one more to join along");
  }
  try {
    return cat(outs, 1);
  } catch (const Error& e) {
    std::string shapes;
    for (size_t i = 0; i < outs.size(); ++i)
      shapes += (i ? ", " : "") + std::to_string(i) + ": " + outs[i].shape().str();
    fail("Concat: the branches' outputs (", shapes,
         ") differ in more than dimension 1, so they cannot be joined");
  }
}

std::shared_ptr<Module> Concat::clone() const {
  std::vector<std::shared_ptr<Module>> copies;
  for (const auto& b : children()) copies.push_back(b->clone());
  auto copy = std::make_shared<Concat>(std::move(copies));
  copy->train(is_training());
  return copy;
}

}  // namespace neurona::nn
