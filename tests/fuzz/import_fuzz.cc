// Fuzz target: the import validation (core/data/import_validator.h). The
// first byte picks the table the rest of the input stands for; the other
// tables are one small valid export each (written once to a temporary
// folder), so the fuzzed file is checked against real references.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "core/data/import_validator.h"
#include "core/data/schema.h"
#include "core/data/testing/small_export.h"

namespace {

struct Fixture {
  std::string dir;
  std::vector<std::string> tables;
  std::map<std::string, std::string> files;  // table -> path of its valid export
};

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// A small valid export of each table, so that the fuzzed table's
// references resolve.
const std::map<std::string, std::string>& ValidExports() {
  static const auto* exports =
      new std::map<std::string, std::string>(vet::data::testing::SmallValidExport());
  return *exports;
}

Fixture& GetFixture() {
  static Fixture* fixture = [] {
    auto* f = new Fixture;
    char tmpl[] = "/tmp/vet-import-fuzz-XXXXXX";
    const char* dir = mkdtemp(tmpl);
    if (dir == nullptr) std::abort();
    f->dir = dir;
    for (const auto& table : vet::data::CanonicalSchema()) {
      f->tables.push_back(table.name);
      std::string path = f->dir + "/" + table.name + ".csv";
      WriteFile(path, ValidExports().at(table.name));
      f->files[table.name] = path;
    }
    return f;
  }();
  return *fixture;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Fixture& fixture = GetFixture();
  const std::string& table = fixture.tables[data[0] % fixture.tables.size()];
  std::string path = fixture.dir + "/fuzzed.csv";
  WriteFile(path, std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  std::map<std::string, std::string> files = fixture.files;
  files[table] = path;
  vet::data::ImportOptions options;
  options.as_of = absl::CivilDay(2026, 12, 1);
  options.max_memory_bytes = int64_t{256} << 20;
  vet::data::ImportOutcome outcome =
      vet::data::ValidateImportDetailed(files, vet::data::ColumnMapping(), options);
  if (outcome.total_problems > 0) (void)vet::data::FormatImportProblems(outcome);
  return 0;
}
