#include "test_util.hpp"

using namespace neurona;
using namespace neurona::data;
using neurona::testing::expect_values;

TEST(DataModule, ScalerSeesOnlyTheTrainingSplit) {
  // Rows 0..79 hold small values; validation rows get an outlier that would move any fit.
  std::vector<float> x, y;
  for (int i = 0; i < 100; ++i) {
    x.push_back(float(i % 10));
    y.push_back(float(i % 2));
  }
  DataModuleOptions opt;
  opt.val_fraction = 0.2;
  opt.scaler = "standard";
  opt.seed = 3;
  Tensor features = Tensor::from(x, {100, 1});
  auto split = train_val_test_split(100, 0.2, 0.0, 3);
  for (auto r : split.val) features.data()[r] = 1000.f;  // only validation rows are extreme
  DataModule dm = DataModule::from_tensors(features, Tensor::from(y, {100}), opt);
  EXPECT_EQ(dm.split().val, split.val);
  double mean = 0;
  for (auto r : split.train) mean += x[r];
  mean /= double(split.train.size());
  const auto* s = dynamic_cast<const StandardScaler*>(dm.scaler());
  ASSERT_NE(s, nullptr);
  EXPECT_NEAR(s->mean().data()[0], mean, 1e-5);
  EXPECT_LT(s->mean().data()[0], 10.f);
  // Training features come out standardised, validation ones through the same map.
  float train_mean = 0;
  for (float v : dm.train_set()->features().to_vector()) train_mean += v;
  EXPECT_NEAR(train_mean / 80.f, 0.f, 1e-4f);
  const float sd = s->std().data()[0];
  for (float v : dm.val_set()->features().to_vector()) EXPECT_NEAR(v, (1000.f - float(mean)) / sd, 1e-2f);
}

TEST(DataModule, LoadersFromTheWineCsv) {
  CsvOptions csv;
  csv.target = {"quality"};
  DataModuleOptions opt{.val_fraction = 0.2, .test_fraction = 0.1, .seed = 1, .scaler = "minmax"};
  opt.train_loader.batch_size = 64;
  auto dm = DataModule::from_csv(std::string(NEURONA_SOURCE_DIR) + "/data/winequality-red.csv", csv, opt);
  auto train = dm.train_loader();
  auto val = dm.val_loader();
  auto test = dm.test_loader();
  EXPECT_EQ(dm.test_set()->size(), 160);  // ceil(159.9)
  EXPECT_EQ(dm.val_set()->size(), 320);   // ceil(319.8)
  EXPECT_EQ(train.num_batches(), (1599 - 480 + 63) / 64);
  ASSERT_NE(dm.csv_schema(), nullptr);
  EXPECT_EQ(dm.csv_schema()->features.size(), 11u);
  int64_t seen = 0;
  for (const Batch& b : train) {
    EXPECT_EQ(b.x.size(1), 11);
    for (float v : b.x.to_vector()) {
      EXPECT_GE(v, 0.f);
      EXPECT_LE(v, 1.f);
    }
    seen += b.size();
  }
  EXPECT_EQ(seen, 1119);
  EXPECT_TRUE(dm.train_loader().options().shuffle);
  EXPECT_FALSE(val.options().shuffle);
}

TEST(DataModule, StratifiedSplitOfPlaygroundData) {
  auto pts = playground_circle({.seed = 2});
  DataModuleOptions opt{.val_fraction = 0.3, .seed = 4, .stratify = true};
  auto dm = DataModule::from_tensors(pts.x, pts.y, opt);
  float ones = 0;
  for (float v : dm.val_set()->targets().to_vector()) ones += v;
  EXPECT_EQ(dm.val_set()->size(), 150);
  EXPECT_EQ(ones, 75.f);
  EXPECT_EQ(dm.scaler(), nullptr);
}
