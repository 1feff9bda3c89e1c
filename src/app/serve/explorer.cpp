// The learning-rate explorer's server side: the optimizers of optim/ stepping on one or two
// parameters, so the page shows the library's own update rules.
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>

#include "api.hpp"
#include "neurona/core/error.hpp"
#include "neurona/core/format.hpp"
#include "neurona/optim/optimizers.hpp"
#include "neurona/optim/registry.hpp"

namespace neurona::app {

namespace {

void only_keys(const json& j, std::initializer_list<const char*> keys) {
  check(j.is_object(), "the request body must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (const char* k : keys) known = known || it.key() == k;
    check(known, "unknown field '", it.key(), "'");
  }
}

double number(const json& j, const char* key, double fallback, double lo, double hi) {
  if (!j.contains(key)) return fallback;
  check(j[key].is_number(), "'", key, "' must be a number in [", lo, ", ", hi, "]");
  const double v = j[key].get<double>();
  check(std::isfinite(v) && v >= lo && v <= hi, "'", key, "' is ", v, "; expected [", lo, ", ", hi, "]");
  return v;
}

std::string choice(const json& j, const char* key, const std::string& fallback,
                   std::initializer_list<const char*> choices) {
  if (!j.contains(key)) return fallback;
  check(j[key].is_string(), "'", key, "' must be a string");
  const std::string v = j[key].get<std::string>();
  for (const char* c : choices)
    if (v == c) return v;
  fail("'", key, "' is '", v, "', not a known choice");
}

// 1-D curves: seed 003's (w − 1)² and a tilted double well with a local minimum.
Tensor curve(const std::string& name, const Tensor& w) {
  if (name == "quadratic") {
    Tensor d = w - 1.f;
    return sum(d * d);
  }
  Tensor w2 = w * w;
  return sum(w2 * w2 * 0.05f - w2 * 0.5f + w * 0.3f + 1.5f);
}

// 2-D surfaces of seed 004's loss-landscape slides.
Tensor surface(const std::string& name, const Tensor& p) {
  Tensor x = p.slice(0, 1), y = p.slice(1, 2);
  if (name == "rosenbrock") {  // (1 − x)² + 100 (y − x²)²
    Tensor a = 1.f - x, b = y - x * x;
    return sum(a * a + b * b * 100.f);
  }
  if (name == "ravine") return sum(x * x * 0.1f + y * y * 4.f);  // an elongated bowl
  // "saddle": a saddle at the origin draining into two minima at (±2, 0)
  Tensor x2 = x * x;
  return sum(x2 * x2 * 0.0625f - x2 * 0.5f + y * y + 1.f);
}

}  // namespace

json explorer_1d(const json& r) {
  only_keys(r, {"curve", "lr", "start", "steps"});
  const std::string name = choice(r, "curve", "quadratic", {"quadratic", "double-well"});
  const double lr = number(r, "lr", 0.1, 0, 10);
  const double start = number(r, "start", -4, -10, 10);
  const int steps = int(number(r, "steps", 100, 0, 1000));
  Tensor w = Tensor::from({float(start)}).requires_grad_();
  optim::SGD sgd({w}, {.lr = lr});
  json path = json::array();
  for (int s = 0; s <= steps; ++s) {
    sgd.zero_grad();
    Tensor loss = curve(name, w);
    const double wv = w.item(), lv = loss.item();
    if (!std::isfinite(wv) || !std::isfinite(lv) || std::abs(wv) > 1e6) break;  // diverged
    path.push_back(json::array({wv, lv}));
    if (s == steps) break;
    loss.backward();
    sgd.step();
  }
  json curve_pts = json::array();
  for (int i = 0; i <= 200; ++i) {
    const float wv = -6.f + 12.f * float(i) / 200.f;
    curve_pts.push_back(json::array({wv, curve(name, Tensor::from({wv})).item()}));
  }
  return {{"curve", name}, {"lr", lr}, {"path", path}, {"points", curve_pts}};
}

json explorer_race(const json& r) {
  only_keys(r, {"surface", "start", "steps", "lr"});
  const std::string name = choice(r, "surface", "rosenbrock", {"rosenbrock", "ravine", "saddle"});
  const int steps = int(number(r, "steps", 500, 1, 3000));
  double sx = -1.5, sy = 2.0;
  if (name == "ravine") sx = -4.5, sy = 1.5;
  if (name == "saddle") sx = -0.01, sy = 2.5;
  if (r.contains("start")) {
    const json& s = r["start"];
    check(s.is_array() && s.size() == 2 && s[0].is_number() && s[1].is_number(),
          "'start' must be [x, y] with numbers in [-5, 5]");
    sx = s[0].get<double>(), sy = s[1].get<double>();
    check(std::abs(sx) <= 5 && std::abs(sy) <= 5, "'start' must lie in [-5, 5]²");
  }
  // Defaults: seed 004's rates for the Rosenbrock valley (examples/optimizer_comparison.cpp).
  std::map<std::string, double> lrs{{"sgd", 5e-4}, {"momentum", 5e-4}, {"rmsprop", 1e-3}, {"adam", 2e-2}};
  if (name != "rosenbrock") lrs = {{"sgd", 0.05}, {"momentum", 0.05}, {"rmsprop", 0.05}, {"adam", 0.1}};
  if (r.contains("lr")) {
    const json& l = r["lr"];
    only_keys(l, {"sgd", "momentum", "rmsprop", "adam"});
    for (auto& [k, v] : lrs) v = number(l, k.c_str(), v, 0, 10);
  }
  json racers = json::object();
  for (const auto& [opt_name, lr] : lrs) {
    Tensor p = Tensor::from({float(sx), float(sy)}).requires_grad_();
    std::shared_ptr<optim::Optimizer> opt = make_web_optimizer(opt_name, lr, {p});
    json path = json::array();
    for (int s = 0; s <= steps; ++s) {
      opt->zero_grad();
      Tensor loss = surface(name, p);
      const float* v = p.data();
      if (!std::isfinite(v[0]) || !std::isfinite(v[1]) || std::abs(v[0]) > 1e3 || std::abs(v[1]) > 1e3) break;
      path.push_back(json::array({std::round(v[0] * 1e4) / 1e4, std::round(v[1] * 1e4) / 1e4, loss.item()}));
      if (s == steps) break;
      loss.backward();
      opt->step();
    }
    racers[opt_name] = {{"lr", lr}, {"path", path}};
  }
  // log(1 + f) on a 80 × 80 grid over the view, row 0 at the top, for the contour image.
  double x0 = -2, x1 = 2, y0 = -1, y1 = 3;
  if (name == "ravine") x0 = -5, x1 = 5, y0 = -2.5, y1 = 2.5;
  if (name == "saddle") x0 = -3.5, x1 = 3.5, y0 = -3, y1 = 3;
  const int n = 80;
  json grid = json::array();
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const float x = float(x0 + (x1 - x0) * (j + 0.5) / n), y = float(y1 - (y1 - y0) * (i + 0.5) / n);
      grid.push_back(std::round(std::log1p(double(surface(name, Tensor::from({x, y})).item())) * 1000) /
                     1000);
    }
  return {{"surface", name},
          {"racers", racers},
          {"view", {x0, x1, y0, y1}},
          {"grid", {{"n", n}, {"values", grid}}}};
}

OptimizerChoice optimizer_choice(const std::string& word) {
  if (word == "momentum") return {"sgd", {{"momentum", "0.9"}}};
  if (word == "nesterov") return {"sgd", {{"momentum", "0.9"}, {"nesterov", "true"}}};
  return {word, {}};
}

std::vector<std::string> web_optimizer_words() {
  std::vector<std::string> words = optim::optimizers().names();
  words.push_back("momentum");
  words.push_back("nesterov");
  return words;
}

std::shared_ptr<optim::Optimizer> make_web_optimizer(const std::string& word, double lr,
                                                     std::vector<Tensor> params) {
  const OptimizerChoice choice = optimizer_choice(word);
  std::map<std::string, std::string> values(choice.options.begin(), choice.options.end());
  values["lr"] = format_number(lr);
  const optim::OptimizerEntry& entry = optim::optimizers().get(choice.name);
  return entry.make(entry.options_from(values), std::move(params));
}

}  // namespace neurona::app
