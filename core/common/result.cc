// Shape summaries of results (no values: they may be stored and shown to a model).
#include "core/common/result.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace vet {

std::string DescribeShape(const ResultValue& value) {
  switch (value.kind) {
    case ResultValue::Kind::kNone:
      return "no result";
    case ResultValue::Kind::kNumber:
      return value.unit.empty() ? "number" : absl::StrCat("number (", value.unit, ")");
    case ResultValue::Kind::kText:
      return "text";
    case ResultValue::Kind::kTable: {
      std::vector<std::string> names;
      for (const auto& c : value.table.columns) names.push_back(c.name);
      return absl::StrCat("table ", value.table.total_rows, "x",
                          value.table.columns.size(), " (",
                          absl::StrJoin(names, ", "), ")");
    }
  }
  return "unknown";
}

}  // namespace vet
