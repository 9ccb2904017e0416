// The canonical clinic data schema v1 (docs/SCHEMA.md): five tables, their
// columns, types, allowed values and which columns hold personal data. The one
// place the import, DescribeDataset, the planner and the prompt learn it from.
#ifndef VET_CORE_DATA_SCHEMA_H_
#define VET_CORE_DATA_SCHEMA_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace vet::data {

inline constexpr char kSchemaVersion[] = "v1";

enum class FieldType { kId, kRef, kDate, kDateTime, kInt, kDecimal, kEnum, kText };

// "id", "ref", "date", ... as in DATA_SCHEMA.md.
absl::string_view FieldTypeName(FieldType type);

struct ColumnSpec {
  std::string name;
  FieldType type;
  std::string description;
  bool personal = false;
  bool optional = false;
  // kRef: the referenced table.
  std::string references;
  // kEnum: the allowed values, lower case.
  std::vector<std::string> allowed_values;
};

struct TableSpec {
  std::string name;         // "clients"; the CSV file is name + ".csv"
  std::string description;  // "the animal owners"
  std::vector<ColumnSpec> columns;

  const ColumnSpec* FindColumn(absl::string_view column) const;
};

// The five tables in dependency order: clients, patients, staff,
// appointments, invoice_lines.
const std::vector<TableSpec>& CanonicalSchema();

// Table name -> its date and datetime columns, which the sandbox parses on
// load (for the CSV form; the columnar form carries its own types).
std::map<std::string, std::vector<std::string>> DateColumnsByTable();

// nullptr if there is no such table.
const TableSpec* FindTable(absl::string_view name);

}  // namespace vet::data

#endif  // VET_CORE_DATA_SCHEMA_H_
