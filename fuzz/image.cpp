// PNG and JPEG images (data::decode_image, which goes by the magic bytes), in colour and gray.
#include <vector>

#include "fuzz_util.hpp"
#include "neurona/data/image_folder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace neurona::data;
  const std::vector<uint8_t> bytes(data, data + size);
  neurona::fuzz::expect_clean([&] { decode_image(bytes, "fuzz.img", ColorMode::RGB); });
  neurona::fuzz::expect_clean([&] { decode_image(bytes, "fuzz.img", ColorMode::Grayscale); });
  return 0;
}
