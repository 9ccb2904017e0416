// Shape summaries of results (no values: they may be stored and shown to a
// model), and keeping a table within the size of one message.
#include "core/common/result.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace vet {
namespace {

// U+2026, three bytes in UTF-8.
constexpr char kEllipsis[] = "\u2026";
constexpr size_t kEllipsisBytes = sizeof(kEllipsis) - 1;

int64_t VarintBytes(uint64_t value) {
  int64_t bytes = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++bytes;
  }
  return bytes;
}

// A length-delimited field: tag (one byte for field numbers below 16),
// length, body.
int64_t DelimitedBytes(int64_t body) { return 1 + VarintBytes(static_cast<uint64_t>(body)) + body; }

struct CellBodyBytes {
  int64_t operator()(absl::monostate) const { return 0; }
  int64_t operator()(double) const { return 1 + 8; }
  // int64 is a varint of its two's complement: ten bytes when negative.
  int64_t operator()(int64_t v) const { return 1 + VarintBytes(static_cast<uint64_t>(v)); }
  int64_t operator()(const std::string& v) const {
    return DelimitedBytes(static_cast<int64_t>(v.size()));
  }
  int64_t operator()(bool) const { return 1 + 1; }
};

}  // namespace

int64_t EncodedRowBytes(const std::vector<Cell>& row) {
  int64_t body = 0;
  for (const Cell& cell : row) body += DelimitedBytes(absl::visit(CellBodyBytes{}, cell));
  return DelimitedBytes(body);
}

bool CutText(std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return false;
  size_t keep = max_bytes >= kEllipsisBytes ? max_bytes - kEllipsisBytes : 0;
  // Back to the start of a character: continuation bytes are 10xxxxxx.
  while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) --keep;
  text.resize(keep);
  text += kEllipsis;
  return true;
}

void FitTable(ResultTable& table, int64_t max_row_bytes, int64_t max_cell_bytes) {
  int64_t used = 0;
  size_t keep = 0;
  for (; keep < table.rows.size(); ++keep) {
    int64_t cut = 0;
    for (Cell& cell : table.rows[keep]) {
      auto* text = absl::get_if<std::string>(&cell);
      if (text != nullptr && CutText(*text, static_cast<size_t>(max_cell_bytes))) ++cut;
    }
    used += EncodedRowBytes(table.rows[keep]);
    if (used > max_row_bytes) break;
    table.cut_cells += cut;
  }
  table.rows.resize(keep);
}

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
      return absl::StrCat("table ", value.table.total_rows, "x", value.table.columns.size(), " (",
                          absl::StrJoin(names, ", "), ")");
    }
  }
  return "unknown";
}

}  // namespace vet
