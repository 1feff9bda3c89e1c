// TensorBoard event files (io::read_event_file: TFRecord framing, Event and Summary protos) and
// the hparams plugin's payload, which the dashboard decodes.
#include "fuzz_util.hpp"
#include "neurona/io/event_reader.hpp"
#include "neurona/io/tfrecord.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = neurona::fuzz::as_text(data, size);
  const std::string path = neurona::fuzz::scratch_file(bytes, "events.out.tfevents.0.fuzz");
  neurona::fuzz::expect_clean([&] { neurona::io::read_event_file(path); });
  neurona::fuzz::expect_clean([&] { neurona::io::decode_hparams(bytes); });
  return 0;
}
