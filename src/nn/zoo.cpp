// The model zoo (see nn/zoo.hpp): torchvision's ResNet-18/34 and MobileNetV2 built from Neurona's
// layers under torchvision's names, the course's CNN, and the architectures' registry.
#include "neurona/nn/zoo.hpp"

#include <algorithm>
#include <cmath>

#include "neurona/core/error.hpp"
#include "neurona/core/format.hpp"
#include "neurona/nn/init.hpp"

namespace neurona::nn {

namespace {

// A k×k convolution without bias, padding (k−1)/2: torchvision's conv3x3, conv1x1 and stems.
std::shared_ptr<Conv2d> conv_no_bias(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t groups,
                                     Generator* gen) {
  Conv2dOptions c;
  c.in_channels = in;
  c.out_channels = out;
  c.kernel_size = {k, k};
  c.stride = {stride, stride};
  c.padding.pad = Pad2d::all((k - 1) / 2);
  c.groups = groups;
  c.bias = false;
  return std::make_shared<Conv2d>(c, gen);
}

void check_options(const std::string& arch, const ZooOptions& o) {
  check(o.num_classes >= 1, arch, ": num_classes must be at least 1, got ", o.num_classes);
  check(o.in_channels >= 1, arch, ": in_channels must be at least 1, got ", o.in_channels);
  check(o.dropout >= 0 && o.dropout < 1, arch, ": dropout must be in [0, 1), got ", o.dropout);
  check(o.width_mult > 0 && std::isfinite(o.width_mult), arch, ": width_mult must be > 0, got ",
        o.width_mult);
  check(o.image_size >= 4, arch, ": image_size must be at least 4, got ", o.image_size);
}

// torchvision's weight initialisation over a whole model: every convolution kaiming_normal_
// (fan_out, relu); with `small_linear` every Linear N(0, 0.01) with zero bias (MobileNetV2).
// BatchNorm's weight 1 and bias 0 are its own defaults.
void init_like_torchvision(Module& model, bool small_linear, Generator* gen) {
  for (auto& [name, m] : model.named_modules()) {
    if (auto* c = dynamic_cast<Conv2d*>(m.get())) {
      init::kaiming_normal_(c->weight, 0.f, init::FanMode::FanOut, "relu", gen);
      if (c->bias.defined()) init::zeros_(c->bias);
    } else if (auto* l = dynamic_cast<Linear*>(m.get()); l && small_linear) {
      init::normal_(l->weight, 0.f, 0.01f, gen);
      if (l->bias.defined()) init::zeros_(l->bias);
    }
  }
}

// torchvision's _make_divisible: v rounded to the nearest multiple of `divisor` (at least
// `divisor`), going up one step when rounding would lose more than 10 %.
int64_t make_divisible(double v, int64_t divisor = 8) {
  int64_t n =
      std::max(divisor, static_cast<int64_t>(v + static_cast<double>(divisor) / 2) / divisor * divisor);
  if (static_cast<double>(n) < 0.9 * v) n += divisor;
  return n;
}

std::shared_ptr<Sequential> resnet(const std::string& arch, const int64_t (&blocks)[4], const ZooOptions& o,
                                   Generator* gen) {
  check_options(arch, o);
  auto net = std::make_shared<Sequential>();
  net->add("conv1", conv_no_bias(o.in_channels, 64, 7, 2, 1, gen));
  net->add("bn1", std::make_shared<BatchNorm2d>(64));
  net->add("relu", std::make_shared<ReLU>());
  Pool2dOptions pool;
  pool.kernel_size = {3, 3};
  pool.stride = Size2d{2, 2};
  pool.padding.pad = Pad2d::all(1);
  net->add("maxpool", std::make_shared<MaxPool2d>(pool));
  int64_t in = 64;
  for (int i = 0; i < 4; ++i) {
    const int64_t planes = int64_t{64} << i;
    auto layer = std::make_shared<Sequential>();
    for (int64_t b = 0; b < blocks[i]; ++b) {
      layer->add(std::make_shared<BasicBlock>(in, planes, b == 0 && i > 0 ? 2 : 1, gen));
      in = planes;
    }
    net->add("layer" + std::to_string(i + 1), layer);
  }
  net->add("avgpool", std::make_shared<AdaptiveAvgPool2d>());
  net->add("flatten", std::make_shared<Flatten>());
  net->add("fc", std::make_shared<Linear>(512, o.num_classes, true, Activation::Identity, gen));
  init_like_torchvision(*net, false, gen);
  return net;
}

}  // namespace

// --- BasicBlock ----------------------------------------------------------------------------------

BasicBlock::BasicBlock(int64_t in_channels, int64_t out_channels, int64_t stride, Generator* gen)
    : in_channels_(in_channels), out_channels_(out_channels), stride_(stride), gen_(gen) {
  check(in_channels >= 1 && out_channels >= 1 && stride >= 1,
        "BasicBlock: channels and stride must be >= 1, got ", in_channels, " -> ", out_channels, ", stride ",
        stride);
  reset();
}

void BasicBlock::reset() {
  conv1 = register_module("conv1", conv_no_bias(in_channels_, out_channels_, 3, stride_, 1, gen_));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(out_channels_));
  relu = register_module("relu", std::make_shared<ReLU>());
  conv2 = register_module("conv2", conv_no_bias(out_channels_, out_channels_, 3, 1, 1, gen_));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(out_channels_));
  downsample = nullptr;
  if (stride_ != 1 || in_channels_ != out_channels_) {
    downsample = register_module("downsample", std::make_shared<Sequential>());
    downsample->add(conv_no_bias(in_channels_, out_channels_, 1, stride_, 1, gen_));
    downsample->add(std::make_shared<BatchNorm2d>(out_channels_));
  }
}

Tensor BasicBlock::forward(const Tensor& x) {
  Tensor out = (*relu)((*bn1)((*conv1)(x)));
  out = (*bn2)((*conv2)(out));
  return (*relu)(out + (downsample ? (*downsample)(x) : x));
}

std::string BasicBlock::extra_repr() const {
  return "in_channels=" + std::to_string(in_channels_) + ", out_channels=" + std::to_string(out_channels_) +
         ", stride=" + std::to_string(stride_);
}

// --- Conv2dNormActivation ------------------------------------------------------------------------

Conv2dNormActivation::Conv2dNormActivation(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                                           int64_t stride, int64_t groups, Generator* gen)
    : in_channels_(in_channels),
      out_channels_(out_channels),
      kernel_size_(kernel_size),
      stride_(stride),
      groups_(groups),
      gen_(gen) {
  add(conv_no_bias(in_channels, out_channels, kernel_size, stride, groups, gen));
  add(std::make_shared<BatchNorm2d>(out_channels));
  add(std::make_shared<ReLU6>());
}

std::shared_ptr<Module> Conv2dNormActivation::clone() const {
  auto copy = std::make_shared<Conv2dNormActivation>(in_channels_, out_channels_, kernel_size_, stride_,
                                                     groups_, gen_);
  copy->copy_state_from(*this);
  return copy;
}

// --- InvertedResidual ----------------------------------------------------------------------------

InvertedResidual::InvertedResidual(int64_t in_channels, int64_t out_channels, int64_t stride,
                                   int64_t expand_ratio, Generator* gen)
    : in_channels_(in_channels),
      out_channels_(out_channels),
      stride_(stride),
      expand_ratio_(expand_ratio),
      gen_(gen) {
  check(in_channels >= 1 && out_channels >= 1 && expand_ratio >= 1 && (stride == 1 || stride == 2),
        "InvertedResidual: channels and expand_ratio must be >= 1 and stride 1 or 2, got ", in_channels,
        " -> ", out_channels, ", stride ", stride, ", expand_ratio ", expand_ratio);
  reset();
}

void InvertedResidual::reset() {
  const int64_t hidden = in_channels_ * expand_ratio_;
  conv = register_module("conv", std::make_shared<Sequential>());
  if (expand_ratio_ != 1)
    conv->add(std::make_shared<Conv2dNormActivation>(in_channels_, hidden, 1, 1, 1, gen_));
  conv->add(std::make_shared<Conv2dNormActivation>(hidden, hidden, 3, stride_, hidden, gen_));
  conv->add(conv_no_bias(hidden, out_channels_, 1, 1, 1, gen_));
  conv->add(std::make_shared<BatchNorm2d>(out_channels_));
}

Tensor InvertedResidual::forward(const Tensor& x) {
  const Tensor y = (*conv)(x);
  return residual() ? x + y : y;
}

std::string InvertedResidual::extra_repr() const {
  return "in_channels=" + std::to_string(in_channels_) + ", out_channels=" + std::to_string(out_channels_) +
         ", stride=" + std::to_string(stride_) + ", expand_ratio=" + std::to_string(expand_ratio_);
}

// --- the models ----------------------------------------------------------------------------------

std::shared_ptr<Sequential> resnet18(const ZooOptions& options, Generator* gen) {
  return resnet("resnet18", {2, 2, 2, 2}, options, gen);
}

std::shared_ptr<Sequential> resnet34(const ZooOptions& options, Generator* gen) {
  return resnet("resnet34", {3, 4, 6, 3}, options, gen);
}

std::shared_ptr<Sequential> mobilenet_v2(const ZooOptions& o, Generator* gen) {
  check_options("mobilenet_v2", o);
  struct Stage {
    int64_t expand_ratio, channels, blocks, stride;
  };
  const Stage stages[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                          {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  int64_t in = make_divisible(32 * o.width_mult);
  const int64_t last = make_divisible(1280 * std::max(1.0, o.width_mult));
  auto features = std::make_shared<Sequential>();
  features->add(std::make_shared<Conv2dNormActivation>(o.in_channels, in, 3, 2, 1, gen));
  for (const Stage& s : stages) {
    const int64_t out = make_divisible(static_cast<double>(s.channels) * o.width_mult);
    for (int64_t i = 0; i < s.blocks; ++i) {
      features->add(std::make_shared<InvertedResidual>(in, out, i == 0 ? s.stride : 1, s.expand_ratio, gen));
      in = out;
    }
  }
  features->add(std::make_shared<Conv2dNormActivation>(in, last, 1, 1, 1, gen));
  auto classifier = std::make_shared<Sequential>();
  classifier->add(std::make_shared<Dropout>(static_cast<float>(o.dropout), gen));
  classifier->add(std::make_shared<Linear>(last, o.num_classes, true, Activation::Identity, gen));

  auto net = std::make_shared<Sequential>();
  net->add("features", features);
  net->add("avgpool", std::make_shared<AdaptiveAvgPool2d>());
  net->add("flatten", std::make_shared<Flatten>());
  net->add("classifier", classifier);
  init_like_torchvision(*net, true, gen);
  return net;
}

std::shared_ptr<Sequential> fashion_mnist_cnn(const ZooOptions& o, Generator* gen) {
  check_options("fashion_mnist_cnn", o);
  auto conv = [gen](int64_t in, int64_t out) {
    Conv2dOptions c;
    c.in_channels = in;
    c.out_channels = out;
    c.kernel_size = {3, 3};
    c.padding.same = true;
    c.activation = "relu";
    return std::make_shared<Conv2d>(c, gen);
  };
  Pool2dOptions pool;
  pool.kernel_size = {2, 2};
  const int64_t side = o.image_size / 4;  // after two 2×2 max-poolings (floor mode)
  auto net = std::make_shared<Sequential>();
  net->add(conv(o.in_channels, 32));
  net->add(std::make_shared<MaxPool2d>(pool));
  net->add(conv(32, 64));
  net->add(std::make_shared<MaxPool2d>(pool));
  net->add(std::make_shared<Flatten>());
  net->add(std::make_shared<Linear>(64 * side * side, 128, true, Activation::ReLU, gen));
  net->add(std::make_shared<Linear>(128, o.num_classes, true, Activation::Identity, gen));
  return net;
}

// --- the registry --------------------------------------------------------------------------------

namespace {

// An architecture's row: the ZooOptions keys it reads, with defaults from `d`.
ArchitectureEntry arch_row(std::string name, std::vector<std::string> aliases, std::vector<std::string> keys,
                           std::string summary, const ZooOptions& d,
                           std::shared_ptr<Sequential> (*build)(const ZooOptions&, Generator*)) {
  std::vector<OptionSpec> specs;
  for (const auto& k : keys) {
    if (k == "num_classes") specs.push_back({k, OptionType::Int, std::to_string(d.num_classes)});
    if (k == "in_channels") specs.push_back({k, OptionType::Int, std::to_string(d.in_channels)});
    if (k == "dropout") specs.push_back({k, OptionType::Number, format_default(d.dropout)});
    if (k == "width_mult") specs.push_back({k, OptionType::Number, format_default(d.width_mult)});
    if (k == "image_size") specs.push_back({k, OptionType::Int, std::to_string(d.image_size)});
  }
  const std::string arch = name;
  return make_entry<ArchitectureEntry>(
      {std::move(name), std::move(aliases), "", std::move(specs), std::move(summary)},
      [arch, keys, d, build](const Options& o) {
        std::vector<std::string> names = keys;
        for (const auto& [k, v] : o.values())
          if (std::find(keys.begin(), keys.end(), k) == keys.end())
            fail(arch, " has no option '", k, "'", did_you_mean(k, names));
        ZooOptions z = d;
        if (o.has("num_classes")) z.num_classes = o.integer("num_classes");
        if (o.has("in_channels")) z.in_channels = o.integer("in_channels");
        if (o.has("dropout")) z.dropout = o.number("dropout");
        if (o.has("width_mult")) z.width_mult = o.number("width_mult");
        if (o.has("image_size")) z.image_size = o.integer("image_size");
        return build(z, nullptr);
      });
}

}  // namespace

const Registry<ArchitectureEntry>& architectures() {
  static const Registry<ArchitectureEntry> r(
      "architecture",
      {arch_row("resnet18", {"resnet-18"}, {"num_classes", "in_channels"},
                "torchvision's ResNet-18 (BasicBlocks 2, 2, 2, 2; 11.7 M parameters with 1000 classes)", {},
                resnet18),
       arch_row("resnet34", {"resnet-34"}, {"num_classes", "in_channels"},
                "torchvision's ResNet-34 (BasicBlocks 3, 4, 6, 3; 21.8 M parameters with 1000 classes)", {},
                resnet34),
       arch_row("mobilenet_v2", {"mobilenetv2"}, {"num_classes", "in_channels", "dropout", "width_mult"},
                "torchvision's MobileNetV2 (inverted residuals, ReLU6; 3.5 M parameters with 1000 classes)",
                {}, mobilenet_v2),
       arch_row("fashion_mnist_cnn", {}, {"num_classes", "in_channels", "image_size"},
                "the course's CNN: two 3×3 convolutions with max pooling, Dense 128, Dense num_classes",
                kFashionMnistCnnDefaults, fashion_mnist_cnn)});
  return r;
}

}  // namespace neurona::nn
