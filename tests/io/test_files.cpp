#include <filesystem>

#include "io_test_util.hpp"
#include "test_util.hpp"

namespace neurona::testing {
namespace {

TEST(IoFiles, AtomicWriteCreatesParentsReplacesAndLeavesNoTemporary) {
  ScratchDir dir;
  const auto path = dir / "a/b/c.txt";
  io::write_file_atomic(path, "first");
  EXPECT_EQ(io::read_file(path), "first");
  io::write_file_atomic(path, std::string("sec\0ond", 7));
  EXPECT_EQ(io::read_file(path), std::string("sec\0ond", 7));
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir / "a/b")) {
    ++entries;
    EXPECT_EQ(e.path().filename(), "c.txt");
  }
  EXPECT_EQ(entries, 1);
}

TEST(IoFiles, AppendKeepsEarlierBytes) {
  ScratchDir dir;
  io::append_file(dir / "log/x.txt", "one\n");
  io::append_file(dir / "log/x.txt", "two\n");
  EXPECT_EQ(io::read_file(dir / "log/x.txt"), "one\ntwo\n");
}

TEST(IoFiles, ErrorsNameThePathAndTheReason) {
  ScratchDir dir;
  io::write_file_atomic(dir / "plain", "x");
  // A regular file where a directory is needed.
  EXPECT_ERROR_CONTAINS(io::write_file_atomic(dir / "plain/inside.txt", "y"), "plain");
  EXPECT_ERROR_CONTAINS(io::read_file(dir / "missing.bin"), "No such file or directory");
  EXPECT_ERROR_CONTAINS(io::read_file(dir / "missing.bin"), "missing.bin");
}

}  // namespace
}  // namespace neurona::testing
