#pragma once
// The model zoo: torchvision's ResNet-18, ResNet-34 and MobileNetV2 with torchvision 0.14's module
// tree, state_dict keys (in its order) and initialisation, so a torchvision state_dict saved as
// safetensors loads with strict names; and the course's Fashion-MNIST CNN. Each model is an
// nn::Sequential whose named children are the torchvision model's top modules (conv1, bn1, relu,
// maxpool, layer1…layer4, avgpool, flatten, fc; features, avgpool, flatten, classifier); the
// flatten has no tensors, so the keys are torchvision's.
//
//   auto net = nn::resnet18({.num_classes = 10, .in_channels = 1});
//   const auto& a = nn::architectures().get("mobilenet_v2");   // or an Error naming the nearest
//   auto same = a.make(a.options_from({{"num_classes", "10"}, {"width_mult", "0.5"}}));
#include <memory>
#include <string>

#include "neurona/core/registry.hpp"
#include "neurona/nn/image_layers.hpp"
#include "neurona/nn/layers.hpp"

namespace neurona::nn {

struct ZooOptions {
  int64_t num_classes = 1000;  // outputs of the last linear layer (logits)
  int64_t in_channels = 3;     // channels of the input images (torchvision's models take 3)
  double dropout = 0.2;        // mobilenet_v2: p of the classifier's Dropout, in [0, 1)
  double width_mult = 1.0;     // mobilenet_v2: channel multiplier (> 0; channels rounded to 8)
  int64_t image_size = 28;     // fashion_mnist_cnn: height = width of the images (>= 4; its Dense
                               // layer takes 64·⌊image_size/4⌋² features)
};
// The course's CNN is for 28×28 grey Fashion-MNIST images of 10 classes.
inline constexpr ZooOptions kFashionMnistCnnDefaults{.num_classes = 10, .in_channels = 1};

// torchvision's BasicBlock of ResNet-18/34: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)),
// conv1 3×3 with the block's stride and conv2 3×3, both padding 1 and without bias. The shortcut
// is `downsample`, a Sequential of a 1×1 convolution with the stride (no bias) and BatchNorm2d,
// when the stride is not 1 or the channels change, and the identity otherwise (downsample null).
class BasicBlock : public Cloneable<BasicBlock> {
 public:
  BasicBlock(int64_t in_channels, int64_t out_channels, int64_t stride = 1, Generator* gen = nullptr);
  void reset() override;
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "BasicBlock"; }
  std::string extra_repr() const override;
  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<BatchNorm2d> bn1, bn2;
  std::shared_ptr<ReLU> relu;  // applied twice, as torchvision's
  std::shared_ptr<Sequential> downsample;

 private:
  int64_t in_channels_, out_channels_, stride_;
  Generator* gen_;
};

// torchvision's Conv2dNormActivation as MobileNetV2 uses it: children "0" Conv2d (k×k, padding
// (k−1)/2, no bias), "1" BatchNorm2d, "2" ReLU6.
class Conv2dNormActivation : public Sequential {
 public:
  Conv2dNormActivation(int64_t in_channels, int64_t out_channels, int64_t kernel_size = 3, int64_t stride = 1,
                       int64_t groups = 1, Generator* gen = nullptr);
  std::string type_name() const override { return "Conv2dNormActivation"; }
  std::shared_ptr<Module> clone() const override;

 private:
  int64_t in_channels_, out_channels_, kernel_size_, stride_, groups_;
  Generator* gen_;
};

// torchvision's InvertedResidual of MobileNetV2: `conv` is a Sequential of, when expand_ratio is
// not 1, a 1×1 Conv2dNormActivation expanding to hidden = round(in·expand_ratio) channels, then the
// 3×3 depthwise Conv2dNormActivation with the stride, a 1×1 Conv2d to out_channels (no bias) and
// BatchNorm2d. The output is x + conv(x) when the stride is 1 and in = out, else conv(x).
class InvertedResidual : public Cloneable<InvertedResidual> {
 public:
  InvertedResidual(int64_t in_channels, int64_t out_channels, int64_t stride, int64_t expand_ratio,
                   Generator* gen = nullptr);
  void reset() override;
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "InvertedResidual"; }
  std::string extra_repr() const override;
  bool residual() const { return stride_ == 1 && in_channels_ == out_channels_; }
  std::shared_ptr<Sequential> conv;

 private:
  int64_t in_channels_, out_channels_, stride_, expand_ratio_;
  Generator* gen_;
};

// torchvision's models. Initialisation as torchvision's: convolutions kaiming_normal_ (fan_out,
// relu), BatchNorm weight 1 and bias 0; ResNet's fc keeps Linear's default, MobileNetV2's
// classifier Linear is N(0, 0.01) with zero bias. Options are checked first (an Error naming the
// key); the tensors are drawn from `gen` (the default generator if null).
std::shared_ptr<Sequential> resnet18(const ZooOptions& options = {}, Generator* gen = nullptr);
std::shared_ptr<Sequential> resnet34(const ZooOptions& options = {}, Generator* gen = nullptr);
std::shared_ptr<Sequential> mobilenet_v2(const ZooOptions& options = {}, Generator* gen = nullptr);
// The course's CNN as its configs write it (examples/fashion_mnist_cnn.yaml, bench workload W3),
// children "0"…"6": Conv2d 32 3×3 'same' with ReLU, MaxPool2d 2, Conv2d 64 3×3 'same' with ReLU,
// MaxPool2d 2, Flatten, Linear 128 with ReLU, Linear num_classes (ReLUs fused, PyTorch's init).
std::shared_ptr<Sequential> fashion_mnist_cnn(const ZooOptions& options = kFashionMnistCnnDefaults,
                                              Generator* gen = nullptr);

// The architectures users can name, with the ZooOptions keys each reads (num_classes,
// in_channels; dropout and width_mult for mobilenet_v2; image_size for fashion_mnist_cnn) and
// their defaults: nn::architectures().get("resnet18").make(options). An unknown name is an Error
// with the nearest name or the list.
using ArchitectureEntry = Entry<std::shared_ptr<Sequential>>;
const Registry<ArchitectureEntry>& architectures();

}  // namespace neurona::nn
