#pragma once
// TFRecord framing, the container of TensorBoard event files. Each record is
//   uint64 length | uint32 masked CRC32C(length bytes) | payload | uint32 masked CRC32C(payload)
// all little-endian.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace neurona::io {

// CRC-32C (Castagnoli): crc32c("123456789") == 0xE3069283.
uint32_t crc32c(std::string_view data);
// TFRecord's mask: rotate the CRC right by 15 bits and add 0xA282EAD8.
uint32_t mask_crc32c(uint32_t crc);

// The framed bytes of one record.
std::string frame_tfrecord(std::string_view payload);

struct TfRecord {
  uint64_t offset = 0;  // byte offset of the record's header in the file
  std::string payload;
};

struct TfRecordFile {
  std::vector<TfRecord> records;
  // A truncated last record (a writer killed mid-write, or a file still growing) ends the read
  // with a message here instead of an error.
  std::vector<std::string> warnings;
};

// Reads every record, checking both CRCs. A CRC mismatch in a complete record throws
// neurona::Error naming the file and the record's offset.
TfRecordFile read_tfrecords(const std::filesystem::path& path);

}  // namespace neurona::io
