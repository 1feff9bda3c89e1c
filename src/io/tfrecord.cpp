#include "neurona/io/tfrecord.hpp"

#include <array>
#include <cstring>

#include "neurona/core/error.hpp"
#include "neurona/io/files.hpp"

namespace neurona::io {
namespace {

std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // reflected Castagnoli
    table[i] = c;
  }
  return table;
}

uint32_t load_u32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

uint32_t crc32c(std::string_view data) {
  static const std::array<uint32_t, 256> table = make_crc32c_table();
  uint32_t c = 0xFFFFFFFFu;
  for (char ch : data) c = table[(c ^ static_cast<uint8_t>(ch)) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t mask_crc32c(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u; }

std::string frame_tfrecord(std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 16);
  uint64_t n = payload.size();
  out.append(reinterpret_cast<const char*>(&n), 8);
  uint32_t len_crc = mask_crc32c(crc32c(out));
  out.append(reinterpret_cast<const char*>(&len_crc), 4);
  out.append(payload);
  uint32_t data_crc = mask_crc32c(crc32c(payload));
  out.append(reinterpret_cast<const char*>(&data_crc), 4);
  return out;
}

TfRecordFile read_tfrecords(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  const std::string file = path.string();
  TfRecordFile out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    const size_t left = bytes.size() - pos;
    auto truncated = [&](const char* what) {
      out.warnings.push_back("event file '" + file + "': truncated record at offset " + std::to_string(pos) +
                             " (" + what + ", " + std::to_string(left) + " bytes left); skipped");
    };
    if (left < 12) {
      truncated("incomplete header");
      break;
    }
    const std::string_view len_bytes(bytes.data() + pos, 8);
    uint64_t n;
    std::memcpy(&n, len_bytes.data(), 8);
    check(load_u32(bytes.data() + pos + 8) == mask_crc32c(crc32c(len_bytes)), "event file '", file,
          "': length CRC mismatch in the record at offset ", pos);
    if (left < 16 || n > left - 16) {
      truncated("incomplete payload");
      break;
    }
    const std::string_view payload(bytes.data() + pos + 12, n);
    check(load_u32(bytes.data() + pos + 12 + n) == mask_crc32c(crc32c(payload)), "event file '", file,
          "': data CRC mismatch in the record at offset ", pos);
    out.records.push_back({pos, std::string(payload)});
    pos += 16 + n;
  }
  return out;
}

}  // namespace neurona::io
