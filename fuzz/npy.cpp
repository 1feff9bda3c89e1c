// NumPy .npy arrays (data::read_npy_array).
#include "neurona/data/npy.hpp"

#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = neurona::fuzz::scratch_file(neurona::fuzz::as_text(data, size), "input.npy");
  neurona::fuzz::expect_clean([&] { neurona::data::read_npy_array(path); });
  neurona::fuzz::expect_clean([&] { neurona::data::read_npy(path); });
  return 0;
}
