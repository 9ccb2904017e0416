// Issue 12's example for the executor tests: code whose result is a 7.5 MB
// table (1000 rows of 7,500-character notes), and what every executor must
// make of it: the beginning of the table within the answer's budget, and
// the whole table as result.csv.
#ifndef VET_CORE_SANDBOX_TESTING_BIG_TABLE_H_
#define VET_CORE_SANDBOX_TESTING_BIG_TABLE_H_

#include <algorithm>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/sandbox/executor.h"
#include "gtest/gtest.h"

namespace vet::sandbox {

inline constexpr char kBigTableCode[] =
    "result = pd.DataFrame({'n': range(1000),\n"
    "                       'note': ['x' * 7500 + str(i) for i in range(1000)]})\n";

// Checks `r` against the executors' defaults (max_sent_result_bytes 768 KiB).
inline void ExpectBigTableCutAndWholeAsCsv(const ExecutionResult& r) {
  const ResultTable& t = r.result.table;
  EXPECT_EQ(t.total_rows, 1000);
  EXPECT_TRUE(t.truncated());
  EXPECT_GT(t.rows.size(), 90u);
  EXPECT_LT(t.rows.size(), 110u);
  int64_t bytes = 0;
  for (const auto& row : t.rows) bytes += EncodedRowBytes(row);
  EXPECT_LE(bytes, 768 << 10);
  EXPECT_EQ(t.csv_artifact, "result.csv");
  EXPECT_EQ(t.csv_rows, 1000);
  ASSERT_EQ(r.charts.size(), 1u);
  EXPECT_EQ(r.charts[0].name, "result.csv");
  EXPECT_EQ(r.charts[0].mime_type, "text/csv");
  const std::string& csv = r.charts[0].data;
  // A byte-order mark, the header, then every row whole, none cut.
  EXPECT_TRUE(absl::StartsWith(csv, "\xEF\xBB\xBFn,note\r\n0,xxx"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1001);
  EXPECT_TRUE(absl::EndsWith(csv, absl::StrCat("999,", std::string(7500, 'x'), "999\r\n")));
}

}  // namespace vet::sandbox

#endif  // VET_CORE_SANDBOX_TESTING_BIG_TABLE_H_
