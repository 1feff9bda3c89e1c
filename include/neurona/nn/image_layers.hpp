#pragma once
// The layers of convolutional networks, on NCHW images as PyTorch's: Conv2d (Keras Conv2D),
// max and average pooling, adaptive and global pooling, Dropout2d (Keras SpatialDropout2D) and
// ZeroPad2d. BatchNorm2d is beside BatchNorm1d in layers.hpp. Each takes one options struct, as
// the layers of layers.hpp do, and keeps PyTorch's tensor names ("weight", "bias").
#include <memory>
#include <optional>
#include <string>

#include "neurona/nn/functional.hpp"
#include "neurona/nn/module.hpp"

namespace neurona::nn {

using F::Pad2d;
using F::Size2d;

// Padding as users write it: explicit sizes (PyTorch's int or pair; "valid" is zero), or "same":
// the output keeps ⌈in/stride⌉ rows and columns, padded as TensorFlow does (before = total/2, the
// extra row or column after). With stride 1 that is exactly PyTorch's padding='same'; PyTorch
// refuses 'same' with a stride above 1, where Keras's rule is the one users mean.
struct Padding2d {
  bool same = false;
  Pad2d pad = {};
  // The padding of an input of `in` rows and columns.
  Pad2d resolve(Size2d in, Size2d kernel, Size2d stride, Size2d dilation = {}) const;
  std::string text() const;  // "same", "0", "1", "1,2" or "top,bottom,left,right"
};
// "same", "valid", "1", "1,2" (height, width) or "1,1,2,2" (top, bottom, left, right); an error
// naming `what` otherwise.
Padding2d padding2d_from_text(const std::string& text, const std::string& what);
// "3" or "3,5" (height, width): a kernel, stride or dilation.
Size2d size2d_from_numbers(const std::vector<double>& v, const std::string& what);
std::string size2d_text(Size2d s);

struct Conv2dOptions {
  int64_t in_channels = 0, out_channels = 0;
  Size2d kernel_size = {0, 0};  // required
  Size2d stride = {1, 1};
  Padding2d padding = {};
  Size2d dilation = {1, 1};
  int64_t groups = 1;
  bool bias = true;
  // Any word of make_activation; relu, tanh and sigmoid run fused in the convolution's pass.
  std::string activation = "linear";
};
// torch.nn.Conv2d: weight [out, in/groups, kh, kw], bias [out]; PyTorch's init, kaiming_uniform
// with a = √5 (U(±1/√fan_in), fan_in = in/groups·kh·kw) for the weight, then the same bound for
// the bias.
class Conv2d : public Cloneable<Conv2d> {
 public:
  explicit Conv2d(Conv2dOptions options, Generator* gen = nullptr);
  void reset() override;
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Conv2d"; }
  std::string kind() const override { return "conv2d"; }
  std::map<std::string, std::string> option_values() const override;
  std::string extra_repr() const override;
  const Conv2dOptions& options() const { return options_; }
  Tensor weight, bias;

 private:
  Conv2dOptions options_;
  Activation fused_ = Activation::Identity;
  std::shared_ptr<Module> after_;  // an activation the kernel does not fuse (no parameters)
  Generator* gen_;
};

// Max and average pooling; `stride` defaults to the kernel (PyTorch and Keras alike). Keras's
// padding "same" pools over the real values only (padding is −∞ for the maximum, and not counted
// in the average).
struct Pool2dOptions {
  Size2d kernel_size = {0, 0};  // required
  std::optional<Size2d> stride = std::nullopt;
  Padding2d padding = {};
  Size2d dilation = {1, 1};  // max pooling only
  bool ceil_mode = false;
  bool count_include_pad = true;  // average pooling with explicit padding only
};
class MaxPool2d : public Cloneable<MaxPool2d> {
 public:
  explicit MaxPool2d(Pool2dOptions options);
  void reset() override {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "MaxPool2d"; }
  std::string kind() const override { return "max_pool2d"; }
  std::map<std::string, std::string> option_values() const override;
  std::string extra_repr() const override;
  const Pool2dOptions& options() const { return options_; }

 private:
  Pool2dOptions options_;
};
class AvgPool2d : public Cloneable<AvgPool2d> {
 public:
  explicit AvgPool2d(Pool2dOptions options);
  void reset() override {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "AvgPool2d"; }
  std::string kind() const override { return "avg_pool2d"; }
  std::map<std::string, std::string> option_values() const override;
  std::string extra_repr() const override;
  const Pool2dOptions& options() const { return options_; }

 private:
  Pool2dOptions options_;
};

struct AdaptiveAvgPool2dOptions {
  Size2d output_size = {1, 1};
};
class AdaptiveAvgPool2d : public Cloneable<AdaptiveAvgPool2d> {
 public:
  explicit AdaptiveAvgPool2d(AdaptiveAvgPool2dOptions options = {}) : options_(options) {}
  void reset() override {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "AdaptiveAvgPool2d"; }
  std::string kind() const override { return "adaptive_avg_pool2d"; }
  std::map<std::string, std::string> option_values() const override;
  const AdaptiveAvgPool2dOptions& options() const { return options_; }

 private:
  AdaptiveAvgPool2dOptions options_;
};

// Keras's GlobalAveragePooling2D and GlobalMaxPooling2D: [N, C, H, W] -> [N, C].
class GlobalAvgPool2d : public Cloneable<GlobalAvgPool2d> {
 public:
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::global_avg_pool2d(x); }
  std::string type_name() const override { return "GlobalAvgPool2d"; }
  std::string kind() const override { return "global_average_pooling2d"; }
};
class GlobalMaxPool2d : public Cloneable<GlobalMaxPool2d> {
 public:
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::global_max_pool2d(x); }
  std::string type_name() const override { return "GlobalMaxPool2d"; }
  std::string kind() const override { return "global_max_pooling2d"; }
};

// Zeroes whole channels with probability p while training (torch.nn.Dropout2d, Keras
// SpatialDropout2D); identity in eval mode.
struct Dropout2dOptions {
  float p = 0.5f;
};
class Dropout2d : public Cloneable<Dropout2d> {
 public:
  explicit Dropout2d(Dropout2dOptions options = {}, Generator* gen = nullptr);
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::dropout2d(x, options_.p, is_training(), gen_); }
  std::string type_name() const override { return "Dropout2d"; }
  std::string kind() const override { return "dropout2d"; }
  std::map<std::string, std::string> option_values() const override;
  std::string extra_repr() const override;
  const Dropout2dOptions& options() const { return options_; }

 private:
  Dropout2dOptions options_;
  Generator* gen_;
};

struct ZeroPad2dOptions {
  Pad2d padding = {};
};
// torch.nn.ZeroPad2d / Keras ZeroPadding2D.
class ZeroPad2d : public Cloneable<ZeroPad2d> {
 public:
  explicit ZeroPad2d(ZeroPad2dOptions options) : options_(options) {}
  void reset() override {}
  Tensor forward(const Tensor& x) override { return F::zero_pad2d(x, options_.padding); }
  std::string type_name() const override { return "ZeroPad2d"; }
  std::string kind() const override { return "zero_pad2d"; }
  std::map<std::string, std::string> option_values() const override;
  const ZeroPad2dOptions& options() const { return options_; }

 private:
  ZeroPad2dOptions options_;
};

}  // namespace neurona::nn
