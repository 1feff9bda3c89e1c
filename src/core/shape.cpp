#include "neurona/core/shape.hpp"

#include <sstream>

#include "neurona/core/error.hpp"

namespace neurona {

void Shape::assign(const int64_t* dims, size_t n) {
  check(n <= static_cast<size_t>(kMaxRank), "Shape: ", n, " dimensions given; tensors have at most ",
        kMaxRank);
  for (size_t i = 0; i < n; ++i) dims_[i] = dims[i];
  rank_ = static_cast<int64_t>(n);
}

void Shape::out_of_range(int64_t d, const char* op) const {
  fail(op, ": dimension ", d, " is out of range for shape ", *this);
}

Around Shape::around(int64_t d, const char* op) const {
  const int64_t k = normalize(d, op);
  Around a;
  for (int64_t i = 0; i < k; ++i) a.outer *= dims_[i];
  a.n = dims_[k];
  for (int64_t i = k + 1; i < rank_; ++i) a.inner *= dims_[i];
  return a;
}

std::vector<int64_t> Shape::strides() const {
  std::vector<int64_t> s(static_cast<size_t>(rank_), 1);
  for (int64_t i = rank_ - 2; i >= 0; --i) s[i] = s[i + 1] * dims_[i + 1];
  return s;
}

std::string Shape::str() const {
  std::ostringstream os;
  os << '[';
  for (int64_t i = 0; i < rank_; ++i) os << (i ? "," : "") << dims_[i];
  os << ']';
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.str(); }

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  if (a == b) return a;
  const int64_t r = std::max(a.rank(), b.rank());
  std::vector<int64_t> out(static_cast<size_t>(r));
  for (int64_t i = 0; i < r; ++i) {
    const int64_t da = i < r - a.rank() ? 1 : a.dims()[i - (r - a.rank())];
    const int64_t db = i < r - b.rank() ? 1 : b.dims()[i - (r - b.rank())];
    check(da == db || da == 1 || db == 1, op, ": shapes ", a, " and ", b, " cannot be broadcast (dimension ",
          i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return Shape(out);
}

std::optional<uint64_t> checked_bytes(const std::vector<int64_t>& dims, uint64_t element_size) {
  uint64_t total = element_size;
  for (int64_t d : dims) {
    if (d < 0 || __builtin_mul_overflow(total, static_cast<uint64_t>(d), &total)) return std::nullopt;
  }
  return total;
}

}  // namespace neurona
