#pragma once
// Splitting samples into train / validation / test sets and k folds, as row indices.
#include <cstdint>
#include <vector>

#include "neurona/core/tensor.hpp"

namespace neurona::data {

struct SplitIndices {
  std::vector<int64_t> train, val, test;
};

// Shuffled split of n samples, seeded. The test set gets ceil(n * test_fraction) samples and the
// validation set ceil(n * val_fraction) (scikit-learn's train_test_split rounding); train keeps
// the rest. With `stratify` (one class id per sample) every class is split in the same
// proportions, the per-class counts adding up to the same totals.
SplitIndices train_val_test_split(int64_t n, double val_fraction, double test_fraction, uint64_t seed,
                                  const std::vector<int64_t>& stratify = {});

// Shuffled train/validation split: train_val_test_split without a test set.
SplitIndices shuffled_split(int64_t n, double val_fraction, uint64_t seed,
                            const std::vector<int64_t>& stratify = {});

// Keras's fit(validation_split=f): the LAST samples, in their given order and before any
// shuffling, become validation data. Train is [0, int(n * (1 - f))), validation the rest, so
// data sorted by class gives a validation set of one class — shuffle first or use shuffled_split.
SplitIndices validation_split(int64_t n, double val_fraction);

// k folds (scikit-learn's KFold / StratifiedKFold): fold i validates on its part and trains on
// the rest. The first n % k folds hold one sample more. Stratified folds deal each class's
// shuffled samples round-robin so every fold has each class in near-equal numbers.
std::vector<SplitIndices> kfold(int64_t n, int64_t k, uint64_t seed, bool shuffle = true,
                                const std::vector<int64_t>& stratify = {});

// Class ids from targets: [N] or [N,1] holding class numbers (rounded), or [N,C] one-hot /
// probabilities (argmax). Used to stratify.
std::vector<int64_t> class_ids(const Tensor& targets);

}  // namespace neurona::data
