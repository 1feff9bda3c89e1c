#include <algorithm>
#include <map>
#include <set>

#include "test_util.hpp"

using namespace neurona;
using namespace neurona::data;

namespace {
void expect_partition(const SplitIndices& s, int64_t n) {
  std::vector<int64_t> all;
  for (auto* v : {&s.train, &s.val, &s.test}) all.insert(all.end(), v->begin(), v->end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(int64_t(all.size()), n);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(all[i], i);
}
}  // namespace

TEST(Split, TrainValTestCountsAndSeeding) {
  auto s = train_val_test_split(101, 0.2, 0.1, 5);
  EXPECT_EQ(s.test.size(), 11u);  // ceil(10.1)
  EXPECT_EQ(s.val.size(), 21u);   // ceil(20.2)
  EXPECT_EQ(s.train.size(), 69u);
  expect_partition(s, 101);
  auto again = train_val_test_split(101, 0.2, 0.1, 5);
  EXPECT_EQ(s.train, again.train);
  EXPECT_EQ(s.val, again.val);
  EXPECT_EQ(s.test, again.test);
  EXPECT_NE(s.val, train_val_test_split(101, 0.2, 0.1, 6).val);
}

TEST(Split, StratifiedKeepsClassProportions) {
  std::vector<int64_t> labels;  // 60 of class 0, 30 of class 1, 10 of class 2, sorted
  for (int i = 0; i < 100; ++i) labels.push_back(i < 60 ? 0 : i < 90 ? 1 : 2);
  auto s = train_val_test_split(100, 0.2, 0.1, 9, labels);
  expect_partition(s, 100);
  auto count = [&](const std::vector<int64_t>& rows) {
    std::map<int64_t, int> c;
    for (auto r : rows) ++c[labels[r]];
    return c;
  };
  EXPECT_EQ(count(s.val), (std::map<int64_t, int>{{0, 12}, {1, 6}, {2, 2}}));
  EXPECT_EQ(count(s.test), (std::map<int64_t, int>{{0, 6}, {1, 3}, {2, 1}}));
  EXPECT_EQ(s.train, train_val_test_split(100, 0.2, 0.1, 9, labels).train);
}

TEST(Split, KerasValidationSplitTakesTheLastSamples) {
  auto s = validation_split(10, 0.25);  // split_at = int(10 * 0.75) = 7
  EXPECT_EQ(s.train, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(s.val, (std::vector<int64_t>{7, 8, 9}));
}

TEST(Split, ShuffledSplitIsSeededAndPartitions) {
  auto s = shuffled_split(20, 0.25, 1);
  EXPECT_EQ(s.val.size(), 5u);
  EXPECT_TRUE(s.test.empty());
  expect_partition(s, 20);
  EXPECT_NE(s.val, (std::vector<int64_t>{15, 16, 17, 18, 19}));
}

TEST(Split, RejectsFractionsLeavingNoTraining) {
  EXPECT_ERROR_CONTAINS(train_val_test_split(10, 0.6, 0.5, 0), "fractions");
  EXPECT_ERROR_CONTAINS(train_val_test_split(10, 0.2, 0.1, 0, {0, 1}), "2 class labels");
}

TEST(Split, KFoldSizesAndCoverage) {
  auto folds = kfold(10, 3, 4);
  ASSERT_EQ(folds.size(), 3u);
  std::vector<size_t> sizes;
  std::vector<int64_t> all_val;
  for (auto& f : folds) {
    sizes.push_back(f.val.size());
    EXPECT_EQ(f.train.size() + f.val.size(), 10u);
    all_val.insert(all_val.end(), f.val.begin(), f.val.end());
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{4, 3, 3}));
  std::sort(all_val.begin(), all_val.end());
  for (int64_t i = 0; i < 10; ++i) EXPECT_EQ(all_val[i], i);
  auto plain = kfold(6, 3, 0, false);
  EXPECT_EQ(plain[1].val, (std::vector<int64_t>{2, 3}));
}

TEST(Split, StratifiedKFoldBalancesClasses) {
  std::vector<int64_t> labels;
  for (int i = 0; i < 30; ++i) labels.push_back(i < 20 ? 0 : 1);
  for (auto& f : kfold(30, 5, 2, true, labels)) {
    int ones = 0;
    for (auto r : f.val) ones += labels[r];
    EXPECT_EQ(f.val.size(), 6u);
    EXPECT_EQ(ones, 2);
  }
}

TEST(Split, ClassIdsFromIdsAndOneHot) {
  EXPECT_EQ(class_ids(Tensor::from({2, 0, 1})), (std::vector<int64_t>{2, 0, 1}));
  EXPECT_EQ(class_ids(Tensor::from({0, 1, 0, 0.2f, 0.1f, 0.7f}, {2, 3})), (std::vector<int64_t>{1, 2}));
}
