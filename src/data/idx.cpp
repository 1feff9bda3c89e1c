#include "neurona/data/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "neurona/core/error.hpp"

namespace neurona::data {
namespace {

constexpr uint32_t kImageMagic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr uint32_t kLabelMagic = 0x00000801;  // unsigned bytes, 1 dimension

struct IdxRaw {
  uint32_t magic = 0;
  int type_size = 0;
  std::vector<int64_t> dims;
  std::vector<uint8_t> bytes;  // whole file
  size_t data_offset = 0;
};

std::string hex(uint32_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << std::setw(8) << std::setfill('0') << v;
  return os.str();
}

uint32_t be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

// An IDX file open for reading, decompressed on the fly when it is gzip (zlib reads plain files
// unchanged). Reads are bounded by what the caller asks for, so a small gzip file that inflates
// to gigabytes (a "zip bomb") is read only as far as its header says it holds.
class IdxStream {
 public:
  explicit IdxStream(const std::string& path) : path_(path) {
    check(!std::filesystem::is_directory(path), path, ": is a directory, not an IDX file");
    check(std::filesystem::is_regular_file(path), path, ": no such file");
    f_ = gzopen(path.c_str(), "rb");
    check(f_ != nullptr, path, ": cannot open file");
  }
  ~IdxStream() { gzclose(f_); }
  // The most bytes a gzip file can inflate to: deflate's largest ratio (1032:1) times its size
  // (no limit for a plain file: reading it is bounded by its size anyway).
  uint64_t capacity() const {
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(path_, ec);
    return gzdirect(f_) ? UINT64_MAX : size * 1032 + 1024;
  }
  IdxStream(const IdxStream&) = delete;
  IdxStream& operator=(const IdxStream&) = delete;

  // Appends up to `n` more bytes to `out`; fewer only at the end of the data.
  void read(std::vector<uint8_t>& out, uint64_t n) {
    uint8_t buf[1 << 16];
    while (n > 0) {
      const int got = gzread(f_, buf, static_cast<unsigned>(std::min<uint64_t>(n, sizeof buf)));
      if (got < 0) {
        int code = 0;
        fail(path_, ": corrupt or truncated gzip data (", gzerror(f_, &code), ")");
      }
      if (got == 0) return;
      out.insert(out.end(), buf, buf + got);
      n -= static_cast<uint64_t>(got);
    }
  }

 private:
  std::string path_;
  gzFile f_;
};

int type_size(uint8_t code) {
  switch (code) {
    case 0x08:
    case 0x09:
      return 1;
    case 0x0B:
      return 2;
    case 0x0C:
    case 0x0D:
      return 4;
    case 0x0E:
      return 8;
    default:
      return 0;
  }
}

IdxRaw read_raw(const std::string& path) {
  IdxRaw raw;
  IdxStream in(path);
  auto& b = raw.bytes;
  in.read(b, 4);
  check(b.size() >= 4, path, ": truncated IDX file: ", b.size(), " bytes, too short for the magic number");
  raw.magic = be32(b.data());
  check(b[0] == 0 && b[1] == 0 && b[3] >= 1, path, ": not an IDX file: magic number ", hex(raw.magic),
        " (expected two zero bytes, a type code and the number of dimensions, e.g. ", hex(kImageMagic),
        " for images)");
  raw.type_size = type_size(b[2]);
  check(raw.type_size > 0, path, ": IDX magic number ", hex(raw.magic), " has unknown type code 0x", std::hex,
        int(b[2]));
  const size_t ndims = b[3];
  raw.data_offset = 4 + 4 * ndims;
  in.read(b, 4 * ndims);
  check(b.size() >= raw.data_offset, path, ": truncated IDX file: the header of ", ndims,
        " dimensions needs ", raw.data_offset, " bytes, the file has ", b.size());
  for (size_t d = 0; d < ndims; ++d) raw.dims.push_back(be32(b.data() + 4 + 4 * d));
  const std::optional<uint64_t> bytes_needed = checked_bytes(raw.dims, static_cast<uint64_t>(raw.type_size));
  check(bytes_needed.has_value(), path, ": IDX dimensions ", Shape(raw.dims),
        " are too large to be an array");
  const size_t need = static_cast<size_t>(*bytes_needed);
  check(need <= in.capacity(), path, ": truncated IDX file: dimensions ", Shape(raw.dims), " need ", need,
        " data bytes, more than a gzip file of this size can hold");
  in.read(b, need + 1);  // one byte more tells a file with data after the array
  const size_t have = b.size() - raw.data_offset;
  check(have >= need, path, ": truncated IDX file: dimensions ", Shape(raw.dims), " need ", need,
        " data bytes, found ", have);
  check(have == need, path, ": IDX file has more bytes after the data of dimensions ", Shape(raw.dims));
  return raw;
}

Tensor to_float(const IdxRaw& raw, double scale) {
  Tensor t = Tensor::empty(Shape(raw.dims));
  float* out = t.data();
  const uint8_t* p = raw.bytes.data() + raw.data_offset;
  const int64_t n = t.numel();
  const uint8_t code = raw.bytes[2];
  for (int64_t i = 0; i < n; ++i, p += raw.type_size) {
    double v = 0;
    switch (code) {
      case 0x08:
        v = p[0];
        break;
      case 0x09:
        v = static_cast<int8_t>(p[0]);
        break;
      case 0x0B:
        v = static_cast<int16_t>((p[0] << 8) | p[1]);
        break;
      case 0x0C:
        v = static_cast<int32_t>(be32(p));
        break;
      case 0x0D: {
        const uint32_t bits = be32(p);
        float f;
        std::memcpy(&f, &bits, 4);
        v = f;
        break;
      }
      case 0x0E: {
        const uint64_t bits = (uint64_t(be32(p)) << 32) | be32(p + 4);
        std::memcpy(&v, &bits, 8);
        break;
      }
    }
    out[i] = static_cast<float>(v * scale);
  }
  return t;
}

void expect_magic(const IdxRaw& raw, uint32_t magic, const std::string& path, const char* what) {
  check(raw.magic == magic, path, ": expected an IDX ", what, " file (magic ", hex(magic),
        ") but found magic ", hex(raw.magic));
}

std::string find_file(const std::string& dir, const std::string& stem) {
  for (const char* suffix : {"", ".gz"}) {
    const auto p = std::filesystem::path(dir) / (stem + suffix);
    if (std::filesystem::is_regular_file(p)) return p.string();
  }
  for (const char* suffix : {"", ".gz"}) {  // there, but not a file: say so rather than "missing"
    const auto p = std::filesystem::path(dir) / (stem + suffix);
    check(!std::filesystem::is_directory(p), p.string(), ": is a directory, not an IDX file");
  }
  fail(dir, ": missing ", stem, " (or ", stem, ".gz)");
}

}  // namespace

Tensor read_idx(const std::string& path) { return to_float(read_raw(path), 1.f); }

ImageSet read_idx_images(const std::string& images_path, const std::string& labels_path,
                         const ImageOptions& options) {
  const IdxRaw images = read_raw(images_path);
  expect_magic(images, kImageMagic, images_path, "image");
  const IdxRaw labels = read_raw(labels_path);
  expect_magic(labels, kLabelMagic, labels_path, "label");
  check(images.dims[0] == labels.dims[0], images_path, " holds ", images.dims[0], " images but ", labels_path,
        " holds ", labels.dims[0], " labels");
  ImageSet set;
  set.images = to_float(images, options.rescale);
  const int64_t n = images.dims[0], h = images.dims[1], w = images.dims[2];
  set.images = options.flatten ? set.images.reshape(Shape{n, h * w}) : set.images.reshape(Shape{n, 1, h, w});
  set.labels = to_float(labels, 1.f);
  return set;
}

MnistData load_mnist(const std::string& dir, const ImageOptions& options) {
  check(std::filesystem::is_directory(dir), dir, ": no such directory");
  MnistData d;
  d.train = read_idx_images(find_file(dir, "train-images-idx3-ubyte"),
                            find_file(dir, "train-labels-idx1-ubyte"), options);
  d.test = read_idx_images(find_file(dir, "t10k-images-idx3-ubyte"), find_file(dir, "t10k-labels-idx1-ubyte"),
                           options);
  return d;
}

std::string fashion_mnist_default_dir() {
  if (const char* env = std::getenv("NEURONA_FASHION_MNIST"); env && *env) return env;
  const std::string debian = "/usr/share/datasets/fashion-mnist";
  if (std::filesystem::exists(debian + "/train-images-idx3-ubyte.gz") ||
      std::filesystem::exists(debian + "/train-images-idx3-ubyte"))
    return debian;
  return "";
}

MnistData load_fashion_mnist(const std::string& dir, const ImageOptions& options) {
  const std::string where = dir.empty() ? fashion_mnist_default_dir() : dir;
  check(!where.empty(),
        "Fashion-MNIST not found: install Debian's dataset-fashion-mnist "
        "(apt-get install dataset-fashion-mnist, files in /usr/share/datasets/fashion-mnist), or point "
        "NEURONA_FASHION_MNIST or --data at a directory holding the four IDX files");
  return load_mnist(where, options);
}

const std::vector<std::string>& fashion_mnist_classes() {
  static const std::vector<std::string> names{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

}  // namespace neurona::data
