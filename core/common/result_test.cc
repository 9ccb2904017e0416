// CutText and FitTable: what is kept of a table that does not fit.
#include "core/common/result.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vet {
namespace {

TEST(CutTextTest, LeavesShortTextAndCutsLongTextWithAnEllipsis) {
  std::string text = "abcdef";
  EXPECT_FALSE(CutText(text, 6));
  EXPECT_EQ(text, "abcdef");
  EXPECT_TRUE(CutText(text, 5));
  EXPECT_EQ(text, "ab\u2026");
}

TEST(CutTextTest, NeverSplitsACharacter) {
  std::string text = "a\u00fc\u00fc\u00fc";  // 1 + 3 x 2 bytes
  EXPECT_TRUE(CutText(text, 6));
  // "a" and one two-byte "ü" leave room for the ellipsis; half of the
  // next one would not be valid UTF-8.
  EXPECT_EQ(text, "a\u00fc\u2026");
}

ResultTable Rows(int n, const std::string& text) {
  ResultTable table;
  table.columns = {{"n", ColumnType::kInteger}, {"text", ColumnType::kText}};
  for (int i = 0; i < n; ++i) table.rows.push_back({Cell(int64_t{i}), Cell(text)});
  table.total_rows = n;
  return table;
}

TEST(EncodedRowBytesTest, CountsTagsLengthsAndValues) {
  // Row: tag, length; each cell: tag, length, value (double: tag + 8).
  EXPECT_EQ(EncodedRowBytes({}), 2);
  EXPECT_EQ(EncodedRowBytes({Cell(absl::monostate())}), 2 + 2);
  EXPECT_EQ(EncodedRowBytes({Cell(1.5)}), 2 + 2 + 9);
  EXPECT_EQ(EncodedRowBytes({Cell(int64_t{300})}), 2 + 2 + 3);
  EXPECT_EQ(EncodedRowBytes({Cell(int64_t{-1})}), 2 + 2 + 11);
  EXPECT_EQ(EncodedRowBytes({Cell(true)}), 2 + 2 + 2);
  EXPECT_EQ(EncodedRowBytes({Cell(std::string(200, 'x'))}), 3 + 3 + 203);
}

TEST(FitTableTest, KeepsATableThatFits) {
  ResultTable table = Rows(10, "short");
  FitTable(table, /*max_row_bytes=*/1 << 20, /*max_cell_bytes=*/100);
  EXPECT_EQ(table.rows.size(), 10u);
  EXPECT_FALSE(table.truncated());
}

TEST(FitTableTest, DropsRowsFromTheEndAndKeepsTheTotal) {
  ResultTable table = Rows(100, std::string(1000, 'x'));
  const int64_t row = EncodedRowBytes(table.rows[0]);
  FitTable(table, /*max_row_bytes=*/row * 10 + row / 2, /*max_cell_bytes=*/5000);
  ASSERT_EQ(table.rows.size(), 10u);
  EXPECT_EQ(absl::get<int64_t>(table.rows[9][0]), 9);
  EXPECT_EQ(table.total_rows, 100);
  EXPECT_EQ(table.cut_cells, 0);
  EXPECT_TRUE(table.truncated());
}

TEST(FitTableTest, CutsLongCellsFirstAndCountsOnlyTheRowsKept) {
  ResultTable table = Rows(100, std::string(1000, 'x'));
  FitTable(table,
           /*max_row_bytes=*/5 * EncodedRowBytes({Cell(int64_t{1}), Cell(std::string(50, 'x'))}),
           /*max_cell_bytes=*/50);
  EXPECT_EQ(table.rows.size(), 5u);
  EXPECT_EQ(table.cut_cells, 5);
  EXPECT_EQ(absl::get<std::string>(table.rows[0][1]), std::string(47, 'x') + "\u2026");
}

}  // namespace
}  // namespace vet
