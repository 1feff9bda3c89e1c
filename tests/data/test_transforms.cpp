#include <cmath>

#include "test_util.hpp"

using namespace neurona;
using namespace neurona::data;
using neurona::testing::expect_values;

TEST(StandardScaler, FitTransformInverseAndState) {
  auto x = Tensor::from({1, 10, 2, 10, 3, 10, 6, 10}, {4, 2});  // column 2 is constant
  StandardScaler s;
  auto z = s.fit_transform(x);
  // mean 3, population std sqrt(14/4)
  const float sd = std::sqrt(3.5f);
  expect_values(s.mean(), {3, 10});
  expect_values(s.std(), {sd, 0});
  expect_values(z, {-2 / sd, 0, -1 / sd, 0, 0, 0, 3 / sd, 0});
  expect_values(s.inverse_transform(z), x.to_vector());
  auto restored = load_scaler(s.type(), s.state());
  expect_values(restored->transform(Tensor::from({5, 11}, {1, 2})), {2 / sd, 1});
  EXPECT_ERROR_CONTAINS(s.transform(Tensor::zeros({2, 3})), "expects [N, 2]");
}

TEST(MinMaxScaler, MapsOntoTheFeatureRangeAndRestores) {
  auto x = Tensor::from({0, -1, 5, 1, 10, 3}, {3, 2});
  MinMaxScaler s(-1.f, 1.f);
  expect_values(s.fit_transform(x), {-1, -1, 0, 0, 1, 1});
  auto restored = load_scaler("MinMaxScaler", s.state());
  expect_values(restored->transform(Tensor::from({20, -1}, {1, 2})), {3, -1});
  expect_values(restored->inverse_transform(Tensor::from({0, 0}, {1, 2})), {5, 1});
  EXPECT_ERROR_CONTAINS(load_scaler("MinMaxScaler", {{"data_min", Tensor::zeros({2})}}),
                        "missing tensor 'data_max'");
  EXPECT_ERROR_CONTAINS(make_scaler("robust"), "unknown scaler 'robust'");
}

TEST(Transforms, OneHot) {
  expect_values(one_hot(Tensor::from({2, 0}), 3), {0, 0, 1, 1, 0, 0});
  EXPECT_ERROR_CONTAINS(one_hot(Tensor::from({1, 3}), 3), "sample 1 has label 3");
}

TEST(Transforms, NormalizeImagesPerChannel) {
  auto x = Tensor::from({1, 1, 4, 4}, {1, 2, 1, 2});
  expect_values(normalize_images(x, {1, 2}, {1, 0.5f}), {0, 0, 4, 4});
  EXPECT_ERROR_CONTAINS(normalize_images(x, {0.5f}, {1}), "2 channel(s) but 1 means");
}
