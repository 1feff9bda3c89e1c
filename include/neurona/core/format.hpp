#pragma once
// Numbers as text, the same way wherever users read them; checks of text read from files.
#include <cstddef>
#include <string>
#include <string_view>

namespace neurona {

// The shortest text that reads back as the same value, as Python's repr writes it ("0.1", "1e-05",
// "nan", "inf"): config values, weights-file metadata, MLflow and CSV logs.
std::string format_number(double v);
// The same for a float32 value: "0.1" for 0.1f (not the double 0.10000000149011612).
std::string format_float(float v);
// A default as users write it in a config and docs show it: "25", "0.001", "1e-8", "1/3" (a
// fraction no short decimal writes). Registries give their options' defaults with it.
std::string format_default(double v);
// printf's %.<significant>g ("0.123457" for 6): tables and messages meant for reading.
std::string format_number(double v, int significant);

// Where `text` stops being UTF-8 (the byte offset of the first bad sequence), or npos when it all
// is. Text files (configs, CSV tables) must be UTF-8: their names and values go into JSON headers.
size_t invalid_utf8_at(std::string_view text);
// "line L, column C (byte 0xHH)" for the byte at `offset` of `text`, for messages.
std::string describe_position(std::string_view text, size_t offset);

}  // namespace neurona
