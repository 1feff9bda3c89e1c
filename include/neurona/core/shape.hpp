#pragma once
// Shape: the sizes of a tensor's dimensions, row-major. The sizes are stored inline (at most
// kMaxRank of them), so making, copying and comparing a shape never touches the heap — every op
// builds one or more.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace neurona {

// A shape's sizes as a read-only contiguous range; converts to std::vector where one is needed.
// It points into its Shape, so it must not outlive it.
class Dims {
 public:
  using value_type = int64_t;
  using iterator = const int64_t*;
  using const_iterator = const int64_t*;
  Dims(const int64_t* p, size_t n) : p_(p), n_(n) {}
  const int64_t* begin() const { return p_; }
  const int64_t* end() const { return p_ + n_; }
  const int64_t* data() const { return p_; }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  int64_t operator[](size_t i) const { return p_[i]; }
  int64_t front() const { return p_[0]; }
  int64_t back() const { return p_[n_ - 1]; }
  operator std::vector<int64_t>() const { return std::vector<int64_t>(p_, p_ + n_); }

 private:
  const int64_t* p_;
  size_t n_;
};

// A shape seen as [outer, n, inner] around one dimension: the loops of softmax, reductions, batch
// norm (N, C, L) and the class-index losses (N, C).
struct Around {
  int64_t outer = 1, n = 1, inner = 1;
};

class Shape {
 public:
  static constexpr int64_t kMaxRank = 8;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) { assign(dims.begin(), dims.size()); }
  explicit Shape(const std::vector<int64_t>& dims) { assign(dims.data(), dims.size()); }

  int64_t rank() const { return rank_; }
  int64_t numel() const {
    // Unsigned, whose products wrap instead of overflowing: a zero dimension after huge ones (an
    // empty IDX array of [778, 8, 71303168, 35717120, 0]) gives 0 as it must. Shapes whose
    // product does not fit are refused where they are read.
    uint64_t n = 1;
    for (int64_t i = 0; i < rank_; ++i) n *= static_cast<uint64_t>(dims_[i]);
    return static_cast<int64_t>(n);
  }
  // Size of dimension d; negative d counts from the end (-1 is the last).
  int64_t operator[](int64_t d) const { return dims_[normalize(d)]; }
  int64_t& operator[](int64_t d) { return dims_[normalize(d)]; }
  // Turns a possibly negative dimension index into 0..rank-1, or throws naming `op`.
  int64_t normalize(int64_t d, const char* op = "dim") const {
    const int64_t n = d < 0 ? d + rank_ : d;
    if (n < 0 || n >= rank_) out_of_range(d, op);
    return n;
  }

  // The sizes before `d` multiplied, the size of `d`, the sizes after it multiplied.
  Around around(int64_t d, const char* op = "dim") const;

  Dims dims() const { return Dims(dims_, static_cast<size_t>(rank_)); }
  std::vector<int64_t> strides() const;  // contiguous row-major strides in elements
  std::string str() const;               // "[32,784]"

  bool operator==(const Shape& o) const {
    if (rank_ != o.rank_) return false;
    for (int64_t i = 0; i < rank_; ++i)
      if (dims_[i] != o.dims_[i]) return false;
    return true;
  }
  bool operator!=(const Shape& o) const { return !(*this == o); }

 private:
  void assign(const int64_t* dims, size_t n);  // throws beyond kMaxRank
  [[noreturn]] void out_of_range(int64_t d, const char* op) const;
  int64_t dims_[kMaxRank] = {};
  int64_t rank_ = 0;
};

std::ostream& operator<<(std::ostream& os, const Shape& s);

// NumPy broadcasting of two shapes; throws naming `op` when they are incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// The bytes an array of these sizes takes at `element_size` bytes per element, or nullopt when a
// size is negative or the product overflows 64 bits. File readers compare it with the bytes the
// file really has before allocating anything.
std::optional<uint64_t> checked_bytes(const std::vector<int64_t>& dims, uint64_t element_size);

}  // namespace neurona
