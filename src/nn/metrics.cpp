// Metrics: running counts and sums, combined in compute().
#include "neurona/nn/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "detail.hpp"

namespace neurona::nn::metrics {

namespace {

// Predictions [N] / [N,1] for binary, targets with N elements.
void check_binary(const Tensor& p, const Tensor& t, const char* name) {
  check(p.numel() == t.numel() && (p.dim() <= 1 || (p.dim() == 2 && p.size(1) == 1)), name, ": prediction ",
        p.shape(), " and target ", t.shape(), " must both hold N binary values");
}

// Predicted class per sample: argmax of [N, C] scores, or threshold of [N]/[N,1] probabilities.
std::vector<int64_t> predicted_classes(const Tensor& p, int64_t n, float threshold) {
  std::vector<int64_t> out(n);
  const float* d = p.data();
  if (p.dim() == 2 && p.size(1) > 1) {
    const int64_t c = p.size(1);
    for (int64_t i = 0; i < n; ++i) out[i] = std::max_element(d + i * c, d + (i + 1) * c) - (d + i * c);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = d[i] > threshold ? 1 : 0;
  }
  return out;
}

double safe_div(double a, double b) { return b == 0 ? 0.0 : a / b; }

void check_same(const Tensor& p, const Tensor& t, const char* name) {
  check(p.numel() == t.numel(), name, ": prediction ", p.shape(), " and target ", t.shape(),
        " have different element counts");
}

}  // namespace

void BinaryAccuracy::update(const Tensor& p, const Tensor& t) {
  check_binary(p, t, "binary_accuracy");
  for (int64_t i = 0; i < p.numel(); ++i) {
    const bool pred = p.data()[i] > threshold;
    const bool truth = t.data()[i] > 0.5f;
    correct_ += pred == truth;
  }
  total_ += p.numel();
}
double BinaryAccuracy::compute() const {
  return safe_div(static_cast<double>(correct_), static_cast<double>(total_));
}

void Accuracy::update(const Tensor& p, const Tensor& t) {
  check(p.dim() == 2 && t.numel() == p.size(0), "accuracy: expected scores [N, C] and targets [N], got ",
        p.shape(), " and ", t.shape());
  const int64_t n = p.size(0), c = p.size(1);
  check(top_k >= 1, "accuracy: top_k must be at least 1, got ", top_k);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t y = detail::class_index(t.data()[i], "accuracy");
    check(y >= 0 && y < c, "accuracy: target ", y, " is out of range for ", c, " classes");
    const float* row = p.data() + i * c;
    int64_t larger = 0;
    for (int64_t k = 0; k < c; ++k) larger += row[k] > row[y] || (row[k] == row[y] && k < y);
    correct_ += larger < top_k;
  }
  total_ += n;
}
double Accuracy::compute() const {
  return safe_div(static_cast<double>(correct_), static_cast<double>(total_));
}

void MeanAbsoluteError::update(const Tensor& p, const Tensor& t) {
  check_same(p, t, "mae");
  for (int64_t i = 0; i < p.numel(); ++i) sum_ += std::abs(static_cast<double>(p.data()[i]) - t.data()[i]);
  n_ += p.numel();
}
double MeanAbsoluteError::compute() const { return safe_div(sum_, static_cast<double>(n_)); }

void MeanSquaredError::update(const Tensor& p, const Tensor& t) {
  check_same(p, t, name().c_str());
  for (int64_t i = 0; i < p.numel(); ++i) {
    const double d = static_cast<double>(p.data()[i]) - t.data()[i];
    sum_ += d * d;
  }
  n_ += p.numel();
}
double MeanSquaredError::compute() const { return safe_div(sum_, static_cast<double>(n_)); }
double RootMeanSquaredError::compute() const { return std::sqrt(MeanSquaredError::compute()); }

void R2Score::update(const Tensor& p, const Tensor& t) {
  check_same(p, t, "r2");
  for (int64_t i = 0; i < p.numel(); ++i) {
    const double y = t.data()[i], d = p.data()[i] - y;
    sum_y_ += y;
    sum_y2_ += y * y;
    sse_ += d * d;
  }
  n_ += p.numel();
}
double R2Score::compute() const {
  if (n_ == 0) return 0.0;
  const double ss_tot = sum_y2_ - sum_y_ * sum_y_ / static_cast<double>(n_);
  return ss_tot == 0 ? 0.0 : 1.0 - sse_ / ss_tot;
}

ConfusionMatrix::ConfusionMatrix(int64_t c, float threshold) : num_classes(c), threshold(threshold) {
  check(c >= 2, "confusion_matrix: needs at least 2 classes, got ", c);
  counts_.assign(c * c, 0);
}

void ConfusionMatrix::reset() { std::fill(counts_.begin(), counts_.end(), 0); }

void ConfusionMatrix::update(const Tensor& p, const Tensor& t) {
  const bool scores = p.dim() == 2 && p.size(1) > 1;
  const int64_t n = t.numel();
  if (scores)
    check(p.size(0) == n && p.size(1) == num_classes, "confusion_matrix: scores ", p.shape(),
          " do not match ", n, " targets and ", num_classes, " classes");
  else
    check(num_classes == 2 && p.numel() == n, "confusion_matrix: probabilities ", p.shape(),
          " need num_classes 2 and one per target (", t.shape(), ")");
  const std::vector<int64_t> pred = predicted_classes(p, n, threshold);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t y = detail::class_index(t.data()[i], "confusion_matrix");
    check(y >= 0 && y < num_classes, "confusion_matrix: target ", y, " is out of range for ", num_classes,
          " classes");
    ++counts_[y * num_classes + pred[i]];
  }
}

int64_t ConfusionMatrix::count(int64_t y, int64_t p) const {
  check(y >= 0 && y < num_classes && p >= 0 && p < num_classes, "confusion_matrix: index (", y, ", ", p,
        ") out of range");
  return counts_[y * num_classes + p];
}

double ConfusionMatrix::compute() const {
  int64_t diag = 0, total = 0;
  for (int64_t i = 0; i < num_classes; ++i) diag += counts_[i * num_classes + i];
  for (int64_t v : counts_) total += v;
  return safe_div(static_cast<double>(diag), static_cast<double>(total));
}

std::string ConfusionMatrix::str() const {
  std::ostringstream os;
  for (int64_t i = 0; i < num_classes; ++i) {
    for (int64_t j = 0; j < num_classes; ++j) os << (j ? " " : "") << counts_[i * num_classes + j];
    os << "\n";
  }
  return os.str();
}

namespace {
// Per-class tp, fp, fn from a confusion matrix.
struct Counts {
  double tp, fp, fn;
};
Counts class_counts(const ConfusionMatrix& cm, int64_t k) {
  Counts c{static_cast<double>(cm.count(k, k)), 0, 0};
  for (int64_t j = 0; j < cm.num_classes; ++j)
    if (j != k) {
      c.fp += static_cast<double>(cm.count(j, k));
      c.fn += static_cast<double>(cm.count(k, j));
    }
  return c;
}
template <class F>
double averaged(const ConfusionMatrix& cm, Average avg, F f) {
  if (avg == Average::Binary) return f(class_counts(cm, 1));
  double s = 0;
  for (int64_t k = 0; k < cm.num_classes; ++k) s += f(class_counts(cm, k));
  return s / static_cast<double>(cm.num_classes);
}
}  // namespace

double Precision::compute() const {
  return averaged(cm_, average, [](Counts c) { return safe_div(c.tp, c.tp + c.fp); });
}
double Recall::compute() const {
  return averaged(cm_, average, [](Counts c) { return safe_div(c.tp, c.tp + c.fn); });
}
double F1Score::compute() const {
  return averaged(cm_, average, [](Counts c) { return safe_div(2 * c.tp, 2 * c.tp + c.fp + c.fn); });
}

void ROCAUC::update(const Tensor& p, const Tensor& t) {
  check_binary(p, t, "auc");
  for (int64_t i = 0; i < p.numel(); ++i) {
    scores_.push_back(p.data()[i]);
    labels_.push_back(t.data()[i] > 0.5f ? 1.f : 0.f);
  }
}

double ROCAUC::compute() const {
  // AUC = (sum of positive ranks − P(P+1)/2) / (P·N), ranks averaged over ties.
  const size_t n = scores_.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores_[a] < scores_[b]; });
  double rank_sum = 0, pos = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && scores_[order[j + 1]] == scores_[order[i]]) ++j;
    const double avg_rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (size_t k = i; k <= j; ++k)
      if (labels_[order[k]] == 1.f) rank_sum += avg_rank;
    i = j + 1;
  }
  for (float l : labels_) pos += l;
  const double neg = static_cast<double>(n) - pos;
  check(pos > 0 && neg > 0, "auc: needs both positive and negative targets, got ", pos, " positive and ", neg,
        " negative");
  return (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg);
}

}  // namespace neurona::nn::metrics
