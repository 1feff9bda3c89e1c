#include "neurona/core/shape.hpp"

#include <sstream>

#include "neurona/core/error.hpp"

namespace neurona {

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int64_t d : dims_) n *= d;
  return n;
}

int64_t Shape::normalize(int64_t d, const char* op) const {
  const int64_t r = rank();
  const int64_t n = d < 0 ? d + r : d;
  check(n >= 0 && n < r, op, ": dimension ", d, " is out of range for shape ", *this);
  return n;
}

std::vector<int64_t> Shape::strides() const {
  std::vector<int64_t> s(dims_.size(), 1);
  for (int64_t i = rank() - 2; i >= 0; --i) s[i] = s[i + 1] * dims_[i + 1];
  return s;
}

std::string Shape::str() const {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < dims_.size(); ++i) os << (i ? "," : "") << dims_[i];
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
    check(da == db || da == 1 || db == 1, op, ": shapes ", a, " and ", b,
          " cannot be broadcast (dimension ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return Shape(std::move(out));
}

}  // namespace neurona
