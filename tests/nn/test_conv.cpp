// conv2d, zero_pad2d and the 'same'-padding helpers against PyTorch (fixtures from
// tests/fixtures/nn/make_conv_fixtures.py), finite differences, and 1- vs 2-thread bit identity.
#include <algorithm>
#include <cmath>

#include "neurona/core/precision.hpp"
#include "nn/conv_fixture_util.hpp"

using namespace neurona;
using namespace neurona::testing;
namespace F = neurona::nn::functional;

namespace {

struct ConvCase {
  const char* name;
  Shape x, w;
  F::Size2d stride;
  F::Pad2d pad;
  F::Size2d dilation;
  int64_t groups;
};

// The cases of make_conv_fixtures.py (same order and values).
const ConvCase kConvCases[] = {
    {"conv_basic", {2, 3, 6, 7}, {4, 3, 3, 3}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1},
    {"conv_s2p1", {2, 3, 7, 8}, {4, 3, 3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 1},
    {"conv_asym", {2, 2, 7, 6}, {3, 2, 3, 3}, {2, 1}, {0, 1, 2, 1}, {1, 1}, 1},
    {"conv_dil2", {2, 3, 8, 8}, {4, 3, 3, 3}, {1, 1}, {2, 2, 2, 2}, {2, 2}, 1},
    {"conv_groups2", {2, 4, 6, 6}, {6, 2, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 2},
    {"conv_depthwise", {2, 4, 6, 5}, {8, 1, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 4},
    {"conv_1x1", {3, 5, 4, 4}, {6, 5, 1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1},
    {"conv_1x1_s2", {2, 3, 5, 5}, {4, 3, 1, 1}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 1},
    {"conv_k5", {2, 2, 9, 8}, {3, 2, 5, 5}, {1, 2}, {2, 2, 2, 2}, {1, 1}, 1},
    {"conv_rect", {2, 3, 7, 9}, {2, 3, 2, 4}, {3, 2}, {1, 0, 0, 2}, {2, 1}, 1},
};

// Forward and the three gradients of one case against the fixtures.
void check_case(const ConvCase& c, nn::Activation act, const std::string& key) {
  SCOPED_TRACE(key);
  Tensor x = pattern(c.x, 1).requires_grad_(true);
  Tensor w = pattern(c.w, 2, 0.5f).requires_grad_(true);
  Tensor b = pattern({c.w[0]}, 3).requires_grad_(true);
  Tensor y = F::conv2d(x, w, b, c.stride, c.pad, c.dilation, c.groups, act);
  expect_conv_fixture(y, key + ".out", 1e-5f);
  sum(y * fixture_grad_weights(y.shape())).backward();
  expect_conv_fixture(x.grad(), key + ".g0", 1e-5f);
  expect_conv_fixture(w.grad(), key + ".g1", 1e-5f);
  expect_conv_fixture(b.grad(), key + ".g2", 1e-5f);
}

Tensor conv_of(const std::vector<Tensor>& in, const ConvCase& c) {
  return F::conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), c.stride, c.pad, c.dilation, c.groups);
}

}  // namespace

TEST(Conv2d, ForwardAndGradientsMatchPyTorch) {
  for (const ConvCase& c : kConvCases) check_case(c, nn::Activation::Identity, c.name);
}

TEST(Conv2d, FusedReluMatchesPyTorch) {
  check_case(kConvCases[1], nn::Activation::ReLU, "conv_s2p1_relu");
  check_case(kConvCases[4], nn::Activation::ReLU, "conv_groups2_relu");
}

TEST(Conv2d, OutputShapes) {
  EXPECT_EQ(F::conv2d(Tensor::zeros({1, 3, 7, 8}), Tensor::zeros({4, 3, 3, 3}), {}, {2, 2}, F::Pad2d::all(1))
                .shape(),
            Shape({1, 4, 4, 4}));
  // Asymmetric padding: H 7 + 0 + 1 = 8, W 6 + 2 + 1 = 9; (8 - 3)/2 + 1 = 3, 9 - 3 + 1 = 7.
  EXPECT_EQ(
      F::conv2d(Tensor::zeros({2, 2, 7, 6}), Tensor::zeros({3, 2, 3, 3}), {}, {2, 1}, {0, 1, 2, 1}).shape(),
      Shape({2, 3, 3, 7}));
  EXPECT_EQ(F::conv2d(Tensor::zeros({1, 1, 1, 1}), Tensor::zeros({2, 1, 1, 1})).shape(), Shape({1, 2, 1, 1}));
  EXPECT_EQ(F::conv2d(Tensor::zeros({0, 1, 4, 4}), Tensor::zeros({2, 1, 3, 3})).shape(), Shape({0, 2, 2, 2}));
}

TEST(Conv2d, NoBiasAndOnlySomeInputsNeedingGradients) {
  const ConvCase& c = kConvCases[1];
  Tensor x = pattern(c.x, 1);
  Tensor w = pattern(c.w, 2, 0.5f).requires_grad_(true);
  Tensor b = pattern({c.w[0]}, 3);
  Tensor y = F::conv2d(x, w, b, c.stride, c.pad, c.dilation, c.groups);
  sum(y * fixture_grad_weights(y.shape())).backward();
  expect_conv_fixture(w.grad(), "conv_s2p1.g1");
  // Without a bias the output is the fixture minus the bias of each channel.
  Tensor x2 = pattern(c.x, 1).requires_grad_(true);
  Tensor y2 = F::conv2d(x2, pattern(c.w, 2, 0.5f), Tensor(), c.stride, c.pad, c.dilation, c.groups);
  const auto& ref = conv_fixture("conv_s2p1.out");
  const int64_t plane = y2.size(2) * y2.size(3);
  for (int64_t i = 0; i < y2.numel(); ++i)
    EXPECT_NEAR(y2.data()[i], ref[static_cast<size_t>(i)] - b.data()[(i / plane) % 4], 1e-5) << i;
  sum(y2 * fixture_grad_weights(y2.shape())).backward();
  expect_conv_fixture(x2.grad(), "conv_s2p1.g0");
}

TEST(Conv2d, Gradcheck) {
  const ConvCase small[] = {
      {"s2_asym", {2, 2, 5, 4}, {3, 2, 3, 2}, {2, 1}, {1, 0, 0, 1}, {1, 1}, 1},
      {"dil_groups", {1, 4, 5, 5}, {2, 2, 2, 2}, {1, 1}, {1, 1, 1, 1}, {2, 2}, 2},
      {"depthwise", {2, 3, 4, 4}, {3, 1, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 3},
      {"1x1", {2, 3, 3, 2}, {2, 3, 1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1},
  };
  for (const ConvCase& c : small) {
    SCOPED_TRACE(c.name);
    expect_gradcheck([&c](const std::vector<Tensor>& in) { return conv_of(in, c); },
                     {pattern(c.x, 11), pattern(c.w, 12, 0.5f), pattern({c.w[0]}, 13)});
  }
  const ConvCase& c = small[0];
  expect_gradcheck(
      [&c](const std::vector<Tensor>& in) {
        return F::conv2d(in[0], in[1], in[2], c.stride, c.pad, c.dilation, c.groups, nn::Activation::Tanh);
      },
      {pattern(c.x, 11), pattern(c.w, 12, 0.5f), pattern({c.w[0]}, 13)});
}

// The direct forward kernel (stride 1, one group, ≥ 16 input channels, on AVX-512 CPUs) against
// im2col + GEMM: the same bits, at output widths that end inside a 16-float vector, channel counts
// that are not multiples of 8, dilation and uneven padding.
TEST(Conv2d, DirectKernelGivesTheBitsOfIm2colGemm) {
  const ConvCase cases[] = {
      {"3x3 same", {3, 16, 14, 14}, {32, 16, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1},
      {"3x3 valid odd", {2, 17, 9, 11}, {13, 17, 3, 3}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1},
      {"5x5 uneven pad", {2, 20, 8, 19}, {5, 20, 5, 5}, {1, 1}, {2, 1, 0, 3}, {1, 1}, 1},
      {"3x3 dilation 2", {2, 16, 12, 10}, {9, 16, 3, 3}, {1, 1}, {2, 2, 2, 2}, {2, 2}, 1},
      {"2x4 wide", {1, 24, 5, 37}, {11, 24, 2, 4}, {1, 1}, {1, 0, 2, 1}, {1, 3}, 1},
      {"1x1 padded", {2, 16, 6, 6}, {7, 16, 1, 1}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1},
  };
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(c.name);
    Tensor x = pattern(c.x, 31), w = pattern(c.w, 32, 0.2f), b = pattern({c.w[0]}, 33);
    const bool direct = F::use_direct_conv(true);
    Tensor fast = F::conv2d(x, w, b, c.stride, c.pad, c.dilation, c.groups, nn::Activation::ReLU);
    F::use_direct_conv(false);
    Tensor ref = F::conv2d(x, w, b, c.stride, c.pad, c.dilation, c.groups, nn::Activation::ReLU);
    F::use_direct_conv(true);
    if (!direct) GTEST_SKIP() << "this CPU has no AVX-512F: the direct kernel never runs";
    EXPECT_TRUE(same_bits(fast, ref));
  }
}

// fit.precision: bf16-mixed reaches convolutions: forward and both gradients then come from
// bfloat16 products (not the fp32 bits) and stay within bf16's rounding of the fp32 results.
TEST(Conv2d, Bf16MixedPrecisionCoversConvolutions) {
  if (!cpu_has_bf16()) GTEST_SKIP() << "this CPU has no AVX-512 BF16";
  Tensor results[2][3];
  for (int bf16 = 0; bf16 < 2; ++bf16) {
    ASSERT_TRUE(set_matmul_precision(bf16 ? "bf16-mixed" : "fp32"));
    Tensor x = pattern({4, 32, 14, 14}, 41).requires_grad_(true);
    Tensor w = pattern({64, 32, 3, 3}, 42, 0.1f).requires_grad_(true);
    Tensor y = F::conv2d(x, w, Tensor(), {}, F::Pad2d::all(1));
    sum(y * pattern(y.shape(), 43)).backward();
    results[bf16][0] = y.detach(), results[bf16][1] = x.grad(), results[bf16][2] = w.grad();
  }
  set_matmul_precision("fp32");
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const Tensor& ref = results[0][i];
    const Tensor& low = results[1][i];
    EXPECT_FALSE(same_bits(ref, low));
    double err = 0, scale = 0;
    for (int64_t k = 0; k < ref.numel(); ++k) {
      err = std::max(err, double(std::fabs(ref.data()[k] - low.data()[k])));
      scale = std::max(scale, double(std::fabs(ref.data()[k])));
    }
    EXPECT_LT(err, 2e-2 * scale);
  }
}

TEST(Conv2d, BitIdenticalOnOneAndTwoThreads) {
  const int before = num_threads();
  const ConvCase cases[] = {
      {"3x3", {13, 8, 10, 9}, {16, 8, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1},
      {"1x1", {12, 16, 6, 6}, {8, 16, 1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1},
      {"groups_s2", {11, 6, 9, 9}, {6, 2, 3, 3}, {2, 2}, {0, 1, 0, 1}, {1, 1}, 3},
  };
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(c.name);
    Tensor results[2][4];
    for (int threads = 1; threads <= 2; ++threads) {
      set_num_threads(threads);
      Tensor x = pattern(c.x, 21).requires_grad_(true);
      Tensor w = pattern(c.w, 22, 0.3f).requires_grad_(true);
      Tensor b = pattern({c.w[0]}, 23).requires_grad_(true);
      Tensor y = F::conv2d(x, w, b, c.stride, c.pad, c.dilation, c.groups, nn::Activation::ReLU);
      sum(y * pattern(y.shape(), 24)).backward();
      Tensor* r = results[threads - 1];
      r[0] = y.detach(), r[1] = x.grad(), r[2] = w.grad(), r[3] = b.grad();
    }
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(same_bits(results[0][i], results[1][i])) << "result " << i;
  }
  set_num_threads(before);
}

TEST(Conv2d, ErrorsNameTheOpAndShapes) {
  Tensor x = Tensor::zeros({2, 4, 5, 5}), w = Tensor::zeros({6, 4, 3, 3});
  EXPECT_ERROR_CONTAINS(F::conv2d(Tensor::zeros({4, 5, 5}), w),
                        "conv2d: expected input [N, C, H, W], got [4,5,5]");
  EXPECT_ERROR_CONTAINS(F::conv2d(x, Tensor::zeros({6, 4, 3})), "conv2d: expected weight");
  EXPECT_ERROR_CONTAINS(F::conv2d(x, Tensor::zeros({6, 3, 3, 3})), "has 4 channels, so weight [6,3,3,3]");
  EXPECT_ERROR_CONTAINS(F::conv2d(x, Tensor::zeros({6, 1, 3, 3}), {}, {}, {}, {}, 3), "groups 3 must divide");
  EXPECT_ERROR_CONTAINS(F::conv2d(x, Tensor::zeros({5, 2, 3, 3}), {}, {}, {}, {}, 2), "groups 2 must divide");
  EXPECT_ERROR_CONTAINS(F::conv2d(x, w, Tensor::zeros({5})),
                        "conv2d: bias [5] does not match weight [6,4,3,3]");
  EXPECT_ERROR_CONTAINS(F::conv2d(x, Tensor::zeros({6, 4, 7, 3})), "is bigger than the padded input 5x5");
  EXPECT_ERROR_CONTAINS(F::conv2d(x, w, {}, {}, {}, {3, 3}), "(dilation 3x3, so 7x7) is bigger than");
  EXPECT_ERROR_CONTAINS(F::conv2d(x, w, {}, {0, 1}), "conv2d: stride must be at least 1");
  EXPECT_ERROR_CONTAINS(F::conv2d(x, w, {}, {}, {-1, 0, 0, 0}), "conv2d: padding must not be negative");
  EXPECT_ERROR_CONTAINS(F::conv2d(x, w, {}, {}, {}, {}, 0), "conv2d: groups must be at least 1");
}

using PadPair = std::pair<int64_t, int64_t>;

TEST(ConvPadding, PyTorchAndKerasSameRules) {
  EXPECT_EQ(F::conv_output_size(28, 3, 1, 2), 28);
  EXPECT_EQ(F::conv_output_size(7, 3, 2, 2), 4);
  EXPECT_EQ(F::conv_output_size(8, 3, 2, 0, 2), 2);  // effective kernel 5: (8 - 5)/2 + 1
  EXPECT_EQ(F::conv_output_size(2, 5), -2);          // the kernel does not fit: caller's check
  // PyTorch: total d·(k − 1), the smaller half before.
  auto torch_pad = [](int64_t k, int64_t d) {
    const F::SamePad p = F::same_padding_torch(k, d);
    return std::pair(p.before, p.after);
  };
  EXPECT_EQ(torch_pad(3, 1), PadPair(1, 1));
  EXPECT_EQ(torch_pad(4, 1), PadPair(1, 2));
  EXPECT_EQ(torch_pad(3, 2), PadPair(2, 2));
  EXPECT_EQ(torch_pad(2, 3), PadPair(1, 2));
  EXPECT_EQ(torch_pad(1, 1), PadPair(0, 0));
  // Keras/TF: out = ⌈in/s⌉, total = max((out − 1)·s + k_eff − in, 0).
  auto keras_pad = [](int64_t in, int64_t k, int64_t s, int64_t d) {
    const F::SamePad p = F::same_padding_keras(in, k, s, d);
    return std::pair(p.before, p.after);
  };
  EXPECT_EQ(keras_pad(7, 3, 2, 1), PadPair(1, 1));  // out 4: 6 + 3 − 7 = 2
  EXPECT_EQ(keras_pad(8, 3, 2, 1), PadPair(0, 1));  // out 4: 6 + 3 − 8 = 1
  EXPECT_EQ(keras_pad(28, 2, 2, 1), PadPair(0, 0));
  EXPECT_EQ(keras_pad(5, 1, 2, 1), PadPair(0, 0));
  EXPECT_EQ(keras_pad(10, 4, 1, 1), PadPair(1, 2));
  EXPECT_EQ(keras_pad(9, 3, 1, 2), PadPair(2, 2));
  EXPECT_EQ(keras_pad(9, 5, 3, 1), PadPair(1, 1));  // out 3: 6 + 5 − 9 = 2
  // Padded with the Keras rule, a conv's output is ⌈in/s⌉ for every stride.
  for (int64_t in : {5, 6, 7, 8, 13})
    for (int64_t s : {1, 2, 3})
      for (int64_t k : {1, 2, 3, 5}) {
        const F::Pad2d p = F::same_padding2d_keras({in, in + 1}, {k, k}, {s, s});
        if (in + p.top + p.bottom < k) continue;
        Tensor y = F::conv2d(Tensor::zeros({1, 1, in, in + 1}), Tensor::zeros({1, 1, k, k}), {}, {s, s}, p);
        EXPECT_EQ(y.size(2), (in + s - 1) / s) << in << " " << s << " " << k;
        EXPECT_EQ(y.size(3), (in + 1 + s - 1) / s) << in << " " << s << " " << k;
      }
  const F::Pad2d t = F::same_padding2d_torch({4, 3}, {1, 2});
  EXPECT_EQ(t.top, 1);
  EXPECT_EQ(t.bottom, 2);
  EXPECT_EQ(t.left, 2);
  EXPECT_EQ(t.right, 2);
}

TEST(ZeroPad2d, MatchesPyTorchWithPaddingAndCropping) {
  Tensor x = pattern({2, 2, 3, 4}, 9).requires_grad_(true);
  Tensor y = F::zero_pad2d(x, {0, 3, 1, 2});  // (top, bottom, left, right)
  EXPECT_EQ(y.shape(), Shape({2, 2, 6, 7}));
  expect_conv_fixture(y, "zero_pad.out");
  sum(y * fixture_grad_weights(y.shape())).backward();
  expect_conv_fixture(x.grad(), "zero_pad.g0");
  Tensor x2 = pattern({2, 2, 3, 4}, 9).requires_grad_(true);
  Tensor y2 = F::zero_pad2d(x2, {1, -2, -1, 2});
  EXPECT_EQ(y2.shape(), Shape({2, 2, 2, 5}));
  expect_conv_fixture(y2, "zero_pad_crop.out");
  sum(y2 * fixture_grad_weights(y2.shape())).backward();
  expect_conv_fixture(x2.grad(), "zero_pad_crop.g0");
  expect_gradcheck(
      [](const std::vector<Tensor>& in) {
        return F::zero_pad2d(in[0], {2, 1, 0, 1});
      },
      {pattern({1, 2, 2, 3}, 5)});
  EXPECT_ERROR_CONTAINS(F::zero_pad2d(Tensor::zeros({3, 4}), {}), "zero_pad2d: expected input [N, C, H, W]");
  EXPECT_ERROR_CONTAINS(F::zero_pad2d(Tensor::zeros({1, 1, 2, 2}), {-1, -1, 0, 0}),
                        "leaves nothing of input");
}
