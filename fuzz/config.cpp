// Config files of the `neurona` command (app::parse_config, YAML or JSON, through the whole schema
// check), then the training objects that come from the config alone: optimizer, loss, callbacks.
#include "neurona/app/config.hpp"

#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace neurona::app;
  const std::string text(neurona::fuzz::as_text(data, size));
  neurona::fuzz::expect_clean([&] {
    const Config config = parse_config(text, "fuzz.yaml");
    if (config.compile.param_groups.empty()) compile_options(config);
    make_callbacks(config);
  });
  return 0;
}
