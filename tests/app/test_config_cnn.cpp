// Convolutional models in config files: the errors a user can make with image layers name the
// layer's path, and list values for a layer's main option are read.
#include "neurona/app/config.hpp"
#include "neurona/nn/image_layers.hpp"
#include "test_util.hpp"

namespace {

using namespace neurona;

// build_model on images [3, 6, 6] with these model.layers entries.
std::shared_ptr<nn::Sequential> build(const std::string& layers, const Shape& input = {3, 6, 6}) {
  const std::string text = "data: {synthetic: {kind: xor}}\nmodel:\n  layers:\n" + layers +
                           "compile: {optimizer: sgd, loss: cross_entropy}\n";
  return app::build_model(app::parse_config(text, "cnn.yaml"), input);
}

}  // namespace

TEST(ConfigCnn, ImageLayerErrorsNameTheLayer) {
  // An image layer after flatten (or after dense): the hint says what to do.
  const std::string flattened = " (flattened data: drop the flatten before the image layers)";
  EXPECT_ERROR_CONTAINS(
      build("    - flatten\n    - {conv2d: 4, kernel_size: 3}\n"),
      "model.layers[1]: conv2d needs images [C, H, W], got a sample of shape [108]" + flattened);
  EXPECT_ERROR_CONTAINS(
      build("    - flatten\n    - {dense: 4}\n    - {conv2d: 4, kernel_size: 3}\n"),
      "model.layers[2]: conv2d needs images [C, H, W], got a sample of shape [4]" + flattened);
  for (const char* layer : {"{max_pool2d: 2}", "{avg_pool2d: 2}", "batchnorm2d", "global_average_pooling2d",
                            "global_max_pooling2d", "{adaptive_avg_pool2d: 1}", "{zero_pad2d: 1}"}) {
    SCOPED_TRACE(layer);
    EXPECT_ERROR_CONTAINS(build("    - flatten\n    - " + std::string(layer) + "\n"),
                          "needs images [C, H, W], got a sample of shape [108]" + flattened);
    EXPECT_ERROR_CONTAINS(build("    - flatten\n    - " + std::string(layer) + "\n"), "model.layers[1]: ");
  }
  EXPECT_ERROR_CONTAINS(
      build("    - flatten\n    - {dropout2d: 0.5}\n"),
      "model.layers[1]: dropout2d needs images [C, H, W] (or [C, L]), got a sample of shape [108]");
  // Keras's BatchNormalization is fine on features too (BatchNorm1d there).
  EXPECT_EQ((*build("    - flatten\n    - batch_normalization\n"))[1]->type_name(), "BatchNorm1d");
  EXPECT_EQ((*build("    - batch_normalization\n"))[0]->type_name(), "BatchNorm2d");

  // A kernel (or pool window) bigger than its input, also after earlier layers shrank it.
  EXPECT_ERROR_CONTAINS(
      build("    - {conv2d: 4, kernel_size: 9}\n"),
      "model.layers[0]: conv2d: kernel 9x9 (dilation 1x1, so 9x9) is bigger than the padded input 6x6");
  EXPECT_ERROR_CONTAINS(
      build("    - {max_pool2d: 2}\n    - {conv2d: 4, kernel_size: 5}\n"),
      "model.layers[1]: conv2d: kernel 5x5 (dilation 1x1, so 5x5) is bigger than the padded input 3x3");
  EXPECT_ERROR_CONTAINS(build("    - {conv2d: 4, kernel_size: 3, dilation: 4}\n"),
                        "model.layers[0]: conv2d: kernel 3x3 (dilation 4x4, so 9x9) is bigger");
  EXPECT_ERROR_CONTAINS(build("    - {max_pool2d: 9}\n"),
                        "model.layers[0]: max_pool2d: input [1,3,6,6] is too small for kernel 9x9");
  EXPECT_ERROR_CONTAINS(build("    - {avg_pool2d: [2, 9]}\n"),
                        "model.layers[0]: avg_pool2d: input [1,3,6,6] is too small for kernel 2x9");
  // 'same' keeps a too-big kernel working (TensorFlow pads), as Keras does.
  EXPECT_EQ(
      (*build("    - {conv2d: 2, kernel_size: 9, padding: same}\n"))(Tensor::zeros({1, 3, 6, 6})).shape(),
      (Shape{1, 2, 6, 6}));

  // groups must divide both channel counts.
  EXPECT_ERROR_CONTAINS(build("    - {conv2d: 4, kernel_size: 3, groups: 2}\n"),
                        "model.layers[0]: Conv2d: groups 2 must divide in_channels 3 and out_channels 4");
  EXPECT_ERROR_CONTAINS(
      build("    - {conv2d: 3, kernel_size: 1}\n    - {conv2d: 5, kernel_size: 3, groups: 3}\n"),
      "model.layers[1]: Conv2d: groups 3 must divide in_channels 3 and out_channels 5");

  // padding: same with ceil_mode, and words that are not a padding.
  EXPECT_ERROR_CONTAINS(build("    - {max_pool2d: 2, padding: same, ceil_mode: true}\n"),
                        "model.layers[0]: MaxPool2d: padding same and ceil_mode cannot be used together");
  EXPECT_ERROR_CONTAINS(
      build("    - {conv2d: 4, kernel_size: 3}\n    - {avg_pool2d: 2, padding: same, ceil_mode: true}\n"),
      "model.layers[1]: AvgPool2d: padding same and ceil_mode cannot be used together");
  const std::string padding_words =
      "padding: expected same, valid, or padding sizes >= 0 (one, two for height and width, or four for top, "
      "bottom, left, right), got ";
  EXPECT_ERROR_CONTAINS(build("    - {conv2d: 4, kernel_size: 3, padding: full}\n"),
                        "model.layers[0]: " + padding_words + "'full'");
  EXPECT_ERROR_CONTAINS(build("    - {max_pool2d: 2, padding: half}\n"),
                        "model.layers[0]: " + padding_words + "'half'");
  EXPECT_ERROR_CONTAINS(build("    - {conv2d: 4, kernel_size: 3, padding: -1}\n"),
                        "model.layers[0]: " + padding_words + "'-1'");
  EXPECT_ERROR_CONTAINS(
      build("    - {conv2d: 4, kernel_size: 3, padding: [1, 2, 3]}\n"),
      "model.layers[0]: padding: expected one, two (height, width) or four (top, bottom, left, "
      "right) padding sizes, got '1,2,3'");
  EXPECT_ERROR_CONTAINS(
      build("    - {max_pool2d: 2, padding: 2}\n"),
      "model.layers[0]: max_pool2d: padding (top, bottom, left, right) = (2, 2, 2, 2) must be "
      "between 0 and half the kernel 2x2");

  // Sizes and options.
  EXPECT_ERROR_CONTAINS(build("    - {conv2d: 4, kernel_size: 0}\n"),
                        "model.layers[0]: kernel_size: expected whole numbers >= 1, got 0");
  EXPECT_ERROR_CONTAINS(build("    - {conv2d: 4, kernel_size: 3, strides: [1, 2, 3]}\n"),
                        "model.layers[0]: stride: expected one number or two (height, width), got 3");
  EXPECT_ERROR_CONTAINS(build("    - {conv2d: 4}\n"), "model.layers[0]: conv2d needs kernel_size");
  EXPECT_ERROR_CONTAINS(build("    - {conv2d: {filters: 4, out_channels: 4, kernel_size: 3}}\n"),
                        "model.layers[0]: 'out_channels' and 'filters' are the same option; write one");
  EXPECT_ERROR_CONTAINS(build("    - {avg_pool2d: 2, dilation: 2}\n"),
                        "model.layers[0]: unknown key 'dilation'");
  EXPECT_ERROR_CONTAINS(
      build("    - {zero_pad2d: [1, 1, 1]}\n"),
      "model.layers[0]: zero_pad2d padding: expected 1, 2 (height, width) or 4 (left, right, "
      "top, bottom) sizes, got 3");
  EXPECT_ERROR_CONTAINS(build("    - {conv2d: 4, kernel_size: 3, activation: swish}\n"),
                        "model.layers[0].activation: unknown value 'swish'");
}

TEST(ConfigCnn, WrongChannelsNameTheLayerAndShapes) {
  // The config infers channels; a layer used on other images, or weights of another model, is named.
  nn::Conv2d conv({.in_channels = 3, .out_channels = 4, .kernel_size = {3, 3}});
  EXPECT_ERROR_CONTAINS(conv(Tensor::zeros({2, 2, 6, 6})),
                        "Conv2d(3 -> 4): input [2,2,6,6] has 2 channels, expected 3");
  auto net = build("    - {conv2d: 4, kernel_size: 3}\n    - batchnorm2d\n");
  EXPECT_ERROR_CONTAINS((*net)(Tensor::zeros({2, 1, 6, 6})), "has 1 channels, expected 3");
  EXPECT_ERROR_CONTAINS(
      net->load_state_dict(
          build("    - {conv2d: 4, kernel_size: 3}\n    - batchnorm2d\n", {2, 6, 6})->state_dict()),
      "0.weight (expected [4,3,3,3], got [4,2,3,3])");
  nn::BatchNorm2d bn(4);
  EXPECT_ERROR_CONTAINS(bn(Tensor::zeros({2, 3, 5, 5})),
                        "BatchNorm2d(4): expected images [N, 4, H, W], got [2,3,5,5]");
}

TEST(ConfigCnn, ListsAreTheMainValueOfListOptions) {
  // {zero_pad2d: [left, right, top, bottom]} and {adaptive_avg_pool2d: [h, w]} as docs/config.md writes them.
  auto net = build(
      "    - {zero_pad2d: [1, 0, 2, 3]}\n    - {adaptive_avg_pool2d: [2, 1]}\n    - {max_pool2d: [2, 1]}\n");
  const auto* pad = dynamic_cast<const nn::ZeroPad2d*>((*net)[0].get());
  ASSERT_NE(pad, nullptr);
  EXPECT_EQ(std::vector<int64_t>({pad->options().padding.top, pad->options().padding.bottom,
                                  pad->options().padding.left, pad->options().padding.right}),
            std::vector<int64_t>({2, 3, 1, 0}));
  const auto* window = dynamic_cast<const nn::MaxPool2d*>((*net)[2].get());
  ASSERT_NE(window, nullptr);
  EXPECT_EQ(window->options().kernel_size.h, 2);
  EXPECT_EQ(window->options().kernel_size.w, 1);
  // 6x6 padded to 11x7, pooled to 2x1, then 1x1.
  EXPECT_EQ((*net)(Tensor::zeros({1, 3, 6, 6})).shape(), (Shape{1, 3, 1, 1}));
  // A list where the main option is a number is still an error.
  EXPECT_ERROR_CONTAINS(build("    - {conv2d: [4, 8], kernel_size: 3}\n"),
                        "model.layers[0].conv2d: expected a value or options, got a list");
}
