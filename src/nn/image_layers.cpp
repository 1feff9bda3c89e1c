// The image layers: Conv2d, pooling, Dropout2d, ZeroPad2d, and the text forms of their sizes.
#include "neurona/nn/image_layers.hpp"

#include <cmath>
#include <cstdlib>
#include <sstream>

#include "neurona/core/error.hpp"
#include "neurona/core/format.hpp"
#include "neurona/core/registry.hpp"
#include "neurona/nn/init.hpp"
#include "neurona/nn/layers.hpp"

namespace neurona::nn {

// --- sizes and padding as text -----------------------------------------------------------------

Size2d size2d_from_numbers(const std::vector<double>& v, const std::string& what) {
  check(v.size() == 1 || v.size() == 2, what, ": expected one number or two (height, width), got ", v.size());
  for (double d : v)
    check(d >= 1 && d == std::floor(d) && d < 1e6, what, ": expected whole numbers >= 1, got ",
          format_number(d));
  const auto h = static_cast<int64_t>(v[0]);
  return {h, v.size() == 2 ? static_cast<int64_t>(v[1]) : h};
}

std::string size2d_text(Size2d s) {
  return s.h == s.w ? std::to_string(s.h) : std::to_string(s.h) + "," + std::to_string(s.w);
}

Padding2d padding2d_from_text(const std::string& text, const std::string& what) {
  const std::string t = lower_case(text);
  if (t == "same") return {true, {}};
  if (t == "valid") return {};
  std::vector<int64_t> v;
  std::stringstream ss(t);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const long long n = std::strtoll(item.c_str(), &end, 10);
    check(!item.empty() && *end == '\0' && n >= 0 && n < 1000000, what,
          ": expected same, valid, or padding sizes >= 0 (one, two for height and width, or four for "
          "top, bottom, left, right), got '",
          text, "'");
    v.push_back(n);
  }
  check(v.size() == 1 || v.size() == 2 || v.size() == 4, what,
        ": expected one, two (height, width) or four (top, bottom, left, right) padding sizes, got '", text,
        "'");
  if (v.size() == 1) return {false, Pad2d::all(v[0])};
  if (v.size() == 2) return {false, Pad2d::symmetric(v[0], v[1])};
  return {false, {v[0], v[1], v[2], v[3]}};
}

Pad2d Padding2d::resolve(Size2d in, Size2d kernel, Size2d stride, Size2d dilation) const {
  return same ? F::same_padding2d_keras(in, kernel, stride, dilation) : pad;
}

std::string Padding2d::text() const {
  if (same) return "same";
  const Pad2d& p = pad;
  if (p.top == p.bottom && p.left == p.right)
    return p.top == p.left ? std::to_string(p.top) : std::to_string(p.top) + "," + std::to_string(p.left);
  return std::to_string(p.top) + "," + std::to_string(p.bottom) + "," + std::to_string(p.left) + "," +
         std::to_string(p.right);
}

namespace {

void check_image(const Tensor& x, const std::string& layer) {
  check(x.dim() == 4, layer, ": expected images [N, C, H, W], got ", x.shape(),
        x.dim() == 2 ? " (flattened data: drop the flatten before the image layers)" : "");
}

Size2d image_size(const Tensor& x) { return {x.size(2), x.size(3)}; }

}  // namespace

// --- Conv2d ------------------------------------------------------------------------------------

Conv2d::Conv2d(Conv2dOptions o, Generator* gen) : options_(std::move(o)), gen_(gen) {
  const auto& c = options_;
  check(c.in_channels >= 1 && c.out_channels >= 1, "Conv2d: in_channels and out_channels must be >= 1, got ",
        c.in_channels, " and ", c.out_channels);
  check(c.kernel_size.h >= 1 && c.kernel_size.w >= 1, "Conv2d: kernel_size must be >= 1, got ",
        size2d_text(c.kernel_size));
  check(c.stride.h >= 1 && c.stride.w >= 1 && c.dilation.h >= 1 && c.dilation.w >= 1,
        "Conv2d: stride and dilation must be >= 1");
  check(c.groups >= 1 && c.in_channels % c.groups == 0 && c.out_channels % c.groups == 0, "Conv2d: groups ",
        c.groups, " must divide in_channels ", c.in_channels, " and out_channels ", c.out_channels);
  const std::string act = lower_case(c.activation);
  if (is_fused_activation(act))
    fused_ = activation_from_name(act);
  else
    after_ = make_activation(act);
  reset();
}

void Conv2d::reset() {
  const auto& c = options_;
  const int64_t fan_in = c.in_channels / c.groups * c.kernel_size.h * c.kernel_size.w;
  const float bound = 1.f / std::sqrt(static_cast<float>(fan_in));
  Tensor w = Tensor::empty({c.out_channels, c.in_channels / c.groups, c.kernel_size.h, c.kernel_size.w});
  init::uniform_(w, -bound, bound, gen_);
  weight = register_parameter("weight", w);
  if (c.bias) {
    Tensor b = Tensor::empty({c.out_channels});
    init::uniform_(b, -bound, bound, gen_);
    bias = register_parameter("bias", b);
  } else {
    bias = Tensor();
  }
}

Tensor Conv2d::forward(const Tensor& x) {
  const auto& c = options_;
  check_image(x, "Conv2d");
  check(x.size(1) == c.in_channels, "Conv2d(", c.in_channels, " -> ", c.out_channels, "): input ", x.shape(),
        " has ", x.size(1), " channels, expected ", c.in_channels);
  const Pad2d pad = c.padding.resolve(image_size(x), c.kernel_size, c.stride, c.dilation);
  Tensor y = F::conv2d(x, weight, bias, c.stride, pad, c.dilation, c.groups, fused_);
  return after_ ? after_->forward(y) : y;
}

std::map<std::string, std::string> Conv2d::option_values() const {
  const auto& c = options_;
  return {{"out_channels", std::to_string(c.out_channels)},
          {"kernel_size", size2d_text(c.kernel_size)},
          {"stride", size2d_text(c.stride)},
          {"padding", c.padding.text()},
          {"dilation", size2d_text(c.dilation)},
          {"groups", std::to_string(c.groups)},
          {"bias", c.bias ? "true" : "false"},
          {"activation", lower_case(c.activation)}};
}

std::string Conv2d::extra_repr() const {
  const auto& c = options_;
  std::ostringstream os;
  os << c.in_channels << ", " << c.out_channels << ", kernel_size=" << size2d_text(c.kernel_size)
     << ", stride=" << size2d_text(c.stride) << ", padding=" << c.padding.text();
  if (c.dilation.h != 1 || c.dilation.w != 1) os << ", dilation=" << size2d_text(c.dilation);
  if (c.groups != 1) os << ", groups=" << c.groups;
  if (!c.bias) os << ", bias=false";
  if (lower_case(c.activation) != "linear") os << ", activation=" << lower_case(c.activation);
  return os.str();
}

// --- pooling -----------------------------------------------------------------------------------

namespace {

void check_pool_options(const Pool2dOptions& o, const char* layer) {
  check(o.kernel_size.h >= 1 && o.kernel_size.w >= 1, layer, ": kernel_size must be >= 1, got ",
        size2d_text(o.kernel_size));
  if (o.stride) check(o.stride->h >= 1 && o.stride->w >= 1, layer, ": stride must be >= 1");
  check(!(o.padding.same && o.ceil_mode), layer, ": padding same and ceil_mode cannot be used together");
}

std::map<std::string, std::string> pool_values(const Pool2dOptions& o) {
  std::map<std::string, std::string> v = {{"kernel_size", size2d_text(o.kernel_size)},
                                          {"padding", o.padding.text()},
                                          {"ceil_mode", o.ceil_mode ? "true" : "false"}};
  if (o.stride) v["stride"] = size2d_text(*o.stride);
  return v;
}

std::string pool_repr(const Pool2dOptions& o) {
  return "kernel_size=" + size2d_text(o.kernel_size) +
         ", stride=" + size2d_text(o.stride.value_or(o.kernel_size)) + ", padding=" + o.padding.text() +
         (o.ceil_mode ? ", ceil_mode=true" : "");
}

}  // namespace

MaxPool2d::MaxPool2d(Pool2dOptions o) : options_(o) {
  check_pool_options(o, "MaxPool2d");
  check(o.dilation.h >= 1 && o.dilation.w >= 1, "MaxPool2d: dilation must be >= 1");
}

Tensor MaxPool2d::forward(const Tensor& x) {
  const auto& o = options_;
  check_image(x, "MaxPool2d");
  const Size2d stride = o.stride.value_or(o.kernel_size);
  const Pad2d pad = o.padding.resolve(image_size(x), o.kernel_size, stride, o.dilation);
  return F::max_pool2d(x, o.kernel_size, stride, pad, o.dilation, o.ceil_mode);
}

std::map<std::string, std::string> MaxPool2d::option_values() const {
  auto v = pool_values(options_);
  v["dilation"] = size2d_text(options_.dilation);
  return v;
}

std::string MaxPool2d::extra_repr() const { return pool_repr(options_); }

AvgPool2d::AvgPool2d(Pool2dOptions o) : options_(o) {
  check_pool_options(o, "AvgPool2d");
  check(o.dilation.h == 1 && o.dilation.w == 1, "AvgPool2d: average pooling has no dilation");
}

Tensor AvgPool2d::forward(const Tensor& x) {
  const auto& o = options_;
  check_image(x, "AvgPool2d");
  const Size2d stride = o.stride.value_or(o.kernel_size);
  const Pad2d pad = o.padding.resolve(image_size(x), o.kernel_size, stride);
  // Keras's "same" averages the real values only.
  return F::avg_pool2d(x, o.kernel_size, stride, pad, o.ceil_mode, o.count_include_pad && !o.padding.same);
}

std::map<std::string, std::string> AvgPool2d::option_values() const {
  auto v = pool_values(options_);
  v["count_include_pad"] = options_.count_include_pad ? "true" : "false";
  return v;
}

std::string AvgPool2d::extra_repr() const { return pool_repr(options_); }

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) {
  check_image(x, "AdaptiveAvgPool2d");
  return F::adaptive_avg_pool2d(x, options_.output_size);
}

std::map<std::string, std::string> AdaptiveAvgPool2d::option_values() const {
  return {{"output_size", size2d_text(options_.output_size)}};
}

// --- Dropout2d, ZeroPad2d ----------------------------------------------------------------------

Dropout2d::Dropout2d(Dropout2dOptions o, Generator* gen) : options_(o), gen_(gen) {
  check(o.p >= 0.f && o.p <= 1.f, "Dropout2d: probability ", o.p, " is not in [0, 1]");
}

std::map<std::string, std::string> Dropout2d::option_values() const {
  return {{"p", format_float(options_.p)}};
}

std::string Dropout2d::extra_repr() const { return "p=" + format_float(options_.p); }

std::map<std::string, std::string> ZeroPad2d::option_values() const {
  const Pad2d& p = options_.padding;
  // The registry's order: left, right, top, bottom (PyTorch's ZeroPad2d tuple).
  return {{"padding", std::to_string(p.left) + "," + std::to_string(p.right) + "," + std::to_string(p.top) +
                          "," + std::to_string(p.bottom)}};
}

}  // namespace neurona::nn
