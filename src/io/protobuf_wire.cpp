#include "protobuf_wire.hpp"

#include <bit>
#include <cstring>

#include "neurona/core/error.hpp"

static_assert(std::endian::native == std::endian::little,
              "the protobuf encoder assumes a little-endian host");

namespace neurona::io::wire {

void Encoder::raw_varint(uint64_t v) {
  while (v >= 0x80) {
    buf_.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  buf_.push_back(static_cast<char>(v));
}

void Encoder::varint(uint32_t field, uint64_t value) {
  key(field, kVarint);
  raw_varint(value);
}

void Encoder::float64(uint32_t field, double value) {
  key(field, kFixed64);
  raw_fixed(&value, 8);
}

void Encoder::float32(uint32_t field, float value) {
  key(field, kFixed32);
  raw_fixed(&value, 4);
}

void Encoder::bytes(uint32_t field, std::string_view value) {
  key(field, kLengthDelimited);
  raw_varint(value.size());
  buf_.append(value);
}

void Encoder::packed_float64(uint32_t field, const std::vector<double>& values) {
  key(field, kLengthDelimited);
  raw_varint(values.size() * 8);
  raw_fixed(values.data(), values.size() * 8);
}

double Field::as_double() const {
  if (type == kFixed32) return as_float();
  check(type == kFixed64, "malformed protobuf: field ", number, " is not a double");
  return std::bit_cast<double>(varint);
}

float Field::as_float() const {
  check(type == kFixed32, "malformed protobuf: field ", number, " is not a float");
  return std::bit_cast<float>(static_cast<uint32_t>(varint));
}

uint64_t Decoder::raw_varint() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    check(pos_ < data_.size(), "malformed protobuf: varint runs past the end");
    auto b = static_cast<uint8_t>(data_[pos_++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  fail("malformed protobuf: varint longer than 10 bytes");
}

std::string_view Decoder::take(size_t n) {
  check(n <= data_.size() - pos_, "malformed protobuf: field of ", n, " bytes runs past the end");
  std::string_view s = data_.substr(pos_, n);
  pos_ += n;
  return s;
}

bool Decoder::next(Field& f) {
  if (pos_ >= data_.size()) return false;
  uint64_t key = raw_varint();
  f.number = static_cast<uint32_t>(key >> 3);
  f.type = static_cast<WireType>(key & 7);
  f.bytes = {};
  check(f.number != 0, "malformed protobuf: field number 0");
  switch (f.type) {
    case kVarint:
      f.varint = raw_varint();
      break;
    case kFixed64:
      std::memcpy(&f.varint, take(8).data(), 8);
      break;
    case kFixed32: {
      uint32_t v;
      std::memcpy(&v, take(4).data(), 4);
      f.varint = v;
      break;
    }
    case kLengthDelimited:
      f.bytes = take(raw_varint());
      break;
    default:
      fail("malformed protobuf: unsupported wire type ", static_cast<int>(f.type), " in field ", f.number);
  }
  return true;
}

void append_float64s(const Field& f, std::vector<double>& out) {
  if (f.type != kLengthDelimited) {
    out.push_back(f.as_double());
    return;
  }
  check(f.bytes.size() % 8 == 0, "malformed protobuf: packed doubles of ", f.bytes.size(), " bytes");
  for (size_t i = 0; i < f.bytes.size(); i += 8) {
    double d;
    std::memcpy(&d, f.bytes.data() + i, 8);
    out.push_back(d);
  }
}

void append_float32s(const Field& f, std::vector<float>& out) {
  if (f.type != kLengthDelimited) {
    out.push_back(f.as_float());
    return;
  }
  check(f.bytes.size() % 4 == 0, "malformed protobuf: packed floats of ", f.bytes.size(), " bytes");
  const size_t n = f.bytes.size() / 4, at = out.size();
  out.resize(at + n);
  if (n) std::memcpy(out.data() + at, f.bytes.data(), n * 4);
}

void append_varints(const Field& f, std::vector<int64_t>& out) {
  if (f.type == kVarint) {
    out.push_back(f.as_int64());
    return;
  }
  check(f.type == kLengthDelimited, "malformed protobuf: field ", f.number, " is not an integer (wire type ",
        static_cast<int>(f.type), ")");
  const std::string_view b = f.bytes;
  size_t pos = 0;
  while (pos < b.size()) {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      check(shift < 64, "malformed protobuf: varint longer than 10 bytes in field ", f.number);
      check(pos < b.size(), "malformed protobuf: packed varints of field ", f.number, " end inside a value");
      const auto c = static_cast<uint8_t>(b[pos++]);
      v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80)) break;
    }
    out.push_back(static_cast<int64_t>(v));
  }
}

}  // namespace neurona::io::wire
