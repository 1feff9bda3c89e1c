#pragma once
// Text helpers shared by the loggers (private to src/io).
#include <string>

namespace neurona::io {

// Shortest decimal text that reads back to the same double ("0.1", "1e-05", "nan", "inf").
std::string format_number(double v);

// A YAML single-quoted scalar: 'it''s'.
std::string yaml_quote(const std::string& s);

// Milliseconds since the Unix epoch, now.
int64_t now_ms();

}  // namespace neurona::io
