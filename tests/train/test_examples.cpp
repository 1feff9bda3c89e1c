// The trainer's course examples run end to end with a reduced budget.
#include "test_util.hpp"

using namespace neurona::testing;

TEST(Examples, EarlyStoppingLessonOnTheWineData) {
  ExampleRun r;
  ASSERT_TRUE(run_example("early_stopping", "data/winequality-red.csv 8 --quiet", r))
      << "the example was not built";
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("epochs run: 8 of 8"), std::string::npos) << r.output;
  // After 8 epochs the scaled-quality MAE is well below that of always predicting the mean (≈ 0.13).
  const auto at = r.output.find("validation MAE of the restored weights: ");
  ASSERT_NE(at, std::string::npos) << r.output;
  const double mae = std::stod(r.output.substr(at + 40));
  EXPECT_LT(mae, 0.125);
  EXPECT_GT(mae, 0.05);
}

TEST(Examples, EarlyStoppingReportsABadFile) {
  ExampleRun r;
  ASSERT_TRUE(run_example("early_stopping", "no/such/file.csv 3 --quiet", r)) << "the example was not built";
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("no/such/file.csv"), std::string::npos) << r.output;
}

TEST(Examples, LitClassifierOnFashionMnist) {
  ASSERT_FALSE(neurona::data::fashion_mnist_default_dir().empty())
      << "dataset-fashion-mnist is not installed (bash scripts/install-deps.sh installs it)";
  ExampleRun r;
  ASSERT_TRUE(run_example("lit_classifier", "--limit-batches 100", r)) << "the example was not built";
  ASSERT_EQ(r.status, 0) << r.output;
  const auto at = r.output.find("test_acc: ");
  ASSERT_NE(at, std::string::npos) << r.output;
  // 100 batches of 64 already lift a linear classifier far above chance (0.1).
  EXPECT_GT(std::stod(r.output.substr(at + 10)), 0.6) << r.output;
}
