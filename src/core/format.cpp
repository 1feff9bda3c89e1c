#include "neurona/core/format.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace neurona {

std::string format_number(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string format_float(float v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string format_number(double v, int significant) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", significant, v);
  return buf;
}

std::string format_default(double v) {
  char buf[40];
  if (v == std::floor(v) && std::abs(v) < 1e15) {  // 25, 10000: not 3e+01, 1e+04
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  int precision = 1;
  for (; precision < 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  if (precision == 17) std::snprintf(buf, sizeof buf, "%.17g", v);
  // A fraction no short decimal writes (LinearLR's 1/3) reads better as one; Options reads "1/3".
  if (precision > 6) {
    for (int d = 2; d <= 12; ++d) {
      const double n = std::round(v * d);
      if (std::abs(n) < 1000 && n / d == v)
        return std::to_string(static_cast<int64_t>(n)) + "/" + std::to_string(d);
    }
  }
  // "1e-08" -> "1e-8", "1e+20" -> "1e20".
  std::string s = buf;
  const size_t e = s.find('e');
  if (e == std::string::npos) return s;
  std::string mantissa = s.substr(0, e), exponent = s.substr(e + 1);
  const bool negative = !exponent.empty() && exponent[0] == '-';
  if (!exponent.empty() && (exponent[0] == '-' || exponent[0] == '+')) exponent.erase(0, 1);
  exponent.erase(0, std::min(exponent.find_first_not_of('0'), exponent.size() - 1));
  std::string out = mantissa;
  out += negative ? "e-" : "e";
  out += exponent;
  return out;
}

}  // namespace neurona
