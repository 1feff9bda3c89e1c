#include "neurona/io/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "neurona/core/error.hpp"

namespace neurona::io {
namespace {

[[noreturn]] void fail_errno(const char* what, const std::filesystem::path& path, int err) {
  fail(what, " '", path.string(), "': ", std::strerror(err));
}

// Writes all of `bytes` to `fd`, retrying short writes and interrupted calls.
void write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      fail_errno("cannot write", path, err);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace

void make_directories(const std::filesystem::path& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail("cannot create directory '", dir.string(), "': ", ec.message());
}

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
  make_directories(path.parent_path());
  std::filesystem::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail_errno("cannot create", tmp, errno);
  write_all(fd, bytes, tmp);
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail_errno("cannot write", tmp, err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail_errno("cannot rename temporary file to", path, err);
  }
}

void append_file(const std::filesystem::path& path, std::string_view bytes) {
  make_directories(path.parent_path());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) fail_errno("cannot open for appending", path, errno);
  write_all(fd, bytes, path);
  if (::close(fd) != 0) fail_errno("cannot write", path, errno);
}

std::string read_file(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail_errno("cannot open", path, errno);
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) fail("cannot read '", path.string(), "'");
  return out;
}

}  // namespace neurona::io
