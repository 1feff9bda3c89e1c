#pragma once
// Helpers for the data tests: a scratch directory and file writing.
#include <filesystem>
#include <fstream>
#include <string>

namespace neurona::testing {

// A fresh file path under the build tree's scratch directory.
inline std::string scratch_path(const std::string& name) {
  const auto dir = std::filesystem::path(NEURONA_BINARY_DIR) / "test_scratch" / "data";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

inline std::string write_file(const std::string& name, const std::string& contents) {
  const std::string path = scratch_path(name);
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

inline std::string fixture_path(const std::string& name) {
  return std::string(NEURONA_SOURCE_DIR) + "/tests/data/fixtures/" + name;
}

}  // namespace neurona::testing
