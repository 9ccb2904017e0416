// Fuzz target: the CSV reader (core/data/csv.h) over arbitrary bytes, with a
// small buffer and small limits so that records crossing buffer refills and
// the size and field caps are reached by short inputs.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/data/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string content(reinterpret_cast<const char*>(data), size);
  vet::data::CsvReader::Options options;
  options.buffer_size = 7;
  options.max_record_bytes = 4096;
  options.max_fields = 64;
  auto reader = vet::data::CsvReader::FromString(content, "fuzz.csv", options);
  for (int records = 0; records < 100000; ++records) {
    absl::StatusOr<bool> next = reader->Next();
    if (!next.ok() || !*next) break;
    // Every field must be readable and the round trip must not crash.
    std::string out;
    vet::data::AppendCsvRecord(reader->fields(), &out);
  }
  return 0;
}
