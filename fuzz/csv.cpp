// CSV tables (data::parse_csv): the first byte picks the reading options, the rest is the file.
#include "neurona/data/csv.hpp"

#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using namespace neurona::data;
  const uint8_t pick = data[0];
  CsvOptions options;
  if (pick & 1) options.target = {"y"};
  if (pick & 2) options.categorical = {"c", "y"};
  if (pick & 4) options.feature_encoding = Encoding::Index;
  options.missing = (pick & 24) == 8    ? Missing::DropRow
                    : (pick & 24) == 16 ? Missing::FillMean
                                        : Missing::Error;
  if (pick & 32) options.delimiter = (pick & 64) ? ';' : '\t';
  const std::string text(neurona::fuzz::as_text(data + 1, size - 1));
  neurona::fuzz::expect_clean([&] {
    CsvData train = parse_csv(text, "fuzz.csv", options);
    // A second file encoded with the first one's schema, as `neurona predict` reads new data.
    CsvOptions again = options;
    again.schema = &train.schema;
    parse_csv(text, "fuzz.csv", again);
  });
  return 0;
}
