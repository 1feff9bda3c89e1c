#pragma once
// Whole-file reads and writes that never leave a half-written file behind, and line appends for
// logs that must survive a killed process. Every failure throws neurona::Error naming the path.
#include <filesystem>
#include <string>
#include <string_view>

namespace neurona::io {

// Writes `bytes` to `<path>.tmp.<pid>`, fsyncs it, renames it over `path` and fsyncs the parent
// directory; creates missing parent directories. Readers, and the file system after a crash or
// power loss, see either the old file or the complete new one. A failed write removes the
// temporary file and leaves `path` as it was; errors name `path`. A process killed half-way may
// leave its `<path>.tmp.<pid>`, which no reader opens.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

// Appends `bytes` to `path` (created with its parent directories when missing) and hands them to
// the operating system before returning, so the text survives a crash of this process. No fsync:
// a log line per epoch or step is not worth a disk flush each (a power loss may lose the last
// lines). A failed append is cut back off, so the file holds whole appends only.
void append_file(const std::filesystem::path& path, std::string_view bytes);

// The whole content of `path`.
std::string read_file(const std::filesystem::path& path);

// Creates `dir` and its parents when missing.
void make_directories(const std::filesystem::path& dir);

}  // namespace neurona::io
