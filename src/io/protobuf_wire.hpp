#pragma once
// Protocol-buffer wire format, the small subset the event files need: varints, 32/64-bit fixed
// values and length-delimited fields (strings, bytes, sub-messages, packed doubles).
// Private to src/io; field numbers live next to the code that writes each message.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace neurona::io::wire {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// Appends fields to a message buffer. Proto3 omits default values; callers decide what to write.
class Encoder {
 public:
  void varint(uint32_t field, uint64_t value);
  void int64(uint32_t field, int64_t value) { varint(field, static_cast<uint64_t>(value)); }
  void boolean(uint32_t field, bool value) { varint(field, value ? 1 : 0); }
  void float64(uint32_t field, double value);
  void float32(uint32_t field, float value);
  void bytes(uint32_t field, std::string_view value);
  void message(uint32_t field, const Encoder& sub) { bytes(field, sub.str()); }
  void packed_float64(uint32_t field, const std::vector<double>& values);
  const std::string& str() const { return buf_; }

 private:
  void key(uint32_t field, WireType type) { raw_varint((static_cast<uint64_t>(field) << 3) | type); }
  void raw_varint(uint64_t v);
  void raw_fixed(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
  std::string buf_;
};

// One decoded field. `bytes` views the decoder's input (valid as long as it is).
struct Field {
  uint32_t number = 0;
  WireType type = kVarint;
  uint64_t varint = 0;  // kVarint value, or the raw bits of kFixed64 / kFixed32
  std::string_view bytes;

  double as_double() const;
  float as_float() const;
  int64_t as_int64() const { return static_cast<int64_t>(varint); }
};

// Walks the fields of one message; malformed input throws neurona::Error ("malformed protobuf: …").
class Decoder {
 public:
  explicit Decoder(std::string_view data) : data_(data) {}
  bool next(Field& field);  // false at the end of the message

 private:
  uint64_t raw_varint();
  std::string_view take(size_t n);
  std::string_view data_;
  size_t pos_ = 0;
};

// The values of a packed repeated field (each also accepts one unpacked element). The count is
// bounded by the field's bytes, so hostile lengths cannot allocate more than the input holds.
void append_float64s(const Field& field, std::vector<double>& out);
void append_float32s(const Field& field, std::vector<float>& out);
void append_varints(const Field& field, std::vector<int64_t>& out);  // int64, int32, uint64, bool

}  // namespace neurona::io::wire
