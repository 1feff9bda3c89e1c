#pragma once
// History: what fit() returns — per-epoch values of the loss, val_loss, each metric and its val_
// counterpart, the learning rate and the epoch time (Keras's History). Writes itself as CSV and
// JSON, and plots learning curves as an SVG file.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace neurona::train {

// Named values of one step or epoch ("loss", "val_loss", "lr", …).
using Logs = std::map<std::string, double>;

class History {
 public:
  // Records epoch `epoch` (0-based). A key missing at some epochs reads as NaN there.
  void append(int64_t epoch, const Logs& logs);

  const std::vector<int64_t>& epochs() const { return epochs_; }
  std::vector<std::string> keys() const;  // sorted
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  // Values of `key`, one per recorded epoch; throws naming the key (and the known keys).
  const std::vector<double>& operator[](const std::string& key) const;
  size_t size() const { return epochs_.size(); }
  bool empty() const { return epochs_.empty(); }
  // Drops epochs recorded after `epoch` (used when resuming from a checkpoint).
  void truncate_after(int64_t epoch);

  std::string to_csv() const;   // header "epoch,<keys…>", epochs 0-based as Keras's CSVLogger
  std::string to_json() const;  // {"epoch": [...], "<key>": [...], ...}
  static History from_json(const std::string& text);
  // Reads to_csv()'s text; a last line without its newline (a row being written) is left out.
  static History from_csv(const std::string& text);
  std::string csv_header() const;       // "epoch,<keys…>\n"
  std::string csv_row(size_t i) const;  // recorded epoch i as a CSV line
  void write_csv(const std::filesystem::path& path) const;
  // Adds the last epoch to the CSV file at `path` as one appended line, as Keras's CSVLogger
  // does, when `header_on_file` (the header the file was written with) is still the header; else
  // (first write, or a key that appeared since) rewrites the file whole and returns true.
  bool append_csv(const std::filesystem::path& path, const std::string& header_on_file) const;
  void write_json(const std::filesystem::path& path) const;

  // Learning curves: one panel per quantity (loss, then each metric), training and validation
  // curves together, epochs 1-based on the x axis. Returns the SVG text.
  std::string to_svg(const std::string& title = "") const;
  void plot(const std::filesystem::path& path, const std::string& title = "") const;

 private:
  std::vector<int64_t> epochs_;
  std::map<std::string, std::vector<double>> values_;
};

}  // namespace neurona::train
