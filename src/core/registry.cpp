#include "neurona/core/registry.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "neurona/core/error.hpp"

namespace neurona {

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// "0.1", "1e-3", "1/3" (a fraction, as the docs write some defaults).
double parse_number(const std::string& s, const std::string& what) {
  const char* begin = s.c_str();
  char* end = nullptr;
  double v = std::strtod(begin, &end);
  if (end != begin && *end == '/') {
    const char* den = end + 1;
    v /= std::strtod(den, &end);
    if (end == den) end = const_cast<char*>(begin);
  }
  check(end != begin && *end == '\0', what, ": expected a number, got '", s, "'");
  return v;
}

}  // namespace

std::string lower_case(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string nearest(const std::string& word, const std::vector<std::string>& valid) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& v : valid) {
    const size_t d = edit_distance(lower_case(word), lower_case(v));
    if (d < best_d) best_d = d, best = v;
  }
  return best_d <= std::max<size_t>(2, word.size() / 3) ? best : "";
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& valid) {
  const std::string n = nearest(word, valid);
  if (!n.empty()) return " (did you mean '" + n + "'?)";
  if (valid.empty()) return "";  // e.g. a layer that takes no options: no list to show
  std::string list;
  for (const auto& v : valid) {
    if (!list.empty()) list += ", ";
    list += v;
  }
  return " (valid: " + list + ")";
}

void fail_unknown_component(const std::string& kind, const std::string& word,
                            const std::vector<std::string>& valid) {
  fail("unknown ", kind, " '", word, "'", did_you_mean(word, valid));
}

const OptionSpec* ComponentSpec::option(const std::string& key) const {
  for (const auto& o : options)
    if (o.name == key) return &o;
  return nullptr;
}

std::vector<std::string> ComponentSpec::option_names() const {
  std::vector<std::string> v;
  for (const auto& o : options) v.push_back(o.name);
  return v;
}

std::string Options::raw(const std::string& key) const {
  const std::string who = spec_ ? spec_->name : std::string("options");
  auto it = values_.find(key);
  if (it != values_.end()) return it->second;
  const OptionSpec* o = spec_ ? spec_->option(key) : nullptr;
  check(o != nullptr, who, " has no option '", key, "'");
  check(!o->default_value.empty(), who, ": '", key, "' is required");
  return o->default_value;
}

double Options::number(const std::string& key) const { return parse_number(raw(key), key); }

int64_t Options::integer(const std::string& key) const {
  const std::string s = raw(key);
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  check(end != s.c_str() && *end == '\0', key, ": expected a whole number, got '", s, "'");
  return v;
}

bool Options::flag(const std::string& key) const {
  const std::string s = lower_case(raw(key));
  check(s == "true" || s == "false", key, ": expected true or false, got '", s, "'");
  return s == "true";
}

std::string Options::text(const std::string& key) const { return raw(key); }

std::vector<double> Options::numbers(const std::string& key) const {
  std::string s = raw(key);
  s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c == '[' || c == ']' || c == ' '; }),
          s.end());
  std::vector<double> v;
  size_t start = 0;
  while (start < s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    v.push_back(parse_number(s.substr(start, comma - start), key));
    start = comma + 1;
  }
  return v;
}

}  // namespace neurona
