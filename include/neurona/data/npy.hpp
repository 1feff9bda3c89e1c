#pragma once
// NumPy .npy files, for exchanging arrays with Python users.
#include <string>

#include "neurona/core/tensor.hpp"

namespace neurona::data {

// Reads a C-order array of float32, float64, uint8 or int64 (little-endian) as float32.
// Fortran order, other dtypes, bad headers and short data are errors naming the file.
Tensor read_npy(const std::string& path);

// The same with the dtype the file stored: "float32", "float64", "uint8" or "int64" (image
// arrays of uint8 are rescaled to [0, 1] by the config reader, float ones are not).
struct NpyArray {
  Tensor data;
  std::string dtype;
};
NpyArray read_npy_array(const std::string& path);

// Writes `t` as float32 (format version 1.0, C order) through a temporary file and a rename.
void write_npy(const std::string& path, const Tensor& t);

}  // namespace neurona::data
