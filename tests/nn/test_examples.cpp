// The course examples run and print the outputs the math gives.
#include <array>
#include <cstdio>
#include <filesystem>

#include "test_util.hpp"

namespace {
std::string run(const std::string& name, int& rc) {
  neurona::testing::ExampleRun r;
  if (!neurona::testing::run_example(name, "", r)) return "";
  rc = r.status;
  return r.output;
}
}  // namespace

TEST(Examples, TwoLayerNetworkSeed004) {
  int rc = -1;
  const std::string out = run("two_layer_network", rc);
  ASSERT_FALSE(out.empty()) << "the example printed nothing, or was not built";
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("x = (4, 5): z = W·x + b = (-3, -5)"), std::string::npos) << out;
  EXPECT_NE(out.find("x = (1, 7): z = W·x + b = (2, -10)"), std::string::npos) << out;
  EXPECT_NE(out.find("relu(z) = (2, 0)"), std::string::npos) << out;
}

TEST(Examples, SingleNeuronSeed000) {
  int rc = -1;
  const std::string out = run("single_neuron", rc);
  ASSERT_FALSE(out.empty()) << "the example printed nothing, or was not built";
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("matches the math"), std::string::npos) << out;
  EXPECT_NE(out.find("Total params: 4"), std::string::npos) << out;
}
