// Test helpers for core/data: a temporary folder that removes itself, and a
// whole CSV file read into memory through CsvReader.
#ifndef VET_CORE_DATA_TESTING_TEST_FILES_H_
#define VET_CORE_DATA_TESTING_TEST_FILES_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/data/csv.h"
#include "gtest/gtest.h"

namespace vet::data::testing {

// A fresh folder under ::testing::TempDir(), removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "/vet_data_test.XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(absl::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

inline void WriteTextFile(const std::string& path, absl::string_view content) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(content.data(), static_cast<std::streamsize>(content.size()));
}

inline std::string ReadTextFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// A CSV file: its header and rows.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  // The index of `column` in the header, or -1.
  int Column(absl::string_view column) const {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == column) return static_cast<int>(i);
    }
    return -1;
  }
};

inline absl::StatusOr<CsvTable> ReadCsvTable(const std::string& path) {
  auto reader = CsvReader::Open(path);
  if (!reader.ok()) return reader.status();
  CsvTable table;
  bool first = true;
  while (true) {
    absl::StatusOr<bool> more = (*reader)->Next();
    if (!more.ok()) return more.status();
    if (!*more) break;
    std::vector<std::string> fields((*reader)->fields().begin(), (*reader)->fields().end());
    if (first) {
      table.header = std::move(fields);
      first = false;
    } else {
      table.rows.push_back(std::move(fields));
    }
  }
  return table;
}

}  // namespace vet::data::testing

#endif  // VET_CORE_DATA_TESTING_TEST_FILES_H_
