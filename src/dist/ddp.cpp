#include "neurona/dist/ddp.hpp"

#include <algorithm>
#include <cstring>

#include "neurona/core/error.hpp"

namespace neurona::dist {

GradientReducer::GradientReducer(Communicator& comm, double bucket_cap_mb)
    : comm_(comm),
      cap_(std::max<int64_t>(1, static_cast<int64_t>(bucket_cap_mb * 1024 * 1024 / sizeof(float)))) {
  check(bucket_cap_mb > 0, "GradientReducer: bucket_cap_mb must be > 0, got ", bucket_cap_mb);
}

void GradientReducer::average(const std::vector<Tensor>& params, std::vector<float>& flags) {
  std::vector<Tensor> ps;
  for (auto it = params.rbegin(); it != params.rend(); ++it)
    if (it->defined() && it->requires_grad()) ps.push_back(*it);
  const float scale = 1.0f / static_cast<float>(comm_.size());
  buckets_ = 0;
  size_t first = 0;
  while (first < ps.size() || (first == ps.size() && buckets_ == 0)) {
    // One bucket: parameters [first, last), at least one, until the cap is reached.
    size_t last = first;
    int64_t n = 0;
    while (last < ps.size() && (n == 0 || n + ps[last].numel() <= cap_)) n += ps[last++].numel();
    const bool final_bucket = last == ps.size();
    const int64_t total = n + (final_bucket ? static_cast<int64_t>(flags.size()) : 0);
    buffer_.resize(static_cast<size_t>(total));
    int64_t off = 0;
    for (size_t i = first; i < last; ++i) {
      const Tensor g = ps[i].grad();
      const int64_t k = ps[i].numel();
      if (g.defined())
        std::memcpy(buffer_.data() + off, g.data(), sizeof(float) * static_cast<size_t>(k));
      else
        std::fill_n(buffer_.data() + off, k, 0.0f);
      off += k;
    }
    if (final_bucket) std::copy(flags.begin(), flags.end(), buffer_.begin() + off);
    if (comm_.size() > 1) comm_.allreduce_sum(buffer_.data(), total);
    ++buckets_;
    off = 0;
    for (size_t i = first; i < last; ++i) {
      Tensor g = ps[i].grad();
      const int64_t k = ps[i].numel();
      if (!g.defined()) {
        g = Tensor::zeros(ps[i].shape());
        ps[i].set_grad(g);
      }
      float* d = g.data();
      for (int64_t j = 0; j < k; ++j) d[j] = buffer_[static_cast<size_t>(off + j)] * scale;
      off += k;
    }
    if (final_bucket) std::copy(buffer_.begin() + off, buffer_.end(), flags.begin());
    first = last;
    if (final_bucket) break;
  }
}

void broadcast_module(Communicator& comm, nn::Module& module, int root, bool parameters) {
  if (comm.size() == 1) return;
  std::vector<Tensor> ts;
  if (parameters)
    for (auto& [name, p] : module.named_parameters()) ts.push_back(p);
  for (auto& [name, b] : module.named_buffers()) ts.push_back(b);
  int64_t n = 0;
  for (const auto& t : ts) n += t.numel();
  if (n == 0) return;
  std::vector<float> buf(static_cast<size_t>(n));
  int64_t off = 0;
  for (auto& t : ts) {
    std::memcpy(buf.data() + off, t.data(), sizeof(float) * static_cast<size_t>(t.numel()));
    off += t.numel();
  }
  comm.broadcast(buf.data(), n, root);
  off = 0;
  for (auto& t : ts) {
    std::memcpy(t.data(), buf.data() + off, sizeof(float) * static_cast<size_t>(t.numel()));
    off += t.numel();
  }
}

uint64_t fingerprint(const nn::Module& module) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a over the bytes
  auto add = [&](const Tensor& t) {
    const auto* p = reinterpret_cast<const unsigned char*>(t.data());
    const size_t bytes = sizeof(float) * static_cast<size_t>(t.numel());
    for (size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ULL;
  };
  for (const auto& [name, p] : module.named_parameters()) add(p);
  for (const auto& [name, b] : module.named_buffers()) add(b);
  return h;
}

bool replicas_identical(Communicator& comm, const nn::Module& module) {
  if (comm.size() == 1) return true;
  const uint64_t mine = fingerprint(module);
  // Two 32-bit halves travel exactly as doubles.
  double root[2] = {static_cast<double>(mine >> 32), static_cast<double>(mine & 0xffffffffULL)};
  comm.broadcast(root, 2);
  double differ =
      (root[0] == static_cast<double>(mine >> 32) && root[1] == static_cast<double>(mine & 0xffffffffULL))
          ? 0.0
          : 1.0;
  comm.allreduce_sum(&differ, 1);
  return differ == 0;
}

}  // namespace neurona::dist
