// A training process killed with SIGKILL must leave event files whose complete records all read
// back; a partial record at the end is skipped with a warning.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io_test_util.hpp"
#include "test_util.hpp"

namespace neurona::testing {
namespace {

TEST(EventFileKill, CompleteRecordsOfAKilledWriterReadBack) {
  ScratchDir dir;
  int progress[2];
  ASSERT_EQ(::pipe(progress), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(progress[0]);
    try {
      io::SummaryWriter w(dir / "run", 0.05);
      for (int64_t i = 0; i < 1000000; ++i) {
        w.add_scalar("loss", 1.0 / static_cast<double>(i + 1), i);
        w.add_histogram("w", Tensor::full({64}, static_cast<float>(i)), i);
        if (i % 3 == 0) w.flush();
        char c = 1;
        if (::write(progress[1], &c, 1) != 1) break;
      }
    } catch (...) {
    }
    ::_exit(1);
  }
  ::close(progress[1]);
  char buf[64];
  size_t seen = 0;
  while (seen < 200) {
    ssize_t n = ::read(progress[0], buf, sizeof buf);
    ASSERT_GT(n, 0) << "writer process ended early";
    seen += static_cast<size_t>(n);
  }
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ::close(progress[0]);

  auto files = io::find_event_files(dir / "run");
  ASSERT_EQ(files.size(), 1u);
  auto f = io::read_event_file(files[0]);    // throws on any CRC error
  EXPECT_LE(f.warnings.size(), 1u);          // at most the record being written when killed
  ASSERT_GE(f.events.size(), 1u + 2 * 150);  // at least every record flushed before 150 steps
  EXPECT_EQ(f.events[0].file_version, "brain.Event:2");
  for (size_t k = 1; k < f.events.size(); ++k) {
    const int64_t i = static_cast<int64_t>((k - 1) / 2);
    ASSERT_EQ(f.events[k].step, i);
    ASSERT_EQ(f.events[k].values.size(), 1u);
    const auto& v = f.events[k].values[0];
    if ((k - 1) % 2 == 0) {
      EXPECT_EQ(v.tag, "loss");
      EXPECT_EQ(v.simple_value, static_cast<float>(1.0 / static_cast<double>(i + 1)));
    } else {
      EXPECT_EQ(v.tag, "w");
      EXPECT_EQ(v.histogram.num, 64.0);
      EXPECT_EQ(v.histogram.min, static_cast<double>(i));
    }
  }

  // A partial record at the end (as if the kill had hit in the middle of a write) is skipped.
  const std::string bytes = io::read_file(files[0]);
  const auto complete = io::read_tfrecords(files[0]);
  size_t end = complete.records.empty()
                   ? 0
                   : complete.records.back().offset + 16 + complete.records.back().payload.size();
  const std::string partial = io::frame_tfrecord(std::string(40, 'x')).substr(0, 30);
  io::write_file_atomic(files[0], bytes.substr(0, end) + partial);
  auto g = io::read_event_file(files[0]);
  EXPECT_EQ(g.events.size(), complete.records.size());
  ASSERT_EQ(g.warnings.size(), 1u);
  EXPECT_NE(g.warnings[0].find("truncated record at offset " + std::to_string(end)), std::string::npos)
      << g.warnings[0];
}

}  // namespace
}  // namespace neurona::testing
