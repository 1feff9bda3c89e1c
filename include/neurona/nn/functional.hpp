#pragma once
// Differentiable functions behind the layers and losses (PyTorch's torch.nn.functional). Each
// computes its forward in one pass and records one backward; see src/nn/functional/.
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

// x [N, C] or [N, C, L]; statistics per channel C. In training, normalises with batch statistics
// and (when running_mean is defined) updates running_mean/var and num_batches_tracked in place.
// Otherwise normalises with the running statistics.
Tensor batch_norm(const Tensor& x, Tensor running_mean, Tensor running_var, const Tensor& weight,
                  const Tensor& bias, bool training, const BatchNormOptions& options = {},
                  Tensor num_batches_tracked = {});
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

}  // namespace functional

namespace F = functional;

}  // namespace neurona::nn
