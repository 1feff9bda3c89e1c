#pragma once
// Helpers shared by the tests.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "neurona/neurona.hpp"

namespace neurona::testing {

inline void expect_values(const Tensor& t, const std::vector<float>& expected, float tol = 1e-5f) {
  ASSERT_EQ(t.numel(), static_cast<int64_t>(expected.size())) << "shape " << t.shape();
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(t.data()[i], expected[i], tol * std::max(1.f, std::abs(expected[i]))) << "element " << i;
}

// Runs the finite-difference gradient check and fails the test with its message.
inline void expect_gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                             std::vector<Tensor> inputs, autograd::GradcheckOptions opt = {}) {
  for (auto& t : inputs) t.requires_grad_(true);
  auto r = autograd::gradcheck(fn, inputs, opt);
  EXPECT_TRUE(r.ok) << r.message;
}

// Expects `stmt` to throw neurona::Error whose message contains `fragment`.
// True in builds under AddressSanitizer (g++ says so with a macro, clang with __has_feature), whose
// quarantine and shadow memory make a process's RSS say little about its own allocations.
#if defined(__SANITIZE_ADDRESS__)
#define NEURONA_TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NEURONA_TEST_UNDER_ASAN 1
#endif
#endif
#ifndef NEURONA_TEST_UNDER_ASAN
#define NEURONA_TEST_UNDER_ASAN 0
#endif

#define EXPECT_ERROR_CONTAINS(stmt, fragment)                                         \
  do {                                                                                \
    try {                                                                             \
      stmt;                                                                           \
      ADD_FAILURE() << "expected neurona::Error containing '" << fragment << "'";     \
    } catch (const neurona::Error& e) {                                               \
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what(); \
    }                                                                                 \
  } while (0)

// An empty directory of its own under the system's temporary folder (removed first if present).
inline std::filesystem::path fresh_dir(const std::string& name) {
  auto d =
      std::filesystem::temp_directory_path() / ("neurona_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// Runs build/examples/<name> with `args` (stderr joined to stdout) from the source tree, so
// relative paths such as data/winequality-red.csv resolve. Returns false when the example was
// not built; `output` and `status` (the exit code) are filled otherwise.
struct ExampleRun {
  std::string output;
  int status = -1;
};
// Runs the program at `path` with `args` from the source tree; see run_example.
inline bool run_program(const std::string& path, const std::string& args, ExampleRun& run) {
  if (!std::filesystem::exists(path)) return false;
  const std::string cmd = "cd '" + std::string(NEURONA_SOURCE_DIR) + "' && '" + path + "' " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return false;
  std::array<char, 256> buf{};
  run.output.clear();
  while (fgets(buf.data(), buf.size(), pipe)) run.output += buf.data();
  const int raw = pclose(pipe);
  run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return true;
}
inline bool run_example(const std::string& name, const std::string& args, ExampleRun& run) {
  return run_program(std::string(NEURONA_BINARY_DIR) + "/examples/" + name, args, run);
}
// The same for the `neurona` command (build/neurona).
inline bool run_cli(const std::string& args, ExampleRun& run) {
  return run_program(std::string(NEURONA_BINARY_DIR) + "/neurona", args, run);
}

}  // namespace neurona::testing
