#include "neurona/io/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "neurona/core/error.hpp"
#include "neurona/io/files.hpp"

static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace neurona::io {
namespace {

using Json = nlohmann::ordered_json;

constexpr uint64_t kMaxHeader = 100u << 20;  // the reference implementation's limit

float half_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h >> 15) << 31;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf / nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else {
    // zero or subnormal: mant * 2^-24
    float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  return std::bit_cast<float>(bits);
}

template <class T>
T load_le(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Size in bytes of one element, 0 for a dtype we cannot read.
size_t dtype_size(const std::string& dtype) {
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "F64" || dtype == "I64") return 8;
  if (dtype == "F16" || dtype == "BF16") return 2;
  return 0;
}

void convert(const std::string& dtype, const char* src, int64_t n, float* dst) {
  for (int64_t i = 0; i < n; ++i) {
    if (dtype == "F32") {
      dst[i] = load_le<float>(src + 4 * i);
    } else if (dtype == "F64") {
      dst[i] = static_cast<float>(load_le<double>(src + 8 * i));
    } else if (dtype == "I64") {
      dst[i] = static_cast<float>(load_le<int64_t>(src + 8 * i));
    } else if (dtype == "I32") {
      dst[i] = static_cast<float>(load_le<int32_t>(src + 4 * i));
    } else if (dtype == "F16") {
      dst[i] = half_to_float(load_le<uint16_t>(src + 2 * i));
    } else {  // BF16: the upper half of a float32
      dst[i] = std::bit_cast<float>(static_cast<uint32_t>(load_le<uint16_t>(src + 2 * i)) << 16);
    }
  }
}

}  // namespace

const Tensor& SafetensorsContent::at(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return t.tensor;
  fail("safetensors: no tensor named '", name, "'");
}

void save_safetensors(const std::filesystem::path& path, const std::vector<NamedTensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  Json header = Json::object();
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const auto& [name, t, integer] : tensors) {
    check(!name.empty(), "cannot save '", path.string(), "': a tensor has an empty name");
    check(name != "__metadata__", "cannot save '", path.string(), "': '__metadata__' is reserved");
    check(seen.insert(name).second, "cannot save '", path.string(), "': tensor name '", name,
          "' appears twice");
    check(t.defined(), "cannot save '", path.string(), "': tensor '", name, "' is undefined");
    uint64_t bytes = static_cast<uint64_t>(t.numel()) * (integer ? 8 : 4);
    header[name] = {{"dtype", integer ? "I64" : "F32"},
                    {"shape", t.shape().dims()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;

  // Metadata from elsewhere (class names of a folder) may not be UTF-8: replaced, not thrown.
  std::string json = header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string out;
  out.reserve(8 + json.size() + offset);
  uint64_t n = json.size();
  out.append(reinterpret_cast<const char*>(&n), 8);
  out += json;
  for (const auto& nt : tensors) {
    if (!nt.integer) {
      out.append(reinterpret_cast<const char*>(nt.tensor.data()), static_cast<size_t>(nt.tensor.numel()) * 4);
      continue;
    }
    for (int64_t i = 0; i < nt.tensor.numel(); ++i) {
      const int64_t v = std::llround(nt.tensor.data()[i]);
      out.append(reinterpret_cast<const char*>(&v), 8);
    }
  }
  write_file_atomic(path, out);
}

SafetensorsContent load_safetensors(const std::filesystem::path& path) {
  const std::string file = path.string();
  const std::string bytes = read_file(path);
  check(bytes.size() >= 8, "safetensors '", file, "': file of ", bytes.size(),
        " bytes is too short for the 8-byte header length");
  uint64_t n = load_le<uint64_t>(bytes.data());
  check(n <= kMaxHeader, "safetensors '", file, "': header length ", n, " exceeds the 100 MiB limit");
  check(n <= bytes.size() - 8, "safetensors '", file, "': header length ", n, " exceeds the file size ",
        bytes.size(), " (truncated file?)");

  Json header;
  try {
    header = Json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  } catch (const Json::exception& e) {  // a syntax error, or a number too large (out_of_range)
    fail("safetensors '", file, "': invalid JSON header: ", e.what());
  }
  check(header.is_object(), "safetensors '", file, "': the JSON header is not an object");

  const char* data = bytes.data() + 8 + n;
  const uint64_t data_size = bytes.size() - 8 - n;
  SafetensorsContent out;
  struct Span {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Span> spans;

  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      check(entry.is_object(), "safetensors '", file, "': __metadata__ is not an object");
      for (const auto& [k, v] : entry.items()) {
        check(v.is_string(), "safetensors '", file, "': __metadata__ value of '", k, "' is not a string");
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    // (n: clang 14's lambdas cannot capture a structured binding itself)
    auto where = [&, &n = name] { return "safetensors '" + file + "', tensor '" + n + "': "; };
    check(entry.is_object(), where(), "entry is not an object");
    check(entry.contains("dtype") && entry["dtype"].is_string(), where(), "missing string 'dtype'");
    check(entry.contains("shape") && entry["shape"].is_array(), where(), "missing array 'shape'");
    check(entry.contains("data_offsets") && entry["data_offsets"].is_array() &&
              entry["data_offsets"].size() == 2,
          where(), "missing 'data_offsets' [begin, end]");
    const std::string dtype = entry["dtype"].get<std::string>();
    const size_t esize = dtype_size(dtype);
    check(esize != 0, where(), "unsupported dtype '", dtype, "' (readable: F32, F64, F16, BF16, I64, I32)");

    std::vector<int64_t> dims;
    for (const auto& d : entry["shape"]) {
      check(d.is_number_unsigned() && d.get<uint64_t>() <= uint64_t(INT64_MAX), where(),
            "shape entries must be non-negative integers, got ", d.dump());
      dims.push_back(d.get<int64_t>());
    }
    const std::optional<uint64_t> bytes_needed = checked_bytes(dims, esize);
    check(bytes_needed.has_value(), where(), "shape ", Shape(dims), " is too large to be a tensor");
    const uint64_t numel = *bytes_needed / esize;
    for (const auto& o : entry["data_offsets"])
      check(o.is_number_unsigned(), where(), "data_offsets must be non-negative integers, got ", o.dump());
    const uint64_t begin = entry["data_offsets"][0].get<uint64_t>();
    const uint64_t end = entry["data_offsets"][1].get<uint64_t>();
    check(begin <= end && end <= data_size, where(), "data_offsets [", begin, ", ", end,
          "] out of range of the ", data_size, "-byte data section");
    check(end - begin == numel * esize, where(), "shape ", Shape(dims), " of ", dtype, " needs ",
          numel * esize, " bytes but data_offsets span ", end - begin);

    Tensor t = Tensor::empty(Shape(dims));
    convert(dtype, data + begin, static_cast<int64_t>(numel), t.data());
    if (dtype != "F32") out.conversions.push_back(name + ": " + dtype + " converted to float32");
    out.tensors.push_back({name, t, dtype == "I64" || dtype == "I32"});
    spans.push_back({begin, end, name});
  }

  // The data section must be covered exactly, without gaps or overlaps.
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected = 0;
  for (const auto& s : spans) {
    check(s.begin == expected, "safetensors '", file, "', tensor '", s.name, "': data starts at byte ",
          s.begin, " but the previous tensor ends at ", expected, " (offsets must be contiguous)");
    expected = s.end;
  }
  check(expected == data_size, "safetensors '", file, "': tensors cover ", expected,
        " bytes but the data section has ", data_size);
  return out;
}

}  // namespace neurona::io
