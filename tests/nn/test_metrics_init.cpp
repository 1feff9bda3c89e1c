// Metrics (hand-computed values, accumulated over batches) and initialisers.
#include "nn/fixture_util.hpp"

using namespace neurona;
using namespace neurona::testing;
namespace M = neurona::nn::metrics;

TEST(Metrics, AccuracyBinaryMulticlassTopK) {
  M::BinaryAccuracy bin;
  bin.update(Tensor::from({0.9f, 0.4f, 0.6f}), Tensor::from({1, 0, 0}));
  bin.update(Tensor::from({0.1f}, {1, 1}), Tensor::from({1}));
  EXPECT_DOUBLE_EQ(bin.compute(), 2.0 / 4.0);
  bin.reset();
  EXPECT_DOUBLE_EQ(bin.compute(), 0.0);

  Tensor scores = Tensor::from({0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f, 0.2f, 0.3f, 0.5f}, {3, 3});
  M::Accuracy top1, top2(2);
  top1.update(scores, Tensor::from({1, 1, 0}));
  top2.update(scores, Tensor::from({1, 1, 0}));
  EXPECT_DOUBLE_EQ(top1.compute(), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(top2.compute(), 2.0 / 3.0);  // class 0 of the last row ranks third
  EXPECT_ERROR_CONTAINS(top1.update(scores, Tensor::from({1, 5, 0})), "target 5 is out of range");
}

TEST(Metrics, Regression) {
  M::MeanAbsoluteError mae;
  M::MeanSquaredError mse;
  M::RootMeanSquaredError rmse;
  M::R2Score r2;
  Tensor p1 = Tensor::from({0, 1}), t1 = Tensor::from({0.5f, -1});
  Tensor p2 = Tensor::from({3}), t2 = Tensor::from({3.2f});
  for (M::Metric* m : std::vector<M::Metric*>{&mae, &mse, &rmse, &r2}) {
    m->update(p1, t1);
    m->update(p2, t2);
  }
  EXPECT_NEAR(mae.compute(), 0.9, 1e-6);
  EXPECT_NEAR(mse.compute(), 1.43, 1e-6);
  EXPECT_NEAR(rmse.compute(), std::sqrt(1.43), 1e-6);
  // targets 0.5, -1, 3.2: mean 0.9, SS_tot = 0.16 + 3.61 + 5.29 = 9.06, SS_res = 4.29
  EXPECT_NEAR(r2.compute(), 1.0 - 4.29 / 9.06, 1e-6);
  EXPECT_FALSE(mse.higher_is_better());
}

TEST(Metrics, ConfusionPrecisionRecallF1) {
  // Binary: predictions 1,1,0,0,1 against targets 1,0,0,1,1 -> tp 2, fp 1, fn 1, tn 1.
  Tensor p = Tensor::from({0.8f, 0.7f, 0.2f, 0.4f, 0.9f}), t = Tensor::from({1, 0, 0, 1, 1});
  M::Precision prec;
  M::Recall rec;
  M::F1Score f1;
  M::ConfusionMatrix cm(2);
  for (M::Metric* m : std::vector<M::Metric*>{&prec, &rec, &f1, &cm}) {
    m->update(p.slice(0, 2), t.slice(0, 2));
    m->update(p.slice(2, 5), t.slice(2, 5));
  }
  EXPECT_DOUBLE_EQ(prec.compute(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(rec.compute(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(f1.compute(), 2.0 / 3.0);
  EXPECT_EQ(cm.count(0, 0), 1);
  EXPECT_EQ(cm.count(0, 1), 1);
  EXPECT_EQ(cm.count(1, 0), 1);
  EXPECT_EQ(cm.count(1, 1), 2);
  EXPECT_DOUBLE_EQ(cm.compute(), 3.0 / 5.0);

  // Macro over 3 classes. argmax predictions: 0, 1, 1, 2 against targets 0, 1, 2, 2.
  Tensor s = Tensor::from({0.9f, 0.05f, 0.05f, 0.1f, 0.8f, 0.1f, 0.2f, 0.5f, 0.3f, 0.1f, 0.2f, 0.7f}, {4, 3});
  Tensor y = Tensor::from({0, 1, 2, 2});
  M::Precision mp(M::Average::Macro, 3);
  M::Recall mr(M::Average::Macro, 3);
  M::F1Score mf(M::Average::Macro, 3);
  mp.update(s, y);
  mr.update(s, y);
  mf.update(s, y);
  EXPECT_NEAR(mp.compute(), (1.0 + 0.5 + 1.0) / 3.0, 1e-12);
  EXPECT_NEAR(mr.compute(), (1.0 + 1.0 + 0.5) / 3.0, 1e-12);
  EXPECT_NEAR(mf.compute(), (1.0 + 2.0 / 3.0 + 2.0 / 3.0) / 3.0, 1e-12);
}

TEST(Metrics, RocAuc) {
  M::ROCAUC auc;
  auc.update(Tensor::from({0.1f, 0.4f}), Tensor::from({0, 0}));
  auc.update(Tensor::from({0.35f, 0.8f}), Tensor::from({1, 1}));
  EXPECT_DOUBLE_EQ(auc.compute(), 0.75);  // the classic sklearn example
  auc.update(Tensor::from({0.4f}), Tensor::from({1}));
  // pairs won by positives 0.35, 0.8, 0.4: 1 + 2 + 1.5 (tie with negative 0.4) out of 6
  EXPECT_NEAR(auc.compute(), (1.0 + 2.0 + 1.5) / 6.0, 1e-12);
  M::ROCAUC one;
  one.update(Tensor::from({0.3f}), Tensor::from({1}));
  EXPECT_ERROR_CONTAINS(one.compute(), "both positive and negative");
}

TEST(Init, GainsFansAndBounds) {
  namespace I = nn::init;
  EXPECT_FLOAT_EQ(I::calculate_gain("relu"), std::sqrt(2.f));
  EXPECT_FLOAT_EQ(I::calculate_gain("tanh"), 5.f / 3.f);
  EXPECT_FLOAT_EQ(I::calculate_gain("leaky_relu", 0.2f), std::sqrt(2.f / 1.04f));
  EXPECT_FLOAT_EQ(I::calculate_gain("selu"), 0.75f);
  EXPECT_FLOAT_EQ(I::calculate_gain("sigmoid"), 1.f);
  EXPECT_ERROR_CONTAINS(I::calculate_gain("swish"), "swish");
  Tensor conv = Tensor::empty({8, 3, 3, 3});
  EXPECT_EQ(I::fan_in_and_fan_out(conv), (std::pair<int64_t, int64_t>{27, 72}));
  Tensor vec = Tensor::empty({5});
  EXPECT_ERROR_CONTAINS(I::xavier_uniform_(vec), "at least 2 dimensions");

  auto max_abs = [](const Tensor& t) {
    float m = 0;
    for (float v : t.to_vector()) m = std::max(m, std::abs(v));
    return m;
  };
  auto stddev = [](const Tensor& t) {
    double s = 0, s2 = 0;
    for (float v : t.to_vector()) s += v, s2 += double(v) * v;
    const double n = double(t.numel());
    return std::sqrt(s2 / n - (s / n) * (s / n));
  };
  Generator g(9);
  Tensor w = Tensor::empty({200, 300});
  I::xavier_uniform_(w, 1.f, &g);
  EXPECT_LE(max_abs(w), std::sqrt(6.f / 500.f));
  EXPECT_GT(max_abs(w), 0.99f * std::sqrt(6.f / 500.f));
  I::xavier_normal_(w, 1.f, &g);
  EXPECT_NEAR(stddev(w), std::sqrt(2.0 / 500.0), 0.002);
  I::kaiming_uniform_(w, 0.f, I::FanMode::FanIn, "relu", &g);
  EXPECT_LE(max_abs(w), std::sqrt(6.f / 300.f));
  EXPECT_GT(max_abs(w), 0.99f * std::sqrt(6.f / 300.f));
  I::kaiming_normal_(w, 0.f, I::FanMode::FanOut, "relu", &g);
  EXPECT_NEAR(stddev(w), std::sqrt(2.0 / 200.0), 0.003);
  I::he_normal_(w, &g);
  EXPECT_NEAR(stddev(w), std::sqrt(2.0 / 300.0), 0.003);
  I::uniform_(w, 2.f, 3.f, &g);
  for (float v : w.to_vector()) ASSERT_TRUE(v >= 2.f && v < 3.f);
  I::constant_(w, 0.5f);
  EXPECT_EQ(w.at({7, 9}), 0.5f);
  I::zeros_(w);
  EXPECT_EQ(max_abs(w), 0.f);
  I::ones_(w);
  EXPECT_EQ(w.at({199, 299}), 1.f);
  I::normal_(w, 1.f, 0.5f, &g);
  EXPECT_NEAR(stddev(w), 0.5, 0.01);
}

TEST(Init, OrthogonalRowsOrColumns) {
  for (Shape s : {Shape{3, 5}, Shape{5, 3}, Shape{4, 4}}) {
    Tensor q = Tensor::empty(s);
    Generator g(4);
    nn::init::orthogonal_(q, 2.f, &g);
    // The shorter side is orthonormal (times gain²).
    const bool rows = s[0] <= s[1];
    Tensor gram = rows ? matmul(q, q.t()) : matmul(q.t(), q);
    const int64_t k = rows ? s[0] : s[1];
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j) EXPECT_NEAR(gram.at({i, j}), i == j ? 4.f : 0.f, 1e-5);
  }
}
