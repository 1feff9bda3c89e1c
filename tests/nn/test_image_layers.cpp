// The image layers against PyTorch as layers (tests/fixtures/nn/make_image_layer_fixtures.py):
// each class's forward, input and parameter gradients in training and evaluation, BatchNorm2d's
// running statistics (PyTorch's and Keras's), Keras's 'same' padding at every stride, Conv2d's
// default initialisation, CNNs of config files trained 5 steps by every optimizer against torch's
// weights, and their summaries.
#include <algorithm>
#include <cmath>
#include <fstream>

#include "fixtures/nn/image_layer_fixtures.inc"
#include "neurona/app/config.hpp"
#include "neurona/data/npy.hpp"
#include "neurona/nn/image_layers.hpp"
#include "neurona/nn/init.hpp"
#include "neurona/nn/registry.hpp"
#include "neurona/nn/summary.hpp"
#include "neurona/optim/registry.hpp"
#include "nn/conv_fixture_util.hpp"

using namespace neurona;
using namespace neurona::testing;

namespace {

const std::vector<double>& fixture(const std::string& key) {
  auto it = image_layer_fixtures().find(key);
  if (it == image_layer_fixtures().end()) throw std::runtime_error("no fixture " + key);
  return it->second;
}

void expect_fixture(const Tensor& t, const std::string& key, float tol = 1e-5f) {
  ASSERT_TRUE(t.defined()) << key << ": tensor is undefined";
  const auto& v = fixture(key);
  SCOPED_TRACE(key);
  expect_values(t, std::vector<float>(v.begin(), v.end()), tol);
}

void set_values(Tensor& t, const Tensor& values) {
  ASSERT_EQ(t.shape(), values.shape());
  std::copy(values.data(), values.data() + values.numel(), t.data());
}

// Runs `layer` on x (a leaf) and compares the output and the gradients of sum(out * G) with
// respect to x and `params` (name -> tensor) with the fixtures "<key>.out", ".gx", ".g<name>".
void check_layer(nn::Module& layer, const Tensor& x_values, const std::string& key,
                 const std::vector<std::pair<std::string, Tensor>>& params = {}, float tol = 1e-5f) {
  SCOPED_TRACE(key);
  for (auto [name, p] : params) p.zero_grad();
  Tensor x = x_values.clone().requires_grad_(true);
  Tensor y = layer(x);
  expect_fixture(y, key + ".out", tol);
  sum(y * fixture_grad_weights(y.shape())).backward();
  expect_fixture(x.grad(), key + ".gx", tol);
  for (const auto& [name, p] : params) expect_fixture(p.grad(), key + ".g" + name, tol);
}

nn::Padding2d same() { return {true, {}}; }
nn::Padding2d explicit_pad(int64_t t, int64_t b, int64_t l, int64_t r) { return {false, {t, b, l, r}}; }

struct ConvCase {
  const char* name;
  Shape x;
  int64_t out;
  nn::Size2d kernel, stride;
  nn::Padding2d padding;
  nn::Size2d dilation;
  int64_t groups;
  bool bias;
  const char* activation;
};

// make_image_layer_fixtures.py's CONVS, in its order.
const ConvCase kConvs[] = {
    {"conv_same_s1", {2, 3, 7, 8}, 4, {3, 3}, {1, 1}, same(), {1, 1}, 1, true, "linear"},
    {"conv_same_s1_even", {2, 2, 9, 8}, 3, {4, 2}, {1, 1}, same(), {1, 2}, 1, true, "linear"},
    {"conv_same_s2", {2, 3, 7, 8}, 4, {3, 3}, {2, 2}, same(), {1, 1}, 1, true, "linear"},
    {"conv_same_s2_even", {2, 2, 9, 6}, 3, {4, 3}, {2, 3}, same(), {1, 1}, 1, true, "linear"},
    {"conv_same_s2_big_kernel", {1, 2, 4, 4}, 2, {5, 5}, {2, 2}, same(), {1, 1}, 1, true, "linear"},
    {"conv_valid", {2, 3, 6, 7}, 4, {3, 3}, {1, 1}, explicit_pad(0, 0, 0, 0), {1, 1}, 1, true, "linear"},
    {"conv_groups_dilation",
     {2, 4, 8, 8},
     6,
     {3, 3},
     {1, 1},
     explicit_pad(2, 2, 2, 2),
     {2, 2},
     2,
     true,
     "linear"},
    {"conv_depthwise_nobias",
     {2, 3, 6, 6},
     6,
     {3, 3},
     {2, 2},
     explicit_pad(1, 1, 1, 1),
     {1, 1},
     3,
     false,
     "linear"},
    {"conv_asym_pad", {2, 2, 6, 7}, 3, {3, 2}, {1, 2}, explicit_pad(1, 0, 0, 2), {1, 1}, 1, true, "linear"},
    {"conv_relu", {2, 3, 6, 7}, 4, {3, 3}, {2, 2}, same(), {1, 1}, 1, true, "relu"},
    {"conv_tanh", {2, 3, 6, 7}, 4, {3, 3}, {1, 1}, same(), {1, 1}, 1, true, "tanh"},
    {"conv_sigmoid", {2, 4, 6, 7}, 4, {3, 3}, {1, 1}, explicit_pad(1, 1, 1, 1), {1, 1}, 2, true, "sigmoid"},
    {"conv_gelu", {2, 3, 6, 7}, 4, {3, 3}, {2, 1}, same(), {1, 1}, 1, true, "gelu"},
    {"conv_elu_nobias", {2, 3, 5, 5}, 2, {2, 2}, {1, 1}, explicit_pad(0, 0, 0, 0), {1, 1}, 1, false, "elu"},
};

}  // namespace

TEST(ImageLayers, Conv2dMatchesPyTorchForEveryPaddingStrideGroupAndActivation) {
  for (const ConvCase& c : kConvs) {
    nn::Conv2d conv({.in_channels = c.x[1],
                     .out_channels = c.out,
                     .kernel_size = c.kernel,
                     .stride = c.stride,
                     .padding = c.padding,
                     .dilation = c.dilation,
                     .groups = c.groups,
                     .bias = c.bias,
                     .activation = c.activation});
    set_values(conv.weight, pattern(conv.weight.shape(), 2, 0.5f));
    std::vector<std::pair<std::string, Tensor>> params = {{"weight", conv.weight}};
    if (c.bias) {
      set_values(conv.bias, pattern({c.out}, 3));
      params.emplace_back("bias", conv.bias);
    } else {
      EXPECT_FALSE(conv.bias.defined());
      EXPECT_EQ(conv.state_dict().keys(), std::vector<std::string>{"weight"});
    }
    // The same numbers in training and evaluation (a convolution has no mode).
    conv.train();
    check_layer(conv, pattern(c.x, 1), c.name, params);
    conv.eval();
    check_layer(conv, pattern(c.x, 1), c.name, params);
  }
}

TEST(ImageLayers, SamePaddingIsTensorFlowsRule) {
  // before = total / 2, the odd row or column after: 7 rows, kernel 3, stride 2 -> 4 rows,
  // total = 3·2 + 3 − 7 = 2; 8 columns -> 4, total 1: nothing before, one after.
  const nn::F::Pad2d p = same().resolve({7, 8}, {3, 3}, {2, 2});
  EXPECT_EQ(std::vector<int64_t>({p.top, p.bottom, p.left, p.right}), std::vector<int64_t>({1, 1, 0, 1}));
  // A kernel larger than the image: 4 -> 2, total = 2 + 5 − 4 = 3.
  const nn::F::Pad2d big = same().resolve({4, 4}, {5, 5}, {2, 2});
  EXPECT_EQ(std::vector<int64_t>({big.top, big.bottom}), std::vector<int64_t>({1, 2}));
  // Stride 1, even kernel and dilation: PyTorch's padding='same' (total d·(k − 1), the extra after).
  const nn::F::Pad2d even = same().resolve({9, 8}, {4, 2}, {1, 1}, {1, 2});
  EXPECT_EQ(std::vector<int64_t>({even.top, even.bottom, even.left, even.right}),
            std::vector<int64_t>({1, 2, 1, 1}));
  // The output keeps ⌈in / stride⌉ rows and columns.
  nn::Conv2d conv(
      {.in_channels = 1, .out_channels = 1, .kernel_size = {3, 4}, .stride = {2, 3}, .padding = same()});
  EXPECT_EQ(conv(Tensor::zeros({1, 1, 9, 10})).shape(), (Shape{1, 1, 5, 4}));
}

TEST(ImageLayers, PoolingMatchesPyTorchAndKerasSame) {
  struct PoolCase {
    const char* name;
    Shape x;
    nn::Size2d kernel, stride;
    nn::Padding2d padding;
    nn::Size2d dilation;
    bool ceil, count_include_pad;
  };
  const auto sym = [](int64_t h, int64_t w) { return nn::Padding2d{false, nn::F::Pad2d::symmetric(h, w)}; };
  const PoolCase maxes[] = {
      {"max_k2", {2, 3, 7, 8}, {2, 2}, {2, 2}, sym(0, 0), {1, 1}, false, true},
      {"max_same_k2", {2, 3, 7, 7}, {2, 2}, {2, 2}, same(), {1, 1}, false, true},
      {"max_same_k3s2", {2, 3, 7, 8}, {3, 3}, {2, 2}, same(), {1, 1}, false, true},
      {"max_same_k3s1", {2, 2, 5, 6}, {3, 3}, {1, 1}, same(), {1, 1}, false, true},
      {"max_same_k2x3_s1x2", {2, 2, 5, 7}, {2, 3}, {1, 2}, same(), {1, 1}, false, true},
      {"max_pad1_ceil", {2, 3, 7, 8}, {3, 3}, {2, 2}, sym(1, 1), {1, 1}, true, true},
      {"max_dilation", {2, 2, 8, 8}, {3, 3}, {1, 1}, sym(1, 1), {2, 2}, false, true},
  };
  for (const PoolCase& c : maxes) {
    nn::MaxPool2d pool({.kernel_size = c.kernel,
                        .stride = c.stride,
                        .padding = c.padding,
                        .dilation = c.dilation,
                        .ceil_mode = c.ceil});
    check_layer(pool, pattern(c.x, 4), c.name);
  }
  const PoolCase avgs[] = {
      {"avg_k2", {2, 3, 7, 8}, {2, 2}, {2, 2}, sym(0, 0), {1, 1}, false, true},
      {"avg_same_k2", {2, 3, 7, 7}, {2, 2}, {2, 2}, same(), {1, 1}, false, true},
      {"avg_same_k3s2", {2, 3, 7, 8}, {3, 3}, {2, 2}, same(), {1, 1}, false, true},
      {"avg_same_k3s1", {2, 2, 5, 6}, {3, 3}, {1, 1}, same(), {1, 1}, false, true},
      {"avg_pad1_include", {2, 3, 7, 8}, {3, 3}, {2, 2}, sym(1, 1), {1, 1}, false, true},
      {"avg_pad1_exclude_ceil", {2, 3, 7, 8}, {3, 3}, {2, 2}, sym(1, 1), {1, 1}, true, false},
      {"avg_k3s2_ceil", {2, 2, 6, 6}, {3, 3}, {2, 2}, sym(0, 0), {1, 1}, true, true},
  };
  for (const PoolCase& c : avgs) {
    nn::AvgPool2d pool({.kernel_size = c.kernel,
                        .stride = c.stride,
                        .padding = c.padding,
                        .ceil_mode = c.ceil,
                        .count_include_pad = c.count_include_pad});
    check_layer(pool, pattern(c.x, 4), c.name);
  }
  // The stride defaults to the kernel.
  nn::MaxPool2d k2({.kernel_size = {2, 2}});
  check_layer(k2, pattern({2, 3, 7, 8}, 4), "max_k2");
}

TEST(ImageLayers, AdaptiveGlobalAndZeroPadMatchPyTorch) {
  nn::AdaptiveAvgPool2d a32(nn::AdaptiveAvgPool2dOptions{{3, 2}}), a1,
      a45(nn::AdaptiveAvgPool2dOptions{{4, 5}});
  check_layer(a32, pattern({2, 3, 7, 8}, 4), "adaptive_3x2");
  check_layer(a1, pattern({2, 3, 5, 6}, 4), "adaptive_1");
  check_layer(a45, pattern({2, 2, 6, 7}, 4), "adaptive_4x5");
  // More bins than rows or columns: overlapping bins, as PyTorch's.
  nn::AdaptiveAvgPool2d a94(nn::AdaptiveAvgPool2dOptions{{9, 4}});
  check_layer(a94, pattern({2, 2, 6, 3}, 4), "adaptive_9x4_upsampling");
  nn::GlobalAvgPool2d gavg;
  nn::GlobalMaxPool2d gmax;
  check_layer(gavg, pattern({2, 3, 5, 6}, 4), "global_avg");
  check_layer(gmax, pattern({2, 3, 5, 6}, 4), "global_max");
  EXPECT_EQ(gavg(Tensor::zeros({2, 3, 5, 6})).shape(), (Shape{2, 3}));
  nn::ZeroPad2d pad(nn::ZeroPad2dOptions{{1, 2, 3, 0}});  // top, bottom, left, right
  check_layer(pad, pattern({2, 2, 4, 5}, 4), "zero_pad");
}

TEST(ImageLayers, Dropout2dZeroesWholeChannelsWhileTrainingOnly) {
  Generator gen(3);
  nn::Dropout2d drop({0.5f}, &gen);
  const Tensor x = pattern({4, 6, 3, 3}, 1);
  // p = 0 and evaluation are the identity, gradient included.
  nn::Dropout2d none({0.f});
  expect_values(none(x), x.to_vector(), 0.f);
  drop.eval();
  Tensor xe = x.clone().requires_grad_(true);
  Tensor ye = drop(xe);
  expect_values(ye, x.to_vector(), 0.f);
  sum(ye * 2.f).backward();
  expect_values(xe.grad(), std::vector<float>(static_cast<size_t>(x.numel()), 2.f), 0.f);
  // Training: each (sample, channel) is all zero or all x / (1 − p), and so is its gradient.
  drop.train();
  Tensor xt = x.clone().requires_grad_(true);
  Tensor yt = drop(xt);
  sum(yt).backward();
  int64_t kept = 0;
  for (int64_t n = 0; n < 4; ++n)
    for (int64_t c = 0; c < 6; ++c) {
      const bool keep = yt.at({n, c, 0, 0}) != 0.f;
      kept += keep;
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 3; ++j) {
          ASSERT_FLOAT_EQ(yt.at({n, c, i, j}), keep ? 2.f * x.at({n, c, i, j}) : 0.f);
          ASSERT_FLOAT_EQ(xt.grad().at({n, c, i, j}), keep ? 2.f : 0.f);
        }
    }
  EXPECT_GT(kept, 3);
  EXPECT_LT(kept, 21);
}

TEST(ImageLayers, BatchNorm2dMatchesPyTorchInTrainingAndEvaluation) {
  const Shape shape = {4, 3, 5, 6};
  auto pytorch = [](float momentum, float eps, bool affine, bool cumulative) {
    nn::BatchNormOptions o;
    o.momentum = momentum;
    o.eps = eps;
    o.affine = affine;
    o.cumulative = cumulative;
    return std::make_shared<nn::BatchNorm2d>(3, o);
  };
  // Keras's BatchNormalization on images, as the config builds it: momentum 0.99 of the old
  // moving value (PyTorch's 0.01), epsilon 1e-3, the biased batch variance in the moving variance.
  const auto& keras_row = nn::layers().get("BatchNormalization");
  auto keras =
      std::dynamic_pointer_cast<nn::BatchNorm2d>(keras_row.make(keras_row.options_from({}), {{3, 5, 6}}));
  ASSERT_TRUE(keras) << "batch_normalization on images is not a BatchNorm2d";
  EXPECT_EQ(keras->kind(), "batch_normalization");
  EXPECT_NEAR(keras->options().momentum, 0.01f, 1e-7f);
  EXPECT_FLOAT_EQ(keras->options().eps, 1e-3f);
  EXPECT_FALSE(keras->options().unbiased_running_var);
  const std::vector<std::pair<std::string, std::shared_ptr<nn::BatchNorm2d>>> cases = {
      {"bn", pytorch(0.1f, 1e-5f, true, false)},
      {"bn_momentum_eps", pytorch(0.3f, 1e-3f, true, false)},
      {"bn_cumulative", pytorch(0.1f, 1e-5f, true, true)},
      {"bn_no_affine", pytorch(0.1f, 1e-5f, false, false)},
      {"bn_keras", keras},
  };
  for (const auto& [name, bn] : cases) {
    SCOPED_TRACE(name);
    std::vector<std::pair<std::string, Tensor>> params;
    if (bn->options().affine) {
      set_values(bn->weight, pattern({3}, 2, 0.5f));
      set_values(bn->bias, pattern({3}, 3));
      params = {{"weight", bn->weight}, {"bias", bn->bias}};
    } else {
      EXPECT_EQ(bn->state_dict().keys(),
                (std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"}));
    }
    bn->train();
    check_layer(*bn, pattern(shape, 1, 2.f), name + ".train", params);
    (*bn)(pattern(shape, 5, 2.f));
    expect_fixture(bn->running_mean, name + ".running_mean");
    expect_fixture(bn->running_var, name + ".running_var");
    expect_fixture(bn->num_batches_tracked, name + ".num_batches_tracked", 0.f);
    EXPECT_TRUE(bn->state_dict().is_integer("num_batches_tracked"));
    bn->eval();
    check_layer(*bn, pattern(shape, 1, 2.f), name + ".eval", params);
  }
}

TEST(ImageLayers, Conv2dInitialisationIsPyTorchsBoundsAndOrder) {
  // kaiming_uniform_(a = √5) on the weight, then U(±1/√fan_in) on the bias, fan_in = in/groups·kh·kw:
  // torch's own bounds, and one generator drawn weight first.
  for (auto [key, in, out, kernel, groups] :
       {std::tuple<const char*, int64_t, int64_t, nn::Size2d, int64_t>{"init_conv", 32, 64, {3, 3}, 1},
        {"init_conv_groups", 8, 16, {3, 5}, 4}}) {
    SCOPED_TRACE(key);
    Generator gen(17);
    nn::Conv2d conv({.in_channels = in, .out_channels = out, .kernel_size = kernel, .groups = groups}, &gen);
    const auto& bound = fixture(std::string(key) + ".bound");
    auto max_abs = [](const Tensor& t) {
      float m = 0;
      for (float v : t.to_vector()) m = std::max(m, std::abs(v));
      return m;
    };
    EXPECT_LE(max_abs(conv.weight), bound[0]);
    EXPECT_GT(max_abs(conv.weight), 0.98 * bound[0]);
    EXPECT_LE(max_abs(conv.bias), bound[1]);
    EXPECT_GT(max_abs(conv.bias), 0.5 * bound[1]);
    // A uniform's standard deviation is bound/√3.
    double s2 = 0;
    for (float v : conv.weight.to_vector()) s2 += double(v) * v;
    EXPECT_NEAR(std::sqrt(s2 / double(conv.weight.numel())), bound[0] / std::sqrt(3.0), 0.03 * bound[0]);
    // Draw order: the weight's values, then the bias's, from the same generator.
    Generator again(17);
    const float fan_in = static_cast<float>(in / groups * kernel.h * kernel.w);
    const float b32 = 1.f / std::sqrt(fan_in);
    EXPECT_NEAR(b32, bound[0], 1e-7);
    Tensor w = Tensor::empty(conv.weight.shape()), b = Tensor::empty({out});
    nn::init::uniform_(w, -b32, b32, &again);
    nn::init::uniform_(b, -b32, b32, &again);
    EXPECT_TRUE(same_bits(w, conv.weight));
    EXPECT_TRUE(same_bits(b, conv.bias));
  }
}

// --- training through config files ------------------------------------------------------------

namespace {

struct CnnModel {
  const char* name;
  const char* layers;  // the config's model.layers
  Shape x;
  std::vector<float> labels;
};

// The models of make_image_layer_fixtures.py, written as config files.
const CnnModel kModels[] = {
    {"model_a",
     "    - {conv2d: 4, kernel_size: 3, dilation: 2, padding: same, bias: false}\n"
     "    - batchnorm2d\n"
     "    - relu\n"
     "    - {max_pool2d: 2}\n"
     "    - {conv2d: 6, kernel_size: 3, strides: 2, padding: same, activation: tanh}\n"
     "    - batch_normalization\n"
     "    - {avg_pool2d: 3, strides: 1, padding: same}\n"
     "    - {dropout2d: 0}\n"
     "    - {zero_pad2d: [1, 0, 0, 1]}\n"
     "    - {conv2d: 4, kernel_size: 2, groups: 2, activation: gelu}\n"
     "    - {adaptive_avg_pool2d: [2, 1]}\n"
     "    - flatten\n"
     "    - {dense: 3}\n",
     {4, 3, 9, 10},
     {0, 1, 2, 1}},
    {"model_b",
     "    - {Conv2D: {filters: 4, kernel_size: [3, 2], padding: [1, 0, 0, 1], activation: relu}}\n"
     "    - {MaxPooling2D: {pool_size: 3, strides: 2, padding: same}}\n"
     "    - {conv2d: 5, kernel_size: 1, activation: sigmoid, use_bias: false}\n"
     "    - {avg_pool2d: 2, ceil_mode: true}\n"
     "    - {batchnorm2d: {momentum: 0.2}}\n"
     "    - GlobalMaxPooling2D\n"
     "    - {dense: 3}\n",
     {4, 2, 7, 6},
     {2, 0, 1, 1}},
    {"model_c",
     "    - {conv2d: 4, kernel_size: 3, stride: 2, activation: elu}\n"
     "    - global_average_pooling2d\n"
     "    - {dense: 2}\n",
     {4, 3, 7, 7},
     {1, 0, 0, 1}},
};

std::shared_ptr<nn::Sequential> build(const CnnModel& m) {
  const std::string text = std::string("data: {synthetic: {kind: xor}}\nmodel:\n  layers:\n") + m.layers +
                           "compile: {optimizer: sgd, loss: cross_entropy}\n";
  const app::Config c = app::parse_config(text, std::string(m.name) + ".yaml");
  return app::build_model(c, Shape(std::vector<int64_t>(m.x.dims().begin() + 1, m.x.dims().end())));
}

nn::StateDict fixture_state(const std::string& prefix, const nn::StateDict& like) {
  nn::StateDict s;
  for (const auto& [k, v] : like) {
    const auto& values = fixture(prefix + "." + k);
    s.insert(k, Tensor::from(std::vector<float>(values.begin(), values.end()), v.shape()));
  }
  return s;
}

}  // namespace

TEST(ImageLayers, ConfigCnnsHavePyTorchsStateDictKeysShapesAndDtypes) {
  for (const CnnModel& m : kModels) {
    SCOPED_TRACE(m.name);
    const auto net = build(m);
    const nn::StateDict s = net->state_dict();
    std::vector<std::string> got;
    for (const auto& [k, v] : s) {
      std::string dims;
      for (int64_t d : v.shape().dims()) {
        if (!dims.empty()) dims += ',';
        dims += std::to_string(d);
      }
      got.push_back(k + ":" + dims + ":" + (s.is_integer(k) ? "I64" : "F"));
    }
    // The same keys, shapes and dtypes as torch's. The order differs: Neurona lists every
    // parameter before the buffers, torch's OrderedDict goes module by module.
    std::vector<std::string> want = image_layer_state_keys().at(m.name);
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want);
  }
}

TEST(ImageLayers, ConfigCnnsTrainLikePyTorchWithEveryOptimizer) {
  // Every optimizer of the registry is in the fixtures.
  for (const auto& e : optim::optimizers().entries()) {
    const auto& opts = image_layer_optimizers();
    EXPECT_TRUE(std::any_of(opts.begin(), opts.end(), [&](const auto& o) { return o.registry == e.name; }))
        << e.name;
  }
  double worst = 0;
  std::string worst_at;
  for (const CnnModel& m : kModels) {
    const Tensor x = pattern(m.x, 7);
    const Tensor y = Tensor::from(m.labels, {m.x[0]});
    for (const auto& o : image_layer_optimizers()) {
      SCOPED_TRACE(std::string(m.name) + " " + o.name);
      const auto net = build(m);
      net->load_state_dict(fixture_state(std::string(m.name) + ".init", net->state_dict()));
      net->train();
      const auto& entry = optim::optimizers().get(o.registry);
      auto opt = entry.make(entry.options_from(o.options), net->parameters());
      for (int step = 0; step < 5; ++step) {
        opt->zero_grad();
        nn::F::cross_entropy((*net)(x), y).backward();
        opt->step();
      }
      // Within 1e-4 relative of torch's float64 run (values below 1e-2 are compared at 1e-6).
      for (const auto& [k, v] : net->state_dict()) {
        const auto& want = fixture(std::string(m.name) + "." + o.name + "." + k);
        ASSERT_EQ(v.numel(), static_cast<int64_t>(want.size())) << k;
        for (size_t i = 0; i < want.size(); ++i) {
          const double err = std::abs(double(v.data()[i]) - want[i]) / std::max(std::abs(want[i]), 1e-2);
          EXPECT_LE(err, 1e-4) << k << "[" << i << "]: " << v.data()[i] << " vs " << want[i];
          if (err > worst) worst = err, worst_at = std::string(m.name) + " " + o.name + " " + k;
        }
      }
    }
  }
  std::printf("largest relative difference from PyTorch: %.3g (%s)\n", worst, worst_at.c_str());
}

TEST(ImageLayers, SummaryOfConfigCnnsHasPyTorchsShapesAndParameterCounts) {
  for (const CnnModel& m : kModels) {
    SCOPED_TRACE(m.name);
    const auto& want = image_layer_summaries().at(m.name);
    // nn::summarize on the built model.
    const auto net = build(m);
    const Shape sample(std::vector<int64_t>(m.x.dims().begin() + 1, m.x.dims().end()));
    const nn::ModelSummary s = nn::summarize(*net, sample);
    ASSERT_EQ(s.rows.size(), want.size());
    int64_t total = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      std::string shape = "(None";
      for (int64_t d : std::vector<int64_t>(s.rows[i].output_shape.dims().begin() + 1,
                                            s.rows[i].output_shape.dims().end()))
        shape += ", " + std::to_string(d);
      EXPECT_EQ(shape + ")|" + std::to_string(s.rows[i].params), want[i]) << s.rows[i].name;
      total += std::stoll(want[i].substr(want[i].find('|') + 1));
    }
    EXPECT_EQ(s.total, total);

    // `neurona summary` on the same model with .npy images prints the same rows.
    const auto dir = fresh_dir(std::string("summary_") + m.name);
    data::write_npy((dir / "x.npy").string(), pattern(m.x, 7));
    data::write_npy((dir / "y.npy").string(), Tensor::from(m.labels, {m.x[0]}));
    const std::string config =
        "name: " + std::string(m.name) + "\ndata:\n  npy: {x: " + (dir / "x.npy").string() +
        ", y: " + (dir / "y.npy").string() + "}\n  split: none\n  task: multiclass\nmodel:\n  layers:\n" +
        m.layers + "compile: {optimizer: adam, loss: cross_entropy}\n";
    std::ofstream(dir / "cnn.yaml") << config;
    ExampleRun r;
    ASSERT_TRUE(run_cli("summary " + (dir / "cnn.yaml").string(), r)) << "neurona was not built";
    ASSERT_EQ(r.status, 0) << r.output;
    for (size_t i = 0; i < want.size(); ++i) {
      const std::string shape = want[i].substr(0, want[i].find('|'));
      const std::string params = nn::format_count(std::stoll(want[i].substr(want[i].find('|') + 1)));
      // "│ 4 (Conv2d)   │ (None, 6, 2, 3)   │   222 │"
      const std::string row = "│ " + std::to_string(i) + " (";
      const auto at = r.output.find(row);
      ASSERT_NE(at, std::string::npos) << row << "\n" << r.output;
      const std::string line = r.output.substr(at, r.output.find('\n', at) - at);
      EXPECT_NE(line.find("│ " + shape + " "), std::string::npos) << line;
      EXPECT_NE(line.find(" " + params + " │"), std::string::npos) << line;
    }
    EXPECT_NE(r.output.find("Total params: " + nn::format_count(total) + " "), std::string::npos) << r.output;
    std::filesystem::remove_all(dir);
  }
}
