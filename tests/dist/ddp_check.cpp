// The helper of the data-parallel tests (tests/dist/ddp_tests.sh), outside the GoogleTest suite:
//   ddp_check collectives         under mpirun: allreduce and broadcast against exact sums, and
//                                 every rank's result bit-identical to rank 0's
//   ddp_check close A B TOL       weights files A and B hold the same tensors, each within TOL
//                                 relative (||a - b|| / ||b||, the 2-norms of the tensor)
//   ddp_check same A B            the same tensors, bit for bit
// Exits 0 when the check holds, 1 (with the reason) when it does not.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "neurona/dist/communicator.hpp"
#include "neurona/io/safetensors.hpp"

namespace {

using neurona::dist::Communicator;

int collectives() {
  Communicator& c = Communicator::world();
  const int N = c.size(), r = c.rank();
  int bad = 0;
  // Sizes around the chunking: empty, shorter than the world, uneven, and more than a few MiB.
  for (const int64_t n : {int64_t{0}, int64_t{1}, int64_t{3}, int64_t{1001}, int64_t{3} << 20}) {
    // Small integers add exactly in float, so the sum is known: sum over ranks of (i % 97) * (rank + 1).
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>((i % 97) * (r + 1));
    c.allreduce_sum(v.data(), n);
    const double ranks = N * (N + 1) / 2.0;
    for (int64_t i = 0; i < n; ++i)
      if (v[i] != static_cast<float>((i % 97) * ranks)) {
        std::fprintf(stderr, "rank %d: allreduce of %lld floats: element %lld is %g, expected %g\n", r,
                     static_cast<long long>(n), static_cast<long long>(i), v[i], (i % 97) * ranks);
        ++bad;
        break;
      }
  }
  // Inexact sums (0.1 * rank-dependent values): every rank must end with rank 0's bits.
  std::vector<float> w(10007);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.1f * static_cast<float>(i + 1) / static_cast<float>(r + 3);
  c.allreduce_sum(w.data(), static_cast<int64_t>(w.size()));
  std::vector<float> root = w;
  c.broadcast(root.data(), static_cast<int64_t>(root.size()));
  if (std::memcmp(root.data(), w.data(), w.size() * sizeof(float)) != 0) {
    std::fprintf(stderr, "rank %d: allreduce results differ from rank 0's\n", r);
    ++bad;
  }
  std::vector<double> d{static_cast<double>(r), 1.0};
  c.allreduce_sum(d.data(), 2);
  if (d[0] != N * (N - 1) / 2.0 || d[1] != N) {
    std::fprintf(stderr, "rank %d: allreduce of doubles gave %g %g\n", r, d[0], d[1]);
    ++bad;
  }
  std::string text = r == 0 ? "from rank 0" : "";
  c.broadcast(text);
  if (text != "from rank 0") {
    std::fprintf(stderr, "rank %d: broadcast text gave '%s'\n", r, text.c_str());
    ++bad;
  }
  double total = bad;
  c.allreduce_sum(&total, 1);
  c.barrier();
  if (r == 0) std::printf("collectives on %d ranks: %s\n", N, total == 0 ? "ok" : "FAILED");
  return total == 0 ? 0 : 1;
}

int compare(const char* a_path, const char* b_path, double tol, bool exact) {
  const auto a = neurona::io::load_safetensors(a_path);
  const auto b = neurona::io::load_safetensors(b_path);
  if (a.tensors.size() != b.tensors.size()) {
    std::fprintf(stderr, "%s has %zu tensors, %s %zu\n", a_path, a.tensors.size(), b_path, b.tensors.size());
    return 1;
  }
  double worst = 0, worst_max = 0;  // ||a - b|| / ||b|| and max |a - b| / max |b| over the tensors
  std::string worst_name;
  for (const auto& ta : a.tensors) {
    const auto& tb = b.at(ta.name);
    if (ta.tensor.shape() != tb.shape()) {
      std::fprintf(stderr, "%s: shapes differ\n", ta.name.c_str());
      return 1;
    }
    const float* x = ta.tensor.data();
    const float* y = tb.data();
    const int64_t n = ta.tensor.numel();
    if (exact) {
      if (std::memcmp(x, y, sizeof(float) * static_cast<size_t>(n)) != 0) {
        std::fprintf(stderr, "%s: not bit-identical\n", ta.name.c_str());
        return 1;
      }
      continue;
    }
    double diff = 0, scale = 0, diff2 = 0, scale2 = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double d = std::fabs(static_cast<double>(x[i]) - y[i]);
      diff = std::max(diff, d);
      scale = std::max(scale, std::fabs(static_cast<double>(y[i])));
      diff2 += d * d;
      scale2 += static_cast<double>(y[i]) * y[i];
    }
    const double rel = scale2 > 0 ? std::sqrt(diff2 / scale2) : std::sqrt(diff2);
    if (rel > worst) worst = rel, worst_name = ta.name;
    worst_max = std::max(worst_max, scale > 0 ? diff / scale : diff);
  }
  if (exact) {
    std::printf("bit-identical: %zu tensors\n", a.tensors.size());
    return 0;
  }
  std::printf(
      "relative difference ||a - b|| / ||b||: %.3g (%s; max |a - b| / max |b|: %.3g), tolerance %.3g\n",
      worst, worst_name.c_str(), worst_max, tol);
  return worst <= tol ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "collectives") return collectives();
    if (cmd == "close" && argc == 5) return compare(argv[2], argv[3], std::atof(argv[4]), false);
    if (cmd == "same" && argc == 4) return compare(argv[2], argv[3], 0, true);
    std::fprintf(stderr, "usage: ddp_check collectives | close A B TOL | same A B\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ddp_check: %s\n", e.what());
    return 1;
  }
}
