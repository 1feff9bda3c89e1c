#pragma once
// docs/config.md's tables checked against a registry: every name, alias and option is there, with
// its default after the option's name ("`delta` (1)" or "default `epoch`").
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "neurona/core/registry.hpp"

namespace neurona::docs_tables {

inline std::string config_docs() {
  std::ifstream f(std::string(NEURONA_SOURCE_DIR) + "/docs/config.md");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The rows of the table whose header's first cell is `first` ("| loss | …").
inline std::vector<std::string> docs_table(const std::string& doc, const std::string& first) {
  std::vector<std::string> rows;
  std::istringstream in(doc);
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (!inside) {
      inside = line.rfind("| " + first + " |", 0) == 0;
    } else if (line.rfind("|", 0) != 0) {
      break;
    } else if (line.rfind("| `", 0) == 0) {
      rows.push_back(line);
    }
  }
  return rows;
}

// Every entry of `specs` has a row in the table headed `first` naming it in its first cell, with
// its aliases, and its options with their defaults.
inline void expect_docs_list(const std::vector<const ComponentSpec*>& specs, const std::string& first) {
  const auto rows = docs_table(config_docs(), first);
  ASSERT_FALSE(rows.empty()) << "docs/config.md has no table headed '| " << first << " |'";
  for (const ComponentSpec* e : specs) {
    SCOPED_TRACE(e->name);
    std::string row;
    for (const auto& r : rows)
      if (r.substr(0, r.find('|', 1)).find("`" + e->name + "`") != std::string::npos) row = r;
    ASSERT_FALSE(row.empty()) << "docs/config.md's " << first << " table has no row for '" << e->name << "'";
    for (const auto& a : e->aliases)
      EXPECT_NE(row.find("`" + a + "`"), std::string::npos) << "alias " << a << ": " << row;
    for (const auto& o : e->options) {
      const size_t at = row.find("`" + o.name + "`");
      EXPECT_NE(at, std::string::npos) << "option " << o.name << ": " << row;
      if (at == std::string::npos || o.default_value.empty()) continue;
      const std::string after = row.substr(at, 60);
      EXPECT_TRUE(after.find("(" + o.default_value + ")") != std::string::npos ||
                  after.find("default `" + o.default_value + "`") != std::string::npos)
          << "default of " << o.name << " (" << o.default_value << ") is not in: " << row;
    }
  }
}

}  // namespace neurona::docs_tables
