#pragma once
// Reading a table of samples from a CSV file: header, delimiter detection, quoted fields, target
// and feature columns by name, categorical encoding and a missing-value policy.
#include <string>
#include <vector>

#include "neurona/core/tensor.hpp"

namespace neurona::data {

enum class Missing {
  Error,     // a missing cell is an error naming its line and column (default)
  DropRow,   // rows with any missing selected cell are skipped
  FillMean,  // numeric cells take the column mean, categorical ones the most frequent category
};

enum class Encoding {
  OneHot,  // one 0/1 column per category, named "column=category"
  Index,   // one column holding the category's position in the vocabulary
};

// How one selected column turns into numbers; kept so prediction encodes new files the same way.
struct CsvColumn {
  std::string name;
  bool categorical = false;
  Encoding encoding = Encoding::Index;
  std::vector<std::string> categories;  // vocabulary, in order of first appearance
  float fill = 0.f;                     // mean (numeric) or category index used by FillMean
  int64_t width() const;                // output columns it produces
};

// Everything needed to encode another file exactly like the training file.
struct CsvSchema {
  char delimiter = ',';
  std::vector<CsvColumn> features, targets;
};

struct CsvOptions {
  std::vector<std::string> target{};       // target column names; empty means no target
  std::vector<std::string> features{};     // feature column names; empty means all but the target
  char delimiter = 0;                      // 0 detects among ',' ';' and tab
  std::vector<std::string> categorical{};  // non-numeric columns to encode
  Encoding feature_encoding = Encoding::OneHot;
  Encoding target_encoding = Encoding::Index;  // class ids, as sparse cross-entropy wants them
  Missing missing = Missing::Error;
  // When set, columns, vocabularies and fill values come from here (as fitted on the training
  // file); an unknown category is an error and the target columns may be absent.
  const CsvSchema* schema = nullptr;
};

struct CsvData {
  Tensor x;                                              // [N, F] after encoding
  Tensor y;                                              // [N, T]; undefined when there is no target
  std::vector<std::string> feature_names, target_names;  // one per output column
  std::vector<int64_t> lines;                            // the file line each sample came from
  CsvSchema schema;
};

// Reads `path`. Every error names the file, and where it applies the line and column.
CsvData read_csv(const std::string& path, const CsvOptions& options = {});
// The same from text already in memory; `name` stands for the file in messages.
CsvData parse_csv(const std::string& text, const std::string& name, const CsvOptions& options = {});

}  // namespace neurona::data
