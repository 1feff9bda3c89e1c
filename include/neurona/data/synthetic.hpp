#pragma once
// Toy data sets: TensorFlow Playground's six generators, reproduced rule for rule, and the
// course's two-feature "will I pass this class?" set.
#include <cstdint>
#include <string>

#include "neurona/core/tensor.hpp"

namespace neurona::data {

// Playground labels are +1 (blue) / -1 (orange). ZeroOne maps +1 -> 1 and -1 -> 0, as binary
// cross-entropy wants; PlusMinusOne keeps the Playground's values (tanh output, squared error).
enum class Labels { ZeroOne, PlusMinusOne };

// Points x [N, 2] and targets y [N, 1].
struct Points {
  Tensor x, y;
};

// Options shared by the generators. noise is the Playground slider / 100 (0 … 0.5 in its UI).
// Like the Playground, the points are shuffled once after generation; its train/test split then
// takes the first floor(N * ratio) points for training (validation_split(N, 1 - ratio) here).
struct PlaygroundOptions {
  int64_t samples = -1;  // -1: the Playground's 500 (classification) or 1200 (regression)
  float noise = 0.f;
  uint64_t seed = 0;
  Labels labels = Labels::ZeroOne;
  bool shuffle = true;
};

// Classification (labels per `labels`); circle, gauss and spiral make samples/2 points per class.
Points playground_circle(const PlaygroundOptions& options = {});
Points playground_xor(const PlaygroundOptions& options = {});
Points playground_gauss(const PlaygroundOptions& options = {});
Points playground_spiral(const PlaygroundOptions& options = {});
// Regression, targets roughly in [-1, 1].
Points playground_plane(const PlaygroundOptions& options = {});
Points playground_multi_gaussian(const PlaygroundOptions& options = {});
// By the Playground's key: circle, xor, gauss, spiral, reg-plane, reg-gauss.
Points playground(const std::string& key, const PlaygroundOptions& options = {});
bool playground_is_regression(const std::string& key);

// The web Playground's multiclass sets (500 points, classes 0 … K-1 in y [N, 1], not shuffled):
// K Gaussian blobs on a circle of radius 3.5, widened by noise (std 0.4 … 2.4), and K interleaved
// spiral arms (the Playground's spiral rule with K phases, uniform noise of ± noise).
Points playground_blobs(int classes, double noise, uint32_t seed);
Points playground_spiral_arms(int classes, double noise, uint32_t seed);
// Fisher–Yates shuffle of the rows of (x, y), as the Playground does once after generating.
void shuffle_points(Tensor& x, Tensor& y, uint32_t seed);

// "¿Aprobaré esta clase?" (course seed 004): x1 = lectures attended (whole numbers 0…20),
// x2 = hours spent on the final project (0…12), y = 1 for pass. The rule is ours, not the
// course's: pass when 0.25*x1 + 0.5*x2 - 5 + noise > 0, noise ~ N(0, noise_std).
Points pass_the_class(int64_t samples = 200, float noise_std = 0.5f, uint64_t seed = 0);

}  // namespace neurona::data
