#include <cmath>
#include <limits>

#include "test_util.hpp"

using namespace neurona;
using namespace neurona::testing;

TEST(Tensor, CreationAndInspection) {
  Tensor z = Tensor::zeros({2, 3});
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(z.numel(), 6);
  expect_values(z, {0, 0, 0, 0, 0, 0});
  Tensor f = Tensor::full({2}, 2.5f);
  expect_values(f, {2.5f, 2.5f});
  Tensor a = Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_FLOAT_EQ(a.at({1, 2}), 6.f);
  EXPECT_FLOAT_EQ(Tensor::scalar(3.f).item(), 3.f);
  EXPECT_ERROR_CONTAINS(a.item(), "has 6 elements");
  EXPECT_ERROR_CONTAINS(a.at({2, 0}), "out of range");
  EXPECT_ERROR_CONTAINS(Tensor::from({1, 2, 3}, {2, 2}), "3 values do not fill shape [2,2]");
}

TEST(Tensor, ReshapeIsAViewAndTransposeCopies) {
  Tensor a = Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor r = a.reshape({3, -1});
  EXPECT_EQ(r.shape(), (Shape{3, 2}));
  r.data()[0] = 10.f;
  EXPECT_FLOAT_EQ(a.data()[0], 10.f);  // shares storage
  Tensor t = a.t();
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  expect_values(t, {10, 4, 2, 5, 3, 6});
  t.data()[0] = 0.f;
  EXPECT_FLOAT_EQ(a.data()[0], 10.f);  // a copy
  EXPECT_ERROR_CONTAINS(a.reshape({4, 2}), "cannot reshape [2,3]");
}

TEST(Tensor, PermuteMovesDimensions) {
  Tensor a = Tensor::arange(24).reshape({2, 3, 4});
  Tensor p = a.permute({2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k) EXPECT_FLOAT_EQ(p.at({k, i, j}), a.at({i, j, k}));
}

TEST(Tensor, SliceAndIndexSelectRows) {
  Tensor a = Tensor::arange(12).reshape({4, 3});
  Tensor s = a.slice(1, 3);
  EXPECT_EQ(s.shape(), (Shape{2, 3}));
  expect_values(s, {3, 4, 5, 6, 7, 8});
  Tensor g = a.index_select({3, 0, 3});
  expect_values(g, {9, 10, 11, 0, 1, 2, 9, 10, 11});
  EXPECT_ERROR_CONTAINS(a.slice(2, 5), "out of range");
  EXPECT_ERROR_CONTAINS(a.index_select({4}), "row 4 out of range");
}

TEST(Tensor, BroadcastingArithmetic) {
  Tensor a = Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor row = Tensor::from({10, 20, 30});
  Tensor col = Tensor::from({100, 200}, {2, 1});
  expect_values(a + row, {11, 22, 33, 14, 25, 36});
  expect_values(a * col, {100, 200, 300, 800, 1000, 1200});
  expect_values(row - col, {-90, -80, -70, -190, -180, -170});
  expect_values(a / 2.f, {0.5, 1, 1.5, 2, 2.5, 3});
  expect_values(1.f - a, {0, -1, -2, -3, -4, -5});
  EXPECT_ERROR_CONTAINS(a + Tensor::ones({2}), "add: shapes [2,3] and [2] cannot be broadcast");
}

TEST(Tensor, UnaryMath) {
  Tensor a = Tensor::from({1.f, 4.f, 9.f});
  expect_values(sqrt(a), {1, 2, 3});
  expect_values(log(exp(a)), {1, 4, 9}, 1e-5f);
  expect_values(pow(a, 0.5f), {1, 2, 3});
  expect_values(abs(Tensor::from({-2, 0, 3})), {2, 0, 3});
  expect_values(clamp(Tensor::from({-2, 0.5, 3}), 0.f, 1.f), {0, 0.5, 1});
  expect_values(minimum(Tensor::from({1, 5}), Tensor::from({3, 2})), {1, 2});
  expect_values(maximum(Tensor::from({1, 5}), Tensor::from({3, 2})), {3, 5});
}

TEST(Tensor, ComparisonsAndWhere) {
  Tensor a = Tensor::from({1, 2, 3});
  Tensor b = Tensor::from({3, 2, 1});
  expect_values(lt(a, b), {1, 0, 0});
  expect_values(le(a, b), {1, 1, 0});
  expect_values(gt(a, b), {0, 0, 1});
  expect_values(ge(a, b), {0, 1, 1});
  expect_values(eq(a, b), {0, 1, 0});
  expect_values(ne(a, b), {1, 0, 1});
  expect_values(where(gt(a, b), a, b), {3, 2, 3});
  expect_values(where(gt(a, Tensor::scalar(1.5f)), a, Tensor::scalar(0.f)), {0, 2, 3});
}

TEST(Tensor, Reductions) {
  Tensor a = Tensor::from({1, 5, 3, 4, 2, 6}, {2, 3});
  EXPECT_FLOAT_EQ(sum(a).item(), 21.f);
  EXPECT_FLOAT_EQ(mean(a).item(), 3.5f);
  expect_values(sum(a, 0), {5, 7, 9});
  expect_values(sum(a, 1), {9, 12});
  EXPECT_EQ(sum(a, 1, true).shape(), (Shape{2, 1}));
  expect_values(mean(a, -1), {3, 4});
  expect_values(max(a, 1), {5, 6});
  expect_values(min(a, 0), {1, 2, 3});
  EXPECT_FLOAT_EQ(max(a).item(), 6.f);
  expect_values(argmax(a, 1), {1, 2});
  EXPECT_FLOAT_EQ(argmax(a).item(), 5.f);
  EXPECT_ERROR_CONTAINS(sum(a, 2), "sum: dimension 2 is out of range for shape [2,3]");
}

TEST(Tensor, MatmulValuesAndErrors) {
  Tensor a = Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from({7, 8, 9, 10, 11, 12}, {3, 2});
  expect_values(matmul(a, b), {58, 64, 139, 154});
  Tensor ba = Tensor::arange(12).reshape({2, 2, 3});
  Tensor bb = Tensor::arange(12).reshape({2, 3, 2});
  Tensor c = matmul(ba, bb);
  EXPECT_EQ(c.shape(), (Shape{2, 2, 2}));
  expect_values(c, {10, 13, 28, 40, 172, 193, 244, 274});
  expect_values(matmul(ba, b), {0 * 7 + 1 * 9 + 2 * 11, 0 * 8 + 1 * 10 + 2 * 12, 3 * 7 + 4 * 9 + 5 * 11,
                                3 * 8 + 4 * 10 + 5 * 12, 6 * 7 + 7 * 9 + 8 * 11, 6 * 8 + 7 * 10 + 8 * 12,
                                9 * 7 + 10 * 9 + 11 * 11, 9 * 8 + 10 * 10 + 11 * 12});
  EXPECT_ERROR_CONTAINS(matmul(Tensor::zeros({32, 784}), Tensor::zeros({512, 256})),
                        "matmul: [32,784] x [512,256]: inner dimensions 784 and 512 differ");
}

TEST(Tensor, LargeMatmulMatchesDirectLoop) {
  // Large enough for the BLAS path; checked against a double-precision loop.
  Generator g(7);
  Tensor a = Tensor::uniform({64, 100}, -1, 1, &g);
  Tensor b = Tensor::uniform({100, 48}, -1, 1, &g);
  Tensor c = matmul(a, b);
  for (int64_t i = 0; i < 64; i += 7)
    for (int64_t j = 0; j < 48; j += 5) {
      double s = 0;
      for (int64_t k = 0; k < 100; ++k) s += double(a.at({i, k})) * b.at({k, j});
      EXPECT_NEAR(c.at({i, j}), s, 1e-4);
    }
}

TEST(Tensor, SeededRandomFillsRepeat) {
  Generator g1(42), g2(42);
  Tensor a = Tensor::normal({1000}, 0, 1, &g1);
  Tensor b = Tensor::normal({1000}, 0, 1, &g2);
  EXPECT_EQ(a.to_vector(), b.to_vector());
  EXPECT_NEAR(mean(a).item(), 0.f, 0.1f);
  EXPECT_NEAR(mean(pow(a, 2.f)).item(), 1.f, 0.1f);
  Tensor u = Tensor::uniform({1000}, 2, 3, &g1);
  EXPECT_GE(min(u).item(), 2.f);
  EXPECT_LT(max(u).item(), 3.f);
  Tensor m = Tensor::bernoulli({10000}, 0.3f, &g1);
  EXPECT_NEAR(mean(m).item(), 0.3f, 0.02f);
  manual_seed(5);
  Tensor c = Tensor::uniform({4});
  manual_seed(5);
  EXPECT_EQ(Tensor::uniform({4}).to_vector(), c.to_vector());
}

TEST(Tensor, PrintingShowsValuesAndShape) {
  Tensor a = Tensor::from({1, 2, 3, 4}, {2, 2});
  EXPECT_EQ(a.str(), "tensor([[1.0000, 2.0000],\n        [3.0000, 4.0000]], shape=[2,2])");
  std::string big = Tensor::zeros({100, 100}).str();
  EXPECT_NE(big.find("..."), std::string::npos);
  EXPECT_LT(big.size(), 1000u);
}

TEST(Threads, ParallelForCoversTheRangeOnce) {
  std::vector<int> hits(100000, 0);
  parallel_for(0, 100000, 1000, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) hits[i]++;
  });
  for (int h : hits) ASSERT_EQ(h, 1);
  const int before = num_threads();
  set_num_threads(1);
  EXPECT_EQ(num_threads(), 1);
  set_num_threads(before);
  EXPECT_ERROR_CONTAINS(set_num_threads(0), "at least 1 thread");
}

TEST(Threads, LargeElementwiseGivesTheSameResultSplitOrNot) {
  Generator g(3);
  Tensor a = Tensor::uniform({300000}, -1, 1, &g);
  Tensor b = Tensor::uniform({300000}, -1, 1, &g);
  const int before = num_threads();
  set_num_threads(2);
  Tensor c2 = a * b + a;
  set_num_threads(1);
  Tensor c1 = a * b + a;
  set_num_threads(before);
  EXPECT_EQ(c1.to_vector(), c2.to_vector());
}
