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

TEST(Transforms, AugmentFlipIsAMirror) {
  auto img = Tensor::from({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 3, 3});
  Generator g(1);
  expect_values(augment_images(img, {.flip_prob = 1.f}, g), {3, 2, 1, 6, 5, 4, 9, 8, 7});
  expect_values(augment_images(img, {.flip_prob = 0.f}, g), img.to_vector());
}

// Replays the draws augment_images makes for one image: flip, dy, dx, angle.
struct Draw {
  bool flip;
  int64_t dy, dx;
  double angle;
};
static Draw replay(Generator& g, const AugmentOptions& o) {
  Draw d;
  d.flip = g.uniform() < o.flip_prob;
  d.dy = g.randint(2 * o.max_shift + 1) - o.max_shift;
  d.dx = g.randint(2 * o.max_shift + 1) - o.max_shift;
  d.angle = g.uniform(-o.max_rotation_degrees, o.max_rotation_degrees) * M_PI / 180.0;
  return d;
}

TEST(Transforms, AugmentShiftPadsWithZerosAndIsSeeded) {
  auto img = add(Tensor::arange(50).reshape({2, 1, 5, 5}), 1.f);
  const AugmentOptions o{.flip_prob = 0.f, .max_shift = 2};
  Generator a(5), b(5), r(5);
  auto out = augment_images(img, o, a);
  expect_values(augment_images(img, o, b), out.to_vector(), 0);
  for (int64_t n = 0; n < 2; ++n) {
    const Draw d = replay(r, o);
    for (int64_t y = 0; y < 5; ++y)
      for (int64_t x = 0; x < 5; ++x) {
        const int64_t sy = y - d.dy, sx = x - d.dx;
        const float want = sy >= 0 && sy < 5 && sx >= 0 && sx < 5 ? img.at({n, 0, sy, sx}) : 0.f;
        EXPECT_EQ(out.at({n, 0, y, x}), want)
            << n << " " << y << " " << x << " shift " << d.dy << "," << d.dx;
      }
  }
}

TEST(Transforms, AugmentRotationTurnsAroundTheCentre) {
  // One bright pixel 4 to the right of the centre of a 9x9 image ends up at angle theta.
  auto img = Tensor::zeros({1, 9, 9});
  img.data()[4 * 9 + 8] = 1.f;
  const AugmentOptions o{.flip_prob = 0.f, .max_rotation_degrees = 30.f};
  Generator g(11), r(11);
  auto out = augment_images(img, o, g);
  const Draw d = replay(r, o);
  ASSERT_GT(std::abs(d.angle), 0.05);
  double mass = 0, mx = 0, my = 0;
  for (int64_t y = 0; y < 9; ++y)
    for (int64_t x = 0; x < 9; ++x) {
      const double v = out.at({0, y, x});
      mass += v, mx += v * x, my += v * y;
    }
  EXPECT_NEAR(mx / mass, 4 + 4 * std::cos(d.angle), 0.15);
  EXPECT_NEAR(my / mass, 4 + 4 * std::sin(d.angle), 0.15);
  Generator c(3);
  auto ones = augment_images(Tensor::ones({1, 9, 9}), o, c);
  EXPECT_NEAR(ones.at({0, 4, 4}), 1.f, 1e-5f);  // the centre stays put
}
