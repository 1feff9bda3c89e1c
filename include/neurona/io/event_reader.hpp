#pragma once
// Reads TensorBoard event files back (tests, the dashboard): every record's CRCs are checked and
// the parts of Event that SummaryWriter writes are decoded.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "neurona/io/run_info.hpp"

namespace neurona::io {

struct HistogramData {
  double min = 0, max = 0, num = 0, sum = 0, sum_squares = 0;
  std::vector<double> bucket_limit, bucket;
};

// One Summary.Value.
struct SummaryValue {
  enum class Kind { Scalar, Histogram, Tensor, Other };
  std::string tag;
  Kind kind = Kind::Other;
  float simple_value = 0;            // Kind::Scalar
  HistogramData histogram;           // Kind::Histogram
  std::vector<std::string> strings;  // Kind::Tensor: the string_val entries (text plugin)
  std::string plugin_name;           // metadata.plugin_data, when present
  std::string plugin_content;        // serialized plugin proto (e.g. HParamsPluginData)
};

struct Event {
  uint64_t offset = 0;  // of its record in the file
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version;  // set in the first event only
  std::vector<SummaryValue> values;
};

struct EventFile {
  std::filesystem::path path;
  std::vector<Event> events;
  std::vector<std::string> warnings;  // e.g. a truncated last record, which is skipped
};

// Reads and decodes every record; CRC errors and malformed events throw neurona::Error naming the
// file and the record offset.
EventFile read_event_file(const std::filesystem::path& path);

// The event files directly inside `dir` (names containing "tfevents"), in TensorBoard's order.
std::vector<std::filesystem::path> find_event_files(const std::filesystem::path& dir);

// A decoded HParamsPluginData (the plugin_content of a value with plugin_name "hparams").
struct HParamsRecord {
  enum class Kind { Experiment, SessionStart, SessionEnd, Unknown };
  Kind kind = Kind::Unknown;
  std::map<std::string, HParamValue> hparams;  // SessionStart
  std::string group_name;                      // SessionStart
  std::vector<std::string> hparam_names;       // Experiment
  std::vector<std::string> metric_tags;        // Experiment
  double time_secs = 0;                        // start, end or creation time
  int status = 0;                              // SessionEnd: 1 success, 2 failure
};
HParamsRecord decode_hparams(std::string_view plugin_content);

}  // namespace neurona::io
