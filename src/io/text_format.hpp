#pragma once
// Text helpers shared by the loggers (private to src/io).
#include <string>

#include "neurona/core/format.hpp"

namespace neurona::io {

// A YAML single-quoted scalar: 'it''s'.
std::string yaml_quote(const std::string& s);

// Milliseconds since the Unix epoch, now.
int64_t now_ms();

}  // namespace neurona::io
