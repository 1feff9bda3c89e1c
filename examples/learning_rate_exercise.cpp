// The learning-rate exercise of the course (seed 003, lesson 4.1): gradient descent on a 1-D loss
// curve with learning rates 0.03, 0.1 and 1. How many steps does each take to reach the minimum?
//
// Loss curve: L(w) = (w - 1)², starting at w = -4. Each step moves w by -lr · L'(w) = -lr · 2(w - 1),
// so the distance to the minimum is multiplied by (1 - 2·lr) every step.
#include <cmath>
#include <cstdio>
#include <string>

#include "neurona/neurona.hpp"

using namespace neurona;

namespace {

constexpr double kStart = -4.0, kMinimum = 1.0, kTolerance = 0.01;
constexpr int kMaxSteps = 1000;

struct Outcome {
  int steps = 0;
  std::string verdict;
  double w = 0;
};

Outcome descend(double lr) {
  Tensor w = Tensor::from({float(kStart)}).requires_grad_();
  optim::SGD sgd({w}, {.lr = lr});
  Outcome out;
  double previous = std::abs(kStart - kMinimum);
  int no_progress = 0;
  for (int step = 1; step <= kMaxSteps; ++step) {
    sgd.zero_grad();
    Tensor d = w - float(kMinimum);
    sum(d * d).backward();
    sgd.step();
    const double dist = std::abs(double(w.item()) - kMinimum);
    out.steps = step;
    out.w = w.item();
    if (dist < kTolerance) {
      out.verdict = "reached the minimum";
      return out;
    }
    if (!std::isfinite(dist) || dist > 1e6) {
      out.verdict = "diverges";
      return out;
    }
    no_progress = dist >= previous * (1 - 1e-6) ? no_progress + 1 : 0;
    if (no_progress >= 10) {
      out.verdict =
          dist > previous * (1 + 1e-6) ? "diverges" : "oscillates around the minimum, never reaches it";
      return out;
    }
    previous = dist;
  }
  out.verdict = "did not reach the minimum";
  return out;
}

}  // namespace

int main() {
  std::printf("Gradient descent on L(w) = (w - 1)^2 from w = %.0f; minimum reached when |w - 1| < %.2f\n\n",
              kStart, kTolerance);
  std::printf("%-14s %7s  %-10s %s\n", "learning rate", "steps", "final w", "result");
  for (double lr : {0.03, 0.1, 1.0}) {
    const Outcome o = descend(lr);
    std::printf("%-14g %7d  %-10.4f %s\n", lr, o.steps, o.w, o.verdict.c_str());
  }
  std::printf(
      "\nA larger rate gets there in fewer steps, until it overshoots: with lr = 1 every step jumps\n"
      "to the mirror point on the other side of the minimum. The Goldilocks rate here is 0.5 (one step).\n");
  return 0;
}
