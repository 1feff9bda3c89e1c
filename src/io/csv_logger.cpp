#include "neurona/io/csv_logger.hpp"

#include <algorithm>

#include "neurona/core/error.hpp"
#include "neurona/io/files.hpp"
#include "text_format.hpp"

namespace neurona::io {
namespace {

// RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

CsvWriter::CsvWriter(std::filesystem::path path) : path_(std::move(path)) {}

std::string CsvWriter::format_row(const std::map<std::string, double>& row) const {
  std::string line;
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (i) line += ',';
    auto it = row.find(columns_[i]);
    if (it != row.end()) line += format_number(it->second);
  }
  return line + "\n";
}

void CsvWriter::write_row(const CsvRow& row) {
  check(!row.empty(), "CSV '", path_.string(), "': a row needs at least one value");
  std::map<std::string, double> values;
  bool new_column = false;
  for (const auto& [key, value] : row) {
    check(!key.empty(), "CSV '", path_.string(), "': a column name is empty");
    check(values.emplace(key, value).second, "CSV '", path_.string(), "': column '", key,
          "' appears twice in a row");
    if (std::find(columns_.begin(), columns_.end(), key) == columns_.end()) {
      columns_.push_back(key);
      new_column = true;
    }
  }
  rows_.push_back(values);
  if (!new_column) {
    append_file(path_, format_row(values));
    return;
  }
  std::string text;
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (i) text += ',';
    text += csv_field(columns_[i]);
  }
  text += "\n";
  for (const auto& r : rows_) text += format_row(r);
  write_file_atomic(path_, text);
}

}  // namespace neurona::io
