#pragma once
// Data-parallel training's pieces over a Communicator: the parameters and buffers of rank 0 on
// every rank, gradients averaged across ranks in buckets, and a fingerprint of the weights that
// shows the replicas are the same. train::Trainer uses them for `strategy: ddp`.
#include <cstdint>
#include <vector>

#include "neurona/core/tensor.hpp"
#include "neurona/dist/communicator.hpp"
#include "neurona/nn/module.hpp"

namespace neurona::dist {

// PyTorch DDP's default bucket size (bucket_cap_mb).
inline constexpr double kDefaultBucketCapMb = 25;

// Averages gradients across the ranks. The parameters are taken in reverse order — the order
// backward finishes them — and packed into buckets of about `bucket_cap_mb` MiB; each bucket is
// one ring allreduce (Communicator::allreduce_sum), so the reduction order is fixed and every
// rank ends with the same gradients bit for bit.
class GradientReducer {
 public:
  explicit GradientReducer(Communicator& comm, double bucket_cap_mb = kDefaultBucketCapMb);

  // Replaces the gradient of each parameter that requires one by its mean over the ranks; a
  // parameter without a gradient on this rank contributes zeros (and gets the mean). `flags` are
  // summed over the ranks in the same exchange (the last bucket carries them): signals such as
  // "this rank has gradients" or "this rank asks to stop" cost no extra round trip.
  void average(const std::vector<Tensor>& params, std::vector<float>& flags);

  int64_t buckets_last_step() const { return buckets_; }
  int64_t bucket_cap_elements() const { return cap_; }

 private:
  Communicator& comm_;
  int64_t cap_;
  int64_t buckets_ = 0;
  std::vector<float> buffer_;
};

// Copies rank `root`'s parameters and buffers (running statistics) to every rank; with
// `parameters` false, the buffers only.
void broadcast_module(Communicator& comm, nn::Module& module, int root = 0, bool parameters = true);

// A 64-bit hash of the bits of every parameter and buffer, in state_dict order.
uint64_t fingerprint(const nn::Module& module);

// Whether every rank holds the same weights as rank 0 (compares fingerprints; every rank calls it).
bool replicas_identical(Communicator& comm, const nn::Module& module);

}  // namespace neurona::dist
