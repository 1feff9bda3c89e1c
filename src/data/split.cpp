#include "neurona/data/split.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "neurona/core/error.hpp"
#include "neurona/core/random.hpp"
#include "neurona/data/dataset.hpp"

namespace neurona::data {
namespace {

int64_t ceil_count(int64_t n, double fraction) {
  return static_cast<int64_t>(std::ceil(static_cast<double>(n) * fraction - 1e-9));
}

void shuffle(std::vector<int64_t>& v, Generator& g) {
  for (int64_t i = static_cast<int64_t>(v.size()) - 1; i > 0; --i) std::swap(v[i], v[g.randint(i + 1)]);
}

// Shares `total` among groups in proportion to their sizes; the largest remainders get the rest.
std::vector<int64_t> apportion(const std::vector<int64_t>& sizes, int64_t total, int64_t n) {
  std::vector<int64_t> out(sizes.size());
  std::vector<std::pair<double, size_t>> remainders;
  int64_t given = 0;
  for (size_t c = 0; c < sizes.size(); ++c) {
    const double exact = static_cast<double>(sizes[c]) * total / static_cast<double>(n);
    out[c] = static_cast<int64_t>(std::floor(exact));
    given += out[c];
    remainders.push_back({exact - out[c], c});
  }
  std::stable_sort(remainders.begin(), remainders.end(), [](auto& a, auto& b) { return a.first > b.first; });
  for (size_t i = 0; given < total && i < remainders.size(); ++i) {
    const size_t c = remainders[i].second;
    if (out[c] < sizes[c]) ++out[c], ++given;
  }
  return out;
}

// Samples grouped by class, in class order, each group in its original order.
std::vector<std::vector<int64_t>> by_class(const std::vector<int64_t>& labels) {
  std::map<int64_t, std::vector<int64_t>> groups;
  for (size_t i = 0; i < labels.size(); ++i) groups[labels[i]].push_back(static_cast<int64_t>(i));
  std::vector<std::vector<int64_t>> out;
  for (auto& [label, rows] : groups) out.push_back(std::move(rows));
  return out;
}

void check_stratify(int64_t n, const std::vector<int64_t>& stratify, const char* fn) {
  check(stratify.empty() || static_cast<int64_t>(stratify.size()) == n, fn, ": ", stratify.size(),
        " class labels given to stratify ", n, " samples");
}

}  // namespace

SplitIndices train_val_test_split(int64_t n, double val_fraction, double test_fraction, uint64_t seed,
                                  const std::vector<int64_t>& stratify) {
  check(val_fraction >= 0 && test_fraction >= 0 && val_fraction + test_fraction < 1,
        "train_val_test_split: fractions must be >= 0 and leave some training data, got validation ",
        val_fraction, " and test ", test_fraction);
  check_stratify(n, stratify, "train_val_test_split");
  const int64_t n_test = ceil_count(n, test_fraction), n_val = ceil_count(n, val_fraction);
  check(n_test + n_val < n, "train_val_test_split: ", n, " samples leave no training data with ", n_val,
        " for validation and ", n_test, " for test");
  Generator g(seed);
  SplitIndices s;
  if (stratify.empty()) {
    std::vector<int64_t> p = permutation(n, seed);
    s.test.assign(p.begin(), p.begin() + n_test);
    s.val.assign(p.begin() + n_test, p.begin() + n_test + n_val);
    s.train.assign(p.begin() + n_test + n_val, p.end());
    return s;
  }
  auto groups = by_class(stratify);
  std::vector<int64_t> sizes;
  for (auto& grp : groups) sizes.push_back(static_cast<int64_t>(grp.size()));
  const auto test_counts = apportion(sizes, n_test, n);
  const auto val_counts = apportion(sizes, n_val, n);
  for (size_t c = 0; c < groups.size(); ++c) {
    auto& rows = groups[c];
    shuffle(rows, g);
    const int64_t t = test_counts[c], v = std::min(val_counts[c], sizes[c] - t);
    s.test.insert(s.test.end(), rows.begin(), rows.begin() + t);
    s.val.insert(s.val.end(), rows.begin() + t, rows.begin() + t + v);
    s.train.insert(s.train.end(), rows.begin() + t + v, rows.end());
  }
  // Mix the classes so no set is sorted by class.
  shuffle(s.train, g);
  shuffle(s.val, g);
  shuffle(s.test, g);
  return s;
}

SplitIndices shuffled_split(int64_t n, double val_fraction, uint64_t seed,
                            const std::vector<int64_t>& stratify) {
  return train_val_test_split(n, val_fraction, 0.0, seed, stratify);
}

SplitIndices validation_split(int64_t n, double val_fraction) {
  check(val_fraction >= 0 && val_fraction < 1, "validation_split must be in [0, 1), got ", val_fraction);
  const auto split_at = static_cast<int64_t>(static_cast<double>(n) * (1.0 - val_fraction));
  check(split_at > 0, "validation_split=", val_fraction, " of ", n, " samples leaves no training data");
  SplitIndices s;
  s.train.resize(static_cast<size_t>(split_at));
  std::iota(s.train.begin(), s.train.end(), int64_t{0});
  s.val.resize(static_cast<size_t>(n - split_at));
  std::iota(s.val.begin(), s.val.end(), split_at);
  return s;
}

std::vector<SplitIndices> kfold(int64_t n, int64_t k, uint64_t seed, bool shuffle_samples,
                                const std::vector<int64_t>& stratify) {
  check(k >= 2 && k <= n, "kfold: k must be in [2, ", n, "] for ", n, " samples, got ", k);
  check_stratify(n, stratify, "kfold");
  Generator g(seed);
  std::vector<int64_t> fold_of(static_cast<size_t>(n));
  if (stratify.empty()) {
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), int64_t{0});
    if (shuffle_samples) order = permutation(n, seed);
    int64_t pos = 0;
    for (int64_t f = 0; f < k; ++f) {
      const int64_t size = n / k + (f < n % k ? 1 : 0);
      for (int64_t i = 0; i < size; ++i) fold_of[order[pos++]] = f;
    }
  } else {
    int64_t next = 0;  // continue the round-robin across classes so fold sizes stay balanced
    for (auto& rows : by_class(stratify)) {
      if (shuffle_samples) shuffle(rows, g);
      for (int64_t r : rows) fold_of[r] = next++ % k;
    }
  }
  std::vector<SplitIndices> folds(static_cast<size_t>(k));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t f = 0; f < k; ++f) (fold_of[i] == f ? folds[f].val : folds[f].train).push_back(i);
  return folds;
}

std::vector<int64_t> class_ids(const Tensor& targets) {
  check(targets.defined() && targets.dim() >= 1 && targets.dim() <= 2,
        "class_ids: targets must be [N], [N,1] or [N,C], got ",
        targets.defined() ? targets.shape().str() : std::string("undefined"));
  const int64_t n = targets.size(0), c = targets.dim() == 2 ? targets.size(1) : 1;
  const float* p = targets.data();
  std::vector<int64_t> ids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (c == 1) {
      ids[i] = static_cast<int64_t>(std::lround(p[i]));
    } else {
      ids[i] = std::max_element(p + i * c, p + (i + 1) * c) - (p + i * c);
    }
  }
  return ids;
}

}  // namespace neurona::data
