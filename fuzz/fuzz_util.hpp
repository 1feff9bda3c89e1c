#pragma once
// What every fuzz target shares. A reader may refuse its input only by throwing neurona::Error:
// any other exception escaping a target, a crash, a sanitizer report, a hang or an allocation
// beyond libFuzzer's -malloc_limit_mb is a defect (scripts/fuzz.sh runs the targets).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "neurona/core/error.hpp"

namespace neurona::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs `read`, which may reject its input with neurona::Error and nothing else.
template <class F>
void expect_clean(F&& read) {
  try {
    read();
  } catch (const neurona::Error&) {
  }
}

// A directory of this process for the readers that take a path; removed at exit.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("neurona-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    std::atexit([] { std::filesystem::remove_all(scratch_dir()); });
    return d;
  }();
  return dir;
}

// `bytes` written to scratch_dir()/name; returns the path.
inline std::string scratch_file(std::string_view bytes, const std::string& name) {
  const std::string path = (scratch_dir() / name).string();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) std::abort();
  std::fclose(f);
  return path;
}

}  // namespace neurona::fuzz
