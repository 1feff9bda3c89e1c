#pragma once
// Differentiable functions behind the layers and losses (PyTorch's torch.nn.functional). Each
// computes its forward in one pass and records one backward; see src/nn/functional/.
#include <functional>
#include <optional>
#include <string>

#include "neurona/core/random.hpp"
#include "neurona/core/tensor.hpp"

namespace neurona::nn {

// Activation fused into Linear's forward and backward.
enum class Activation { Identity, ReLU, Tanh, Sigmoid };
// "linear"/"identity"/"none", "relu", "tanh", "sigmoid" (Keras names); throws on anything else.
Activation activation_from_name(const std::string& name);
const char* activation_name(Activation a);

// How a loss reduces its per-element values.
enum class Reduction { Mean, Sum, None };
Reduction reduction_from_name(const std::string& name);  // "mean", "sum", "none"

// The options of batch normalisation, for F::batch_norm and the BatchNorm layers (nn::BatchNormOptions).
// PyTorch's defaults; Keras's BatchNormalization is unbiased_running_var = false with its own momentum and
// epsilon (nn::BatchNormalization).
struct BatchNormOptions {
  float momentum = 0.1f;  // PyTorch meaning: weight of the new batch statistic
  float eps = 1e-5f;
  bool affine = true;                // learnable weight (γ) and bias (β); the layers read it
  bool unbiased_running_var = true;  // PyTorch true; Keras feeds the biased variance
  bool cumulative = false;           // momentum=None in PyTorch: weight 1/num_batches_tracked
};

namespace functional {

// --- linear (linear.cpp) -------------------------------------------------------------------------
// act(x · weightᵀ + bias): x [*, in], weight [out, in], bias [out] or undefined. One GEMM plus
// one fused bias/activation pass; the backward is two GEMMs and a column sum.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
              Activation activation = Activation::Identity);
// Stride-1 one-group convolutions run forward through a direct AVX-512 kernel when the CPU has it
// (the same bits as im2col + GEMM); use_direct_conv(false) sends them to im2col + GEMM
// (benchmarks and tests compare the two). Returns whether the direct kernel is in use now.
bool use_direct_conv(bool on);

// --- activations (activation.cpp) ---------------------------------------------------------------
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, float negative_slope = 0.01f);
// weight has 1 element (shared) or one per channel (dim 1 of x).
Tensor prelu(const Tensor& x, const Tensor& weight);
Tensor elu(const Tensor& x, float alpha = 1.f);
Tensor selu(const Tensor& x);
Tensor gelu(const Tensor& x);  // exact erf form: x·Φ(x)
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
// log(1 + exp(beta·x)) / beta, linear above threshold (PyTorch defaults beta 1, threshold 20).
Tensor softplus(const Tensor& x, float beta = 1.f, float threshold = 20.f);
Tensor softmax(const Tensor& x, int64_t dim = -1);
Tensor log_softmax(const Tensor& x, int64_t dim = -1);
Tensor activation(const Tensor& x, Activation a);

// --- regularisation and normalisation (dropout.cpp, norm.cpp) -----------------------------------
// Zeroes each element with probability p and scales survivors by 1/(1-p); identity unless training.
Tensor dropout(const Tensor& x, float p = 0.5f, bool training = true, Generator* gen = nullptr);

// x [N, C], [N, C, L] or [N, C, H, W]; statistics per channel C (over N·L or N·H·W values;
// running_var gets the unbiased variance of those). In training, normalises with batch statistics
// and (when running_mean is defined) updates running_mean/var and num_batches_tracked in place.
// Otherwise normalises with the running statistics.
Tensor batch_norm(const Tensor& x, Tensor running_mean, Tensor running_var, const Tensor& weight,
                  const Tensor& bias, bool training, const BatchNormOptions& options = {},
                  Tensor num_batches_tracked = {});
// Synchronised batch statistics (data-parallel training's sync_batchnorm): while a reducer is set,
// batch_norm in training adds its per-channel counts and moments, and its backward the per-channel
// gradient sums, over every process with it (an in-place sum of doubles, called on the calling
// thread), so every process normalises with the statistics of the whole global batch. The
// gradients of γ and β stay this process's sums (data-parallel averaging follows). Unset (the
// default): statistics per process. Set by train::Trainer for `sync_batchnorm`.
using BatchStatsReducer = std::function<void(double* data, int64_t n)>;
void set_batch_stats_reducer(BatchStatsReducer reducer);
// Normalises over the last `normalized_dims` dimensions; weight/bias (optional) have their shape.
Tensor layer_norm(const Tensor& x, int64_t normalized_dims, const Tensor& weight = {},
                  const Tensor& bias = {}, float eps = 1e-5f);

// --- losses (loss.cpp) --------------------------------------------------------------------------
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction r = Reduction::Mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction r = Reduction::Mean);
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction r = Reduction::Mean,
                  float delta = 1.f);
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction r = Reduction::Mean,
                      float beta = 1.f);
// input holds probabilities; each log is clamped at -100. weight broadcasts over input.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, Reduction r = Reduction::Mean,
                            const Tensor& weight = {});
// Stable on logits. pos_weight broadcasts over the last (class) dimension.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        Reduction r = Reduction::Mean, const Tensor& weight = {},
                                        const Tensor& pos_weight = {});

struct CrossEntropyOptions {
  Tensor weight = {};           // per-class weights [C], optional
  int64_t ignore_index = -100;  // class-index targets only
  float label_smoothing = 0.f;
  Reduction reduction = Reduction::Mean;
};
// Logits [N, C] (or [C]). Target is either class indices [N] (float tensor holding integers) or
// probabilities with the input's shape. Softmax and the loss are one op in both directions.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& o = {});
// Input holds log-probabilities [N, C]; target class indices [N].
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const CrossEntropyOptions& o = {});

// --- images, NCHW (conv.cpp: conv2d, zero_pad2d; pool.cpp; dropout.cpp: dropout2d) -------------
// Height and width of a 2-D parameter (kernel, stride, dilation).
struct Size2d {
  int64_t h = 1, w = 1;
};
// Zero padding of the four sides of an image; asymmetric padding is allowed.
struct Pad2d {
  int64_t top = 0, bottom = 0, left = 0, right = 0;
  static Pad2d all(int64_t p) { return {p, p, p, p}; }
  static Pad2d symmetric(int64_t ph, int64_t pw) { return {ph, ph, pw, pw}; }
};

// PyTorch's output length of a convolution or floor-mode pooling along one dimension:
// ⌊(in + pad_total − dilation·(kernel − 1) − 1)/stride⌋ + 1 (may be < 1: the caller checks).
int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride = 1, int64_t pad_total = 0,
                         int64_t dilation = 1);
// The padding before and after one dimension for 'same' output.
struct SamePad {
  int64_t before = 0, after = 0;
};
// PyTorch's padding='same' (stride 1 only): total dilation·(kernel − 1), before = total/2; the
// extra row or column of an even kernel goes after.
SamePad same_padding_torch(int64_t kernel, int64_t dilation = 1);
// Keras/TF padding="same" (any stride): out = ⌈in/stride⌉, total = max((out − 1)·stride +
// dilation·(kernel − 1) + 1 − in, 0), before = total/2, the rest after.
SamePad same_padding_keras(int64_t in, int64_t kernel, int64_t stride = 1, int64_t dilation = 1);
// Both dimensions at once: Keras needs the input size, PyTorch's rule ignores it (and stride).
Pad2d same_padding2d_torch(Size2d kernel, Size2d dilation = {});
Pad2d same_padding2d_keras(Size2d in, Size2d kernel, Size2d stride = {}, Size2d dilation = {});

// Cross-correlation as torch.nn.functional.conv2d: x [N, C, H, W], weight [O, C/groups, kh, kw],
// bias [O] or undefined; output [N, O, OH, OW]. `activation` is applied in the same pass as the
// bias (and undone in the backward's first pass), as in linear(). Per sample, im2col and one GEMM
// per group; the gradients of the input, weight and bias do not depend on the thread count.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, Size2d stride = {},
              Pad2d padding = {}, Size2d dilation = {}, int64_t groups = 1,
              Activation activation = Activation::Identity);

// torch.nn.functional.max_pool2d on [N, C, H, W]. stride defaults to the kernel; padding counts as
// −∞ and each side must be at most half the kernel. In ceil mode the last window may run past the
// padding but must start inside the input or the left padding. The gradient goes to the first
// maximum of each window (a NaN counts as the maximum); overlapping windows add up.
Tensor max_pool2d(const Tensor& x, Size2d kernel, std::optional<Size2d> stride = std::nullopt,
                  Pad2d padding = {}, Size2d dilation = {}, bool ceil_mode = false);
// torch.nn.functional.avg_pool2d: zero padding (each side at most half the kernel). The divisor
// is divisor_override when given, else the window clipped to the padded input when
// count_include_pad, else the window clipped to the input (Keras's 'same' average).
Tensor avg_pool2d(const Tensor& x, Size2d kernel, std::optional<Size2d> stride = std::nullopt,
                  Pad2d padding = {}, bool ceil_mode = false, bool count_include_pad = true,
                  std::optional<int64_t> divisor_override = std::nullopt);
// torch.nn.functional.adaptive_avg_pool2d: output bin i spans [⌊i·H/OH⌋, ⌈(i+1)·H/OH⌉).
Tensor adaptive_avg_pool2d(const Tensor& x, Size2d output);
// Mean and maximum of each (n, c) plane: [N, C, H, W] -> [N, C] (Keras GlobalAveragePooling2D,
// GlobalMaxPooling2D). The maximum's gradient goes to the plane's first maximum.
Tensor global_avg_pool2d(const Tensor& x);
Tensor global_max_pool2d(const Tensor& x);

// torch.nn.functional.dropout2d: zeroes whole channels x[n, c] with probability p and scales the
// others by 1/(1-p); identity unless training. x is [N, C, H, W], or [N, C, L] (PyTorch's
// historical reading of 3-D input).
Tensor dropout2d(const Tensor& x, float p = 0.5f, bool training = true, Generator* gen = nullptr);

// Pads [N, C, H, W] with zeros (torch.nn.ZeroPad2d; its (left, right, top, bottom) are the fields
// of Pad2d). Negative padding crops, as in PyTorch.
Tensor zero_pad2d(const Tensor& x, Pad2d padding);

}  // namespace functional

namespace F = functional;

}  // namespace neurona::nn
