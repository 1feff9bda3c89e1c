#pragma once
// Helpers for the io tests: a fresh scratch directory per test, and fixture paths.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace neurona::testing {

// An empty directory unique to the running test, removed by the destructor.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() / ("neurona_io_" + std::string(info->test_suite_name()) +
                                                      "_" + info->name() + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::filesystem::path io_fixture(const std::string& name) {
  return std::filesystem::path(NEURONA_SOURCE_DIR) / "tests" / "fixtures" / "io" / name;
}

}  // namespace neurona::testing
