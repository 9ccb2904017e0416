#include "core/data/import_validator.h"

#include <time.h>

#include <cmath>
#include <cstdint>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "core/data/columnar_store.h"
#include "core/data/dataset.h"
#include "core/data/demo_generator.h"
#include "core/data/testing/small_export.h"
#include "core/data/testing/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::data {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::vet::data::testing::TempDir;
using ::vet::data::testing::WriteTextFile;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

}  // namespace

// Readable failure messages.
void PrintTo(const ImportProblem& p, std::ostream* os) {
  *os << p.table << " line " << p.line << " column " << p.column << " value \"" << p.value
      << "\": " << p.message;
}

namespace {

constexpr absl::CivilDay kAsOf(2026, 11, 26);

// A small valid practice, one string per table; tests break one thing.
struct Fixture {
  std::map<std::string, std::string> csv = vet::data::testing::SmallValidExport();

  // Writes the tables into `dir` and returns the files map.
  std::map<std::string, std::string> Write(const TempDir& dir) const {
    std::map<std::string, std::string> files;
    for (const auto& [table, content] : csv) {
      std::string path = dir.File(table + ".csv");
      WriteTextFile(path, content);
      files[table] = path;
    }
    return files;
  }
};

ImportOptions Options(int max_problems = 20) {
  ImportOptions options;
  options.as_of = kAsOf;
  options.max_problems = max_problems;
  return options;
}

ImportOutcome Validate(const Fixture& f, const ColumnMapping& mapping = {},
                       ImportOptions options = Options()) {
  TempDir dir;
  return ValidateImportDetailed(f.Write(dir), mapping, options);
}

MATCHER_P5(Problem, table, line, column, value, message_substr, "") {
  *result_listener << arg.table << " line " << arg.line << " column " << arg.column << " value \""
                   << arg.value << "\": " << arg.message;
  return arg.table == table && arg.line == line && arg.column == column && arg.value == value &&
         arg.message.find(message_substr) != std::string::npos;
}

// One problem, in `table`, after replacing `from` with `to` in its CSV.
ImportOutcome RunWith(const std::string& table, const std::string& from, const std::string& to) {
  Fixture f;
  std::string& csv = f.csv[table];
  EXPECT_NE(csv.find(from), std::string::npos) << from;
  csv = absl::StrReplaceAll(csv, {{from, to}});
  return Validate(f);
}

TEST(ImportValidatorTest, ValidFixtureLoadsTypedColumns) {
  ImportOutcome out = Validate(Fixture());
  ASSERT_THAT(out.problems, IsEmpty());
  ASSERT_EQ(out.total_problems, 0);
  ASSERT_EQ(out.result.tables.size(), 5u);
  EXPECT_EQ(out.result.tables[0].name, "clients");
  EXPECT_EQ(out.result.rows.at("invoice_lines"), 3);
  EXPECT_THAT(out.result.warnings, ElementsAre("1 refund lines with negative quantity"));

  const TypedTable& patients = out.result.tables[1];
  const TypedColumn* sex = patients.FindColumn("sex");
  ASSERT_NE(sex, nullptr);
  EXPECT_EQ(sex->dictionary[sex->codes[0]], "mn");  // lower-cased
  const TypedColumn* birth = patients.FindColumn("birth_date");
  EXPECT_EQ(birth->ints[0], absl::CivilDay(2020, 5, 6) - absl::CivilDay(1970, 1, 1));
  EXPECT_EQ(birth->valid[1], 0);

  const TypedColumn* fte = out.result.tables[2].FindColumn("fte");
  EXPECT_EQ(fte->numbers[0], 1.0);  // default
  EXPECT_EQ(fte->numbers[1], 0.5);

  const TypedColumn* booked = out.result.tables[3].FindColumn("booked_at");
  EXPECT_EQ(booked->ints[0],
            absl::CivilSecond(2026, 3, 1, 10, 0, 0) - absl::CivilSecond(1970, 1, 1, 0, 0, 0));

  const TypedTable& lines = out.result.tables[4];
  const TypedColumn* desc = lines.FindColumn("description");
  EXPECT_EQ(desc->dictionary[desc->codes[1]], "Rabies, 1 year");
  const TypedColumn* patient = lines.FindColumn("patient_id");
  EXPECT_EQ(patient->valid[2], 0);
  EXPECT_DOUBLE_EQ(lines.FindColumn("unit_cost")->numbers[1], 5.25);
  EXPECT_TRUE(std::isnan(lines.FindColumn("unit_cost")->numbers[0]));
}

TEST(ImportValidatorTest, ValidateImportReturnsResult) {
  TempDir dir;
  Fixture f;
  auto result = ValidateImport(f.Write(dir), {}, Options());
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->rows.at("clients"), 2);
}

TEST(ImportValidatorTest, ToleratesBomCrlfAndQuotedNewlines) {
  Fixture f;
  f.csv["clients"] =
      "\xEF\xBB\xBF"
      "Client_ID , First_Name,last_name,created_on,status,Loyalty\r\n"
      "C1,\"Ann, Jr\",\"Lee\nSmith\",2024-01-02,active,gold\r\n"
      "C2,Bob,Ray,2025-03-04,inactive,\r\n";
  ImportOutcome out = Validate(f);
  ASSERT_THAT(out.problems, IsEmpty());
  EXPECT_THAT(out.result.warnings, ::testing::Contains(HasSubstr("ignoring columns not in the "
                                                                 "schema: Loyalty")));
  const TypedColumn* last = out.result.tables[0].FindColumn("last_name");
  EXPECT_EQ(last->dictionary[last->codes[0]], "Lee\nSmith");
  const TypedColumn* email = out.result.tables[0].FindColumn("email");
  EXPECT_EQ(email->valid, (std::vector<uint8_t>{0, 0}));
}

TEST(ImportValidatorTest, LinesCountPhysicalLinesAcrossQuotedNewlines) {
  Fixture f;
  f.csv["clients"] =
      "client_id,first_name,last_name,created_on,status\r\n"
      "C1,Ann,\"Lee\r\nSmith\",2024-01-02,active\r\n"
      "C2,Bob,Ray,2025-03-04,gone\r\n";
  EXPECT_THAT(Validate(f).problems,
              ElementsAre(Problem("clients", 4, "status", "gone", "not one of: active, inactive")));
}

TEST(ImportValidatorTest, InvalidUtf8NamesLineAndWithholdsPersonalValue) {
  ImportOutcome out = RunWith("patients", "Collie", "Coll\xE9");
  EXPECT_THAT(out.problems, ElementsAre(Problem("patients", 2, "breed", "Coll\\xe9", "UTF-8")));
  out = RunWith("clients", "Bob", "B\xF6");
  EXPECT_THAT(out.problems, ElementsAre(Problem("clients", 3, "first_name",
                                                "(personal data withheld)", "UTF-8")));
}

TEST(ImportValidatorTest, EmptyFileIsAProblem) {
  Fixture f;
  f.csv["staff"] = "";
  EXPECT_THAT(Validate(f).problems,
              ::testing::Contains(Problem("staff", 0, "", "", "file is empty (no header)")));
}

TEST(ImportValidatorTest, HeaderOnlyTableIsAllowedWithWarning) {
  Fixture f;
  f.csv["invoice_lines"] = f.csv["invoice_lines"].substr(0, f.csv["invoice_lines"].find('\n') + 1);
  ImportOutcome out = Validate(f);
  EXPECT_THAT(out.problems, IsEmpty());
  EXPECT_EQ(out.result.rows.at("invoice_lines"), 0);
  EXPECT_THAT(out.result.warnings, ::testing::Contains("invoice_lines has no rows"));
}

TEST(ImportValidatorTest, WrongDelimiterIsNamed) {
  Fixture f;
  f.csv["staff"] = absl::StrReplaceAll(f.csv["staff"], {{",", ";"}});
  ImportOutcome out = Validate(f);
  ASSERT_EQ(out.problems.size(), 1u) << FormatImportProblems(out);
  EXPECT_EQ(out.problems[0].table, "staff");
  EXPECT_EQ(out.problems[0].line, 1);
  EXPECT_THAT(out.problems[0].message, HasSubstr("looks like it uses ';' as the delimiter"));
  f = Fixture();
  f.csv["staff"] = absl::StrReplaceAll(f.csv["staff"], {{",", "\t"}});
  EXPECT_THAT(Validate(f).problems[0].message, HasSubstr("'\\t' as the delimiter"));
}

TEST(ImportValidatorTest, MissingRequiredColumnAndDuplicateColumn) {
  ImportOutcome out = RunWith("staff", "staff_id,full_name,role", "staff_id,name,role");
  // The rows then have an extra "name" column, ignored.
  EXPECT_THAT(out.problems,
              ElementsAre(Problem("staff", 1, "full_name", "", "required column is missing")));
  out = RunWith("staff", "hired_on,fte", "hired_on,FTE ");
  EXPECT_THAT(out.problems, IsEmpty());  // case and spaces do not matter
  out = RunWith("staff", "hired_on,fte", "Role,fte");
  EXPECT_THAT(out.problems,
              ElementsAre(Problem("staff", 1, "role", "Role", "column appears twice")));
}

TEST(ImportValidatorTest, OptionalColumnsMayBeAbsent) {
  Fixture f;
  f.csv["staff"] =
      "staff_id,full_name,role\nS1,Dr Vet,veterinarian\n"
      "S2,Tech Person,technician\n";
  ImportOutcome out = Validate(f);
  ASSERT_THAT(out.problems, IsEmpty());
  const TypedColumn* hired = out.result.tables[2].FindColumn("hired_on");
  ASSERT_NE(hired, nullptr);
  EXPECT_EQ(hired->valid, (std::vector<uint8_t>{0, 0}));
  EXPECT_EQ(out.result.tables[2].FindColumn("fte")->numbers, (std::vector<double>{1.0, 1.0}));
}

// What exports of practice systems often lack (docs/PRESETS.md): a
// client's registration day, an animal's sex, a staff member's role, and
// appointments altogether. They import; the values are null.
TEST(ImportValidatorTest, CreatedOnSexRoleMayBeAbsentOrEmptyAndTablesEmpty) {
  Fixture f;
  f.csv["clients"] =
      "client_id,first_name,last_name,status\nC1,Ann,Lee,active\n"
      "C2,Bob,Ray,inactive\n";
  f.csv["patients"] =
      "patient_id,client_id,name,species,sex,status\n"
      "P1,C1,Rex,canine,,active\nP2,C2,Tom,feline,F,active\n";
  f.csv["staff"] = "staff_id,full_name\nS1,Dr Vet\nS2,Tech Person\n";
  f.csv["appointments"] =
      "appointment_id,patient_id,client_id,staff_id,starts_at,duration_min,"
      "type,status\n";
  f.csv["invoice_lines"] = absl::StrReplaceAll(f.csv["invoice_lines"], {{",A1,", ",,"}});
  ImportOutcome out = Validate(f);
  ASSERT_THAT(out.problems, IsEmpty()) << FormatImportProblems(out);
  EXPECT_EQ(out.result.rows.at("appointments"), 0);
  EXPECT_EQ(out.result.tables[0].FindColumn("created_on")->valid, (std::vector<uint8_t>{0, 0}));
  EXPECT_EQ(out.result.tables[1].FindColumn("sex")->valid, (std::vector<uint8_t>{0, 1}));
  EXPECT_EQ(out.result.tables[2].FindColumn("role")->valid, (std::vector<uint8_t>{0, 0}));
  EXPECT_THAT(out.result.warnings, ::testing::Contains("appointments has no rows"));
  // The store the sandbox loads takes the empty table and the nulls, and
  // describes the table's row count (what a planner reads to decline).
  TempDir store;
  ASSERT_THAT(WriteColumnarDataset(out.result.tables, store.File("v")), IsOk());
  absl::StatusOr<DatasetDescription> described = DescribeColumnarDataset(store.File("v"));
  ASSERT_THAT(described.status(), IsOk());
  EXPECT_EQ(described->FindTable("appointments")->row_count, 0);
  EXPECT_EQ(described->FindTable("staff")->row_count, 2);
  // A value that is there must still be one of the allowed ones.
  Fixture bad = f;
  bad.csv["patients"] = absl::StrReplaceAll(bad.csv["patients"], {{"feline,F,", "feline,x,"}});
  EXPECT_THAT(Validate(bad).problems,
              ElementsAre(Problem("patients", 3, "sex", "x", "not one of")));
}

TEST(ImportValidatorTest, IdsMustBePresentAndUnique) {
  EXPECT_THAT(RunWith("clients", "C2,Bob", "C1,Bob").problems,
              ::testing::Contains(Problem("clients", 3, "client_id", "C1", "duplicate id")));
  EXPECT_THAT(
      RunWith("clients", "C2,Bob", ",Bob").problems,
      ::testing::Contains(Problem("clients", 3, "client_id", "", "required value is empty")));
}

TEST(ImportValidatorTest, RefsMustResolve) {
  EXPECT_THAT(RunWith("appointments", "A1,P1,C1,S1", "A1,P1,C1,S9").problems,
              ElementsAre(Problem("appointments", 2, "staff_id", "S9", "no such staff id")));
  // Optional refs may be empty, required ones may not.
  EXPECT_THAT(RunWith("invoice_lines", "I1,1,2026-03-04,C1,", "I1,1,2026-03-04,,").problems,
              ElementsAre(Problem("invoice_lines", 2, "client_id", "", "required value is empty")));
}

TEST(ImportValidatorTest, AppointmentClientMustOwnThePatient) {
  EXPECT_THAT(
      RunWith("appointments", "A1,P1,C1", "A1,P1,C2").problems,
      ElementsAre(Problem("appointments", 2, "client_id", "C2", "not the owner of patient P1")));
}

TEST(ImportValidatorTest, DatesAndDateTimesMustBeIso) {
  EXPECT_THAT(
      RunWith("clients", "2024-01-02", "02/01/2024").problems,
      ElementsAre(Problem("clients", 2, "created_on", "02/01/2024", "not a date (YYYY-MM-DD)")));
  EXPECT_THAT(RunWith("clients", "2024-01-02", "2024-02-30").problems,
              ElementsAre(Problem("clients", 2, "created_on", "2024-02-30", "not a date")));
  EXPECT_THAT(
      RunWith("appointments", "2026-03-04T09:30", "2026-03-04T9:30").problems,
      ElementsAre(Problem("appointments", 2, "starts_at", "2026-03-04T9:30", "not a datetime")));
}

TEST(ImportValidatorTest, FutureDatesAreProblemsExceptScheduledVisits) {
  // One day of slack.
  EXPECT_THAT(RunWith("clients", "2024-01-02", "2026-11-27").problems, IsEmpty());
  EXPECT_THAT(RunWith("clients", "2024-01-02", "2026-11-28").problems,
              ElementsAre(Problem("clients", 2, "created_on", "2026-11-28",
                                  "after the as-of date 2026-11-26")));
  // A2 is scheduled in December: fine; completed in the future is not.
  EXPECT_THAT(
      RunWith("appointments", "sick,scheduled", "sick,completed").problems,
      ElementsAre(
          Problem("appointments", 3, "starts_at", "2026-12-20T10:00", "after the as-of date"),
          Problem("appointments", 3, "booked_at", "2026-12-01T08:00", "after the as-of date")));
}

TEST(ImportValidatorTest, NumbersAndEnums) {
  EXPECT_THAT(
      RunWith("appointments", ",30,", ",thirty,").problems,
      ElementsAre(Problem("appointments", 2, "duration_min", "thirty", "not a whole number")));
  EXPECT_THAT(RunWith("appointments", ",30,", ",0,").problems,
              ElementsAre(Problem("appointments", 2, "duration_min", "0", "must be > 0")));
  EXPECT_THAT(
      RunWith("invoice_lines", ",2,20.5,1,", ",2,\"20,5\",1,").problems,
      ::testing::Contains(Problem("invoice_lines", 3, "unit_price", "20,5", "decimal separator")));
  EXPECT_THAT(RunWith("staff", ",0.5", ",1.6").problems,
              ElementsAre(Problem("staff", 3, "fte", "1.6", "fte must be")));
  EXPECT_THAT(RunWith("staff", ",0.5", ",0").problems,
              ElementsAre(Problem("staff", 3, "fte", "0", "fte must be")));
  EXPECT_THAT(
      RunWith("clients", "inactive", "Inactive").problems,
      ElementsAre(Problem("clients", 3, "status", "Inactive", "not one of: active, inactive")));
  EXPECT_THAT(RunWith("patients", "canine", "dog").problems,
              ElementsAre(Problem("patients", 2, "species", "dog", "not one of")));
}

TEST(ImportValidatorTest, InvoiceLineArithmetic) {
  EXPECT_THAT(RunWith("invoice_lines", ",1,50.00,0,50.00,", ",1,50.00,0,50.02,").problems,
              ElementsAre(Problem("invoice_lines", 2, "amount", "50.02",
                                  "quantity * unit_price - discount (50)")));
  // Rounding to the cent is fine.
  EXPECT_THAT(RunWith("invoice_lines", ",1,50.00,0,50.00,", ",0.333,10.00,0,3.33,").problems,
              IsEmpty());
  EXPECT_THAT(RunWith("invoice_lines", ",1,50.00,0,50.00,", ",1,50.00,-1,51.00,").problems,
              ElementsAre(Problem("invoice_lines", 2, "discount", "-1", "discount must be >= 0")));
  EXPECT_THAT(RunWith("invoice_lines", "I1,2,", "I1,1,").problems,
              ElementsAre(Problem("invoice_lines", 3, "line_no", "1",
                                  "line_no appears twice in invoice I1")));
  // The same line number in another invoice is fine, even a huge one.
  EXPECT_THAT(RunWith("invoice_lines", "I2,1,", "I2,2,").problems, IsEmpty());
  EXPECT_THAT(RunWith("invoice_lines", "I1,2,", "I1,-9999999999,").problems, IsEmpty());
}

TEST(ImportValidatorTest, WrongFieldCountAndMalformedCsv) {
  EXPECT_THAT(RunWith("clients", "C2,Bob,Ray,,,,", "C2,Bob,Ray,,,").problems,
              ElementsAre(Problem("clients", 3, "", "", "record has 7 fields, the header has 8")));
  // The rest of the file is lost, so patient P2's owner is unknown too.
  ImportOutcome out = RunWith("clients", "C2,Bob", "C2,\"Bob");
  ASSERT_GE(out.problems.size(), 1u);
  EXPECT_EQ(out.problems[0].table, "clients");
  EXPECT_EQ(out.problems[0].line, 3);
}

TEST(ImportValidatorTest, RecordOfAMillionCommasIsRefusedAtOnceNamingFileLineAndCount) {
  Fixture f;
  // Line 4: a million empty fields; line 5 would be fine but is not read.
  f.csv["clients"] += std::string(1000000, ',') + "\nC3,Cy,Fox,,,,2025-01-01,active\n";
  TempDir dir;
  const std::map<std::string, std::string> files = f.Write(dir);
  ImportOutcome out = ValidateImportDetailed(files, {}, Options());
  ASSERT_FALSE(out.problems.empty());
  // clients has 8 columns and may have 64 more.
  EXPECT_THAT(out.problems[0],
              Problem("clients", 4, "", "", "clients.csv:4: record has more than 72 fields"));
  EXPECT_THAT(out.problems[0].message, HasSubstr("refused at field 73"));
  EXPECT_EQ(out.result.rows.at("clients"), 2);
  EXPECT_THAT(ValidateImport(files, {}, Options()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("clients line 4: " + files.at("clients") +
                                 ":4: record has more than 72 fields")));
}

TEST(ImportValidatorTest, HeaderWithTooManyFieldsIsRefusedAtLineOne) {
  Fixture f;
  f.csv["staff"] = "staff_id" + std::string(100000, ',') + "\nS1\n";
  ImportOutcome out = Validate(f);
  ASSERT_FALSE(out.problems.empty());
  EXPECT_THAT(out.problems[0], Problem("staff", 1, "", "", "record has more than 69 fields"));
}

TEST(ImportValidatorTest, ExtraFieldsUnderTheCapAreARowProblemAndReadingGoesOn) {
  Fixture f;
  f.csv["clients"] += "C3,Cy,Fox,,,,2025-01-01,active,extra\nC4,Di,Ox,,,,2025-01-01,nope\n";
  EXPECT_THAT(Validate(f).problems,
              ElementsAre(Problem("clients", 4, "", "", "record has 9 fields, the header has 8"),
                          Problem("clients", 5, "status", "nope", "not one of")));
}

TEST(ImportValidatorTest, ExtraColumnsWarningNamesTenAndCountsTheRest) {
  Fixture f;
  std::string& staff = f.csv["staff"];
  std::string header = "staff_id,full_name,role,hired_on,fte";
  std::string row = "S1,Dr Vet,veterinarian,2019-01-01,";
  for (int i = 0; i < 30; ++i) {
    absl::StrAppend(&header, ",extra", i);
    row += ",";
  }
  staff = header + "\n" + row + "\n";
  ImportOutcome out = Validate(f);
  bool found = false;
  for (const std::string& w : out.result.warnings) {
    if (w.rfind("staff: ignoring columns", 0) != 0) continue;
    found = true;
    EXPECT_THAT(w, AllOf(HasSubstr("extra0, extra1"), HasSubstr("extra9 and 20 more"),
                         Not(HasSubstr("extra10"))));
  }
  EXPECT_TRUE(found);
}

TEST(ImportValidatorTest, LongQuotedFieldWithLineBreaksLoadsAndLaterLinesAreRight) {
  Fixture f;
  std::string text;
  for (int i = 0; i < 100000; ++i) text += "dose, \"\"twice\"\" a day\n";
  std::string& lines = f.csv["invoice_lines"];
  lines = absl::StrReplaceAll(lines, {{"Diet food", "\"" + text + "\""}});
  lines += "I2,2,2026-03-05,C2,,,,FOOD,x,diet,1,30,0,31,\n";  // wrong amount
  ImportOutcome out = Validate(f);
  // Lines 2 and 3, then a record from line 4 to 100004: the new row is on
  // line 100005.
  EXPECT_THAT(out.problems,
              ElementsAre(Problem("invoice_lines", 100005, "amount", "31", "amount must be")));
  const TypedColumn* description = out.result.tables[4].FindColumn("description");
  ASSERT_NE(description, nullptr);
  EXPECT_EQ(description->dictionary[description->codes[2]].size(), 100000u * 20);
}

TEST(ImportValidatorTest, QuotedFieldPastTheRecordLimitIsRefusedWhereItStarts) {
  Fixture f;
  // 17 MiB in one field, past the reader's 16 MiB; the file ends inside it.
  f.csv["clients"] += "C3,\"" + std::string(17 << 20, 'a') + "\n";
  ImportOutcome out = Validate(f);
  ASSERT_FALSE(out.problems.empty());
  EXPECT_THAT(out.problems[0],
              Problem("clients", 4, "", "", "clients.csv:4: record longer than 16777216 bytes"));
}

TEST(ImportValidatorTest, ManyRowsOfTheWrongShapeKeepTheProblemListBounded) {
  Fixture f;
  std::string& csv = f.csv["clients"];
  for (int i = 0; i < 100000; ++i) csv += "x\n";
  TempDir dir;
  const std::map<std::string, std::string> files = f.Write(dir);
  ImportOutcome out = ValidateImportDetailed(files, {}, Options());
  EXPECT_EQ(out.total_problems, 100000);
  ASSERT_EQ(out.problems.size(), 20u);
  EXPECT_THAT(out.problems[19],
              Problem("clients", 23, "", "", "record has 1 fields, the header has 8"));
  EXPECT_FALSE(out.memory_limit_reached);
  // Malformed records are not stored, only their ids ("x", once): what the
  // import holds is the reader's reservation (64 KiB + 2 x 16 MiB) and the
  // fixture's rows.
  EXPECT_EQ(out.result.rows.at("clients"), 2);
  EXPECT_LT(out.peak_memory_bytes, int64_t{33} << 20);
  absl::StatusOr<ImportResult> result = ValidateImport(files, {}, Options());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()),
              AllOf(HasSubstr("import refused: 100000 problems"),
                    HasSubstr("\n... and 99980 more problems")));
  EXPECT_LT(result.status().message().size(), 4096u);
}

TEST(ImportValidatorTest, MalformedRecordsWithDistinctIdsCostNothingOnceTheListIsFull) {
  Fixture f;
  for (int i = 0; i < 200000; ++i) absl::StrAppend(&f.csv["clients"], "x", i, "\n");
  // Refers to x3, noted while the list was not full, and to x100000, not
  // noted: only the second is a problem.
  f.csv["patients"] += "P3,x3,Rex,canine,,m,,active\nP4,x100000,Rex,canine,,m,,active\n";
  ImportOutcome out = Validate(f);
  EXPECT_EQ(out.total_problems, 200001);
  EXPECT_LT(out.peak_memory_bytes, int64_t{33} << 20);
  // C1, C2 and the ids of the first 19 malformed records (the 20th fills
  // the list).
  EXPECT_EQ(out.result.tables[0].FindColumn("client_id")->dictionary.size(), 2u + 19u);
}

TEST(ImportValidatorTest, ImportPastTheMemoryLimitStopsWithResourceExhausted) {
  Fixture f;
  std::string& csv = f.csv["clients"];
  // 20000 distinct 100-character names: each held twice, about 5 MiB.
  for (int i = 0; i < 20000; ++i) {
    absl::StrAppend(&csv, "D", i, ",", std::string(92, 'n'), absl::Dec(i, absl::kZeroPad8),
                    ",Lee,,,,2024-01-02,active\n");
  }
  ImportOptions options = Options();
  // The reader's reservation (64 KiB + 2 x 16 MiB) and 1 MiB more.
  options.max_memory_bytes = (int64_t{33} << 20) + (64 << 10);
  TempDir dir;
  const std::map<std::string, std::string> files = f.Write(dir);
  ImportOutcome out = ValidateImportDetailed(files, {}, options);
  EXPECT_TRUE(out.memory_limit_reached);
  EXPECT_LE(out.peak_memory_bytes, options.max_memory_bytes);
  ASSERT_EQ(out.problems.size(), 1u);
  EXPECT_EQ(out.problems[0].table, "clients");
  EXPECT_GT(out.problems[0].line, 4);
  EXPECT_LT(out.problems[0].line, 20003);
  EXPECT_THAT(out.problems[0].message,
              HasSubstr("needs more than the 33 MiB of memory the server allows one import"));
  EXPECT_EQ(out.result.tables.size(), 1u) << "the tables after clients are not read";
  EXPECT_THAT(ValidateImport(files, {}, options),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("import refused: 1 problem\nclients line ")));
}

TEST(ImportValidatorTest, MissingTableFileAndUnknownTable) {
  Fixture f;
  TempDir dir;
  std::map<std::string, std::string> files = f.Write(dir);
  files.erase("staff");
  files["vaccines"] = dir.File("clients.csv");
  ImportOutcome out = ValidateImportDetailed(files, {}, Options());
  EXPECT_THAT(out.problems,
              ElementsAre(Problem("vaccines", 0, "", "", "not a table"),
                          Problem("staff", 0, "", "", "no file given for table staff")));
  files = f.Write(dir);
  files["staff"] = dir.File("nope.csv");
  out = ValidateImportDetailed(files, {}, Options());
  EXPECT_THAT(out.problems, ElementsAre(Problem("staff", 0, "", "", "file not found")));
}

TEST(ImportValidatorTest, MessageListsAtMostMaxProblemsAndCountsTheRest) {
  Fixture f;
  std::string& csv = f.csv["clients"];
  for (int i = 0; i < 30; ++i) {
    absl::StrAppend(&csv, "X", i, ",A,B,,,,2024-13-01,active\n");
  }
  TempDir dir;
  ImportOutcome out = ValidateImportDetailed(f.Write(dir), {}, Options());
  EXPECT_EQ(out.total_problems, 30);
  ASSERT_EQ(out.problems.size(), 20u);
  EXPECT_THAT(out.problems[0], Problem("clients", 4, "created_on", "2024-13-01", "not a date"));
  absl::StatusOr<ImportResult> result = ValidateImport(f.Write(dir), {}, Options());
  EXPECT_THAT(result,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("import refused: 30 problems"),
                             HasSubstr("\nclients line 4, column "
                                       "created_on, value "
                                       "\"2024-13-01\": not a date"),
                             HasSubstr("\n... and 10 more problems"), Not(HasSubstr("line 24,")))));
}

TEST(ImportValidatorTest, LongValuesAreTruncated) {
  std::string long_id(100, 'x');
  ImportOutcome out = RunWith("appointments", "A1,P1,C1,S1", "A1,P1,C1," + long_id);
  ASSERT_EQ(out.problems.size(), 1u);
  EXPECT_EQ(out.problems[0].value, std::string(60, 'x') + "...");
}

TEST(ImportValidatorTest, MappingRenamesColumnsAndParsesDateFormats) {
  absl::StatusOr<ColumnMapping> mapping = ParseColumnMapping(R"({
    "tables": {
      "clients": {
        "columns": {"Client ID": "client_id", "Registered": "created_on"},
        "formats": {"created_on": "%d/%m/%Y"}
      },
      "appointments": {"formats": {"starts_at": "%m/%d/%Y %H:%M"}}
    }})");
  ASSERT_THAT(mapping, IsOk());
  Fixture f;
  f.csv["clients"] =
      "client id,first_name,last_name,registered,status\n"
      "C1,Ann,Lee,02/01/2024,active\nC2,Bob,Ray,31/12/2025,inactive\n";
  f.csv["appointments"] = absl::StrReplaceAll(
      f.csv["appointments"],
      {{"2026-03-04T09:30", "03/04/2026 09:30"}, {"2026-12-20T10:00", "12/20/2026 10:00"}});
  ImportOutcome out = Validate(f, *mapping);
  ASSERT_THAT(out.problems, IsEmpty()) << FormatImportProblems(out);
  const TypedColumn* created = out.result.tables[0].FindColumn("created_on");
  EXPECT_EQ(created->ints[0], absl::CivilDay(2024, 1, 2) - absl::CivilDay(1970, 1, 1));
  const TypedColumn* starts = out.result.tables[3].FindColumn("starts_at");
  EXPECT_EQ(starts->ints[0],
            absl::CivilSecond(2026, 3, 4, 9, 30, 0) - absl::CivilSecond(1970, 1, 1, 0, 0, 0));

  f.csv["clients"] += "C3,Cy,Do,2024-01-02,active\n";
  EXPECT_THAT(
      Validate(f, *mapping).problems,
      ElementsAre(Problem("clients", 4, "created_on", "2024-01-02", "mapping's format %d/%m/%Y")));
}

TEST(ImportValidatorTest, AMappingNamingAColumnTheExportLacksIsRefusedNamingIt) {
  absl::StatusOr<ColumnMapping> mapping = ParseColumnMapping(R"({
    "tables": {"clients": {"columns": {"Client Ref": "client_id", "Joined": "created_on"}}}})");
  ASSERT_THAT(mapping, IsOk());
  Fixture f;
  // "Joined" is there; "Client Ref" is not (the export calls it client_id).
  f.csv["clients"] =
      "client_id,first_name,last_name,joined,status\n"
      "C1,Ann,Lee,2024-01-02,active\nC2,Bob,Ray,2025-12-31,inactive\n";
  ImportOutcome out = Validate(f, *mapping);
  EXPECT_THAT(out.problems, ElementsAre(Problem("clients", 1, "client_id", "Client Ref",
                                                "the export has no column of that name")));
  TempDir dir;
  EXPECT_THAT(ValidateImport(f.Write(dir), *mapping, Options()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Client Ref")));
}

TEST(ImportValidatorTest, MalformedMappingsNameThePath) {
  EXPECT_THAT(ParseColumnMapping("{\"tables\": "),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("malformed JSON")));
  EXPECT_THAT(
      ParseColumnMapping(R"({"tables": {"pets": {}}})"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("$.tables.pets: unknown table")));
  EXPECT_THAT(ParseColumnMapping(R"({"tables": {"clients": {"columns": {"Zip": "zip_code"}}}})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("$.tables.clients.columns.Zip: unknown column "
                                 "zip_code")));
  EXPECT_THAT(ParseColumnMapping(R"({"tables": {"clients": {"columns": {"Id": 3}}}})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("$.tables.clients.columns.Id: expected a string")));
  EXPECT_THAT(
      ParseColumnMapping(R"({"tables": {"clients": {"formats": {"status": "%Y"}}}})"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a date or datetime column")));
  EXPECT_THAT(ParseColumnMapping(R"({"table": {}})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("$.table: unknown key")));
}

TEST(ImportValidatorTest, DemoDatasetValidatesAndMatchesDescription) {
  TempDir dir;
  DemoOptions demo;
  demo.end_day = kAsOf;
  demo.invoice_lines = 3000;
  ASSERT_THAT(WriteDemoDataset(demo, dir.path()), IsOk());
  std::map<std::string, std::string> files;
  for (const char* t : {"clients", "patients", "staff", "appointments", "invoice_lines"}) {
    files[t] = dir.File(std::string(t) + ".csv");
  }
  ImportOutcome out = ValidateImportDetailed(files, {}, Options());
  ASSERT_EQ(out.total_problems, 0) << FormatImportProblems(out);
  EXPECT_FALSE(out.memory_limit_reached);
  EXPECT_GT(out.peak_memory_bytes, 0);
  absl::StatusOr<DatasetDescription> description = DescribeDataset(dir.path());
  ASSERT_THAT(description, IsOk());
  for (const TableDescription& t : description->tables) {
    EXPECT_EQ(out.result.rows.at(t.name), t.row_count) << t.name;
  }
}

// Not a benchmark gate, a measurement printed for the record.
TEST(ImportValidatorTest, DemoInvoiceLinesSpeed) {
  TempDir dir;
  DemoOptions demo;
  demo.end_day = kAsOf;
  demo.invoice_lines = 200000;
  ASSERT_THAT(WriteDemoDataset(demo, dir.path()), IsOk());
  std::map<std::string, std::string> files;
  for (const char* t : {"clients", "patients", "staff", "appointments", "invoice_lines"}) {
    files[t] = dir.File(std::string(t) + ".csv");
  }
  // CPU time, not wall time: the build machine's cores are shared.
  auto cpu_seconds = [] {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
  };
  double start = cpu_seconds();
  ImportOutcome out = ValidateImportDetailed(files, {}, Options());
  double seconds = cpu_seconds() - start;
  ASSERT_EQ(out.total_problems, 0) << FormatImportProblems(out);
  int64_t total = 0;
  for (const auto& [t, n] : out.result.rows) total += n;
  std::cout << "validated " << total << " rows (" << out.result.rows.at("invoice_lines")
            << " invoice lines) in " << seconds
            << " s of CPU: " << static_cast<int64_t>(total / seconds) << " rows/s\n";
}

}  // namespace
}  // namespace vet::data
