// The optimizer comparison of the course (seed 004, "adaptive learning rates"): SGD, SGD with
// momentum, RMSprop and Adam minimise the Rosenbrock valley f(x, y) = (1 - x)² + 100 (y - x²)²
// from (-1.5, 2). The table shows how many steps each needs to get within 1e-3 of the minimum (1, 1).
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "neurona/neurona.hpp"

using namespace neurona;

namespace {

constexpr int kMaxSteps = 50000;
constexpr double kTolerance = 1e-3;

Tensor rosenbrock(const Tensor& x, const Tensor& y) {
  Tensor a = 1.f - x;
  Tensor b = y - x * x;
  return a * a + 100.f * b * b;
}

struct Row {
  const char* name;
  std::string settings;
  std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)> make;
};

}  // namespace

int main() {
  const std::vector<Row> rows = {
      {"SGD", "lr=5e-4",
       [](auto p) { return std::make_unique<optim::SGD>(p, optim::SGDOptions{.lr = 5e-4}); }},
      {"SGD + momentum", "lr=5e-4, momentum=0.9",
       [](auto p) {
         return std::make_unique<optim::SGD>(p, optim::SGDOptions{.lr = 5e-4, .momentum = 0.9});
       }},
      {"RMSprop", "lr=1e-3",
       [](auto p) { return std::make_unique<optim::RMSprop>(p, optim::RMSpropOptions{.lr = 1e-3}); }},
      {"Adam", "lr=2e-2",
       [](auto p) { return std::make_unique<optim::Adam>(p, optim::AdamOptions{.lr = 2e-2}); }},
  };
  std::printf(
      "Rosenbrock f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 from (-1.5, 2); converged when within %.0e of (1, "
      "1)\n\n",
      kTolerance);
  std::printf("%-16s %-24s %8s  %-22s %s\n", "optimizer", "settings", "steps", "final (x, y)", "result");
  for (const auto& row : rows) {
    Tensor x = Tensor::from({-1.5f}).requires_grad_();
    Tensor y = Tensor::from({2.0f}).requires_grad_();
    auto opt = row.make({x, y});
    int steps = 0;
    bool converged = false;
    for (steps = 1; steps <= kMaxSteps; ++steps) {
      opt->zero_grad();
      rosenbrock(x, y).backward();
      opt->step();
      const double dx = x.item() - 1.0, dy = y.item() - 1.0;
      if (!std::isfinite(dx) || !std::isfinite(dy)) break;
      if (std::sqrt(dx * dx + dy * dy) < kTolerance) {
        converged = true;
        break;
      }
    }
    char point[64];
    std::snprintf(point, sizeof point, "(%.4f, %.4f)", x.item(), y.item());
    std::printf("%-16s %-24s %8d  %-22s %s\n", row.name, row.settings.c_str(), std::min(steps, kMaxSteps),
                point, converged ? "converged" : "not converged");
  }
  return 0;
}
