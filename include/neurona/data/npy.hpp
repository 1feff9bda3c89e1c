#pragma once
// NumPy .npy files, for exchanging arrays with Python users.
#include <string>

#include "neurona/core/tensor.hpp"

namespace neurona::data {

// Reads a C-order array of float32, float64, uint8 or int64 (little-endian) as float32.
// Fortran order, other dtypes, bad headers and short data are errors naming the file.
Tensor read_npy(const std::string& path);

// Writes `t` as float32 (format version 1.0, C order) through a temporary file and a rename.
void write_npy(const std::string& path, const Tensor& t);

}  // namespace neurona::data
