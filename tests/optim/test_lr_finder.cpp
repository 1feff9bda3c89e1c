// The LR range test on the course's wine-quality regression (11 → 512 → 512 → 512 → 1, ReLU, MAE,
// Adam), trained on mini-batches of 64 rows so the test stays within a few seconds.
#include <cmath>
#include <fstream>
#include <sstream>

#include "test_util.hpp"

namespace neurona::optim {
namespace {

constexpr int64_t kHidden = 512, kBatch = 64;

// winequality-red.csv: ';'-separated, quoted header, 11 features then quality. Min-max scaled.
void load_wine(Tensor& x, Tensor& y) {
  std::ifstream in(std::string(NEURONA_SOURCE_DIR) + "/data/winequality-red.csv");
  ASSERT_TRUE(in) << "data/winequality-red.csv missing";
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<float>> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<float> r;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ';');) r.push_back(std::stof(cell));
    ASSERT_EQ(r.size(), 12u) << line;
    rows.push_back(r);
  }
  ASSERT_EQ(rows.size(), 1599u);
  for (size_t c = 0; c < 12; ++c) {
    float lo = rows[0][c], hi = rows[0][c];
    for (const auto& r : rows) lo = std::min(lo, r[c]), hi = std::max(hi, r[c]);
    for (auto& r : rows) r[c] = (r[c] - lo) / (hi - lo);
  }
  std::vector<float> xs, ys;
  for (const auto& r : rows) {
    xs.insert(xs.end(), r.begin(), r.begin() + 11);
    ys.push_back(r[11]);
  }
  x = Tensor::from(xs, Shape({int64_t(rows.size()), 11}));
  y = Tensor::from(ys, Shape({int64_t(rows.size()), 1}));
}

struct WineModel {
  std::vector<Tensor> params;  // W1, b1, …, W4, b4 with W as [in, out]
  explicit WineModel(Generator& gen) {
    const int64_t sizes[] = {11, kHidden, kHidden, kHidden, 1};
    for (int l = 0; l < 4; ++l) {
      const float bound = 1.f / std::sqrt(float(sizes[l]));  // PyTorch's Linear default
      params.push_back(
          Tensor::uniform(Shape({sizes[l], sizes[l + 1]}), -bound, bound, &gen).requires_grad_());
      params.push_back(Tensor::uniform(Shape({sizes[l + 1]}), -bound, bound, &gen).requires_grad_());
    }
  }
  Tensor forward(const Tensor& x) const {
    Tensor h = x;
    for (int l = 0; l < 4; ++l) {
      h = matmul(h, params[2 * l]) + params[2 * l + 1];
      if (l < 3) h = maximum(h, Tensor::scalar(0.f));
    }
    return h;
  }
  Tensor mae(const Tensor& x, const Tensor& y) const { return mean(abs(forward(x) - y)); }
};

// Cycles through fixed mini-batches of the data set.
struct Batches {
  Tensor x, y;
  int64_t next = 0;
  std::pair<Tensor, Tensor> take() {
    const int64_t n = x.size(0), start = next;
    const int64_t end = std::min(n, start + kBatch);
    next = end >= n ? 0 : end;
    return {x.slice(start, end), y.slice(start, end)};
  }
};

TEST(LRFinder, SuggestsAnLrThatTrainsTheWineModel) {
  Tensor x, y;
  load_wine(x, y);
  Generator gen(42);
  WineModel model(gen);
  Adam adam(model.params);
  Batches batches{x, y};
  auto before = model.params[0].to_vector();

  LRFinderResult r = lr_find(adam, [&] {
    auto [bx, by] = batches.take();
    return model.mae(bx, by);
  });
  // The sweep ran on a copy: weights, lr and optimizer state are as before.
  EXPECT_EQ(model.params[0].to_vector(), before);
  EXPECT_DOUBLE_EQ(adam.lr(), 1e-3);
  EXPECT_FALSE(adam.state(0, 0).initialized());

  ASSERT_GE(r.suggestion_index, 10);
  ASSERT_LT(r.suggestion_index, int64_t(r.lrs.size()) - 1);
  EXPECT_DOUBLE_EQ(r.lrs.front(), 1e-8);
  // lr_i = min·(max/min)^(i/99)
  EXPECT_NEAR(r.lrs[50], 1e-8 * std::pow(1e8, 50.0 / 99.0), 1e-12);
  EXPECT_NE(r.table().find("suggested lr:"), std::string::npos);
  // The smoothed loss is the bias-corrected EMA of the raw losses.
  EXPECT_NEAR(r.losses[1], (0.98 * 0.02 * r.raw_losses[0] + 0.02 * r.raw_losses[1]) / (1 - 0.98 * 0.98),
              1e-9);

  // Training at the suggestion lowers the full-data loss within 50 steps.
  const double start_loss = model.mae(x, y).item();
  adam.set_lr(r.suggestion);
  Batches train{x, y};
  for (int step = 0; step < 50; ++step) {
    adam.zero_grad();
    auto [bx, by] = train.take();
    model.mae(bx, by).backward();
    adam.step();
  }
  const double end_loss = model.mae(x, y).item();
  EXPECT_LT(end_loss, 0.9 * start_loss) << "suggested lr " << r.suggestion << "\n" << r.table();
}

TEST(LRFinder, ValidatesOptions) {
  Tensor p = Tensor::from({1.f}).requires_grad_();
  SGD sgd({p});
  auto loss = [&] { return sum(p * p); };
  EXPECT_ERROR_CONTAINS(lr_find(sgd, loss, {.min_lr = 1, .max_lr = 0.1}),
                        "lr_find: need 0 < min_lr < max_lr");
  EXPECT_ERROR_CONTAINS(lr_find(sgd, loss, {.num_training = 1}), "num_training must be >= 2 (got 1)");
}

}  // namespace
}  // namespace neurona::optim
