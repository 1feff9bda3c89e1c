#include "neurona/train/history.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "neurona/core/error.hpp"
#include "neurona/core/format.hpp"
#include "neurona/io/files.hpp"

namespace neurona::train {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string number(double v) { return std::isnan(v) ? "" : format_number(v, 9); }
}  // namespace

void History::append(int64_t epoch, const Logs& logs) {
  const size_t n = epochs_.size();
  epochs_.push_back(epoch);
  for (const auto& [key, value] : logs) {
    auto& column = values_[key];
    column.resize(n, kNaN);  // a key first seen now was missing before
    column.push_back(value);
  }
  for (auto& [key, column] : values_) column.resize(n + 1, kNaN);
}

std::vector<std::string> History::keys() const {
  std::vector<std::string> k;
  for (const auto& [key, column] : values_) k.push_back(key);
  return k;
}

const std::vector<double>& History::operator[](const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) {
    std::string known;
    for (const auto& k : keys()) known += (known.empty() ? "" : ", ") + k;
    fail("History: no values recorded for '", key, "' (recorded: ", known.empty() ? "none" : known, ")");
  }
  return it->second;
}

void History::truncate_after(int64_t epoch) {
  size_t keep = 0;
  while (keep < epochs_.size() && epochs_[keep] <= epoch) ++keep;
  epochs_.resize(keep);
  for (auto& [key, column] : values_) column.resize(keep);
}

std::string History::csv_header() const {
  std::string s = "epoch";
  for (const auto& [key, column] : values_) {
    s += ',';
    s += key;
  }
  s += '\n';
  return s;
}

std::string History::csv_row(size_t i) const {
  check(i < epochs_.size(), "History: no row ", i, " (", epochs_.size(), " epochs recorded)");
  std::string s = std::to_string(epochs_[i]);
  for (const auto& [key, column] : values_) {
    s += ',';
    s += number(column[i]);
  }
  s += '\n';
  return s;
}

std::string History::to_csv() const {
  std::string s = csv_header();
  for (size_t i = 0; i < epochs_.size(); ++i) s += csv_row(i);
  return s;
}

bool History::append_csv(const std::filesystem::path& path, const std::string& header_on_file) const {
  if (epochs_.empty()) return false;
  if (header_on_file != csv_header()) {
    write_csv(path);
    return true;
  }
  io::append_file(path, csv_row(epochs_.size() - 1));
  return false;
}

History History::from_csv(const std::string& text) {
  const size_t end = text.find_last_of('\n');
  std::istringstream in(end == std::string::npos ? std::string() : text.substr(0, end + 1));
  std::string line;
  check(static_cast<bool>(std::getline(in, line)) && line.rfind("epoch", 0) == 0,
        "History: CSV has no 'epoch' header");
  auto split = [](const std::string& l) {
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream ls(l);
    while (std::getline(ls, cell, ',')) cells.push_back(cell);
    if (!l.empty() && l.back() == ',') cells.push_back("");
    return cells;
  };
  const std::vector<std::string> header = split(line);
  History h;
  while (std::getline(in, line)) {
    const std::vector<std::string> cells = split(line);
    check(!cells.empty() && !cells[0].empty(), "History: a CSV row has no epoch");
    check(cells.size() == header.size(), "History: CSV row for epoch '", cells.empty() ? "" : cells[0],
          "' has ", cells.size(), " values for ", header.size(), " columns");
    auto value = [&](size_t c) {
      if (cells[c].empty()) return kNaN;
      char* stop = nullptr;
      const double v = std::strtod(cells[c].c_str(), &stop);
      check(*stop == '\0', "History: CSV column '", header[c], "' holds '", cells[c], "', not a number");
      return v;
    };
    Logs logs;
    for (size_t c = 1; c < cells.size(); ++c) logs[header[c]] = value(c);
    h.append(static_cast<int64_t>(value(0)), logs);
  }
  for (size_t c = 1; c < header.size(); ++c) h.values_[header[c]].resize(h.epochs_.size(), kNaN);
  return h;
}

std::string History::to_json() const {
  nlohmann::ordered_json j;
  j["epoch"] = epochs_;
  for (const auto& [key, column] : values_) {
    nlohmann::json values = nlohmann::json::array();
    for (double v : column) values.push_back(std::isnan(v) ? nlohmann::json() : nlohmann::json(v));
    j[key] = values;
  }
  return j.dump(1) + "\n";
}

History History::from_json(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    fail("History: invalid JSON: ", e.what());
  }
  check(j.is_object() && j.contains("epoch"), "History: JSON has no 'epoch' list");
  History h;
  for (const auto& e : j["epoch"]) h.epochs_.push_back(e.get<int64_t>());
  for (const auto& [key, values] : j.items()) {
    if (key == "epoch") continue;
    auto& column = h.values_[key];
    for (const auto& v : values) column.push_back(v.is_null() ? kNaN : v.get<double>());
    check(column.size() == h.epochs_.size(), "History: '", key, "' has ", column.size(), " values for ",
          h.epochs_.size(), " epochs");
  }
  return h;
}

void History::write_csv(const std::filesystem::path& path) const { io::write_file_atomic(path, to_csv()); }
void History::write_json(const std::filesystem::path& path) const { io::write_file_atomic(path, to_json()); }

std::string History::to_svg(const std::string& title) const {
  // Quantities to plot: "loss" first, then the other training keys that are not bookkeeping.
  std::vector<std::string> panels;
  if (has("loss") || has("val_loss")) panels.push_back("loss");
  for (const auto& key : keys()) {
    if (key.rfind("val_", 0) == 0 || key == "loss" || key == "lr" || key == "epoch_time" ||
        key.rfind("lr-", 0) == 0)
      continue;
    panels.push_back(key);
  }
  for (const auto& key : keys())  // validation-only metrics
    if (key.rfind("val_", 0) == 0 && !has(key.substr(4)) && key != "val_loss")
      panels.push_back(key.substr(4));

  const int w = 520, h = 300, margin_l = 60, margin_r = 20, margin_t = 40, margin_b = 45;
  const int height = std::max<int>(1, static_cast<int>(panels.size())) * h;
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w << "\" height=\"" << height
     << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
        "fill=\"white\"/>\n";
  for (size_t p = 0; p < panels.size(); ++p) {
    const std::string& name = panels[p];
    const int top = static_cast<int>(p) * h;
    const std::vector<double>* train = has(name) ? &values_.at(name) : nullptr;
    const std::vector<double>* val = has("val_" + name) ? &values_.at("val_" + name) : nullptr;
    double lo = INFINITY, hi = -INFINITY;
    for (auto* series : {train, val})
      if (series)
        for (double v : *series)
          if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    if (!std::isfinite(lo)) lo = 0, hi = 1;
    if (hi - lo < 1e-12) hi = lo + 1e-12 + std::fabs(lo) * 0.01, lo -= std::fabs(lo) * 0.01;
    const size_t n = epochs_.size();
    auto X = [&](size_t i) {
      return margin_l + (n <= 1 ? 0.0 : double(i) / double(n - 1)) * (w - margin_l - margin_r);
    };
    auto Y = [&](double v) { return top + margin_t + (hi - v) / (hi - lo) * (h - margin_t - margin_b); };
    os << "<text x=\"" << w / 2 << "\" y=\"" << top + 20 << "\" text-anchor=\"middle\" font-size=\"14\">"
       << (title.empty() ? "" : title + ": ") << name << "</text>\n";
    os << "<rect x=\"" << margin_l << "\" y=\"" << top + margin_t << "\" width=\"" << w - margin_l - margin_r
       << "\" height=\"" << h - margin_t - margin_b << "\" fill=\"none\" stroke=\"#888\"/>\n";
    for (int t = 0; t <= 4; ++t) {
      const double v = lo + (hi - lo) * t / 4.0;
      os << "<text x=\"" << margin_l - 5 << "\" y=\"" << Y(v) + 4 << "\" text-anchor=\"end\">"
         << format_number(v, 4) << "</text>\n";
    }
    os << "<text x=\"" << margin_l << "\" y=\"" << top + h - 20 << "\">epoch 1</text>"
       << "<text x=\"" << w - margin_r << "\" y=\"" << top + h - 20 << "\" text-anchor=\"end\">epoch " << n
       << "</text>\n";
    const char* colours[] = {"#1f77b4", "#ff7f0e"};
    const char* labels[] = {"training", "validation"};
    const std::vector<double>* series[] = {train, val};
    for (int s = 0; s < 2; ++s) {
      if (!series[s]) continue;
      os << "<polyline fill=\"none\" stroke=\"" << colours[s] << "\" stroke-width=\"2\" points=\"";
      for (size_t i = 0; i < n; ++i)
        if (std::isfinite((*series[s])[i])) os << X(i) << ',' << Y((*series[s])[i]) << ' ';
      os << "\"/>\n<text x=\"" << w - margin_r - 5 << "\" y=\"" << top + margin_t + 15 + 15 * s
         << "\" text-anchor=\"end\" fill=\"" << colours[s] << "\">" << labels[s] << "</text>\n";
    }
  }
  os << "</svg>\n";
  return os.str();
}

void History::plot(const std::filesystem::path& path, const std::string& title) const {
  io::write_file_atomic(path, to_svg(title));
}

}  // namespace neurona::train
