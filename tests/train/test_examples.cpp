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

TEST(Examples, CnnKerasStyleOnFashionMnist) {
  ASSERT_FALSE(neurona::data::fashion_mnist_default_dir().empty())
      << "dataset-fashion-mnist is not installed (bash scripts/install-deps.sh installs it)";
  ExampleRun r;
  ASSERT_TRUE(run_example("cnn_keras_style", "--epochs 2 --limit 3000 --test-limit 1000 --quiet", r))
      << "the example was not built";
  ASSERT_EQ(r.status, 0) << r.output;
  // The Keras-style summary: conv 1→32 (288 + 32), conv 32→64 (18,432 + 64), dense 3136→128, 128→10.
  EXPECT_NE(r.output.find("Total params: 421,642"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("epochs run: 2"), std::string::npos) << r.output;
  const auto at = r.output.find("test_accuracy: ");
  ASSERT_NE(at, std::string::npos) << r.output;
  // 2 x 43 steps of SGD with momentum (2,700 images; 0.71 measured) lift the CNN far above chance.
  EXPECT_GT(std::stod(r.output.substr(at + 15)), 0.5) << r.output;
}

TEST(Examples, CnnLightningOnFashionMnist) {
  ASSERT_FALSE(neurona::data::fashion_mnist_default_dir().empty())
      << "dataset-fashion-mnist is not installed (bash scripts/install-deps.sh installs it)";
  ExampleRun r;
  ASSERT_TRUE(run_example("cnn_lightning", "--limit-batches 40 --test-limit 1000", r))
      << "the example was not built";
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("val_acc"), std::string::npos) << r.output;
  const auto at = r.output.find("test_acc: ");
  ASSERT_NE(at, std::string::npos) << r.output;
  // 40 batches of 64 with BatchNorm2d already classify most test images.
  EXPECT_GT(std::stod(r.output.substr(at + 10)), 0.5) << r.output;
}
