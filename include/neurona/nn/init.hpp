#pragma once
// Weight initialisers (torch.nn.init), filling a tensor in place without recording a gradient.
// Fans follow PyTorch: for a [out, in, k…] tensor fan_in = in·k…, fan_out = out·k….
#include <string>
#include <utility>

#include "neurona/core/random.hpp"
#include "neurona/core/tensor.hpp"

namespace neurona::nn::init {

enum class FanMode { FanIn, FanOut };

// Recommended gain: linear/conv/sigmoid/identity 1, tanh 5/3, relu √2,
// leaky_relu √(2/(1+slope²)) (slope `param`, default 0.01), selu 3/4.
float calculate_gain(const std::string& nonlinearity, float param = 0.01f);
std::pair<int64_t, int64_t> fan_in_and_fan_out(const Tensor& t);  // {fan_in, fan_out}

void zeros_(Tensor& t);
void ones_(Tensor& t);
void constant_(Tensor& t, float value);
void uniform_(Tensor& t, float low = 0.f, float high = 1.f, Generator* gen = nullptr);
void normal_(Tensor& t, float mean = 0.f, float std = 1.f, Generator* gen = nullptr);
// U(±gain·√(6/(fan_in+fan_out))) — Keras glorot_uniform.
void xavier_uniform_(Tensor& t, float gain = 1.f, Generator* gen = nullptr);
// N(0, gain·√(2/(fan_in+fan_out))).
void xavier_normal_(Tensor& t, float gain = 1.f, Generator* gen = nullptr);
// U(±gain·√(3/fan)), gain = calculate_gain(nonlinearity, a).
void kaiming_uniform_(Tensor& t, float a = 0.f, FanMode mode = FanMode::FanIn,
                      const std::string& nonlinearity = "leaky_relu", Generator* gen = nullptr);
// N(0, gain/√fan).
void kaiming_normal_(Tensor& t, float a = 0.f, FanMode mode = FanMode::FanIn,
                     const std::string& nonlinearity = "leaky_relu", Generator* gen = nullptr);
// (Semi-)orthogonal rows or columns of the [rows, prod(rest)] view, times gain.
void orthogonal_(Tensor& t, float gain = 1.f, Generator* gen = nullptr);

// Keras names.
inline void glorot_uniform_(Tensor& t, Generator* gen = nullptr) { xavier_uniform_(t, 1.f, gen); }
inline void glorot_normal_(Tensor& t, Generator* gen = nullptr) { xavier_normal_(t, 1.f, gen); }
inline void he_uniform_(Tensor& t, Generator* gen = nullptr) {
  kaiming_uniform_(t, 0.f, FanMode::FanIn, "relu", gen);
}
inline void he_normal_(Tensor& t, Generator* gen = nullptr) {
  kaiming_normal_(t, 0.f, FanMode::FanIn, "relu", gen);
}

}  // namespace neurona::nn::init
