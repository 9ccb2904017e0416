// The structured result of a question, in plain C++: a number, a text, or a
// table of named, typed columns. The sandbox produces it, the pipeline puts it
// in the FinalAnswer, the session store keeps a summary of it.
#ifndef VET_CORE_COMMON_RESULT_H_
#define VET_CORE_COMMON_RESULT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/types/variant.h"

namespace vet {

enum class ColumnType { kNumber, kInteger, kText, kDate, kDateTime, kBool };

struct ResultColumn {
  std::string name;
  ColumnType type = ColumnType::kText;
};

// monostate is null. Dates and datetimes are ISO strings.
using Cell = absl::variant<absl::monostate, double, int64_t, std::string, bool>;

struct ResultTable {
  std::vector<ResultColumn> columns;
  std::vector<std::vector<Cell>> rows;
  // Rows the code produced; larger than rows.size() when capped.
  int64_t total_rows = 0;
};

struct ResultValue {
  enum class Kind { kNone, kNumber, kText, kTable };
  Kind kind = Kind::kNone;
  double number = 0;
  std::string text;
  ResultTable table;
  // "USD", "percent", "count", ... ; may be empty.
  std::string unit;
};

// One line describing the shape, e.g. "table 3x2 (month, revenue)" or
// "number". Carries no values.
std::string DescribeShape(const ResultValue& value);

}  // namespace vet

#endif  // VET_CORE_COMMON_RESULT_H_
