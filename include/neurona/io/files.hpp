#pragma once
// Whole-file reads and writes that never leave a half-written file behind, and line appends for
// logs that must survive a killed process. Every failure throws neurona::Error naming the path.
#include <filesystem>
#include <string>
#include <string_view>

namespace neurona::io {

// Writes `bytes` to `<path>.tmp.<pid>` and renames it over `path`; creates missing parent
// directories. Readers see either the old file or the complete new one.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

// Appends `bytes` to `path` (created with its parent directories when missing) and flushes it to
// the operating system before returning, so the text survives a crash of this process.
void append_file(const std::filesystem::path& path, std::string_view bytes);

// The whole content of `path`.
std::string read_file(const std::filesystem::path& path);

// Creates `dir` and its parents when missing.
void make_directories(const std::filesystem::path& dir);

}  // namespace neurona::io
