// IDX files of MNIST and Fashion-MNIST (data::read_idx), plain or gzip-compressed: the reader
// decompresses whatever starts with gzip's magic, so the corpus holds both.
#include "neurona/data/idx.hpp"

#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path =
      neurona::fuzz::scratch_file(neurona::fuzz::as_text(data, size), "input-idx3-ubyte");
  neurona::fuzz::expect_clean([&] { neurona::data::read_idx(path); });
  return 0;
}
