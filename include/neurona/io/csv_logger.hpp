#pragma once
// CsvWriter: rows of named numbers in a CSV file (history, metrics.csv), each row on disk as soon
// as it is written, so a killed run keeps every finished line.
//
// Columns come from the first row in its order. A row with a key not seen before adds a column at
// the end: the file is rewritten (atomically) with the wider header and the earlier rows get empty
// cells there. A row without some column leaves its cell empty.
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace neurona::io {

using CsvRow = std::vector<std::pair<std::string, double>>;

class CsvWriter {
 public:
  // An existing file at `path` is replaced when the first row is written.
  explicit CsvWriter(std::filesystem::path path);

  void write_row(const CsvRow& row);
  const std::vector<std::string>& columns() const { return columns_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::string format_row(const std::map<std::string, double>& row) const;
  std::filesystem::path path_;
  std::vector<std::string> columns_;
  std::vector<std::map<std::string, double>> rows_;  // kept to rewrite the file when columns are added
};

}  // namespace neurona::io
