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

size_t invalid_utf8_at(std::string_view text) {
  const auto* b = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    const unsigned c = b[i];
    size_t len = 0;
    unsigned lo = 0x80, hi = 0xBF;  // the allowed range of the second byte (RFC 3629's table)
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // no overlong forms
      if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
    } else {
      return i;
    }
    if (i + len > n || b[i + 1] < lo || b[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k)
      if (b[i + k] < 0x80 || b[i + k] > 0xBF) return i;
    i += len;
  }
  return std::string_view::npos;
}

std::string describe_position(std::string_view text, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  static const char* hex = "0123456789ABCDEF";
  const auto byte = offset < text.size() ? static_cast<unsigned char>(text[offset]) : 0u;
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + " (byte 0x" +
         hex[byte >> 4] + hex[byte & 15] + ")";
}

}  // namespace neurona
