// The sandbox loads a practice's columnar dataset (core/data/columnar_store.h)
// into the same DataFrames as the CSV files of the same data: same columns,
// dtypes and values, so generated code behaves the same on either form.
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/common/cancellation.h"
#include "core/data/columnar_store.h"
#include "core/data/csv.h"
#include "core/data/schema.h"
#include "core/data/testing/test_files.h"
#include "core/data/testing/typed_table_builder.h"
#include "core/sandbox/subprocess_executor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::sandbox {
namespace {

using ::testing::HasSubstr;
using ::vet::data::TableSpec;
using ::vet::data::TypedTable;
using ::vet::data::testing::TempDir;
using ::vet::data::testing::TypedTableBuilder;
using ::vet::testing::IsOk;

using Rows = std::vector<std::vector<std::string>>;

// Values chosen to trip conversions: quotes, commas, line breaks, non-ASCII,
// ids with leading zeros, nulls in every kind of column, a date before 1970,
// datetimes with and without seconds, ints with and without nulls.
const std::map<std::string, Rows>& Data() {
  static const auto* data = new std::map<std::string, Rows>{
      {"appointments",
       {{"a1", "0007", "c1", "s1", "2026-01-05T09:30", "20", "wellness", "completed", ""},
        {"a2", "0007", "c1", "s2", "1969-12-31T23:59:59", "30", "sick", "no_show",
         "2025-12-01T08:00:05"},
        {"a3", "p2", "c2", "s1", "2026-02-28T00:00", "45", "surgery", "cancelled",
         "2026-01-01T00:00"}}},
      {"invoice_lines",
       {{"0001", "1", "2026-01-05", "c1", "0007", "s1", "a1", "VAC-01",
         "Vaccine, \"DHPP\"\nbooster", "vaccine", "1.50", "20.25", "0.00", "30.38", "4.10"},
        {"0001", "2", "", "c1", "", "", "", "RET\xc3\xa9", "\xc3\x89t\xc3\xa9 \xf0\x9f\x90\xb6 toy",
         "retail", "-1.00", "5.50", "0.25", "-5.75", ""},
        {"0002", "", "1950-06-30", "c2", "p2", "s2", "a3", "SUR-9", "Spay, cat", "surgery", "1.00",
         "250.00", "10.00", "240.00", "80.50"}}},
  };
  return *data;
}

std::vector<std::string> Header(const TableSpec& spec) {
  std::vector<std::string> header;
  for (const auto& c : spec.columns) header.push_back(c.name);
  return header;
}

// Prints each table's shape, and each column's dtype and values.
constexpr char kDumpCode[] = R"py(
lines = []
for name in sorted(tables):
    frame = tables[name]
    lines.append("%s %r %r" % (name, frame.shape, list(frame.index[:5])))
    for column in frame.columns:
        lines.append("  %s %s %r" % (column, frame[column].dtype,
                                    frame[column].tolist()))
monthly = tables["invoice_lines"].groupby(
    tables["invoice_lines"]["invoiced_on"].dt.to_period("M"))["amount"].sum()
lines.append(repr(monthly.to_dict()))
lines.append(repr(tables["appointments"].merge(
    tables["invoice_lines"], on="appointment_id").shape))
result = "\n".join(lines)
)py";

class ColumnarLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<TypedTable> typed;
    for (const auto& [name, rows] : Data()) {
      const TableSpec& spec = *data::FindTable(name);
      std::vector<std::string> header = Header(spec);
      std::string csv;
      data::AppendCsvRecord(header, &csv);
      TypedTableBuilder builder(spec, header);
      for (const std::vector<std::string>& row : rows) {
        ASSERT_EQ(row.size(), header.size()) << name;
        data::AppendCsvRecord(row, &csv);
        builder.AddRow(absl::MakeConstSpan(row));
      }
      ASSERT_THAT(data::WriteFileAtomically(absl::StrCat(csv_.path(), "/", name, ".csv"), csv),
                  IsOk());
      typed.push_back(std::move(builder).Build());
    }
    ASSERT_THAT(data::WriteColumnarDataset(typed, columnar_.path()), IsOk());

    SubprocessExecutor::Options options;
    for (const auto& [name, rows] : Data()) {
      for (const auto& c : data::FindTable(name)->columns) {
        if (c.type == data::FieldType::kDate || c.type == data::FieldType::kDateTime) {
          options.tables[name].push_back(c.name);
        }
      }
    }
    options.probe_interpreter = false;
    auto executor = SubprocessExecutor::Create(options);
    ASSERT_THAT(executor.status(), IsOk());
    executor_ = std::move(*executor);
  }

  std::string Dump(const std::string& data_dir) {
    class Discard final : public OutputSink {
      void OnOutput(OutputStream, absl::string_view) override {}
    } sink;
    CancellationToken token;
    ExecutionRequest request;
    request.practice_id = "p";
    request.data_dir = data_dir;
    request.code = kDumpCode;
    auto r = executor_->Execute(request, sink, token);
    EXPECT_THAT(r.status(), IsOk());
    if (!r.ok()) return "";
    EXPECT_FALSE(r->error.has_value()) << r->error->type << ": " << r->error->message;
    return r->result.text;
  }

  TempDir csv_;
  TempDir columnar_;
  std::unique_ptr<SubprocessExecutor> executor_;
};

TEST_F(ColumnarLoadTest, GivesTheSameFramesAsTheCsvFiles) {
  const std::string from_csv = Dump(csv_.path());
  const std::string from_columnar = Dump(columnar_.path());
  EXPECT_EQ(from_columnar, from_csv);
  // And the dump says what the frames are, so the equality means something.
  EXPECT_THAT(from_csv, HasSubstr("invoice_lines (3, 15)"));
  EXPECT_THAT(from_csv, HasSubstr("  invoice_id object ['0001', '0001', '0002']"));
  EXPECT_THAT(from_csv, HasSubstr("  line_no float64 [1.0, 2.0, nan]"));
  EXPECT_THAT(from_csv, HasSubstr("  duration_min int64 [20, 30, 45]"));
  EXPECT_THAT(from_csv, HasSubstr("  patient_id object ['0007', nan, 'p2']"));
  EXPECT_THAT(from_csv, HasSubstr("  invoiced_on datetime64[ns] "
                                  "[Timestamp('2026-01-05 00:00:00'), NaT, "
                                  "Timestamp('1950-06-30 00:00:00')]"));
  EXPECT_THAT(from_csv, HasSubstr("Timestamp('1969-12-31 23:59:59')"));
  EXPECT_THAT(from_csv, HasSubstr("  unit_cost float64 [4.1, nan, 80.5]"));
  EXPECT_THAT(from_csv, HasSubstr("'Vaccine, \"DHPP\"\\nbooster'"));
}

TEST_F(ColumnarLoadTest, FallsBackToCsvWithoutAManifest) {
  // A columnar folder whose manifest is gone (an interrupted write) is not
  // loaded as columnar, and has no CSV either: no tables.
  ASSERT_EQ(::unlink((columnar_.path() + "/manifest.json").c_str()), 0);
  class Discard final : public OutputSink {
    void OnOutput(OutputStream, absl::string_view) override {}
  } sink;
  CancellationToken token;
  ExecutionRequest request;
  request.practice_id = "p";
  request.data_dir = columnar_.path();
  request.code = "result = len(tables)";
  auto r = executor_->Execute(request, sink, token);
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->result.number, 0);
}

}  // namespace
}  // namespace vet::sandbox
