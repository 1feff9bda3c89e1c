#pragma once
// Shape: the sizes of a tensor's dimensions, row-major.
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

namespace neurona {

class Shape {
public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) : dims_(dims) {}
  explicit Shape(std::vector<int64_t> dims) : dims_(std::move(dims)) {}

  int64_t rank() const { return static_cast<int64_t>(dims_.size()); }
  int64_t numel() const;
  // Size of dimension d; negative d counts from the end (-1 is the last).
  int64_t operator[](int64_t d) const { return dims_[static_cast<size_t>(normalize(d))]; }
  int64_t& operator[](int64_t d) { return dims_[static_cast<size_t>(normalize(d))]; }
  // Turns a possibly negative dimension index into 0..rank-1, or throws naming `op`.
  int64_t normalize(int64_t d, const char* op = "dim") const;

  const std::vector<int64_t>& dims() const { return dims_; }
  std::vector<int64_t> strides() const;  // contiguous row-major strides in elements
  std::string str() const;               // "[32,784]"

  bool operator==(const Shape& o) const { return dims_ == o.dims_; }
  bool operator!=(const Shape& o) const { return dims_ != o.dims_; }

private:
  std::vector<int64_t> dims_;
};

std::ostream& operator<<(std::ostream& os, const Shape& s);

// NumPy broadcasting of two shapes; throws naming `op` when they are incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace neurona
