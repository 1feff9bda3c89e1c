#pragma once
// Internals shared by src/nn: the hook summary() uses to see each layer's output, and small
// helpers for the fused kernels.
#include <cmath>
#include <string>

#include "neurona/core/error.hpp"
#include "neurona/core/tensor.hpp"
#include "neurona/nn/functional.hpp"

namespace neurona::nn {
class Module;
}

namespace neurona::nn::detail {

struct SummaryRecorder {
  virtual ~SummaryRecorder() = default;
  virtual void record(const Module* module, const Tensor& output) = 0;
};
SummaryRecorder*& summary_recorder();  // thread-local; null unless summarize() is running

// Reads a float tensor of class indices as integers, checking they are whole numbers.
int64_t class_index(float v, const char* op);

}  // namespace neurona::nn::detail
