#include "text_format.hpp"

#include <chrono>

#include "neurona/io/run_info.hpp"

namespace neurona::io {

std::string yaml_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string HParamValue::str() const {
  if (is_number()) return format_number(number());
  if (is_bool()) return boolean() ? "true" : "false";
  return string();
}

}  // namespace neurona::io
