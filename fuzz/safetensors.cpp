// safetensors weights files (io::load_safetensors): the JSON header and the data it points at.
#include "neurona/io/safetensors.hpp"

#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path =
      neurona::fuzz::scratch_file(neurona::fuzz::as_text(data, size), "input.safetensors");
  neurona::fuzz::expect_clean([&] { neurona::io::load_safetensors(path); });
  return 0;
}
