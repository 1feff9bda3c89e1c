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

// Macro averages on three classes, as scikit-learn defines them:
// precision_recall_fscore_support(average='macro', zero_division=0) and
// roc_auc_score(multi_class='ovr', average='macro'). Worked out by hand below (and recounted
// with numpy's pairwise comparisons).
TEST(Metrics, MacroPrecisionRecallF1AucOnThreeClasses) {
  // Logits of 8 samples; the arg-max predictions are 0, 1, 0, 1, 0, 1, 0, 1: class 2 is never
  // predicted. Confusion matrix (rows true, columns predicted): [[2, 1, 0], [1, 1, 0], [1, 2, 0]].
  const Tensor z = Tensor::from({2.0f, 0.5f, -1.0f, 1.0f, 1.5f, 0.2f, 0.3f, -0.2f, 0.1f, 0.1f,  2.2f, 0.4f,
                                 1.2f, 0.9f, 0.8f,  0.2f, 0.7f, 0.6f, 1.5f, 0.3f,  1.4f, -0.5f, 1.0f, 0.9f},
                                {8, 3});
  const Tensor y = Tensor::from({0, 0, 0, 1, 1, 2, 2, 2});
  // precision per class: 2/4, 1/4, 0 (never predicted: zero_division=0)  -> macro 0.25
  // recall:              2/3, 1/2, 0/3                                     -> macro 7/18
  // f1 = 2tp/(2tp+fp+fn): 4/7, 2/6, 0                                      -> macro 19/63
  const double precision = 0.25, recall = 7.0 / 18.0, f1 = 19.0 / 63.0;
  // AUC one-vs-rest on softmax(z): class 0's 3 positives win 11 of their 15 pairs with the other
  // samples, class 1's 2 positives 9 of 12, class 2's 3 positives all 15:
  // (11/15 + 9/12 + 15/15) / 3 = 149/180. The raw logits rank differently (class 1 wins 10 of 12,
  // class 2 14 of 15: 150/180), so the softmax matters.
  const double auc_softmax = 149.0 / 180.0, auc_raw = 150.0 / 180.0;

  M::Precision mp(M::Average::Macro, 3);
  M::Recall mr(M::Average::Macro, 3);
  M::F1Score mf(M::Average::Macro, 3);
  M::ROCAUC logits_auc(M::Average::Macro, /*from_logits=*/true), raw_auc(M::Average::Macro);
  for (M::Metric* m : std::vector<M::Metric*>{&mp, &mr, &mf, &logits_auc, &raw_auc}) {
    m->update(z.slice(0, 3), y.slice(0, 3));
    m->update(z.slice(3, 8), y.slice(3, 8));
  }
  EXPECT_NEAR(mp.compute(), precision, 1e-12);
  EXPECT_NEAR(mr.compute(), recall, 1e-12);
  EXPECT_NEAR(mf.compute(), f1, 1e-12);
  EXPECT_NEAR(logits_auc.compute(), auc_softmax, 1e-12);
  EXPECT_NEAR(raw_auc.compute(), auc_raw, 1e-12);

  // What a multiclass loss makes of the names: macro over the model's output width (3 here),
  // auc after softmax on logits (cross_entropy), on the outputs as they are after a softmax layer
  // or for log-probabilities (nll: exp keeps each column's ranks).
  auto metric = [&](const std::string& name, const std::string& loss, const Tensor& out) {
    auto m = train::make_metric(name, loss);
    m->update(out.slice(0, 5), y.slice(0, 5));
    m->update(out.slice(5, 8), y.slice(5, 8));
    return m->compute();
  };
  for (const std::string loss :
       {"cross_entropy", "CrossEntropyLoss", "nll", "cross_entropy_on_probabilities"}) {
    EXPECT_NEAR(metric("precision", loss, z), precision, 1e-12) << loss;
    EXPECT_NEAR(metric("recall", loss, z), recall, 1e-12) << loss;
    EXPECT_NEAR(metric("f1", loss, z), f1, 1e-12) << loss;
  }
  EXPECT_NEAR(metric("auc", "cross_entropy", z), auc_softmax, 1e-12);
  EXPECT_NEAR(metric("auc", "sparse_categorical_crossentropy", z), auc_softmax,
              1e-12);  // an alias of cross_entropy
  EXPECT_NEAR(metric("auc", "nll", nn::F::log_softmax(z, 1)), auc_softmax, 1e-6);
  EXPECT_NEAR(metric("auc", "cross_entropy_on_probabilities", nn::F::softmax(z, 1)), auc_softmax, 1e-6);
  EXPECT_NEAR(metric("auc", "cross_entropy_on_probabilities", z), auc_raw, 1e-12);  // no second softmax
  // A loss that names no task: the output's shape decides (3 columns: macro).
  EXPECT_NEAR(metric("precision", "my_loss", z), precision, 1e-12);
  EXPECT_NEAR(metric("auc", "mse", z), auc_raw, 1e-12);

  // A 4th output column no sample is or is predicted as: scikit-learn's labels are those seen in
  // the targets or the predictions, so the macro means stay; auc leaves out a class absent from
  // the targets.
  std::vector<float> wide;
  for (int64_t i = 0; i < 8; ++i) {
    for (int64_t k = 0; k < 3; ++k) wide.push_back(z.data()[i * 3 + k]);
    wide.push_back(-10.f);
  }
  const Tensor z4 = Tensor::from(wide, {8, 4});
  EXPECT_NEAR(metric("precision", "cross_entropy", z4), precision, 1e-12);
  EXPECT_NEAR(metric("recall", "cross_entropy", z4), recall, 1e-12);
  EXPECT_NEAR(metric("f1", "cross_entropy", z4), f1, 1e-12);
  EXPECT_NEAR(metric("auc", "mse", z4), auc_raw, 1e-12);

  // The confusion matrix sized by the first prediction, as a table labelled with class names.
  M::ConfusionMatrix cm(0);
  cm.update(z, y);
  ASSERT_EQ(cm.num_classes, 3);
  EXPECT_EQ(cm.total(), 8);
  EXPECT_EQ(cm.table({"a", "bb", "c"}),
            "true \\ predicted  a  bb  c\n"
            "a                 2   1  0\n"
            "bb                1   1  0\n"
            "c                 1   2  0\n");
  EXPECT_ERROR_CONTAINS(cm.update(z4, y), "scores [8,4] do not match 8 targets and 3 classes");

  // Binary losses keep binary metrics; a one-column output of another loss is binary too.
  const Tensor p = Tensor::from({0.8f, 0.7f, 0.2f, 0.4f, 0.9f}), t = Tensor::from({1, 0, 0, 1, 1});
  for (const std::string loss : {"bce", "mse"}) {
    auto m = train::make_metric("precision", loss);
    m->update(p, t);
    EXPECT_DOUBLE_EQ(m->compute(), 2.0 / 3.0) << loss;
  }
  M::ROCAUC macro(M::Average::Macro);
  EXPECT_ERROR_CONTAINS(macro.update(p, t), "multiclass AUC needs scores [N, C]");
  macro.update(z, y);
  EXPECT_ERROR_CONTAINS(macro.update(z4, y), "has 4 classes, earlier ones had 3");
  M::ROCAUC single(M::Average::Macro);
  single.update(z.slice(0, 3), y.slice(0, 3));  // class 0 only
  EXPECT_ERROR_CONTAINS(single.compute(), "needs at least two classes among the targets");
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
