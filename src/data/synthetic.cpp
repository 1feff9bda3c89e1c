#include "neurona/data/synthetic.hpp"

#include <cmath>
#include <functional>
#include <numbers>
#include <utility>
#include <vector>

#include "neurona/core/error.hpp"
#include "neurona/core/random.hpp"
#include "neurona/data/dataset.hpp"

namespace neurona::data {
namespace {

struct Point {
  float x, y, label;
};

// Generation order follows the Playground's source; the random numbers come from our Generator,
// so the points follow the same distributions but are not the browser's exact values.
struct Builder {
  const PlaygroundOptions& opt;
  int64_t n;
  Generator gen;
  std::vector<Point> points;

  Builder(const PlaygroundOptions& o, int64_t default_n)
      : opt(o), n(o.samples < 0 ? default_n : o.samples), gen(o.seed) {
    check(n >= 0, "playground: samples must be >= 0, got ", o.samples);
    check(o.noise >= 0.f, "playground: noise must be >= 0, got ", o.noise);
  }
  float uniform(float lo, float hi) { return gen.uniform(lo, hi); }
  // The Playground draws normals with the Marsaglia polar method and takes a variance.
  float normal(float mean, float variance) {
    double u, v, s;
    do {
      u = 2 * gen.uniform() - 1;
      v = 2 * gen.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s == 0);
    return static_cast<float>(mean + std::sqrt(variance) * u * std::sqrt(-2 * std::log(s) / s));
  }
  void add(float x, float y, float label) { points.push_back({x, y, label}); }

  Points finish(bool classification) {
    const auto count = static_cast<int64_t>(points.size());
    std::vector<int64_t> order(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) order[i] = i;
    if (opt.shuffle) order = permutation(count, gen.next_u64());
    Points out{Tensor::empty(Shape{count, 2}), Tensor::empty(Shape{count, 1})};
    for (int64_t i = 0; i < count; ++i) {
      const Point& p = points[order[i]];
      out.x.data()[2 * i] = p.x;
      out.x.data()[2 * i + 1] = p.y;
      out.y.data()[i] = classification && opt.labels == Labels::ZeroOne ? (p.label > 0 ? 1.f : 0.f) : p.label;
    }
    return out;
  }
};

float sign_label(bool positive) { return positive ? 1.f : -1.f; }

}  // namespace

Points playground_circle(const PlaygroundOptions& o) {
  Builder b(o, 500);
  const float radius = 5.f;
  auto label = [&](float x, float y) { return sign_label(std::hypot(x, y) < radius * 0.5f); };
  auto ring = [&](float r_lo, float r_hi) {
    for (int64_t i = 0; i < b.n / 2; ++i) {
      const float r = b.uniform(r_lo, r_hi), angle = b.uniform(0.f, 2 * static_cast<float>(M_PI));
      const float x = r * std::sin(angle), y = r * std::cos(angle);
      // Noise moves only the point the label is computed from, not the stored point.
      const float nx = b.uniform(-radius, radius) * o.noise, ny = b.uniform(-radius, radius) * o.noise;
      b.add(x, y, label(x + nx, y + ny));
    }
  };
  ring(0.f, radius * 0.5f);
  ring(radius * 0.7f, radius);
  return b.finish(true);
}

Points playground_xor(const PlaygroundOptions& o) {
  Builder b(o, 500);
  const float padding = 0.3f;
  for (int64_t i = 0; i < b.n; ++i) {
    float x = b.uniform(-5.f, 5.f);
    x += x > 0 ? padding : -padding;
    float y = b.uniform(-5.f, 5.f);
    y += y > 0 ? padding : -padding;
    const float nx = b.uniform(-5.f, 5.f) * o.noise, ny = b.uniform(-5.f, 5.f) * o.noise;
    b.add(x, y, sign_label((x + nx) * (y + ny) >= 0));
  }
  return b.finish(true);
}

Points playground_gauss(const PlaygroundOptions& o) {
  Builder b(o, 500);
  // Noise 0 … 0.5 maps linearly onto variance 0.5 … 4 (and keeps going past 0.5).
  const float variance = 0.5f + o.noise / 0.5f * 3.5f;
  for (auto [c, label] : {std::pair{2.f, 1.f}, std::pair{-2.f, -1.f}})
    for (int64_t i = 0; i < b.n / 2; ++i) {
      const float x = b.normal(c, variance), y = b.normal(c, variance);
      b.add(x, y, label);
    }
  return b.finish(true);
}

Points playground_spiral(const PlaygroundOptions& o) {
  Builder b(o, 500);
  const int64_t half = b.n / 2;
  for (auto [delta, label] : {std::pair{0.f, 1.f}, std::pair{static_cast<float>(M_PI), -1.f}})
    for (int64_t i = 0; i < half; ++i) {
      const float frac = static_cast<float>(i) / static_cast<float>(half);
      const float r = frac * 5.f, t = 1.75f * frac * 2.f * static_cast<float>(M_PI) + delta;
      const float x = r * std::sin(t) + b.uniform(-1.f, 1.f) * o.noise;
      const float y = r * std::cos(t) + b.uniform(-1.f, 1.f) * o.noise;
      b.add(x, y, label);
    }
  return b.finish(true);
}

namespace {
// Both regression sets: points uniform in [-6, 6]^2, label computed at a noise-shifted position.
Points regression(const PlaygroundOptions& o, const std::function<float(float, float)>& label) {
  Builder b(o, 1200);
  const float radius = 6.f;
  for (int64_t i = 0; i < b.n; ++i) {
    const float x = b.uniform(-radius, radius), y = b.uniform(-radius, radius);
    const float nx = b.uniform(-radius, radius) * o.noise, ny = b.uniform(-radius, radius) * o.noise;
    b.add(x, y, label(x + nx, y + ny));
  }
  return b.finish(false);
}
}  // namespace

Points playground_plane(const PlaygroundOptions& o) {
  return regression(o, [](float x, float y) { return (x + y) / 10.f; });
}

Points playground_multi_gaussian(const PlaygroundOptions& o) {
  struct Centre {
    float x, y, sign;
  };
  static const Centre centres[] = {{-4, 2.5f, 1},   {0, 2.5f, -1}, {4, 2.5f, 1},
                                   {-4, -2.5f, -1}, {0, -2.5f, 1}, {4, -2.5f, -1}};
  return regression(o, [](float x, float y) {
    float label = 0.f;
    for (const Centre& c : centres) {
      // Falls linearly from 1 at the centre to 0 at distance 2, clamped.
      const float v = c.sign * std::clamp(1.f - std::hypot(x - c.x, y - c.y) / 2.f, 0.f, 1.f);
      if (std::abs(v) > std::abs(label)) label = v;
    }
    return label;
  });
}

Points playground(const std::string& key, const PlaygroundOptions& o) {
  if (key == "circle") return playground_circle(o);
  if (key == "xor") return playground_xor(o);
  if (key == "gauss") return playground_gauss(o);
  if (key == "spiral") return playground_spiral(o);
  if (key == "reg-plane") return playground_plane(o);
  if (key == "reg-gauss") return playground_multi_gaussian(o);
  fail("unknown Playground data set '", key, "' (circle, xor, gauss, spiral, reg-plane, reg-gauss)");
}

bool playground_is_regression(const std::string& key) { return key == "reg-plane" || key == "reg-gauss"; }

Points pass_the_class(int64_t samples, float noise_std, uint64_t seed) {
  check(samples >= 1, "pass_the_class: samples must be >= 1, got ", samples);
  check(noise_std >= 0.f, "pass_the_class: noise_std must be >= 0, got ", noise_std);
  Generator g(seed);
  Points out{Tensor::empty(Shape{samples, 2}), Tensor::empty(Shape{samples, 1})};
  for (int64_t i = 0; i < samples; ++i) {
    const auto lectures = static_cast<float>(g.randint(21));
    const float hours = g.uniform(0.f, 12.f);
    const float score =
        0.25f * lectures + 0.5f * hours - 5.f + (noise_std > 0 ? g.normal(0.f, noise_std) : 0.f);
    out.x.data()[2 * i] = lectures;
    out.x.data()[2 * i + 1] = hours;
    out.y.data()[i] = score > 0 ? 1.f : 0.f;
  }
  return out;
}

// --- the web Playground's multiclass sets ----------------------------------------------------

// K Gaussian blobs on a circle of radius 3.5; noise widens them (std 0.4 … 2.4).
Points playground_blobs(int classes, double noise, uint32_t seed) {
  Generator g(seed);
  const int64_t n = 500;
  std::vector<float> x(n * 2), y(n);
  const float std_dev = float(0.4 + 4.0 * noise);
  for (int64_t i = 0; i < n; ++i) {
    const int k = int(i % classes);
    const double a = 2 * std::numbers::pi * k / classes;
    x[2 * i] = float(3.5 * std::cos(a)) + g.normal(0, std_dev);
    x[2 * i + 1] = float(3.5 * std::sin(a)) + g.normal(0, std_dev);
    y[i] = float(k);
  }
  return {Tensor::from(x, {n, 2}), Tensor::from(y, {n, 1})};
}

// K interleaved spiral arms (the Playground's spiral rule with K phases).
Points playground_spiral_arms(int classes, double noise, uint32_t seed) {
  Generator g(seed);
  const int64_t per = 500 / classes, n = per * classes;
  std::vector<float> x(n * 2), y(n);
  for (int k = 0; k < classes; ++k)
    for (int64_t i = 0; i < per; ++i) {
      const double r = 5.0 * double(i) / per;
      const double t = 1.75 * double(i) / per * 2 * std::numbers::pi + 2 * std::numbers::pi * k / classes;
      const int64_t j = k * per + i;
      x[2 * j] = float(r * std::sin(t) + g.uniform(-1, 1) * noise);
      x[2 * j + 1] = float(r * std::cos(t) + g.uniform(-1, 1) * noise);
      y[j] = float(k);
    }
  return {Tensor::from(x, {n, 2}), Tensor::from(y, {n, 1})};
}

// Fisher–Yates shuffle of the rows of (x, y), as the Playground does once after generating.
void shuffle_points(Tensor& x, Tensor& y, uint32_t seed) {
  Generator g(seed ^ 0x9e3779b9u);
  const int64_t n = x.size(0);
  std::vector<int64_t> idx(n);
  for (int64_t i = 0; i < n; ++i) idx[i] = i;
  for (int64_t i = n - 1; i > 0; --i) std::swap(idx[i], idx[g.randint(i + 1)]);
  x = x.index_select(idx);
  y = y.index_select(idx);
}

}  // namespace neurona::data
