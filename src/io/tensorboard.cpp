#include "neurona/io/tensorboard.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "neurona/core/error.hpp"
#include "neurona/io/files.hpp"
#include "neurona/io/tfrecord.hpp"
#include "protobuf_wire.hpp"
#include "tensorboard_fields.hpp"

namespace neurona::io {
namespace {

using wire::Encoder;

double now_secs() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "localhost";
  return buf;
}

// TensorFlow's default histogram limits: ±1e-12·1.1^k below 1e20, 0, and ±DBL_MAX (1551 limits).
const std::vector<double>& default_bucket_limits() {
  static const std::vector<double> limits = [] {
    std::vector<double> pos;
    for (double v = 1e-12; v < 1e20; v *= 1.1) pos.push_back(v);
    pos.push_back(DBL_MAX);
    std::vector<double> all;
    for (auto it = pos.rbegin(); it != pos.rend(); ++it) all.push_back(-*it);
    all.push_back(0.0);
    all.insert(all.end(), pos.begin(), pos.end());
    return all;
  }();
  return limits;
}

Encoder histogram_proto(const Tensor& t) {
  const std::vector<double>& limits = default_bucket_limits();
  std::vector<double> counts(limits.size(), 0.0);
  double mn = 0, mx = 0, num = 0, sum = 0, sum_sq = 0;
  const float* p = t.data();
  for (int64_t i = 0, n = t.numel(); i < n; ++i) {
    const double v = p[i];
    if (std::isnan(v)) continue;
    mn = num == 0 ? v : std::min(mn, v);
    mx = num == 0 ? v : std::max(mx, v);
    num += 1;
    sum += v;
    sum_sq += v * v;
    // Bucket i holds limits[i-1] <= v < limits[i]; +inf goes to the last bucket.
    size_t b = static_cast<size_t>(std::upper_bound(limits.begin(), limits.end(), v) - limits.begin());
    counts[std::min(b, limits.size() - 1)] += 1;
  }
  // A run of empty buckets is stored as its last one, as TensorFlow does.
  std::vector<double> out_limits, out_counts;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0 && i + 1 < counts.size() && counts[i + 1] == 0) continue;
    out_limits.push_back(limits[i]);
    out_counts.push_back(counts[i]);
  }
  Encoder h;
  h.float64(tb::histo::kMin, mn);
  h.float64(tb::histo::kMax, mx);
  h.float64(tb::histo::kNum, num);
  h.float64(tb::histo::kSum, sum);
  h.float64(tb::histo::kSumSquares, sum_sq);
  h.packed_float64(tb::histo::kBucketLimit, out_limits);
  h.packed_float64(tb::histo::kBucket, out_counts);
  return h;
}

Encoder plugin_metadata(std::string_view plugin_name, std::string_view content) {
  Encoder pd;
  pd.bytes(tb::plugin_data::kPluginName, plugin_name);
  if (!content.empty()) pd.bytes(tb::plugin_data::kContent, content);
  Encoder md;
  md.message(tb::metadata::kPluginData, pd);
  return md;
}

Encoder pb_value(const HParamValue& v) {
  Encoder e;
  if (v.is_number())
    e.float64(tb::pb_value::kNumber, v.number());
  else if (v.is_string())
    e.bytes(tb::pb_value::kString, v.string());
  else
    e.boolean(tb::pb_value::kBool, v.boolean());
  return e;
}

// HParamsPluginData{version 0, <which> = message}.
std::string hparams_content(uint32_t which, const Encoder& message) {
  Encoder d;
  d.message(which, message);
  return d.str();
}

Encoder experiment_proto(const std::map<std::string, HParamValue>& hparams,
                         const std::map<std::string, double>& metrics, double time_created) {
  Encoder e;
  e.float64(tb::experiment::kTimeCreatedSecs, time_created);
  for (const auto& [name, v] : hparams) {
    Encoder info;
    info.bytes(tb::hparam_info::kName, name);
    if (v.is_number()) {
      info.varint(tb::hparam_info::kType, tb::hparam_info::kFloat64);
    } else {
      info.varint(tb::hparam_info::kType, v.is_bool() ? tb::hparam_info::kBool : tb::hparam_info::kString);
      Encoder domain;  // ListValue of the possible values
      if (v.is_bool()) {
        domain.message(tb::pb_value::kListValues, pb_value(HParamValue(false)));
        domain.message(tb::pb_value::kListValues, pb_value(HParamValue(true)));
      } else {
        domain.message(tb::pb_value::kListValues, pb_value(v));
      }
      info.message(tb::hparam_info::kDomainDiscrete, domain);
    }
    e.message(tb::experiment::kHparamInfos, info);
  }
  for (const auto& [tag, unused] : metrics) {
    Encoder name;
    name.bytes(tb::metric_info::kTag, tag);
    Encoder info;
    info.message(tb::metric_info::kName, name);
    e.message(tb::experiment::kMetricInfos, info);
  }
  return e;
}

std::atomic<int> file_counter{0};

}  // namespace

struct SummaryWriter::State {
  std::filesystem::path log_dir, path;
  int fd = -1;
  std::chrono::duration<double> interval;
  double start_time = 0;

  std::mutex mu;
  std::condition_variable cv;
  std::string pending;
  std::string background_error;  // a failed background write, reported by the next call
  bool stopping = false;
  std::thread flusher;

  std::map<std::string, int64_t> last_step;
  std::map<std::string, double> last_scalar;
  std::set<std::string> tags_with_metadata;
  bool hparams_written = false;

  // --- all below run with `mu` held ---
  void require_open() {
    check(fd >= 0, "SummaryWriter '", path.string(), "': the writer is closed");
    if (!background_error.empty()) fail(background_error);
  }

  void write_pending() {
    size_t done = 0;
    while (done < pending.size()) {
      ssize_t n = ::write(fd, pending.data() + done, pending.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        pending.erase(0, done);
        fail("cannot write event file '", path.string(), "': ", std::strerror(errno));
      }
      done += static_cast<size_t>(n);
    }
    pending.clear();
  }

  void check_step(const std::string& tag, int64_t step) {
    auto it = last_step.find(tag);
    check(it == last_step.end() || step > it->second, "SummaryWriter '", path.string(), "': step ", step,
          " of tag '", tag, "' does not increase (last step ", it == last_step.end() ? 0 : it->second,
          "); TensorBoard would drop the earlier points");
    last_step[tag] = step;
  }

  void append_event(int64_t step, const Encoder& summary_value) {
    Encoder summary;
    summary.message(tb::summary::kValue, summary_value);
    Encoder ev;
    ev.float64(tb::event::kWallTime, now_secs());
    if (step != 0) ev.int64(tb::event::kStep, step);
    ev.message(tb::event::kSummary, summary);
    pending += frame_tfrecord(ev.str());
  }

  void add_scalar(const std::string& tag, double value, int64_t step) {
    check_step(tag, step);
    last_scalar[tag] = value;
    Encoder v;
    v.bytes(tb::value::kTag, tag);
    v.float32(tb::value::kSimpleValue, static_cast<float>(value));
    append_event(step, v);
  }

  void run_flusher() {
    std::unique_lock<std::mutex> lock(mu);
    while (!stopping) {
      cv.wait_for(lock, interval);
      if (pending.empty() || !background_error.empty()) continue;
      try {
        write_pending();
      } catch (const Error& e) {
        background_error = e.what();
      }
    }
  }
};

SummaryWriter::SummaryWriter(const std::filesystem::path& log_dir, double flush_secs)
    : s_(std::make_unique<State>()) {
  check(flush_secs > 0, "SummaryWriter '", log_dir.string(), "': flush_secs must be positive, got ",
        flush_secs);
  make_directories(log_dir);
  s_->log_dir = log_dir;
  s_->interval = std::chrono::duration<double>(flush_secs);
  s_->start_time = now_secs();
  char name[512];
  std::snprintf(name, sizeof name, "events.out.tfevents.%010lld.%s.%d.%d",
                static_cast<long long>(s_->start_time), hostname().c_str(), static_cast<int>(::getpid()),
                file_counter++);
  s_->path = log_dir / name;
  s_->fd = ::open(s_->path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (s_->fd < 0) fail("cannot create event file '", s_->path.string(), "': ", std::strerror(errno));

  Encoder first;
  first.float64(tb::event::kWallTime, s_->start_time);
  first.bytes(tb::event::kFileVersion, "brain.Event:2");
  s_->pending = frame_tfrecord(first.str());
  try {
    s_->write_pending();
  } catch (const Error&) {
    ::close(s_->fd);
    throw;
  }
  s_->flusher = std::thread([state = s_.get()] { state->run_flusher(); });
}

SummaryWriter::~SummaryWriter() {
  try {
    close();
  } catch (const std::exception& e) {
    std::cerr << "neurona: " << e.what() << "\n";
  }
}

const std::filesystem::path& SummaryWriter::file() const { return s_->path; }

void SummaryWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  std::lock_guard<std::mutex> lock(s_->mu);
  s_->require_open();
  s_->add_scalar(tag, value, step);
}

void SummaryWriter::add_histogram(const std::string& tag, const Tensor& values, int64_t step) {
  check(values.defined(), "SummaryWriter: add_histogram '", tag, "': the tensor is undefined");
  Encoder h = histogram_proto(values);  // outside the lock: the counting can take a while
  std::lock_guard<std::mutex> lock(s_->mu);
  s_->require_open();
  s_->check_step(tag, step);
  Encoder v;
  v.bytes(tb::value::kTag, tag);
  v.message(tb::value::kHisto, h);
  s_->append_event(step, v);
}

void SummaryWriter::add_text(const std::string& tag, const std::string& markdown, int64_t step) {
  std::lock_guard<std::mutex> lock(s_->mu);
  s_->require_open();
  s_->check_step(tag, step);
  Encoder t;
  t.varint(tb::tensor::kDtype, tb::tensor::kDtString);
  t.message(tb::tensor::kShape, Encoder());  // no dims: a scalar string
  t.bytes(tb::tensor::kStringVal, markdown);
  Encoder v;
  v.bytes(tb::value::kTag, tag);
  if (s_->tags_with_metadata.insert(tag).second) v.message(tb::value::kMetadata, plugin_metadata("text", ""));
  v.message(tb::value::kTensor, t);
  s_->append_event(step, v);
}

void SummaryWriter::add_hparams(const std::map<std::string, HParamValue>& hparams,
                                const std::map<std::string, double>& metrics, RunStatus status) {
  std::lock_guard<std::mutex> lock(s_->mu);
  s_->require_open();
  check(!s_->hparams_written, "SummaryWriter '", s_->path.string(),
        "': add_hparams may be called once per run");
  s_->hparams_written = true;

  // The records hold no data of their own; TensorBoard expects an empty float tensor of shape [0].
  Encoder placeholder;
  {
    Encoder shape;
    shape.message(tb::tensor_shape::kDim, Encoder());
    placeholder.varint(tb::tensor::kDtype, tb::tensor::kDtFloat);
    placeholder.message(tb::tensor::kShape, shape);
  }
  auto write_record = [&](const char* tag, const std::string& content) {
    Encoder v;
    v.bytes(tb::value::kTag, tag);
    v.message(tb::value::kMetadata, plugin_metadata("hparams", content));
    v.message(tb::value::kTensor, placeholder);
    s_->append_event(0, v);
  };

  write_record("_hparams_/experiment",
               hparams_content(tb::hp_data::kExperiment, experiment_proto(hparams, metrics, s_->start_time)));

  Encoder start;
  for (const auto& [name, v] : hparams) {
    Encoder entry;
    entry.bytes(tb::map_entry::kKey, name);
    entry.message(tb::map_entry::kValue, pb_value(v));
    start.message(tb::session_start::kHparams, entry);
  }
  start.bytes(tb::session_start::kGroupName, s_->log_dir.string());
  start.float64(tb::session_start::kStartTimeSecs, s_->start_time);
  write_record("_hparams_/session_start_info", hparams_content(tb::hp_data::kSessionStart, start));

  for (const auto& [tag, value] : metrics) {
    auto last = s_->last_step.find(tag);
    if (last == s_->last_step.end())
      s_->add_scalar(tag, value, 0);
    else if (s_->last_scalar.count(tag) && s_->last_scalar[tag] != value)
      s_->add_scalar(tag, value, last->second + 1);
  }

  Encoder end;
  end.varint(tb::session_end::kStatus,
             status == RunStatus::Finished ? tb::session_end::kSuccess : tb::session_end::kFailure);
  end.float64(tb::session_end::kEndTimeSecs, now_secs());
  write_record("_hparams_/session_end_info", hparams_content(tb::hp_data::kSessionEnd, end));
}

void SummaryWriter::flush() {
  std::lock_guard<std::mutex> lock(s_->mu);
  s_->require_open();
  s_->write_pending();
}

void SummaryWriter::close() {
  {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (s_->fd < 0) return;
    s_->stopping = true;
  }
  s_->cv.notify_all();
  if (s_->flusher.joinable()) s_->flusher.join();
  std::lock_guard<std::mutex> lock(s_->mu);
  int fd = s_->fd;
  std::string error = s_->background_error;
  if (error.empty()) {
    try {
      s_->write_pending();
    } catch (const Error& e) {
      error = e.what();
    }
  }
  s_->fd = -1;
  if (::close(fd) != 0 && error.empty()) error = "cannot close event file '" + s_->path.string() + "'";
  if (!error.empty()) fail(error);
}

}  // namespace neurona::io
