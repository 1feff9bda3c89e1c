#pragma once
// Access to the PyTorch fixtures of the image ops (tests/fixtures/nn/make_conv_fixtures.py) and the
// input pattern that script uses.
#include <cstring>
#include <string>
#include <vector>

#include "fixtures/nn/conv_fixtures.inc"
#include "test_util.hpp"

namespace neurona::testing {

// ((i·7919 + seed·104729) mod 2003)/1001.5 − 1 for element i, rounded once to float: the same
// numbers as pattern() in make_conv_fixtures.py.
inline Tensor pattern(const Shape& shape, int64_t seed, float scale = 1.f) {
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) {
    const int64_t m = (i * 7919 + seed * 104729) % 2003;
    t.data()[i] = static_cast<float>(static_cast<double>(m) / 1001.5 - 1.0) * scale;
  }
  return t;
}

inline const std::vector<double>& conv_fixture(const std::string& key) {
  auto it = conv_fixtures().find(key);
  if (it == conv_fixtures().end()) throw std::runtime_error("no fixture " + key);
  return it->second;
}

// Compares a tensor with a fixture (relative tolerance for values above 1).
inline void expect_conv_fixture(const Tensor& t, const std::string& key, float tol = 1e-5f) {
  ASSERT_TRUE(t.defined()) << key << ": tensor is undefined";
  const auto& v = conv_fixture(key);
  SCOPED_TRACE(key);
  expect_values(t, std::vector<float>(v.begin(), v.end()), tol);
}

// The seed of the output gradient in the fixtures: gradients are those of sum(out * G).
inline Tensor fixture_grad_weights(const Shape& out_shape) { return pattern(out_shape, 99); }

// Bitwise equality of two tensors' values.
inline bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), static_cast<size_t>(a.numel()) * sizeof(float)) == 0;
}

}  // namespace neurona::testing
