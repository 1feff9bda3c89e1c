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
  check(c == 0 || c >= 2, "confusion_matrix: needs at least 2 classes (or 0: from the predictions), got ", c);
  counts_.assign(static_cast<size_t>(c * c), 0);
}

void ConfusionMatrix::reset() { std::fill(counts_.begin(), counts_.end(), 0); }

void ConfusionMatrix::update(const Tensor& p, const Tensor& t) {
  const bool scores = p.dim() == 2 && p.size(1) > 1;
  const int64_t n = t.numel();
  if (num_classes == 0) {  // the first prediction says how many classes the model has
    num_classes = scores ? p.size(1) : 2;
    counts_.assign(static_cast<size_t>(num_classes * num_classes), 0);
  }
  if (scores)
    check(p.size(0) == n && p.size(1) == num_classes, "confusion_matrix: scores ", p.shape(),
          " do not match ", n, " targets and ", num_classes, " classes");
  else
    check(num_classes == 2 && p.numel() == n, "confusion_matrix: probabilities ", p.shape(),
          " need num_classes 2 and one per target (", t.shape(), ")");
  from_probabilities_ = !scores;
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

int64_t ConfusionMatrix::total() const { return std::accumulate(counts_.begin(), counts_.end(), int64_t{0}); }

double ConfusionMatrix::compute() const {
  int64_t diag = 0;
  for (int64_t i = 0; i < num_classes; ++i) diag += counts_[i * num_classes + i];
  return safe_div(static_cast<double>(diag), static_cast<double>(total()));
}

std::string ConfusionMatrix::str() const {
  std::ostringstream os;
  for (int64_t i = 0; i < num_classes; ++i) {
    for (int64_t j = 0; j < num_classes; ++j) os << (j ? " " : "") << counts_[i * num_classes + j];
    os << "\n";
  }
  return os.str();
}

std::string ConfusionMatrix::table(const std::vector<std::string>& class_names) const {
  auto label = [&](int64_t k) {
    return k < static_cast<int64_t>(class_names.size()) ? class_names[static_cast<size_t>(k)]
                                                        : std::to_string(k);
  };
  const std::string corner = "true \\ predicted";
  size_t first = corner.size();
  for (int64_t i = 0; i < num_classes; ++i) first = std::max(first, label(i).size());
  std::vector<size_t> width(static_cast<size_t>(num_classes));
  for (int64_t j = 0; j < num_classes; ++j) {
    width[j] = label(j).size();
    for (int64_t i = 0; i < num_classes; ++i)
      width[j] = std::max(width[j], std::to_string(counts_[i * num_classes + j]).size());
  }
  auto pad_left = [](const std::string& s, size_t w) {
    return std::string(w > s.size() ? w - s.size() : 0, ' ') + s;
  };
  auto pad_right = [](const std::string& s, size_t w) {
    return s + std::string(w > s.size() ? w - s.size() : 0, ' ');
  };
  std::string out = pad_right(corner, first);
  for (int64_t j = 0; j < num_classes; ++j) {
    out += "  ";
    out += pad_left(label(j), width[j]);
  }
  out += "\n";
  for (int64_t i = 0; i < num_classes; ++i) {
    out += pad_right(label(i), first);
    for (int64_t j = 0; j < num_classes; ++j) {
      out += "  ";
      out += pad_left(std::to_string(counts_[i * num_classes + j]), width[j]);
    }
    out += "\n";
  }
  return out;
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
// Binary: class 1's score. Macro: the mean over the classes seen in the targets or the
// predictions (scikit-learn's labels = unique_labels(y_true, y_pred)); a class seen in neither
// has tp = fp = fn = 0 and is left out, as scikit-learn and torchmetrics do.
template <class F>
double averaged(const ConfusionMatrix& cm, Average avg, F f) {
  if (cm.num_classes == 0) return 0.0;  // nothing seen yet
  if (avg == Average::Auto) avg = cm.from_probabilities() ? Average::Binary : Average::Macro;
  if (avg == Average::Binary) return f(class_counts(cm, 1));
  double s = 0;
  int64_t seen = 0;
  for (int64_t k = 0; k < cm.num_classes; ++k) {
    const Counts c = class_counts(cm, k);
    if (c.tp + c.fp + c.fn == 0) continue;
    s += f(c);
    ++seen;
  }
  return safe_div(s, static_cast<double>(seen));
}

// AUC = (sum of positive ranks − P(P+1)/2) / (P·N), ranks averaged over ties. `positives` and
// `negatives` receive the counts; the result is NaN when either is 0.
double rank_auc(std::vector<std::pair<double, bool>> v, double& positives, double& negatives) {
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  const size_t n = v.size();
  double rank_sum = 0, pos = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && v[j + 1].first == v[i].first) ++j;
    const double avg_rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (size_t k = i; k <= j; ++k)
      if (v[k].second) rank_sum += avg_rank, pos += 1;
    i = j + 1;
  }
  positives = pos;
  negatives = static_cast<double>(n) - pos;
  if (positives == 0 || negatives == 0) return std::nan("");
  return (rank_sum - pos * (pos + 1) / 2.0) / (pos * negatives);
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
  const bool scores = p.dim() == 2 && p.size(1) > 1;
  const bool macro = average == Average::Macro || (average == Average::Auto && scores);
  if (!macro) {
    check_binary(p, t, "auc");
    check(width_ <= 1, "auc: prediction ", p.shape(), " holds one score per sample, earlier ones held ",
          width_);
    width_ = 1;
    for (int64_t i = 0; i < p.numel(); ++i) {
      scores_.push_back(p.data()[i]);
      labels_.push_back(t.data()[i] > 0.5f ? 1 : 0);
    }
    return;
  }
  check(scores && p.size(0) == t.numel(),
        "auc: multiclass AUC needs scores [N, C] (C >= 2) and N class targets, got ", p.shape(), " and ",
        t.shape());
  const int64_t n = p.size(0), c = p.size(1);
  check(width_ == 0 || width_ == c, "auc: prediction ", p.shape(), " has ", c, " classes, earlier ones had ",
        width_);
  width_ = c;
  std::vector<double> row(static_cast<size_t>(c));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t y = detail::class_index(t.data()[i], "auc");
    check(y >= 0 && y < c, "auc: target ", y, " is out of range for ", c, " classes");
    labels_.push_back(y);
    const float* z = p.data() + i * c;
    if (from_logits) {  // softmax in double: probabilities of distinct logits stay distinct
      const double top = *std::max_element(z, z + c);
      double sum = 0;
      for (int64_t k = 0; k < c; ++k) sum += row[k] = std::exp(static_cast<double>(z[k]) - top);
      for (int64_t k = 0; k < c; ++k) scores_.push_back(row[k] / sum);
    } else {
      for (int64_t k = 0; k < c; ++k) scores_.push_back(z[k]);
    }
  }
}

double ROCAUC::compute() const {
  const size_t n = labels_.size();
  if (width_ <= 1) {
    std::vector<std::pair<double, bool>> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = {scores_[i], labels_[i] == 1};
    double pos = 0, neg = 0;
    const double auc = rank_auc(std::move(v), pos, neg);
    check(pos > 0 && neg > 0, "auc: needs both positive and negative targets, got ", pos, " positive and ",
          neg, " negative");
    return auc;
  }
  // One-vs-rest: class k's probability ranks its samples against all others.
  const size_t c = static_cast<size_t>(width_);
  double sum = 0;
  int64_t classes = 0;
  for (size_t k = 0; k < c; ++k) {
    std::vector<std::pair<double, bool>> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = {scores_[i * c + k], labels_[i] == static_cast<int64_t>(k)};
    double pos = 0, neg = 0;
    const double auc = rank_auc(std::move(v), pos, neg);
    if (std::isnan(auc)) continue;  // class k is absent from the targets (or is all of them)
    sum += auc;
    ++classes;
  }
  check(classes > 0, "auc: needs at least two classes among the targets, got ", n, " samples of one class");
  return sum / static_cast<double>(classes);
}

}  // namespace neurona::nn::metrics
