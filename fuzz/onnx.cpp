// ONNX models (io::import_onnx_bytes): protobuf decoding, the graph's checks and the weights.
#include "neurona/io/onnx.hpp"

#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  neurona::fuzz::expect_clean([&] { neurona::io::import_onnx_bytes(neurona::fuzz::as_text(data, size)); });
  return 0;
}
