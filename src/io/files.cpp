#include "neurona/io/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
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

// Writes all of `bytes` to `fd`, retrying short writes and interrupted calls. Returns 0, or the
// errno of the write that failed; the caller closes `fd` and decides what to do with the file.
int write_all(int fd, std::string_view bytes) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return 0;
}

// fsync on `fd`, retried when interrupted. Returns 0 or the errno.
int sync_fd(int fd) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return errno;
  }
  return 0;
}

// Makes a rename in `dir` durable: without this a crash can leave the directory pointing at the
// old file, or (on some file systems) at a new name whose data never reached the disk.
void sync_directory(const std::filesystem::path& dir, const std::filesystem::path& file) {
  const std::filesystem::path d = dir.empty() ? std::filesystem::path(".") : dir;
  int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    fail("cannot write '", file.string(), "': cannot open its directory to sync it: ", std::strerror(errno));
  int err = sync_fd(fd);
  ::close(fd);
  // EINVAL: the file system cannot sync directories (some network and FUSE ones); nothing more
  // can be done there.
  if (err != 0 && err != EINVAL)
    fail("cannot write '", file.string(), "': syncing its directory failed: ", std::strerror(err));
}

// Cuts `fd` back to `size` bytes after a failed append; best effort (the write's error is the one
// reported).
void cut_back(int fd, off_t size) {
  if (::ftruncate(fd, size) != 0) return;
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
  if (fd < 0)
    fail("cannot write '", path.string(), "': cannot create '", tmp.string(), "': ", std::strerror(errno));
  // The data must be on the disk before the rename makes it the file: otherwise a crash can
  // leave `path` renamed but empty.
  int err = write_all(fd, bytes);
  if (err == 0) err = sync_fd(fd);
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());  // a failed write leaves nothing behind; `path` keeps its old content
    fail_errno("cannot write", path, err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    ::unlink(tmp.c_str());
    fail_errno("cannot rename temporary file to", path, err);
  }
  sync_directory(path.parent_path(), path);
}

void append_file(const std::filesystem::path& path, std::string_view bytes) {
  make_directories(path.parent_path());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) fail_errno("cannot open for appending", path, errno);
  struct stat st {};
  const bool sized = ::fstat(fd, &st) == 0;
  int err = write_all(fd, bytes);
  // A write cut short (disk full, file size limit) is taken back, so the file keeps whole
  // lines only; this process is the file's one writer.
  if (err != 0 && sized) cut_back(fd, st.st_size);
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) fail_errno("cannot write", path, err);
}

std::string read_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_errno("cannot open", path, errno);
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;  // EISDIR: a directory where a file was named
      ::close(fd);
      fail_errno("cannot read", path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace neurona::io
