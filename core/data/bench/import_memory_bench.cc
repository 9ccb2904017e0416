// Peak memory of one import through the real path (ImportStaging, then
// CommitImport: validation and the columnar write), for docs/BENCHMARKS.md
// "Import memory". Reports the process's peak resident set (VmHWM) before
// and after the commit, so the figure is the import's, not the data
// generator's.
// Usage:
//   import_memory_bench demo <csv_dir> <invoice_lines>   writes demo CSVs
//   import_memory_bench import <csv_dir> <practice_root>  imports them
//   import_memory_bench validate <csv_dir>  validates only, and reports the
//                                           validator's own memory account
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/data/demo_generator.h"
#include "core/data/import_validator.h"
#include "core/data/practice_data.h"
#include "core/data/schema.h"

namespace vet::data {
namespace {

constexpr absl::CivilDay kEndDay(2026, 11, 25);

// VmHWM (peak resident set) of this process, in MiB; -1 if unreadable.
double PeakRssMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      int64_t kib = 0;
      if (absl::SimpleAtoi(
              absl::StripAsciiWhitespace(absl::string_view(line).substr(6, line.size() - 9)),
              &kib)) {
        return static_cast<double>(kib) / 1024;
      }
    }
  }
  return -1;
}

int Fail(const absl::Status& status) {
  std::string message(status.message().substr(0, 600));
  std::printf("status:     %s: %s\n", absl::StatusCodeToString(status.code()).c_str(),
              message.c_str());
  return 1;
}

int Demo(const std::string& dir, int64_t lines) {
  DemoOptions demo;
  demo.end_day = kEndDay;
  demo.invoice_lines = lines;
  if (absl::Status s = WriteDemoDataset(demo, dir); !s.ok()) return Fail(s);
  return 0;
}

int Import(const std::string& csv_dir, const std::string& root) {
  std::printf("peak rss before import: %.1f MiB\n", PeakRssMiB());
  absl::Time start = absl::Now();
  ImportLimits limits;
  limits.max_bytes = int64_t{4} << 30;  // the bench may go past the server's
  auto staging = ImportStaging::Create(root, limits);
  if (!staging.ok()) return Fail(staging.status());
  // As the ImportDataset reactor does: the stream's chunks to the staging
  // files (64 KiB at a time here).
  std::vector<char> chunk(64 << 10);
  for (const TableSpec& spec : CanonicalSchema()) {
    std::ifstream in(absl::StrCat(csv_dir, "/", spec.name, ".csv"), std::ios::binary);
    while (in) {
      in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      if (in.gcount() <= 0) break;
      absl::Status s = (*staging)->Append(spec.name, absl::string_view(chunk.data(), in.gcount()));
      if (!s.ok()) return Fail(s);
    }
  }
  if (absl::Status s = (*staging)->Finish(); !s.ok()) return Fail(s);
  std::printf("staged:     %lld bytes, peak rss %.1f MiB\n",
              static_cast<long long>((*staging)->bytes()), PeakRssMiB());
  auto outcome = CommitImport(**staging, "", kEndDay);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("import:     %.2f s\n", seconds);
  std::printf("peak rss:   %.1f MiB\n", PeakRssMiB());
  if (!outcome.ok()) return Fail(outcome.status());
  for (const auto& [table, rows] : outcome->rows) {
    std::printf("rows:       %s %lld\n", table.c_str(), static_cast<long long>(rows));
  }
  std::printf("status:     OK\n");
  return 0;
}

int Validate(const std::string& csv_dir) {
  std::map<std::string, std::string> files;
  for (const TableSpec& spec : CanonicalSchema()) {
    files[spec.name] = absl::StrCat(csv_dir, "/", spec.name, ".csv");
  }
  ImportOptions options;
  options.as_of = kEndDay;
  absl::Time start = absl::Now();
  ImportOutcome outcome = ValidateImportDetailed(files, ColumnMapping(), options);
  std::printf("validate:   %.2f s\n", absl::ToDoubleSeconds(absl::Now() - start));
  std::printf("accounted:  %.1f MiB of %.1f MiB allowed\n",
              static_cast<double>(outcome.peak_memory_bytes) / (1 << 20),
              static_cast<double>(options.max_memory_bytes) / (1 << 20));
  std::printf("peak rss:   %.1f MiB\n", PeakRssMiB());
  std::printf("problems:   %lld\n", static_cast<long long>(outcome.total_problems));
  return outcome.total_problems == 0 ? 0 : 1;
}

int Main(int argc, char** argv) {
  int64_t lines = 0;
  if (argc == 4 && std::strcmp(argv[1], "demo") == 0 && absl::SimpleAtoi(argv[3], &lines)) {
    return Demo(argv[2], lines);
  }
  if (argc == 4 && std::strcmp(argv[1], "import") == 0) {
    return Import(argv[2], argv[3]);
  }
  if (argc == 3 && std::strcmp(argv[1], "validate") == 0) {
    return Validate(argv[2]);
  }
  std::fprintf(stderr,
               "usage: import_memory_bench demo <csv_dir> <invoice_lines>\n"
               "       import_memory_bench import <csv_dir> <practice_root>\n"
               "       import_memory_bench validate <csv_dir>\n");
  return 2;
}

}  // namespace
}  // namespace vet::data

int main(int argc, char** argv) { return vet::data::Main(argc, argv); }
