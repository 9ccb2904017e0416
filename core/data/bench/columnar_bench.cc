// Builds the data for scripts/bench-load.sh: the demo practice as CSV in
// <out>/csv and the same tables in the columnar form in <out>/columnar, and
// reports how long the C++ side took (conversion, writing, describing).
// Usage: columnar_bench <out_dir> [invoice_lines]
// The CSV goes through the import's own validator (import_validator.h), so
// the timings are those of a real import.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/data/columnar_store.h"
#include "core/data/csv.h"
#include "core/data/dataset.h"
#include "core/data/demo_generator.h"
#include "core/data/import_validator.h"
#include "core/data/schema.h"

namespace vet::data {
namespace {

double Seconds(absl::Time start) { return absl::ToDoubleSeconds(absl::Now() - start); }

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "columnar_bench: %s\n", status.ToString().c_str());
  return 1;
}

int Main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: columnar_bench <out_dir> [invoice_lines]\n");
    return 2;
  }
  const std::string out = argv[1];
  DemoOptions demo;
  demo.end_day = absl::CivilDay(2026, 11, 25);
  if (argc == 3 && !absl::SimpleAtoi(argv[2], &demo.invoice_lines)) {
    std::fprintf(stderr, "columnar_bench: bad invoice_lines\n");
    return 2;
  }
  const std::string csv_dir = out + "/csv";
  const std::string columnar_dir = out + "/columnar";

  absl::Time start = absl::Now();
  if (absl::Status s = WriteDemoDataset(demo, csv_dir); !s.ok()) return Fail(s);
  std::printf("generate csv:        %.2f s\n", Seconds(start));

  // The real import path: the validator that ImportDataset runs.
  start = absl::Now();
  std::map<std::string, std::string> files;
  for (const TableSpec& spec : CanonicalSchema()) {
    files[spec.name] = absl::StrCat(csv_dir, "/", spec.name, ".csv");
  }
  ImportOptions options;
  options.as_of = demo.end_day;
  auto validated = ValidateImport(files, ColumnMapping(), options);
  if (!validated.ok()) return Fail(validated.status());
  std::vector<TypedTable> tables = std::move(validated->tables);
  std::printf("validate (import):   %.2f s (invoice_lines: %lld rows)\n", Seconds(start),
              static_cast<long long>(tables.back().rows));

  start = absl::Now();
  if (absl::Status s = WriteColumnarDataset(tables, columnar_dir); !s.ok()) {
    return Fail(s);
  }
  std::printf("write columnar:      %.2f s\n", Seconds(start));

  start = absl::Now();
  auto from_csv = DescribeDataset(csv_dir);
  if (!from_csv.ok()) return Fail(from_csv.status());
  std::printf("DescribeDataset:     %.3f s\n", Seconds(start));
  start = absl::Now();
  auto from_columnar = DescribeColumnarDataset(columnar_dir);
  if (!from_columnar.ok()) return Fail(from_columnar.status());
  std::printf("DescribeColumnar...: %.4f s\n", Seconds(start));
  return 0;
}

}  // namespace
}  // namespace vet::data

int main(int argc, char** argv) { return vet::data::Main(argc, argv); }
