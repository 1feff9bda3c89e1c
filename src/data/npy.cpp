#include "neurona/data/npy.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "neurona/core/error.hpp"

namespace neurona::data {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

// The text after `'key':` in the header dictionary, up to the value's end.
std::string header_value(const std::string& header, const std::string& key, const std::string& path) {
  const auto k = header.find("'" + key + "'");
  check(k != std::string::npos, path, ": .npy header has no '", key, "': ", header);
  auto v = header.find(':', k);
  check(v != std::string::npos, path, ": malformed .npy header: ", header);
  ++v;
  while (v < header.size() && header[v] == ' ') ++v;
  size_t end;
  if (header[v] == '(') {
    end = header.find(')', v);
    check(end != std::string::npos, path, ": malformed shape in .npy header: ", header);
    ++end;
  } else if (header[v] == '\'') {
    end = header.find('\'', v + 1);
    check(end != std::string::npos, path, ": malformed .npy header: ", header);
    ++end;
  } else {
    end = header.find_first_of(",}", v);
  }
  return header.substr(v, end - v);
}

std::vector<int64_t> parse_shape(const std::string& text, const std::string& path) {
  std::vector<int64_t> dims;
  check(text.size() >= 2 && text.front() == '(' && text.back() == ')', path,
        ": malformed shape in .npy header (expected a tuple such as (3, 4)): ", text);
  std::string inner = text.substr(1, text.size() - 2);
  std::stringstream ss(inner);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.find_first_not_of(' ') == std::string::npos) continue;
    try {
      size_t used = 0;
      const int64_t d = std::stoll(item, &used);
      if (d < 0 || item.find_first_not_of(' ', used) != std::string::npos) throw std::invalid_argument(item);
      dims.push_back(d);
    } catch (const std::exception&) {
      fail(path, ": bad dimension '", item, "' in .npy shape ", text);
    }
  }
  return dims;
}

template <class T>
void convert(const char* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, src + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
    dst[i] = static_cast<float>(v);
  }
}

}  // namespace

Tensor read_npy(const std::string& path) { return read_npy_array(path).data; }

NpyArray read_npy_array(const std::string& path) {
  // A directory opens as a stream whose first read throws a bare std::ios_base::failure.
  std::error_code ec;
  const auto type = std::filesystem::status(path, ec).type();
  check(type != std::filesystem::file_type::not_found, path, ": cannot open file: no such file");
  check(type != std::filesystem::file_type::directory, path,
        ": cannot open file: it is a directory, not a .npy file");
  std::ifstream in(path, std::ios::binary);
  check(in.good(), path, ": cannot open file");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  check(bytes.size() >= 10 && bytes.compare(0, 6, kMagic, 6) == 0, path,
        ": not a .npy file (it must start with \\x93NUMPY)");
  const int major = static_cast<uint8_t>(bytes[6]);
  check(major >= 1 && major <= 3, path, ": unsupported .npy format version ", major, ".",
        int(static_cast<uint8_t>(bytes[7])));
  const size_t len_bytes = major == 1 ? 2 : 4;
  check(bytes.size() >= 8 + len_bytes, path, ": truncated .npy header");
  size_t header_len = 0;
  for (size_t i = 0; i < len_bytes; ++i) header_len |= size_t(static_cast<uint8_t>(bytes[8 + i])) << (8 * i);
  const size_t data_start = 8 + len_bytes + header_len;
  check(bytes.size() >= data_start, path, ": truncated .npy header (", header_len, " bytes announced)");
  const std::string header = bytes.substr(8 + len_bytes, header_len);

  const std::string descr = header_value(header, "descr", path);
  const std::string fortran = header_value(header, "fortran_order", path);
  const std::vector<int64_t> dims = parse_shape(header_value(header, "shape", path), path);
  check(fortran != "True", path,
        ": Fortran-order arrays are not supported; save with "
        "numpy.ascontiguousarray(a) first");
  int64_t size = 0;
  if (descr == "'<f4'")
    size = 4;
  else if (descr == "'<f8'")
    size = 8;
  else if (descr == "'|u1'" || descr == "'<u1'")
    size = 1;
  else if (descr == "'<i8'")
    size = 8;
  else
    fail(path, ": unsupported .npy dtype ", descr,
         " (supported: '<f4' float32, '<f8' float64, "
         "'|u1' uint8, '<i8' int64)");

  const std::optional<uint64_t> bytes_needed = checked_bytes(dims, static_cast<uint64_t>(size));
  check(bytes_needed.has_value(), path, ": .npy shape ", header_value(header, "shape", path),
        " is too large to be an array");
  const size_t need = static_cast<size_t>(*bytes_needed);
  check(bytes.size() - data_start >= need, path, ": truncated .npy data: shape ", Shape(dims), " needs ",
        need, " bytes, found ", bytes.size() - data_start);
  Tensor t = Tensor::empty(Shape(dims));  // only once the file is known to hold its data
  const int64_t n = t.numel();
  const char* src = bytes.data() + data_start;
  std::string dtype;
  if (descr == "'<f4'") {
    convert<float>(src, t.data(), n);
    dtype = "float32";
  } else if (descr == "'<f8'") {
    convert<double>(src, t.data(), n);
    dtype = "float64";
  } else if (size == 1) {
    convert<uint8_t>(src, t.data(), n);
    dtype = "uint8";
  } else {
    convert<int64_t>(src, t.data(), n);
    dtype = "int64";
  }
  return {t, dtype};
}

void write_npy(const std::string& path, const Tensor& t) {
  check(t.defined(), "write_npy(", path, "): undefined tensor");
  std::string shape_text = "(";
  for (int64_t i = 0; i < t.dim(); ++i) shape_text += (i ? ", " : "") + std::to_string(t.size(i));
  shape_text += t.dim() == 1 ? ",)" : ")";  // Python's one-element tuple
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_text + ", }";
  // Pad with spaces so that the data starts on a 64-byte boundary, ending the header with '\n'.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';

  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    check(out.good(), path, ": cannot write (opening ", tmp, ")");
    out.write(kMagic, 6);
    const char version[2] = {1, 0};
    out.write(version, 2);
    const uint16_t len = static_cast<uint16_t>(header.size());
    const char len_bytes[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
    out.write(len_bytes, 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(t.data()),
              static_cast<std::streamsize>(t.numel() * sizeof(float)));
    out.flush();
    if (!out.good()) {
      out.close();
      std::remove(tmp.c_str());
      fail(path, ": write failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail(path, ": cannot rename ", tmp, " into place: ", ec.message());
  }
}

}  // namespace neurona::data
