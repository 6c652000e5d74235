#pragma once
// A small CSV table that is rewritten atomically on every save, so a log
// is never torn, and can be read back to resume a run.
#include <filesystem>
#include <string>
#include <vector>

namespace regal {

class CsvTable {
 public:
  explicit CsvTable(std::vector<std::string> header);

  // Reads `path` when it exists and its header equals `header`; otherwise
  // returns an empty table. throws regal::Error on a header mismatch.
  static CsvTable load_or_empty(const std::filesystem::path& path, std::vector<std::string> header);

  // Reads `path` with the header it has (for readers of another program's
  // logs). throws regal::Error naming the file when it is missing or empty.
  static CsvTable load(const std::filesystem::path& path);

  // requires: values.size() == header().size().
  void add_row(std::vector<std::string> values);
  // Keeps only rows for which `keep(row)` is true (used when resuming).
  template <typename Predicate>
  void keep_rows_if(Predicate keep) {
    std::vector<std::vector<std::string>> kept;
    for (auto& row : rows_) {
      if (keep(row)) kept.push_back(std::move(row));
    }
    rows_ = std::move(kept);
  }

  const std::vector<std::string>& header() const { return header_; }
  const std::vector<std::vector<std::string>>& rows() const { return rows_; }
  int column(const std::string& name) const;  // throws when absent

  std::string to_string() const;
  void save(const std::filesystem::path& path) const;  // atomic

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// Formats a double for CSV/JSON logs: enough digits to compare runs.
std::string format_number(double value);

}  // namespace regal
