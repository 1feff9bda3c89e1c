// Matrix products on the GEMM kernel; the backward uses transposed GEMMs, never explicit copies.
#include "neurona/autograd/node.hpp"
#include "neurona/core/error.hpp"
#include "neurona/core/kernels.hpp"

namespace neurona {

using autograd::Grads;
using autograd::record;

namespace {

// Batched C[b] = op(A[b]) * op(B[b]); a batch stride of 0 reuses one matrix for every b.
void batched_gemm(bool ta, bool tb, int64_t batch, int64_t M, int64_t N, int64_t K, const float* A,
                  int64_t strideA, const float* B, int64_t strideB, float beta, float* C) {
  for (int64_t i = 0; i < batch; ++i)
    kernels::gemm(ta, tb, M, N, K, 1.f, A + i * strideA, ta ? M : K, B + i * strideB, tb ? K : N, beta,
                  C + i * M * N, N);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  const Shape& as = a.shape();
  const Shape& bs = b.shape();
  check((as.rank() == 2 || as.rank() == 3) && (bs.rank() == 2 || bs.rank() == 3) &&
            !(as.rank() == 2 && bs.rank() == 3),
        "matmul: ", as, " x ", bs, ": expected [n,k] x [k,m], [b,n,k] x [b,k,m] or [b,n,k] x [k,m]");
  const int64_t n = as[-2], k = as[-1], k2 = bs[-2], m = bs[-1];
  check(k == k2, "matmul: ", as, " x ", bs, ": inner dimensions ", k, " and ", k2, " differ");
  const int64_t batch = as.rank() == 3 ? as[0] : 1;
  if (bs.rank() == 3)
    check(bs[0] == batch, "matmul: ", as, " x ", bs, ": batch sizes ", batch, " and ", bs[0], " differ");
  const bool shared_b = bs.rank() == 2;

  Tensor out = Tensor::empty(as.rank() == 3 ? Shape{batch, n, m} : Shape{n, m});
  batched_gemm(false, false, batch, n, m, k, a.data(), n * k, b.data(), shared_b ? 0 : k * m, 0.f,
               out.data());

  return record(out, "matmul", {a, b}, [a, b, batch, n, k, m, shared_b](const Tensor& g, Grads& gr) {
    if (gr.needs(0)) {  // dA = dC * B^T
      Tensor ga = Tensor::empty(a.shape());
      batched_gemm(false, true, batch, n, k, m, g.data(), n * m, b.data(), shared_b ? 0 : k * m, 0.f,
                   ga.data());
      gr[0] = ga;
    }
    if (gr.needs(1)) {  // dB = A^T * dC, summed over the batch when B is shared
      Tensor gb = Tensor::zeros(b.shape());
      if (shared_b) {
        kernels::gemm(true, false, k, m, batch * n, 1.f, a.data(), k, g.data(), m, 0.f, gb.data(), m);
      } else {
        batched_gemm(true, false, batch, k, m, n, a.data(), n * k, g.data(), n * m, 0.f, gb.data());
      }
      gr[1] = gb;
    }
  });
}

}  // namespace neurona
