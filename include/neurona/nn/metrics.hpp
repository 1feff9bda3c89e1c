#pragma once
// Metrics accumulated over batches: update(prediction, target) per batch, compute() at the end
// of an epoch, reset() before the next. Predictions are probabilities or scores; class targets
// are float tensors holding class indices (or 0/1 for binary metrics).
#include <cstdint>
#include <string>
#include <vector>

#include "neurona/core/tensor.hpp"

namespace neurona::nn::metrics {

class Metric {
 public:
  virtual ~Metric() = default;
  virtual void update(const Tensor& prediction, const Tensor& target) = 0;
  virtual double compute() const = 0;
  virtual void reset() = 0;
  virtual std::string name() const = 0;
  virtual bool higher_is_better() const { return true; }
};

// Binary: prediction [N] or [N,1] probability, positive when > threshold (Keras rule).
class BinaryAccuracy : public Metric {
 public:
  explicit BinaryAccuracy(float threshold = 0.5f) : threshold(threshold) {}
  void update(const Tensor& prediction, const Tensor& target) override;
  double compute() const override;
  void reset() override { correct_ = total_ = 0; }
  std::string name() const override { return "binary_accuracy"; }
  float threshold;

 private:
  int64_t correct_ = 0, total_ = 0;
};

// Multiclass: prediction scores [N, C], target indices [N]; a hit when the target's score is among
// the k largest (ties counted in the sample's favour only when fewer than k scores are larger).
class Accuracy : public Metric {
 public:
  explicit Accuracy(int64_t top_k = 1) : top_k(top_k) {}
  void update(const Tensor& prediction, const Tensor& target) override;
  double compute() const override;
  void reset() override { correct_ = total_ = 0; }
  std::string name() const override {
    return top_k == 1 ? "accuracy" : "top_" + std::to_string(top_k) + "_accuracy";
  }
  int64_t top_k;

 private:
  int64_t correct_ = 0, total_ = 0;
};

// Regression metrics over every element.
class MeanAbsoluteError : public Metric {
 public:
  void update(const Tensor& prediction, const Tensor& target) override;
  double compute() const override;
  void reset() override {
    sum_ = 0;
    n_ = 0;
  }
  std::string name() const override { return "mae"; }
  bool higher_is_better() const override { return false; }

 private:
  double sum_ = 0;
  int64_t n_ = 0;
};
class MeanSquaredError : public Metric {
 public:
  void update(const Tensor& prediction, const Tensor& target) override;
  double compute() const override;
  void reset() override {
    sum_ = 0;
    n_ = 0;
  }
  std::string name() const override { return "mse"; }
  bool higher_is_better() const override { return false; }

 protected:
  double sum_ = 0;
  int64_t n_ = 0;
};
class RootMeanSquaredError : public MeanSquaredError {
 public:
  double compute() const override;
  std::string name() const override { return "rmse"; }
};
// 1 − SS_res / SS_tot over all elements seen.
class R2Score : public Metric {
 public:
  void update(const Tensor& prediction, const Tensor& target) override;
  double compute() const override;
  void reset() override {
    n_ = 0;
    sum_y_ = sum_y2_ = sse_ = 0;
  }
  std::string name() const override { return "r2"; }

 private:
  int64_t n_ = 0;
  double sum_y_ = 0, sum_y2_ = 0, sse_ = 0;
};

// Counts of predicted (column) per true class (row). Prediction [N, C] scores (argmax) or, with
// num_classes == 2, [N]/[N,1] probabilities thresholded (> threshold). num_classes 0: the first
// prediction decides (its width C, or 2 for [N]/[N,1] probabilities), as a model's output width
// is its class count.
class ConfusionMatrix : public Metric {
 public:
  explicit ConfusionMatrix(int64_t num_classes, float threshold = 0.5f);
  void update(const Tensor& prediction, const Tensor& target) override;
  double compute() const override;  // accuracy = trace / total
  void reset() override;            // zero counts; a size taken from a prediction stays
  std::string name() const override { return "confusion_matrix"; }
  int64_t count(int64_t true_class, int64_t predicted_class) const;
  const std::vector<int64_t>& counts() const { return counts_; }  // row-major [C, C]
  int64_t total() const;
  // True when the classes came from [N]/[N,1] probabilities (a binary output).
  bool from_probabilities() const { return from_probabilities_; }
  std::string str() const;
  // The counts as an aligned table: a header of predicted classes, one row per true class, each
  // labelled with `class_names` (the class ids when empty).
  std::string table(const std::vector<std::string>& class_names = {}) const;
  int64_t num_classes;
  float threshold;

 private:
  std::vector<int64_t> counts_;
  bool from_probabilities_ = false;
};

// Binary: the positive class is 1. Macro: the unweighted mean over the classes present in the
// targets or the predictions (scikit-learn's average='macro'; a class never predicted has
// precision 0, one never in the targets recall 0). Auto: Binary for [N]/[N,1] probabilities,
// Macro for [N, C] scores. Zero division gives 0 (scikit-learn's zero_division=0).
enum class Average { Binary, Macro, Auto };
class Precision : public Metric {
 public:
  // num_classes 0 (Macro, Auto): the model's output width, from the first prediction.
  explicit Precision(Average average = Average::Binary, int64_t num_classes = 2, float threshold = 0.5f)
      : cm_(num_classes, threshold), average(average) {}
  void update(const Tensor& p, const Tensor& t) override { cm_.update(p, t); }
  double compute() const override;
  void reset() override { cm_.reset(); }
  std::string name() const override { return "precision"; }
  const ConfusionMatrix& confusion_matrix() const { return cm_; }

 protected:
  ConfusionMatrix cm_;

 public:
  Average average;
};
class Recall : public Precision {
 public:
  using Precision::Precision;
  double compute() const override;
  std::string name() const override { return "recall"; }
};
class F1Score : public Precision {
 public:
  using Precision::Precision;
  double compute() const override;
  std::string name() const override { return "f1"; }
};

// Area under the ROC curve, exact (rank statistic with ties averaged).
// Binary: prediction [N]/[N,1] scores, targets 0/1.
// Macro: prediction [N, C] scores, targets class ids: the unweighted mean of each class's
// one-vs-rest AUC (scikit-learn's roc_auc_score(multi_class='ovr', average='macro')). A class
// absent from the targets has no AUC and is left out of the mean (scikit-learn refuses such data).
// Auto: Binary for [N]/[N,1] predictions, Macro for [N, C].
// from_logits: [N, C] scores are logits, turned into probabilities by softmax first (the binary
// AUC is the same for logits and sigmoid(logits)).
class ROCAUC : public Metric {
 public:
  explicit ROCAUC(Average average = Average::Binary, bool from_logits = false)
      : average(average), from_logits(from_logits) {}
  void update(const Tensor& prediction, const Tensor& target) override;
  double compute() const override;
  void reset() override {
    scores_.clear();
    labels_.clear();
  }
  std::string name() const override { return "auc"; }
  Average average;
  bool from_logits;

 private:
  int64_t width_ = 0;            // columns per sample: 1 (binary) or C (macro); 0 before the first update
  std::vector<double> scores_;   // row-major [N, width_]
  std::vector<int64_t> labels_;  // 0/1 (binary) or class ids
};

}  // namespace neurona::nn::metrics
