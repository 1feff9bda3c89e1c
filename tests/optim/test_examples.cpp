// Runs the two course examples and checks their tables against the math.
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>

#include "test_util.hpp"

namespace {

std::string run_example(const std::string& name) {
  neurona::testing::ExampleRun r;
  if (!neurona::testing::run_example(name, "", r)) return "";
  EXPECT_EQ(r.status, 0) << r.output;
  return r.output;
}

// The table row that starts with `key`, split into words.
std::vector<std::string> row(const std::string& out, const std::string& key) {
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind(key, 0) == 0) {
      std::istringstream words(line.substr(key.size()));
      std::vector<std::string> w;
      for (std::string s; words >> s;) w.push_back(s);
      return w;
    }
  return {};
}

TEST(Examples, LearningRateExercise) {
  const std::string out = run_example("learning_rate_exercise");
  ASSERT_FALSE(out.empty()) << "the example printed nothing, or was not built";
  // Distance 5 shrinks by |1 - 2·lr| per step; steps = ceil(ln(0.01 / 5) / ln|1 - 2·lr|).
  for (double lr : {0.03, 0.1}) {
    const int expected = int(std::ceil(std::log(0.01 / 5.0) / std::log(std::abs(1 - 2 * lr))));
    auto w = row(out, lr == 0.03 ? "0.03 " : "0.1 ");
    ASSERT_GE(w.size(), 3u) << out;
    EXPECT_EQ(std::stoi(w[0]), expected) << out;
    EXPECT_NE(out.find("reached the minimum"), std::string::npos);
  }
  auto w = row(out, "1 ");
  ASSERT_GE(w.size(), 3u) << out;
  EXPECT_EQ(w[1], "-4.0000");  // bounced back to the start: w ← -w + 2·1 twice
  EXPECT_NE(out.find("oscillates"), std::string::npos) << out;
}

TEST(Examples, OptimizerComparison) {
  const std::string out = run_example("optimizer_comparison");
  ASSERT_FALSE(out.empty()) << "the example printed nothing, or was not built";
  auto steps = [&](const std::string& key) {
    auto w = row(out, key);
    EXPECT_FALSE(w.empty()) << key << "\n" << out;
    for (size_t i = 0; i + 1 < w.size(); ++i)
      if (w[i + 1].rfind("(", 0) == 0) return std::stoi(w[i]);
    return -1;
  };
  const int sgd = steps("SGD  "), momentum = steps("SGD + momentum"), rms = steps("RMSprop"),
            adam = steps("Adam");
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n') >= 6, true);
  EXPECT_EQ(out.find("not converged"), std::string::npos) << out;
  // Momentum and the adaptive methods beat plain SGD in the curved valley by a wide margin.
  EXPECT_LT(momentum * 5, sgd);
  EXPECT_LT(rms * 2, sgd);
  EXPECT_LT(adam * 5, sgd);
}

}  // namespace
