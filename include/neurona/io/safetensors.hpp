#pragma once
// safetensors: the weights format shared with PyTorch / Hugging Face. An 8-byte little-endian
// header length N, N bytes of JSON header (name -> dtype, shape, data_offsets, plus an optional
// "__metadata__" string map), then the raw little-endian tensor bytes.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "neurona/core/tensor.hpp"

namespace neurona::io {

// One tensor of a weights file under its state_dict name ("0.weight").
struct NamedTensor {
  std::string name;
  Tensor tensor;
  // A count kept in float32 (BatchNorm's num_batches_tracked): written as I64, as PyTorch writes
  // it. Set by the reader for tensors stored as I64 or I32.
  bool integer = false;
};

// What a safetensors file holds, tensors in the header's order.
struct SafetensorsContent {
  std::vector<NamedTensor> tensors;
  std::map<std::string, std::string> metadata;
  // For each tensor stored in another dtype than F32: "name: F64 converted to float32".
  std::vector<std::string> conversions;

  // The tensor called `name`; throws naming the missing name.
  const Tensor& at(const std::string& name) const;
};

// Writes the tensors as F32 (I64 for `integer` ones, values rounded) in the given order
// (atomically). Names must be unique and non-empty.
void save_safetensors(const std::filesystem::path& path, const std::vector<NamedTensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Reads and validates a file. F32 is read as is; F64, F16, BF16, I64 and I32 are converted to
// float32 (listed in `conversions`). Every inconsistency throws naming the file and the tensor.
SafetensorsContent load_safetensors(const std::filesystem::path& path);

}  // namespace neurona::io
