#include "neurona/io/event_reader.hpp"

#include <algorithm>

#include "neurona/core/error.hpp"
#include "neurona/io/tfrecord.hpp"
#include "protobuf_wire.hpp"
#include "tensorboard_fields.hpp"

namespace neurona::io {
namespace {

using wire::Decoder;
using wire::Field;

HistogramData decode_histogram(std::string_view bytes) {
  HistogramData h;
  Decoder d(bytes);
  Field f;
  while (d.next(f)) {
    switch (f.number) {
      case tb::histo::kMin:
        h.min = f.as_double();
        break;
      case tb::histo::kMax:
        h.max = f.as_double();
        break;
      case tb::histo::kNum:
        h.num = f.as_double();
        break;
      case tb::histo::kSum:
        h.sum = f.as_double();
        break;
      case tb::histo::kSumSquares:
        h.sum_squares = f.as_double();
        break;
      case tb::histo::kBucketLimit:
        wire::append_float64s(f, h.bucket_limit);
        break;
      case tb::histo::kBucket:
        wire::append_float64s(f, h.bucket);
        break;
    }
  }
  return h;
}

void decode_metadata(std::string_view bytes, SummaryValue& v) {
  Decoder d(bytes);
  Field f;
  while (d.next(f)) {
    if (f.number != tb::metadata::kPluginData) continue;
    Decoder pd(f.bytes);
    Field g;
    while (pd.next(g)) {
      if (g.number == tb::plugin_data::kPluginName) v.plugin_name = g.bytes;
      if (g.number == tb::plugin_data::kContent) v.plugin_content = g.bytes;
    }
  }
}

SummaryValue decode_value(std::string_view bytes) {
  SummaryValue v;
  Decoder d(bytes);
  Field f;
  while (d.next(f)) {
    switch (f.number) {
      case tb::value::kTag:
        v.tag = f.bytes;
        break;
      case tb::value::kSimpleValue:
        v.kind = SummaryValue::Kind::Scalar;
        v.simple_value = f.as_float();
        break;
      case tb::value::kHisto:
        v.kind = SummaryValue::Kind::Histogram;
        v.histogram = decode_histogram(f.bytes);
        break;
      case tb::value::kTensor: {
        v.kind = SummaryValue::Kind::Tensor;
        Decoder t(f.bytes);
        Field g;
        while (t.next(g))
          if (g.number == tb::tensor::kStringVal) v.strings.emplace_back(g.bytes);
        break;
      }
      case tb::value::kMetadata:
        decode_metadata(f.bytes, v);
        break;
    }
  }
  return v;
}

Event decode_event(std::string_view bytes) {
  Event e;
  Decoder d(bytes);
  Field f;
  while (d.next(f)) {
    switch (f.number) {
      case tb::event::kWallTime:
        e.wall_time = f.as_double();
        break;
      case tb::event::kStep:
        e.step = f.as_int64();
        break;
      case tb::event::kFileVersion:
        e.file_version = f.bytes;
        break;
      case tb::event::kSummary: {
        Decoder s(f.bytes);
        Field g;
        while (s.next(g))
          if (g.number == tb::summary::kValue) e.values.push_back(decode_value(g.bytes));
        break;
      }
    }
  }
  return e;
}

HParamValue decode_pb_value(std::string_view bytes) {
  Decoder d(bytes);
  Field f;
  HParamValue out(0.0);
  while (d.next(f)) {
    if (f.number == tb::pb_value::kNumber) out = HParamValue(f.as_double());
    if (f.number == tb::pb_value::kString) out = HParamValue(std::string(f.bytes));
    if (f.number == tb::pb_value::kBool) out = HParamValue(f.varint != 0);
  }
  return out;
}

}  // namespace

EventFile read_event_file(const std::filesystem::path& path) {
  TfRecordFile records = read_tfrecords(path);
  EventFile out;
  out.path = path;
  out.warnings = std::move(records.warnings);
  for (const auto& r : records.records) {
    try {
      Event e = decode_event(r.payload);
      e.offset = r.offset;
      out.events.push_back(std::move(e));
    } catch (const Error& e) {
      fail("event file '", path.string(), "', record at offset ", r.offset, ": ", e.what());
    }
  }
  return out;
}

std::vector<std::filesystem::path> find_event_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.is_regular_file() && entry.path().filename().string().find("tfevents") != std::string::npos)
      files.push_back(entry.path());
  check(!ec, "cannot list '", dir.string(), "': ", ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

HParamsRecord decode_hparams(std::string_view content) {
  HParamsRecord r;
  Decoder d(content);
  Field f;
  while (d.next(f)) {
    Decoder m(f.bytes);
    Field g;
    if (f.number == tb::hp_data::kExperiment) {
      r.kind = HParamsRecord::Kind::Experiment;
      while (m.next(g)) {
        if (g.number == tb::experiment::kTimeCreatedSecs) r.time_secs = g.as_double();
        Decoder info(g.bytes);
        Field h;
        if (g.number == tb::experiment::kHparamInfos) {
          while (info.next(h))
            if (h.number == tb::hparam_info::kName) r.hparam_names.emplace_back(h.bytes);
        } else if (g.number == tb::experiment::kMetricInfos) {
          while (info.next(h)) {
            if (h.number != tb::metric_info::kName) continue;
            Decoder name(h.bytes);
            Field k;
            while (name.next(k))
              if (k.number == tb::metric_info::kTag) r.metric_tags.emplace_back(k.bytes);
          }
        }
      }
    } else if (f.number == tb::hp_data::kSessionStart) {
      r.kind = HParamsRecord::Kind::SessionStart;
      while (m.next(g)) {
        if (g.number == tb::session_start::kGroupName) r.group_name = g.bytes;
        if (g.number == tb::session_start::kStartTimeSecs) r.time_secs = g.as_double();
        if (g.number != tb::session_start::kHparams) continue;
        Decoder entry(g.bytes);
        Field h;
        std::string key;
        HParamValue value(0.0);
        while (entry.next(h)) {
          if (h.number == tb::map_entry::kKey) key = h.bytes;
          if (h.number == tb::map_entry::kValue) value = decode_pb_value(h.bytes);
        }
        r.hparams.insert_or_assign(key, value);
      }
    } else if (f.number == tb::hp_data::kSessionEnd) {
      r.kind = HParamsRecord::Kind::SessionEnd;
      while (m.next(g)) {
        if (g.number == tb::session_end::kStatus) r.status = static_cast<int>(g.varint);
        if (g.number == tb::session_end::kEndTimeSecs) r.time_secs = g.as_double();
      }
    }
  }
  return r;
}

}  // namespace neurona::io
