// A practice's dataset as the code generator may see it: tables, columns,
// types, row counts, date ranges and enum values. Never a row of data and
// never a value of a personal-data column.
#ifndef VET_CORE_DATA_DATASET_H_
#define VET_CORE_DATA_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/schema.h"

namespace vet::data {

struct ColumnDescription {
  ColumnSpec spec;
  // kDate / kDateTime columns: earliest and latest value as written in the
  // data ("2024-01-02", "2026-11-25T17:30"); empty when the column is empty.
  std::string min_value;
  std::string max_value;
  // False when the file lacks this (optional) column: the table has no
  // values for it.
  bool present = true;
};

struct TableDescription {
  std::string name;
  std::string description;
  int64_t row_count = 0;
  std::vector<ColumnDescription> columns;
};

struct DatasetDescription {
  std::string schema_version = kSchemaVersion;
  std::vector<TableDescription> tables;

  const TableDescription* FindTable(absl::string_view name) const;
};

// Reads the five CSV tables in `data_dir` (<table>.csv, see csv.h for the
// format) and describes them. Returns kNotFound when the folder or a table's
// file is missing ("practice has no data yet: <path> missing"), kDataLoss
// naming file, line and column when a file does not match the schema: a
// required (non-optional) column missing from the header or named twice, a
// record with more or fewer fields than the header, a date or datetime that
// is not ISO (YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS]; a space for the T is
// tolerated), malformed CSV. Other values are not checked here. Columns the
// schema does not know are ignored with a warning naming them. Messages never
// contain values. Blocking I/O: call it off gRPC threads. Thread-safe.
absl::StatusOr<DatasetDescription> DescribeDataset(const std::string& data_dir);

}  // namespace vet::data

#endif  // VET_CORE_DATA_DATASET_H_
