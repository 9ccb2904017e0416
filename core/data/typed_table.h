// A validated table in memory, column by column, in the types of the
// canonical schema: what the import produces from CSV and what the columnar
// store writes for the sandbox to load without parsing.
#ifndef VET_CORE_DATA_TYPED_TABLE_H_
#define VET_CORE_DATA_TYPED_TABLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/data/schema.h"

namespace vet::data {

// One column. Exactly one of the value vectors is used, by `type`:
//   kInt                    -> ints
//   kDecimal                -> numbers (NaN for null)
//   kDate                   -> ints: days since 1970-01-01
//   kDateTime               -> ints: seconds since 1970-01-01T00:00 (local
//                              time of the practice, no zone)
//   kId, kRef, kEnum, kText -> codes into `dictionary` (dictionary-encoded
//                              strings; enums stay lower case)
// `valid[i]` is 0 where row i is null (an empty optional field).
struct TypedColumn {
  std::string name;
  FieldType type = FieldType::kText;
  bool personal = false;
  std::vector<int64_t> ints;
  std::vector<double> numbers;
  std::vector<int32_t> codes;
  std::vector<std::string> dictionary;
  std::vector<uint8_t> valid;
};

struct TypedTable {
  std::string name;  // "invoice_lines"
  int64_t rows = 0;
  // In schema order; optional columns absent from the export are present
  // here with every row null.
  std::vector<TypedColumn> columns;

  const TypedColumn* FindColumn(const std::string& column) const {
    for (const TypedColumn& c : columns) {
      if (c.name == column) return &c;
    }
    return nullptr;
  }
};

}  // namespace vet::data

#endif  // VET_CORE_DATA_TYPED_TABLE_H_
