#include "regal/core/csv_table.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"

namespace regal {

namespace {
std::vector<std::string> split_line(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) {
    cells.push_back(cell);
  }
  if (!line.empty() && line.back() == ',') {
    cells.emplace_back();
  }
  return cells;
}

std::string join(const std::vector<std::string>& cells) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) line += ',';
    line += cells[i];
  }
  return line;
}
}  // namespace

CsvTable::CsvTable(std::vector<std::string> header) : header_(std::move(header)) {
  for (const auto& name : header_) {
    REGAL_CHECK(name.find(',') == std::string::npos, "CSV column name '", name, "' contains a comma");
  }
}

CsvTable CsvTable::load_or_empty(const std::filesystem::path& path, std::vector<std::string> header) {
  CsvTable table(std::move(header));
  if (!std::filesystem::exists(path)) {
    return table;
  }
  std::istringstream in(read_file(path));
  std::string line;
  if (!std::getline(in, line)) {
    return table;
  }
  REGAL_CHECK(split_line(line) == table.header_, path, ": header '", line, "' differs from the expected '",
              join(table.header_), "'; was it written by another version of regal?");
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto cells = split_line(line);
    REGAL_CHECK(cells.size() == table.header_.size(), path, ": row '", line, "' has ", cells.size(),
                " cells, expected ", table.header_.size());
    table.rows_.push_back(std::move(cells));
  }
  return table;
}

CsvTable CsvTable::load(const std::filesystem::path& path) {
  std::istringstream in(read_file(path));
  std::string line;
  REGAL_CHECK(std::getline(in, line) && !line.empty(), path, ": empty CSV file, expected a header line");
  return load_or_empty(path, split_line(line));
}

void CsvTable::add_row(std::vector<std::string> values) {
  REGAL_CHECK(values.size() == header_.size(), "CSV row has ", values.size(), " values, expected ",
              header_.size());
  rows_.push_back(std::move(values));
}

int CsvTable::column(const std::string& name) const {
  const auto it = std::find(header_.begin(), header_.end(), name);
  REGAL_CHECK(it != header_.end(), "CSV has no column '", name, "'");
  return static_cast<int>(it - header_.begin());
}

std::string CsvTable::to_string() const {
  std::string text = join(header_) + '\n';
  for (const auto& row : rows_) {
    text += join(row) + '\n';
  }
  return text;
}

void CsvTable::save(const std::filesystem::path& path) const { write_file_atomically(path, to_string()); }

std::string format_number(double value) {
  if (std::isnan(value)) return "nan";
  return fmt::format("{:.6g}", value);
}

}  // namespace regal
