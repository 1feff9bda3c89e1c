#include <cmath>

#include "test_util.hpp"

using namespace neurona;
using namespace neurona::data;

namespace {
struct P {
  float x, y, label;
};
std::vector<P> rows(const Points& p) {
  std::vector<P> out;
  for (int64_t i = 0; i < p.x.size(0); ++i)
    out.push_back({p.x.data()[2 * i], p.x.data()[2 * i + 1], p.y.data()[i]});
  return out;
}
int count_label(const std::vector<P>& ps, float label) {
  int c = 0;
  for (auto& p : ps) c += p.label == label;
  return c;
}
}  // namespace

TEST(Playground, CircleShapeCountsAndLabelNoise) {
  auto ps = rows(playground_circle({.seed = 1}));
  ASSERT_EQ(ps.size(), 500u);
  EXPECT_EQ(count_label(ps, 1.f), 250);
  EXPECT_EQ(count_label(ps, 0.f), 250);
  for (auto& p : ps) {
    const float r = std::hypot(p.x, p.y);
    EXPECT_TRUE(r <= 2.5f || (r >= 3.5f - 1e-4f && r <= 5.f + 1e-4f)) << r;
    EXPECT_EQ(p.label, r < 2.5f ? 1.f : 0.f);
  }
  // Noise flips labels near the boundary but never moves the stored points.
  auto noisy = rows(playground_circle({.noise = 0.5f, .seed = 1}));
  int flipped = 0;
  for (auto& p : noisy) {
    const float r = std::hypot(p.x, p.y);
    EXPECT_TRUE(r <= 2.5f || (r >= 3.5f - 1e-4f && r <= 5.f + 1e-4f)) << r;
    flipped += p.label != (r < 2.5f ? 1.f : 0.f);
  }
  EXPECT_GT(flipped, 25);
  EXPECT_LT(flipped, 200);
}

TEST(Playground, XorQuadrantsPaddingAndNoise) {
  auto ps = rows(playground_xor({.seed = 2}));
  ASSERT_EQ(ps.size(), 500u);
  for (auto& p : ps) {
    EXPECT_GE(std::abs(p.x), 0.3f);
    EXPECT_LE(std::abs(p.x), 5.3f);
    EXPECT_GE(std::abs(p.y), 0.3f);
    EXPECT_EQ(p.label, p.x * p.y >= 0 ? 1.f : 0.f);
  }
  EXPECT_NEAR(count_label(ps, 1.f), 250, 40);
  auto noisy = rows(playground_xor({.noise = 0.3f, .seed = 2}));
  int flipped = 0;
  for (auto& p : noisy) flipped += p.label != (p.x * p.y >= 0 ? 1.f : 0.f);
  EXPECT_GT(flipped, 10);
}

TEST(Playground, GaussBlobsAndNoiseAsVariance) {
  for (auto [noise, variance] : {std::pair{0.f, 0.5f}, std::pair{0.5f, 4.f}}) {
    auto ps = rows(playground_gauss({.samples = 4000, .noise = noise, .seed = 3}));
    ASSERT_EQ(ps.size(), 4000u);
    EXPECT_EQ(count_label(ps, 1.f), 2000);
    double mx = 0, var = 0;
    for (auto& p : ps)
      if (p.label == 1.f) mx += p.x;
    mx /= 2000;
    for (auto& p : ps)
      if (p.label == 1.f) var += (p.x - mx) * (p.x - mx);
    var /= 2000;
    EXPECT_NEAR(mx, 2.0, 0.1) << noise;
    EXPECT_NEAR(var, variance, variance * 0.1) << noise;
  }
}

TEST(Playground, SpiralArms) {
  auto ps = rows(playground_spiral({.seed = 4, .shuffle = false}));
  ASSERT_EQ(ps.size(), 500u);
  // Point i of each arm: r = 5 i / 250, t = 1.75 * 2 pi * i / 250 (+ pi for the second arm).
  for (int i : {0, 17, 100, 249}) {
    const double frac = i / 250.0, t = 1.75 * 2 * M_PI * frac;
    EXPECT_NEAR(ps[i].x, 5 * frac * std::sin(t), 1e-4);
    EXPECT_NEAR(ps[i].y, 5 * frac * std::cos(t), 1e-4);
    EXPECT_EQ(ps[i].label, 1.f);
    EXPECT_NEAR(ps[250 + i].x, 5 * frac * std::sin(t + M_PI), 1e-4);
    EXPECT_EQ(ps[250 + i].label, 0.f);
  }
  auto noisy = rows(playground_spiral({.noise = 0.5f, .seed = 4, .shuffle = false}));
  double max_dev = 0;
  for (int i = 0; i < 250; ++i) max_dev = std::max(max_dev, double(std::abs(noisy[i].x - ps[i].x)));
  EXPECT_GT(max_dev, 0.3);
  EXPECT_LE(max_dev, 0.5 + 1e-5);
}

TEST(Playground, PlaneRegressionAndItsLabelNoise) {
  auto ps = rows(playground_plane({.seed = 5}));
  ASSERT_EQ(ps.size(), 1200u);
  for (auto& p : ps) {
    EXPECT_LE(std::abs(p.x), 6.f);
    EXPECT_NEAR(p.label, (p.x + p.y) / 10.f, 1e-6f);
  }
  auto noisy = rows(playground_plane({.noise = 0.5f, .seed = 5}));
  double max_dev = 0;
  for (auto& p : noisy) max_dev = std::max(max_dev, double(std::abs(p.label - (p.x + p.y) / 10.f)));
  EXPECT_GT(max_dev, 0.3);
  EXPECT_LE(max_dev, 0.6 + 1e-5);  // both offsets at most 6 * 0.5, divided by 10
}

TEST(Playground, MultiGaussianBumps) {
  auto ps = rows(playground_multi_gaussian({.seed = 6}));
  ASSERT_EQ(ps.size(), 1200u);
  const float cx[] = {-4, 0, 4, -4, 0, 4}, cy[] = {2.5f, 2.5f, 2.5f, -2.5f, -2.5f, -2.5f},
              sign[] = {1, -1, 1, -1, 1, -1};
  int inside = 0;
  for (auto& p : ps) {
    float expected = 0;  // the bumps (radius 2) do not overlap, so at most one applies
    for (int c = 0; c < 6; ++c) {
      const float d = std::hypot(p.x - cx[c], p.y - cy[c]);
      if (d < 2) expected = sign[c] * (1 - d / 2), ++inside;
    }
    EXPECT_NEAR(p.label, expected, 1e-5f);
  }
  EXPECT_GT(inside, 100);
}

TEST(Playground, SeedsAndLabelStyles) {
  for (const char* key : {"circle", "xor", "gauss", "spiral", "reg-plane", "reg-gauss"}) {
    auto a = playground(key, {.noise = 0.2f, .seed = 9}), b = playground(key, {.noise = 0.2f, .seed = 9});
    auto c = playground(key, {.noise = 0.2f, .seed = 10});
    EXPECT_EQ(a.x.to_vector(), b.x.to_vector()) << key;
    EXPECT_EQ(a.y.to_vector(), b.y.to_vector()) << key;
    EXPECT_NE(a.x.to_vector(), c.x.to_vector()) << key;
    EXPECT_EQ(a.x.size(0), playground_is_regression(key) ? 1200 : 500) << key;
  }
  auto pm = rows(playground_gauss({.seed = 1, .labels = Labels::PlusMinusOne}));
  EXPECT_EQ(count_label(pm, 1.f), 250);
  EXPECT_EQ(count_label(pm, -1.f), 250);
  EXPECT_ERROR_CONTAINS(playground("moons"), "unknown Playground data set 'moons'");
}

TEST(PassTheClass, RuleRangesAndSeed) {
  auto clean = rows(pass_the_class(300, 0.f, 1));
  int passed = 0;
  for (auto& p : clean) {
    EXPECT_EQ(p.x, std::round(p.x));
    EXPECT_GE(p.x, 0.f);
    EXPECT_LE(p.x, 20.f);
    EXPECT_GE(p.y, 0.f);
    EXPECT_LE(p.y, 12.f);
    EXPECT_EQ(p.label, 0.25f * p.x + 0.5f * p.y - 5.f > 0 ? 1.f : 0.f);
    passed += p.label == 1.f;
  }
  EXPECT_GT(passed, 90);
  EXPECT_LT(passed, 210);
  EXPECT_EQ(pass_the_class(50, 0.5f, 3).y.to_vector(), pass_the_class(50, 0.5f, 3).y.to_vector());
}
