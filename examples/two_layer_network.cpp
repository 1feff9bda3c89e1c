// Seed 004, "Red neuronal de dos capas": a hidden layer with W = [[-1, 1], [1, -1]], b = [-4, -4].
// For x = (x1, x2) the layer computes z = W·x + b = (-x1 + x2 - 4, x1 - x2 - 4), then g(z).
#include <cmath>
#include <cstdio>

#include "neurona/neurona.hpp"

using namespace neurona;

int main() {
  nn::Linear hidden(2, 2);  // weight [out, in] like PyTorch
  {
    NoGradGuard no_grad;
    const float w[] = {-1, 1, 1, -1}, b[] = {-4, -4};
    std::copy(w, w + 4, hidden.weight.data());
    std::copy(b, b + 2, hidden.bias.data());
  }
  // x1 = classes attended, x2 = hours on the final project (the seed's "will I pass?" problem).
  Tensor x = Tensor::from({4, 5, 1, 7}, {2, 2});
  Tensor z = hidden(x);
  std::printf("W = [[-1, 1], [1, -1]], b = [-4, -4]\n");
  bool ok = true;
  for (int64_t i = 0; i < 2; ++i) {
    const float x1 = x.at({i, 0}), x2 = x.at({i, 1});
    const float z1 = -x1 + x2 - 4, z2 = x1 - x2 - 4;  // by hand
    std::printf("x = (%g, %g): z = W·x + b = (%g, %g)   [by hand: (%g, %g)]\n", x1, x2, z.at({i, 0}),
                z.at({i, 1}), z1, z2);
    Tensor zi = z.slice(i, i + 1);
    Tensor r = nn::F::relu(zi), s = nn::F::sigmoid(zi);
    std::printf("    relu(z) = (%g, %g)   sigmoid(z) = (%.6f, %.6f)\n", r.at({0, 0}), r.at({0, 1}),
                s.at({0, 0}), s.at({0, 1}));
    ok = ok && z.at({i, 0}) == z1 && z.at({i, 1}) == z2 && r.at({0, 0}) == std::max(z1, 0.f) &&
         std::abs(s.at({0, 0}) - 1 / (1 + std::exp(-z1))) < 1e-6f;
  }
  std::printf(ok ? "matches the math\n" : "MISMATCH\n");
  return ok ? 0 : 1;
}
