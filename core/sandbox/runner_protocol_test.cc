// Tests of the runner protocol's C++ half and of FitForSending, which
// makes what a document gave fit in an answer; no interpreter.
#include "core/sandbox/runner_protocol.h"

#include <cmath>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/sandbox/supervisor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/testing/status_matchers.h"

namespace vet::sandbox::internal {
namespace {

using ::testing::HasSubstr;
using ::vet::testing::StatusIs;

TEST(RunnerProtocolTest, EncodesTheSpecAsJson) {
  RunSpec spec;
  spec.data_dir = "/data/clinic \"a\"";
  spec.tables = {{"invoice_lines", {"invoiced_on"}}, {"staff", {}}};
  spec.max_rows = 10;
  spec.max_charts = 2;
  spec.max_chart_bytes = 1000;
  spec.max_result_bytes = 5000;
  spec.max_csv_rows = 100;
  spec.max_csv_bytes = 7000;
  rapidjson::Document doc;
  doc.Parse(EncodeRunSpec(spec).c_str());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(doc["data_dir"].GetString(), "/data/clinic \"a\"");
  EXPECT_STREQ(doc["tables"]["invoice_lines"][0].GetString(), "invoiced_on");
  EXPECT_EQ(doc["tables"]["staff"].Size(), 0u);
  EXPECT_EQ(doc["max_rows"].GetInt(), 10);
  EXPECT_EQ(doc["max_result_bytes"].GetInt64(), 5000);
  EXPECT_EQ(doc["max_csv_rows"].GetInt(), 100);
  EXPECT_EQ(doc["max_csv_bytes"].GetInt64(), 7000);
}

TEST(RunnerProtocolTest, ParsesATableWithTypedCellsAndNulls) {
  auto out = ParseRunnerOutput(R"({"status":"ok","answer":"Two months.","charts":[],
    "result":{"kind":"table","unit":"USD","total_rows":5,
      "columns":[{"name":"month","type":"date"},{"name":"revenue","type":"number"},
                 {"name":"visits","type":"integer"},{"name":"busy","type":"bool"}],
      "rows":[["2026-01-01",120.5,3,true],[null,null,null,null]]}})");
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->status, RunnerOutput::Status::kOk);
  const ResultValue& r = out->execution.result;
  EXPECT_EQ(r.kind, ResultValue::Kind::kTable);
  EXPECT_EQ(r.unit, "USD");
  EXPECT_EQ(out->execution.answer, "Two months.");
  EXPECT_EQ(r.table.total_rows, 5);
  ASSERT_EQ(r.table.columns.size(), 4u);
  EXPECT_EQ(r.table.columns[0].type, ColumnType::kDate);
  EXPECT_EQ(r.table.columns[2].type, ColumnType::kInteger);
  ASSERT_EQ(r.table.rows.size(), 2u);
  EXPECT_EQ(absl::get<std::string>(r.table.rows[0][0]), "2026-01-01");
  EXPECT_DOUBLE_EQ(absl::get<double>(r.table.rows[0][1]), 120.5);
  EXPECT_EQ(absl::get<int64_t>(r.table.rows[0][2]), 3);
  EXPECT_TRUE(absl::get<bool>(r.table.rows[0][3]));
  for (const Cell& cell : r.table.rows[1]) {
    EXPECT_TRUE(absl::holds_alternative<absl::monostate>(cell));
  }
}

TEST(RunnerProtocolTest, ParsesColumnUnitsMonthsAndTheExplanation) {
  auto out = ParseRunnerOutput(R"({"status":"ok","answer":"","charts":[],
    "result":{"kind":"table","total_rows":1,
      "columns":[{"name":"month","type":"month","unit":"month"},
                 {"name":"revenue","type":"number","unit":"USD"}],
      "rows":[["2026-07",10.0]]},
    "explanation":{"metric":"Revenue","definition":"sum of amount",
      "period":{"start":"2026-07-01","end":"2026-09-30","text":"last quarter"},
      "filters":["species feline"],"counted":"12 invoice lines",
      "excluded":["2 invoice lines without a vet"],"notes":["n"]}})");
  ASSERT_TRUE(out.ok()) << out.status();
  const ResultTable& t = out->execution.result.table;
  ASSERT_EQ(t.columns.size(), 2u);
  EXPECT_EQ(t.columns[0].type, ColumnType::kMonth);
  EXPECT_EQ(t.columns[0].unit, "month");
  EXPECT_EQ(t.columns[1].unit, "USD");
  EXPECT_EQ(absl::get<std::string>(t.rows[0][0]), "2026-07");
  const Explanation& e = out->execution.explanation;
  EXPECT_EQ(e.metric, "Revenue");
  EXPECT_EQ(e.period.start, "2026-07-01");
  EXPECT_EQ(e.period.text, "last quarter");
  EXPECT_TRUE(e.compared.empty());
  EXPECT_EQ(e.filters, std::vector<std::string>{"species feline"});
  EXPECT_EQ(e.counted, "12 invoice lines");
  EXPECT_EQ(e.excluded, std::vector<std::string>{"2 invoice lines without a vet"});

  auto bad = ParseRunnerOutput(
      R"({"status":"ok","answer":"","charts":[],"result":{"kind":"number","number":1},)"
      R"("explanation":{"filters":"not a list"}})");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInternal);
}

TEST(RunnerProtocolTest, ParsesADeclineFromTheCode) {
  auto out =
      ParseRunnerOutput(R"({"status":"ok","declined":"No staff member's name contains 'X'.",)"
                        R"("result":{"kind":"text","text":""},"answer":"","charts":[]})");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->execution.declined, "No staff member's name contains 'X'.");
}

TEST(RunnerProtocolTest, ParsesNumbersIncludingNaN) {
  auto out = ParseRunnerOutput(R"({"status":"ok","result":{"kind":"number","number":NaN}})");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(std::isnan(out->execution.result.number));
  out = ParseRunnerOutput(
      R"({"status":"ok","result":{"kind":"number","number":2.5,"unit":"percent"}})");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->execution.result.number, 2.5);
  EXPECT_EQ(out->execution.result.unit, "percent");
}

TEST(RunnerProtocolTest, DecodesBase64Charts) {
  const std::string png = "\x89PNG\r\n\x1a\n";
  auto out = ParseRunnerOutput(absl::StrCat(
      R"({"status":"ok","result":{"kind":"text","text":"x"},"charts":[{"name":"chart_1.png","mime_type":"image/png","data":")",
      absl::Base64Escape(png), R"("}]})"));
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->execution.charts.size(), 1u);
  EXPECT_EQ(out->execution.charts[0].data, png);
  EXPECT_EQ(out->execution.charts[0].name, "chart_1.png");
}

TEST(RunnerProtocolTest, ParsesACodeErrorAndAFatalError) {
  auto out = ParseRunnerOutput(
      R"({"status":"error","error":{"type":"KeyError","message":"'revenue'","line":3}})");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->status, RunnerOutput::Status::kCodeError);
  ASSERT_TRUE(out->execution.error.has_value());
  EXPECT_EQ(out->execution.error->type, "KeyError");
  EXPECT_EQ(out->execution.error->line, 3);
  EXPECT_EQ(out->execution.result.kind, ResultValue::Kind::kNone);

  out = ParseRunnerOutput(
      R"({"status":"fatal","stage":"load","error":{"type":"ParserError","message":"m","line":0}})");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->status, RunnerOutput::Status::kFatal);
  EXPECT_EQ(out->fatal_stage, "load");
  EXPECT_EQ(out->fatal_error.type, "ParserError");
}

TEST(RunnerProtocolTest, ParsesProbeVersions) {
  auto out = ParseRunnerOutput(R"({"status":"ok","versions":{"pandas":"1.5.3"}})");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->versions.at("pandas"), "1.5.3");
}

TEST(RunnerProtocolTest, RejectsMalformedDocumentsAsInternal) {
  for (
      const char* bad : {
          "",
          "not json",
          "[1]",
          R"({"status":"maybe"})",
          R"({"status":"ok"})",
          R"({"status":"ok","result":{"kind":"colour"}})",
          R"({"status":"ok","result":{"kind":"table","columns":[{"name":"a","type":"integer"}],"rows":[[1,2]],"total_rows":1}})",
          R"({"status":"ok","result":{"kind":"table","columns":[{"name":"a","type":"integer"}],"rows":[["x"]],"total_rows":1}})",
          R"({"status":"ok","result":{"kind":"table","columns":[{"name":"a","type":"money"}],"rows":[],"total_rows":0}})",
          R"({"status":"ok","result":{"kind":"table","columns":[],"rows":[[],[]],"total_rows":1}})",
          R"({"status":"ok","result":{"kind":"text","text":"x"},"charts":[{"name":"c","mime_type":"image/png","data":"!!"}]})",
          R"({"status":"ok","result":{"kind":"table","columns":[],"rows":[],"total_rows":0,"cut_cells":-1}})",
          R"({"status":"ok","result":{"kind":"text","text":"x"},"table_csv":"a,b"})",
          R"({"status":"ok","result":{"kind":"text","text":"x"},"table_csv":{"data":""}})",
          R"({"status":"ok","result":{"kind":"text","text":"x"},"table_csv":{"rows":1,"data":"!!"}})",
          R"({"status":"error"})",
      }) {
    EXPECT_THAT(ParseRunnerOutput(bad),
                StatusIs(absl::StatusCode::kInternal, HasSubstr("broke the protocol")))
        << bad;
  }
}

TEST(RunnerProtocolTest, ParsesTheTablesCsvAndItsCutCells) {
  auto out = ParseRunnerOutput(absl::StrCat(
      R"({"status":"ok","result":{"kind":"table","columns":[{"name":"a","type":"text"}],)",
      R"("rows":[["x"]],"total_rows":2,"cut_cells":1},"table_csv":{"rows":2,"data":")",
      absl::Base64Escape("a\r\nx\r\ny\r\n"), R"("}})"));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->execution.result.table.cut_cells, 1);
  ASSERT_TRUE(out->table_csv.has_value());
  EXPECT_EQ(out->table_csv->rows, 2);
  EXPECT_EQ(out->table_csv->data, "a\r\nx\r\ny\r\n");
}

// FitForSending, which Conclude applies to every result a document gives.

ExecutionResult TableOfLongText(int rows, size_t cell_bytes) {
  ExecutionResult execution;
  execution.result.kind = ResultValue::Kind::kTable;
  ResultTable& table = execution.result.table;
  table.columns = {{"n", ColumnType::kInteger}, {"note", ColumnType::kText}};
  for (int i = 0; i < rows; ++i) {
    table.rows.push_back({Cell(int64_t{i}), Cell(std::string(cell_bytes, 'x'))});
  }
  table.total_rows = rows;
  return execution;
}

int64_t RowBytes(const ResultTable& table) {
  int64_t bytes = 0;
  for (const auto& row : table.rows) bytes += EncodedRowBytes(row);
  return bytes;
}

TEST(FitForSendingTest, LeavesATableThatFitsWholeAndAddsNoCsv) {
  ExecutionResult execution = TableOfLongText(/*rows=*/10, /*cell_bytes=*/100);
  FitForSending(execution, TableCsv{"n,note\r\n", 10}, /*max_sent_result_bytes=*/768 << 10);
  const ResultTable& table = execution.result.table;
  EXPECT_EQ(table.rows.size(), 10u);
  EXPECT_FALSE(table.truncated());
  EXPECT_TRUE(execution.charts.empty());
  EXPECT_EQ(table.csv_artifact, "");
}

TEST(FitForSendingTest, CutsABigTableFromTheEndAndAttachesTheCsv) {
  // About 7.5 MB of cells: the example of issue 12.
  ExecutionResult execution = TableOfLongText(/*rows=*/1000, /*cell_bytes=*/7500);
  execution.charts.push_back(Chart{"chart_1.png", "image/png", "png"});
  FitForSending(execution, TableCsv{"the csv", 1000}, /*max_sent_result_bytes=*/768 << 10);
  const ResultTable& table = execution.result.table;
  EXPECT_TRUE(table.truncated());
  EXPECT_EQ(table.total_rows, 1000);
  EXPECT_EQ(table.rows.size(), 104u);  // 7,512 bytes a row
  EXPECT_LE(RowBytes(table), 768 << 10);
  EXPECT_EQ(absl::get<int64_t>(table.rows.back()[0]), 103);
  EXPECT_EQ(table.cut_cells, 0);
  EXPECT_EQ(table.csv_artifact, "result.csv");
  EXPECT_EQ(table.csv_rows, 1000);
  ASSERT_EQ(execution.charts.size(), 2u);
  EXPECT_EQ(execution.charts[1].name, "result.csv");
  EXPECT_EQ(execution.charts[1].mime_type, "text/csv");
  EXPECT_EQ(execution.charts[1].data, "the csv");
}

TEST(FitForSendingTest, CutsAnAbsurdCellEvenWhenTheTableFits) {
  ExecutionResult execution = TableOfLongText(/*rows=*/2, /*cell_bytes=*/100);
  absl::get<std::string>(execution.result.table.rows[1][1]) = std::string(200000, 'y');
  FitForSending(execution, TableCsv{"n,note\r\n0,x\r\n1,y\r\n", 2},
                /*max_sent_result_bytes=*/768 << 10);
  const ResultTable& table = execution.result.table;
  EXPECT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.cut_cells, 1);
  EXPECT_TRUE(table.truncated());
  EXPECT_EQ(absl::get<std::string>(table.rows[1][1]).size(), size_t{kMaxSentCellBytes});
  EXPECT_EQ(table.csv_artifact, "result.csv");
  ASSERT_EQ(execution.charts.size(), 1u);
}

TEST(FitForSendingTest, ATruncatedTableWithoutCsvRowsNamesNoArtifact) {
  ExecutionResult execution = TableOfLongText(/*rows=*/1000, /*cell_bytes=*/7500);
  FitForSending(execution, TableCsv{"n,note\r\n", 0}, /*max_sent_result_bytes=*/768 << 10);
  EXPECT_TRUE(execution.result.table.truncated());
  EXPECT_EQ(execution.result.table.csv_artifact, "");
  EXPECT_TRUE(execution.charts.empty());
  ExecutionResult without = TableOfLongText(/*rows=*/1000, /*cell_bytes=*/7500);
  FitForSending(without, absl::nullopt, /*max_sent_result_bytes=*/768 << 10);
  EXPECT_TRUE(without.charts.empty());
}

TEST(FitForSendingTest, CutsALongText) {
  ExecutionResult execution;
  execution.result.kind = ResultValue::Kind::kText;
  execution.result.text = std::string(3 << 20, 'z');
  FitForSending(execution, absl::nullopt, /*max_sent_result_bytes=*/768 << 10);
  EXPECT_EQ(execution.result.text.size(), size_t{768} << 10);
  EXPECT_EQ(execution.result.text.substr(execution.result.text.size() - 3), "\u2026");
}

}  // namespace
}  // namespace vet::sandbox::internal
