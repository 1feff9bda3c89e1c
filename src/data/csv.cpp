#include "neurona/data/csv.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "neurona/core/error.hpp"
#include "neurona/core/format.hpp"

namespace neurona::data {
namespace {

struct Record {
  int64_t line;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

std::string delimiter_name(char d) { return d == '\t' ? "tab" : std::string("'") + d + "'"; }

// Splits text into records. Quoted fields may hold the delimiter, newlines and "" for a quote.
// Blank lines are skipped. Stops after `limit` records.
std::vector<Record> split_records(const std::string& text, char delim, const std::string& name,
                                  size_t limit = SIZE_MAX) {
  std::vector<Record> records;
  size_t i = 0;
  int64_t line = 1;
  const size_t n = text.size();
  while (i < n && records.size() < limit) {
    Record rec{line, {}};
    std::string field;
    bool at_field_start = true, line_end = false;
    while (!line_end) {
      if (i >= n) {
        rec.fields.push_back(std::move(field));
        break;
      }
      const char c = text[i];
      if (at_field_start && c == '"') {
        const int64_t open_line = line;
        ++i;
        for (;;) {
          if (i >= n) fail(name, ", line ", open_line, ": quoted field never closed");
          if (text[i] == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (text[i] == '\n') ++line;
          field += text[i++];
        }
        while (i < n && (text[i] == ' ' || text[i] == '\r') && text[i] != delim) ++i;
        if (i < n && text[i] != delim && text[i] != '\n')
          fail(name, ", line ", line, ", column ", rec.fields.size() + 1, ": unexpected character '", text[i],
               "' after a closing quote");
        at_field_start = false;
        continue;
      }
      at_field_start = false;
      if (c == delim) {
        rec.fields.push_back(std::move(field));
        field.clear();
        at_field_start = true;
        ++i;
      } else if (c == '\n') {
        rec.fields.push_back(std::move(field));
        ++i;
        ++line;
        line_end = true;
      } else {
        field += c;
        ++i;
      }
    }
    const bool blank = rec.fields.size() == 1 && trim(rec.fields[0]).empty();
    if (!blank) records.push_back(std::move(rec));
  }
  return records;
}

// The candidate that splits the header and the next few lines into the same number (>1) of
// fields, preferring more fields; failing that, the one giving the header the most fields (so a
// ragged row is reported as such); none at all is an error.
char detect_delimiter(const std::string& text, const std::string& name) {
  const char candidates[] = {',', ';', '\t'};
  char best_consistent = 0, best_header = 0;
  size_t consistent_fields = 1, header_fields = 1;
  std::optional<Error> first_error;
  for (char d : candidates) {
    std::vector<Record> sample;
    try {
      sample = split_records(text, d, name, 6);
    } catch (const Error& e) {
      if (!first_error) first_error = e;
      continue;
    }
    if (sample.empty()) continue;
    const size_t cols = sample[0].fields.size();
    if (cols > header_fields) header_fields = cols, best_header = d;
    const bool same =
        std::all_of(sample.begin(), sample.end(), [&](const Record& r) { return r.fields.size() == cols; });
    if (same && cols > consistent_fields) consistent_fields = cols, best_consistent = d;
  }
  if (best_consistent) return best_consistent;
  if (best_header) return best_header;
  if (first_error) throw *first_error;  // e.g. an unclosed quote, whatever the delimiter
  const auto first = text.substr(0, std::min(text.find('\n'), size_t{60}));
  fail(name, ", line 1: cannot detect the delimiter: the header \"", trim(first),
       "\" contains none of ',', ';' or tab; set CsvOptions::delimiter");
}

int64_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<int64_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int64_t>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int64_t>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

size_t find_column(const std::vector<std::string>& header, const std::string& wanted, const std::string& name,
                   const char* role) {
  auto it = std::find(header.begin(), header.end(), wanted);
  if (it != header.end()) return static_cast<size_t>(it - header.begin());
  const auto nearest = std::min_element(header.begin(), header.end(), [&](auto& a, auto& b) {
    return edit_distance(a, wanted) < edit_distance(b, wanted);
  });
  std::ostringstream cols;
  for (size_t i = 0; i < header.size(); ++i) cols << (i ? ", " : "") << "'" << header[i] << "'";
  fail(name, ", line 1: no ", role, " column '", wanted, "'; did you mean '", *nearest,
       "'? (columns: ", cols.str(), ")");
}

bool is_missing(const std::string& cell) {
  static const char* const markers[] = {"", "NA", "N/A", "NaN", "nan", "null", "NULL", "?"};
  return std::any_of(std::begin(markers), std::end(markers), [&](const char* m) { return cell == m; });
}

bool parse_number(const std::string& cell, float& out) {
  const char* b = cell.data();
  const char* e = b + cell.size();
  if (b != e && *b == '+') ++b;
  auto [ptr, ec] = std::from_chars(b, e, out);
  return ec == std::errc() && ptr == e;
}

// One selected column read from the file: a value per row (number or category index) and
// whether the row's cell was missing.
struct ColumnValues {
  std::vector<float> values;
  std::vector<bool> missing;
};

std::string where(const std::string& file, int64_t line, size_t col, const std::string& col_name) {
  std::ostringstream os;
  os << file << ", line " << line << ", column " << col + 1 << " ('" << col_name << "')";
  return os.str();
}

ColumnValues read_column(const std::vector<Record>& rows, size_t col, CsvColumn& spec, bool learn,
                         const std::string& file) {
  ColumnValues out{std::vector<float>(rows.size()), std::vector<bool>(rows.size())};
  std::map<std::string, size_t> index;
  for (size_t k = 0; k < spec.categories.size(); ++k) index[spec.categories[k]] = k;
  for (size_t r = 0; r < rows.size(); ++r) {
    const std::string cell = trim(rows[r].fields[col]);
    if (is_missing(cell)) {
      out.missing[r] = true;
      continue;
    }
    if (!spec.categorical) {
      if (!parse_number(cell, out.values[r]))
        fail(where(file, rows[r].line, col, spec.name), ": cannot read '", cell,
             "' as a number; list the column in CsvOptions::categorical to encode it as categories");
      continue;
    }
    auto it = index.find(cell);
    if (it == index.end()) {
      if (!learn)
        fail(where(file, rows[r].line, col, spec.name), ": category '", cell,
             "' was not seen when the encoding was fitted (", spec.categories.size(), " known)");
      it = index.emplace(cell, spec.categories.size()).first;
      spec.categories.push_back(cell);
    }
    out.values[r] = static_cast<float>(it->second);
  }
  return out;
}

// Mean of the numeric cells, or the most frequent category, over the kept rows.
float fill_value(const ColumnValues& c, const CsvColumn& spec, const std::string& file) {
  double sum = 0;
  int64_t count = 0;
  std::vector<int64_t> freq(spec.categories.size());
  for (size_t r = 0; r < c.values.size(); ++r) {
    if (c.missing[r]) continue;
    sum += c.values[r];
    ++count;
    if (spec.categorical) ++freq[static_cast<size_t>(c.values[r])];
  }
  check(count > 0, file, ": column '", spec.name, "' has no values to fill its missing cells from");
  if (spec.categorical) return static_cast<float>(std::max_element(freq.begin(), freq.end()) - freq.begin());
  return static_cast<float>(sum / static_cast<double>(count));
}

void write_column(const ColumnValues& c, const CsvColumn& spec, const std::vector<size_t>& kept, float* out,
                  int64_t stride) {
  const int64_t width = spec.width();
  for (size_t i = 0; i < kept.size(); ++i) {
    const size_t r = kept[i];
    const float v = c.missing[r] ? spec.fill : c.values[r];
    float* dst = out + static_cast<int64_t>(i) * stride;
    if (spec.categorical && spec.encoding == Encoding::OneHot) {
      for (int64_t k = 0; k < width; ++k) dst[k] = 0.f;
      dst[static_cast<int64_t>(v)] = 1.f;
    } else {
      dst[0] = v;
    }
  }
}

void append_names(const CsvColumn& spec, std::vector<std::string>& names) {
  if (spec.categorical && spec.encoding == Encoding::OneHot) {
    for (auto& cat : spec.categories) names.push_back(spec.name + "=" + cat);
  } else {
    names.push_back(spec.name);
  }
}

}  // namespace

int64_t CsvColumn::width() const {
  return categorical && encoding == Encoding::OneHot ? static_cast<int64_t>(categories.size()) : 1;
}

CsvData parse_csv(const std::string& text, const std::string& file, const CsvOptions& opt) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    fail(file, ": empty file: expected a header line and data rows");
  // Column names and categories go into the weights file's JSON header, which must be UTF-8.
  if (const size_t bad = invalid_utf8_at(text); bad != std::string::npos)
    fail(file, ", ", describe_position(text, bad), ": not UTF-8 text (save the file as UTF-8)");
  const CsvSchema* schema = opt.schema;
  const char delim = opt.delimiter ? opt.delimiter
                     : schema      ? schema->delimiter
                                   : detect_delimiter(text, file);
  std::vector<Record> rows = split_records(text, delim, file);
  check(!rows.empty(), file, ": no header line (every line is blank)");
  std::vector<std::string> header;
  for (auto& h : rows[0].fields) header.push_back(trim(h));
  const int64_t header_line = rows[0].line;
  rows.erase(rows.begin());
  check(!rows.empty(), file, ": no data rows after the header (line ", header_line, ")");
  for (size_t i = 0; i < header.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      check(header[i] != header[j], file, ", line ", header_line, ": column name '", header[i],
            "' appears twice (columns ", j + 1, " and ", i + 1, ")");
  for (auto& r : rows)
    check(r.fields.size() == header.size(), file, ", line ", r.line, ": ragged row: ", r.fields.size(),
          " fields, but the header (line ", header_line, ") has ", header.size(), " (delimiter ",
          delimiter_name(delim), ")");

  // Resolve the columns: from the schema, or from the options and the header.
  CsvData data;
  data.schema.delimiter = delim;
  std::vector<size_t> feature_cols, target_cols;
  if (schema) {
    data.schema.features = schema->features;
    for (auto& c : schema->features) feature_cols.push_back(find_column(header, c.name, file, "feature"));
    const bool has_target = !schema->targets.empty() &&
                            std::find(header.begin(), header.end(), schema->targets[0].name) != header.end();
    if (has_target) {
      data.schema.targets = schema->targets;
      for (auto& c : schema->targets) target_cols.push_back(find_column(header, c.name, file, "target"));
    }
  } else {
    for (auto& c : opt.categorical) find_column(header, c, file, "categorical");
    auto make = [&](const std::string& col, Encoding enc) {
      CsvColumn c;
      c.name = col;
      c.categorical = std::find(opt.categorical.begin(), opt.categorical.end(), col) != opt.categorical.end();
      c.encoding = enc;
      return c;
    };
    for (auto& t : opt.target) {
      target_cols.push_back(find_column(header, t, file, "target"));
      data.schema.targets.push_back(make(t, opt.target_encoding));
    }
    if (opt.features.empty()) {
      for (size_t i = 0; i < header.size(); ++i)
        if (std::find(target_cols.begin(), target_cols.end(), i) == target_cols.end()) {
          feature_cols.push_back(i);
          data.schema.features.push_back(make(header[i], opt.feature_encoding));
        }
    } else {
      for (auto& f : opt.features) {
        feature_cols.push_back(find_column(header, f, file, "feature"));
        data.schema.features.push_back(make(f, opt.feature_encoding));
      }
    }
  }

  // Read every selected column, then apply the missing-value policy.
  const bool learn = schema == nullptr;
  std::vector<ColumnValues> fvals, tvals;
  for (size_t i = 0; i < feature_cols.size(); ++i)
    fvals.push_back(read_column(rows, feature_cols[i], data.schema.features[i], learn, file));
  for (size_t i = 0; i < target_cols.size(); ++i)
    tvals.push_back(read_column(rows, target_cols[i], data.schema.targets[i], learn, file));

  std::vector<size_t> kept;
  for (size_t r = 0; r < rows.size(); ++r) {
    bool any_missing = false;
    auto scan = [&](const std::vector<ColumnValues>& vals, const std::vector<size_t>& cols,
                    const std::vector<CsvColumn>& specs) {
      for (size_t i = 0; i < vals.size(); ++i) {
        if (!vals[i].missing[r]) continue;
        any_missing = true;
        if (opt.missing == Missing::Error)
          fail(where(file, rows[r].line, cols[i], specs[i].name), ": missing value '",
               trim(rows[r].fields[cols[i]]),
               "'; set `data.missing: drop|mean` in the config (CsvOptions::missing in C++)");
      }
    };
    scan(fvals, feature_cols, data.schema.features);
    scan(tvals, target_cols, data.schema.targets);
    if (!(any_missing && opt.missing == Missing::DropRow)) kept.push_back(r);
  }
  check(!kept.empty(), file, ": every row has a missing value, none left to read");
  if (opt.missing == Missing::FillMean && learn) {
    for (size_t i = 0; i < fvals.size(); ++i)
      data.schema.features[i].fill = fill_value(fvals[i], data.schema.features[i], file);
    for (size_t i = 0; i < tvals.size(); ++i)
      data.schema.targets[i].fill = fill_value(tvals[i], data.schema.targets[i], file);
  }

  auto build = [&](const std::vector<ColumnValues>& vals, const std::vector<CsvColumn>& specs,
                   std::vector<std::string>& names) {
    int64_t width = 0;
    for (auto& s : specs) width += s.width();
    Tensor t = Tensor::empty(Shape{static_cast<int64_t>(kept.size()), width});
    int64_t offset = 0;
    for (size_t i = 0; i < vals.size(); ++i) {
      write_column(vals[i], specs[i], kept, t.data() + offset, width);
      offset += specs[i].width();
      append_names(specs[i], names);
    }
    return t;
  };
  data.x = build(fvals, data.schema.features, data.feature_names);
  if (!tvals.empty()) data.y = build(tvals, data.schema.targets, data.target_names);
  for (size_t r : kept) data.lines.push_back(rows[r].line);
  return data;
}

CsvData read_csv(const std::string& path, const CsvOptions& options) {
  // A directory opens as a stream that reads nothing: say so rather than "empty file".
  std::error_code ec;
  const auto type = std::filesystem::status(path, ec).type();
  check(type != std::filesystem::file_type::not_found, path, ": cannot open file: no such file");
  check(type != std::filesystem::file_type::directory, path,
        ": cannot open file: it is a directory, not a CSV file");
  std::ifstream in(path, std::ios::binary);
  check(in.good(), path, ": cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  check(!in.bad(), path, ": read error");
  return parse_csv(ss.str(), path, options);
}

}  // namespace neurona::data
