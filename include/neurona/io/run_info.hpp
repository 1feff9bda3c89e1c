#pragma once
// Values shared by every run logger: a hyper-parameter's value and how a run ended.
#include <cstdint>
#include <string>
#include <variant>

namespace neurona::io {

// A hyper-parameter: a number, a string or a bool (what TensorBoard's HParams and MLflow accept).
// Integers convert to numbers; string literals to strings (not to bool).
class HParamValue {
 public:
  HParamValue(double v) : v_(v) {}
  HParamValue(float v) : v_(static_cast<double>(v)) {}
  HParamValue(int v) : v_(static_cast<double>(v)) {}
  HParamValue(int64_t v) : v_(static_cast<double>(v)) {}
  HParamValue(bool v) : v_(v) {}
  HParamValue(std::string v) : v_(std::move(v)) {}
  HParamValue(const char* v) : v_(std::string(v)) {}

  bool is_number() const { return std::holds_alternative<double>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  double number() const { return std::get<double>(v_); }
  const std::string& string() const { return std::get<std::string>(v_); }
  bool boolean() const { return std::get<bool>(v_); }
  // The value as text: shortest round-trip number, the string itself, "true"/"false".
  std::string str() const;

  bool operator==(const HParamValue& o) const { return v_ == o.v_; }

 private:
  std::variant<double, std::string, bool> v_;
};

// How a run ended.
enum class RunStatus { Finished, Failed, Killed };

}  // namespace neurona::io
