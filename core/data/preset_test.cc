// Tests of import presets: the parser's errors name the JSON path; the
// built-in presets convert small hand-written vendor exports (BOM, CRLF,
// alternative and wildcard headers, dd/mm/yyyy dates, extra columns, files
// nobody recognises) into CSVs the import's validation accepts; bad inputs
// are refused naming file, line and column.
#include "core/data/preset.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "core/data/import_validator.h"
#include "core/data/testing/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::data {
namespace internal {
absl::string_view EzyvetPresetJson();
}  // namespace internal

namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::vet::data::testing::CsvTable;
using ::vet::data::testing::ReadCsvTable;
using ::vet::data::testing::TempDir;
using ::vet::data::testing::WriteTextFile;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

constexpr char kBom[] = "\xEF\xBB\xBF";

// An ezyVet Invoice Lines Report: BOM, CRLF, "Pet Name" for "Patient Name",
// a euro discount column, day-first dates (15/02 rules out month-first),
// money with currency symbols and thousands separators, a walk-in sale and
// a column ezyVet does not have.
std::string EzyvetReport() {
  return absl::StrCat(kBom,
                      "Invoice #,Invoice Date,Invoice Line ID,Client Contact Code,First Name,"
                      "Last Name,Email,Animal Code,Pet Name,Species,Breed,Staff Member ID,"
                      "Staff Member,Product Code,Product Name,Product Group,Qty,"
                      "Standard Price(incl),Discount(\xE2\x82\xAC),Total Invoiced (excl),"
                      "Total Invoiced (incl),Product Cost,Department,Branch Notes\r\n"
                      "INV1,03/02/2026,L1,C100,Ann,Lee,ann@example.nz,A1,Rex,Dog,Collie,S1,"
                      "Dr Jane Smith,CONS,Consultation,Consultations,1,86.25,0.00,75.00,"
                      "86.25,10.00,Main,x\r\n"
                      "INV1,03/02/2026,L2,C100,Ann,Lee,,A1,Rex,Dog,Collie,S2,Nurse Bob,VAC,"
                      "\"Vaccine, C5\",Vaccinations,2,46.00,5.00,75.00,86.25,12.50,Main,\r\n"
                      "INV2,15/02/2026,L3,C200,Bo,Ng,bo@example.nz,A2,Tom,Feline,DSH,S1,"
                      "Dr Jane Smith,FOOD,Hills c/d 2kg,Food & Diets,1,\xE2\x82\xAC"
                      "57.50,0,"
                      "\xE2\x82\xAC"
                      "50.00,57.50,30,Main,\r\n"
                      "INV3,20/01/2026,L4,C100,Ann,Lee,ann@example.nz,,,,,,,TOY,Ball,"
                      "Retail Toys,3,5.75,,15.00,17.25,2,Main,\r\n"
                      "INV4,21/01/2026,L5,C300,Cy,Oh,,A3,Spike,Hedgehog,,S1,Dr Jane Smith,"
                      "SURG,Lump removal,Surgery - Soft Tissue,1,1322.50,0,\"1,150.00\","
                      "\"1,322.50\",200,Main,\r\n"
                      ",,,,,,,,,,,,,,,,,,,,,,,\r\n");
}

struct Converted {
  absl::StatusOr<PresetReport> report;
  std::map<std::string, CsvTable> tables;
  ImportOutcome validated;
};

// Converts the files with the built-in preset and validates the output as
// the server would.
Converted Convert(const std::string& preset_name, const std::map<std::string, std::string>& files) {
  TempDir in;
  TempDir out;
  for (const auto& [name, content] : files) WriteTextFile(in.File(name), content);
  Converted c;
  absl::StatusOr<Preset> preset = LoadPreset(preset_name);
  if (!preset.ok()) {
    c.report = preset.status();
    return c;
  }
  c.report = ConvertWithPreset(*preset, in.path(), out.path());
  if (!c.report.ok()) return c;
  std::map<std::string, std::string> paths;
  for (const TableSpec& t : CanonicalSchema()) {
    paths[t.name] = out.File(t.name + ".csv");
    absl::StatusOr<CsvTable> table = ReadCsvTable(paths[t.name]);
    EXPECT_THAT(table.status(), IsOk());
    if (table.ok()) c.tables[t.name] = *table;
  }
  ImportOptions options;
  options.as_of = absl::CivilDay(2026, 11, 26);
  c.validated = ValidateImportDetailed(paths, ColumnMapping(), options);
  return c;
}

// The rows of a converted table as maps column -> value.
std::vector<std::map<std::string, std::string>> Rows(const CsvTable& table) {
  std::vector<std::map<std::string, std::string>> rows;
  for (const auto& row : table.rows) {
    std::map<std::string, std::string> r;
    for (size_t i = 0; i < table.header.size(); ++i) r[table.header[i]] = row[i];
    rows.push_back(r);
  }
  return rows;
}

auto Note(const std::string& table, const std::string& column, const std::string& substr) {
  return AllOf(Field(&PresetReport::ColumnNote::table, table),
               Field(&PresetReport::ColumnNote::column, column),
               Field(&PresetReport::ColumnNote::note, HasSubstr(substr)));
}

// --- patterns and the parser ---------------------------------------------

TEST(PresetPatternTest, MatchesIgnoringCaseAndSpacesWithWildcards) {
  EXPECT_TRUE(MatchesPresetPattern("Discount(*)", "Discount($)"));
  EXPECT_TRUE(MatchesPresetPattern("Discount(*)", " discount(\xE2\x82\xAC) "));
  EXPECT_TRUE(MatchesPresetPattern("Discount(*)", "Discount(NZ$)"));
  EXPECT_FALSE(MatchesPresetPattern("Discount(*)", "Discount"));
  EXPECT_FALSE(MatchesPresetPattern("Discount(*)", "Discount($) total"));
  EXPECT_TRUE(MatchesPresetPattern("Invoice #", "INVOICE #"));
  EXPECT_FALSE(MatchesPresetPattern("Qty", "Qty2"));
  EXPECT_TRUE(MatchesPresetPattern("*vacc*", "Puppy vaccination"));
  EXPECT_TRUE(MatchesPresetPattern("*", ""));
}

TEST(PresetParserTest, BuiltInPresetsLoadAndUnknownNamesListThem) {
  EXPECT_THAT(BuiltinPresetNames(), ElementsAre("covetrus", "ezyvet"));
  for (const std::string& name : BuiltinPresetNames()) {
    absl::StatusOr<Preset> preset = LoadPreset(name);
    ASSERT_THAT(preset.status(), IsOk()) << name;
    EXPECT_EQ(preset->name, name);
    EXPECT_EQ(preset->tables.size(), CanonicalSchema().size());
  }
  absl::StatusOr<Preset> unknown = LoadPreset("vetspire");
  EXPECT_THAT(unknown.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(unknown.status().message()),
              AllOf(HasSubstr("unknown preset \"vetspire\""), HasSubstr("covetrus, ezyvet")));
}

TEST(PresetParserTest, APresetFileIsLoadedByPathAndItsErrorsNameIt) {
  TempDir dir;
  WriteTextFile(dir.File("mine.json"), internal::EzyvetPresetJson());
  EXPECT_THAT(LoadPreset(dir.File("mine.json")).status(), IsOk());
  WriteTextFile(dir.File("bad.json"), "{\"name\": ");
  absl::StatusOr<Preset> bad = LoadPreset(dir.File("bad.json"));
  EXPECT_THAT(std::string(bad.status().message()),
              AllOf(HasSubstr(dir.File("bad.json")), HasSubstr("$: malformed")));
  EXPECT_THAT(std::string(LoadPreset(dir.File("none.json")).status().message()),
              HasSubstr("cannot read"));
}

// Each edit of the ezyVet preset, and the JSON path its error names.
TEST(PresetParserTest, MalformedPresetsNameTheJsonPath) {
  const std::string good(internal::EzyvetPresetJson());
  struct Case {
    std::string from, to, message;
  } cases[] = {
      {"\"one_row_per\": \"client\"", "\"one_row_per\": 5",
       "$.tables.clients.one_row_per: expected a string"},
      {"\"dog\": \"canine\"", "\"dog\": \"kanine\"",
       "$.tables.patients.columns.species.map.dog: \"kanine\" is not one of"},
      {"\"name\": {\"column\": \"animal_name\"},", "",
       "$.tables.patients.columns: missing \"name\""},
      {"{\"min\": \"invoice_date\"", "{\"min\": \"invoice_day\"",
       "$.tables.clients.columns.created_on.min: source "
       "\"invoice_lines_report\" has no column \"invoice_day\""},
      {"\"from\": \"invoice_lines_report\",\n      \"one_row_per\": \"staff\"",
       "\"form\": \"invoice_lines_report\"", "$.tables.staff.form: unknown key"},
      {"\"sex\": \"not in", "\"species\": \"not in",
       "$.tables.patients.unfilled.species: a required column"},
      {"\"none\": \"the Invoice Lines Report has no appointments", "\"nothing\": \"",
       "$.tables.appointments.nothing: unknown key"},
      {"\"sequence_within\": \"invoice\"", "\"min\": \"invoice_date\"",
       "$.tables.invoice_lines.columns.line_no.min: needs the table's "
       "\"one_row_per\""},
      {"\"Invoice #\"", "[]", "$.sources.invoice_lines_report.columns.invoice: must not be empty"},
      {"\"if_empty\": \"0\"", "\"if_empty\": \"0\", \"formats\": [\"%d\"]",
       "$.tables.invoice_lines.columns.discount.formats: formats are for date"},
  };
  for (const Case& c : cases) {
    ASSERT_NE(good.find(c.from), std::string::npos) << c.from;
    absl::StatusOr<Preset> preset = ParsePreset(absl::StrReplaceAll(good, {{c.from, c.to}}));
    EXPECT_THAT(preset.status(), StatusIs(absl::StatusCode::kInvalidArgument)) << c.from;
    EXPECT_THAT(std::string(preset.status().message()), HasSubstr(c.message));
  }
  EXPECT_THAT(std::string(ParsePreset("{not json").status().message()),
              HasSubstr("preset: $: malformed JSON at offset 1"));
  EXPECT_THAT(std::string(ParsePreset("[]").status().message()),
              HasSubstr("$: expected an object"));
}

TEST(PresetParserTest, EveryPartOfTheFileIsCheckedAndNamedByItsPath) {
  // What a person writing a preset gets wrong, each named where it is.
  const std::string good(internal::EzyvetPresetJson());
  struct Case {
    std::string from, to, message;
  } cases[] = {
      {"\"name\": \"ezyvet\",", "\"nmae\": \"ezyvet\",",
       "$.nmae: unknown key (name, description, date_formats"},
      {"\"name\": \"ezyvet\",", "", "$: missing \"name\""},
      {"\"name\": \"ezyvet\",", "\"name\": \"ezyvet\", \"tables\": 5,",
       "$.tables: expected an object"},
      {"\"date_formats\": [", "\"date_formats\": [5, ", "$.date_formats[0]: expected a string"},
      {"\"date_formats\": [\"%d/%m/%Y\",", "\"date_formats\": \"%d/%m/%Y\", \"x\": [",
       "$.date_formats: expected an array of strings"},
      {"\"date_formats\": [\"%d/%m/%Y\",", "\"date_formats\": [\" \",",
       "$.date_formats: holds an empty string"},
      {"\"sources\": {\n    \"invoice_lines_report\": {",
       "\"sources\": {}, \"x\": {\n    \"invoice_lines_report\": {",
       "$.sources: expected an object naming at least one source"},
      {"\"invoice_lines_report\": {\n      \"description\"",
       "\"invoice_lines_report\": 5, \"x\": {\n      \"description\"",
       "$.sources.invoice_lines_report: expected an object"},
      {"\"description\": \"ezyVet's Invoice Lines Report\",",
       "\"description\": \"ezyVet's Invoice Lines Report\", \"optional\": \"yes\",",
       "$.sources.invoice_lines_report.optional: expected true or false"},
      {"\"description\": \"ezyVet's Invoice Lines Report\",",
       "\"description\": \"ezyVet's Invoice Lines Report\", \"columns\": {},",
       "$.sources.invoice_lines_report.columns: expected an object naming columns"},
      {"\"description\": \"ezyVet's Invoice Lines Report\",",
       "\"description\": \"ezyVet's Invoice Lines Report\", \"colums\": 1,",
       "$.sources.invoice_lines_report.colums: unknown key (description, columns"},
      {"\"optional_columns\": [\"line_id\",", "\"optional_columns\": [\"line_idd\",",
       "$.sources.invoice_lines_report.optional_columns: \"line_idd\" is not in columns"},
      {"\"animal_name\": [\"Patient Name\",", "\"animal_name\": [5,",
       "$.sources.invoice_lines_report.columns.animal_name[0]: expected a string"},
      {"\"tables\": {\n    \"clients\": {",
       "\"tables\": {\n    \"client\": {},\n    \"clients\": {",
       "$.tables.client: unknown table (clients, patients, staff, appointments, invoice_lines)"},
  };
  for (const Case& c : cases) {
    ASSERT_NE(good.find(c.from), std::string::npos) << c.from;
    absl::StatusOr<Preset> preset = ParsePreset(absl::StrReplaceAll(good, {{c.from, c.to}}));
    EXPECT_THAT(preset.status(), StatusIs(absl::StatusCode::kInvalidArgument)) << c.to;
    EXPECT_THAT(std::string(preset.status().message()), HasSubstr(c.message)) << c.to;
  }
  // A source whose every column is optional would recognise any file.
  const std::string only_optional = R"({"name": "p", "sources": {"s": {"columns": {"a": "A"},
      "optional_columns": ["a"]}}, "tables": {}})";
  EXPECT_THAT(std::string(ParsePreset(only_optional).status().message()),
              HasSubstr("$.sources.s: every column is optional"));
  const std::string no_columns = R"({"name": "p", "sources": {"s": {"description": "d"}},
      "tables": {}})";
  EXPECT_THAT(std::string(ParsePreset(no_columns).status().message()),
              HasSubstr("$.sources.s: missing \"columns\""));
  const std::string no_tables = R"({"name": "p", "sources": {"s": {"columns": {"a": "A"}}}})";
  EXPECT_THAT(std::string(ParsePreset(no_tables).status().message()),
              HasSubstr("$: missing \"tables\""));
  const std::string missing_table =
      R"({"name": "p", "sources": {"s": {"columns": {"a": "A"}}}, "tables": {}})";
  EXPECT_THAT(std::string(ParsePreset(missing_table).status().message()),
              HasSubstr("$.tables: missing table \"clients\""));
}

// --- ezyVet ---------------------------------------------------------------

TEST(EzyvetPresetTest, DerivesClientsPatientsStaffAndLinesThatValidate) {
  Converted c = Convert("ezyvet", {{"Invoice Lines Report 2026.csv", EzyvetReport()},
                                   {"notes.txt", "remember to export weekly\n"}});
  ASSERT_THAT(c.report.status(), IsOk());
  EXPECT_THAT(c.validated.problems, IsEmpty()) << FormatImportProblems(c.validated);

  const PresetReport& report = *c.report;
  ASSERT_EQ(report.recognised.size(), 1u);
  EXPECT_THAT(report.recognised[0].path, HasSubstr("Invoice Lines Report 2026.csv"));
  EXPECT_EQ(report.recognised[0].source, "invoice_lines_report");
  EXPECT_EQ(report.recognised[0].rows, 5);
  ASSERT_EQ(report.ignored.size(), 1u);
  EXPECT_THAT(report.ignored[0].path, HasSubstr("notes.txt"));
  EXPECT_EQ(report.rows, (std::vector<std::pair<std::string, int64_t>>{{"clients", 3},
                                                                       {"patients", 3},
                                                                       {"staff", 2},
                                                                       {"appointments", 0},
                                                                       {"invoice_lines", 5}}));
  EXPECT_THAT(report.unfilled, Contains(Note("patients", "sex", "not in")));
  EXPECT_THAT(report.unfilled, Contains(Note("staff", "role", "not in")));
  EXPECT_THAT(report.unfilled, Contains(Note("appointments", "", "no appointments")));
  EXPECT_THAT(report.unfilled, Contains(Note("clients", "phone", "not in")));
  EXPECT_THAT(report.assumed, Contains(Note("clients", "status", "active")));
  EXPECT_THAT(report.assumed, Contains(Note("staff", "fte", "full time")));
  EXPECT_THAT(report.assumed, Contains(Note("clients", "created_on", "first invoice")));
  EXPECT_THAT(report.notes,
              Contains(Note("invoice_lines_report", "Invoice Date", "dates read as %d/%m/%Y")));
  EXPECT_THAT(report.notes, Contains(Note("patients", "species",
                                          "1 value of \"Species\" not in the "
                                          "preset's map taken as \"other\"")));

  auto clients = Rows(c.tables["clients"]);
  ASSERT_EQ(clients.size(), 3u);
  EXPECT_EQ(clients[0]["client_id"], "C100");
  EXPECT_EQ(clients[0]["email"], "ann@example.nz");
  EXPECT_EQ(clients[0]["created_on"], "2026-01-20");  // the earliest invoice
  EXPECT_EQ(clients[0]["status"], "active");
  EXPECT_EQ(clients[1]["created_on"], "2026-02-15");

  auto patients = Rows(c.tables["patients"]);
  ASSERT_EQ(patients.size(), 3u);
  EXPECT_EQ(patients[0]["name"], "Rex");  // from "Pet Name"
  EXPECT_EQ(patients[0]["species"], "canine");
  EXPECT_EQ(patients[1]["species"], "feline");
  EXPECT_EQ(patients[2]["species"], "other");
  EXPECT_EQ(patients[2]["sex"], "");

  auto staff = Rows(c.tables["staff"]);
  ASSERT_EQ(staff.size(), 2u);
  EXPECT_EQ(staff[1]["full_name"], "Nurse Bob");
  EXPECT_EQ(staff[1]["role"], "");

  auto lines = Rows(c.tables["invoice_lines"]);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0]["invoiced_on"], "2026-02-03");
  EXPECT_EQ(lines[1]["line_no"], "2");
  EXPECT_EQ(lines[1]["description"], "Vaccine, C5");
  EXPECT_EQ(lines[1]["category"], "vaccine");
  EXPECT_EQ(lines[1]["discount"], "5.00");
  EXPECT_EQ(lines[1]["unit_price"], "40");
  EXPECT_EQ(lines[2]["amount"], "50.00");  // "€50.00"
  EXPECT_EQ(lines[2]["category"], "diet");
  EXPECT_EQ(lines[3]["patient_id"], "");  // a walk-in sale
  EXPECT_EQ(lines[3]["discount"], "0");
  EXPECT_EQ(lines[3]["category"], "retail");
  EXPECT_EQ(lines[4]["amount"], "1150.00");
  EXPECT_EQ(lines[4]["category"], "surgery");
  EXPECT_EQ(c.tables["appointments"].rows.size(), 0u);
}

TEST(EzyvetPresetTest, PatientNameAndAnimalNameAreAlsoRecognised) {
  for (const char* header : {"Patient Name", "Animal Name"}) {
    Converted c = Convert(
        "ezyvet", {{"report.csv", absl::StrReplaceAll(EzyvetReport(), {{"Pet Name", header}})}});
    ASSERT_THAT(c.report.status(), IsOk()) << header;
    EXPECT_EQ(Rows(c.tables["patients"])[0]["name"], "Rex");
  }
}

TEST(EzyvetPresetTest, AMissingRequiredColumnIsNamedWithItsFile) {
  std::string report = absl::StrReplaceAll(EzyvetReport(), {{",Qty,", ",Quantity,"}});
  Converted c = Convert("ezyvet", {{"lines.csv", report}});
  EXPECT_THAT(c.report.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(c.report.status().message()),
              AllOf(HasSubstr("lines.csv looks like ezyVet's Invoice Lines "
                              "Report but has no column \"Qty\"")));
}

TEST(EzyvetPresetTest, AFolderWithNothingRecognisableListsWhatItSaw) {
  Converted c = Convert("ezyvet", {{"notes.txt", "hello\n"},
                                   {"empty.csv", ""},
                                   {"clients.csv", "client_id,first_name\nC1,Ann\n"}});
  EXPECT_THAT(c.report.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      std::string(c.report.status().message()),
      AllOf(HasSubstr("is one of the ezyvet preset's exports"),
            HasSubstr("notes.txt (its columns are none of"), HasSubstr("empty.csv (empty)")));
}

TEST(EzyvetPresetTest, ADateInNoFormatIsRefusedNamingFileLineAndColumn) {
  std::string report =
      absl::StrReplaceAll(EzyvetReport(), {{"INV2,15/02/2026", "INV2,2026-15-02"}});
  Converted c = Convert("ezyvet", {{"lines.csv", report}});
  EXPECT_THAT(c.report.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(c.report.status().message()),
              AllOf(HasSubstr("lines.csv line 4, column \"Invoice Date\", value "
                              "\"2026-15-02\": no date format fits every value "
                              "of this column")));
}

TEST(EzyvetPresetTest, AmbiguousDatesTakeThePresetsFirstFormatAndSaySo) {
  std::string report = absl::StrReplaceAll(
      EzyvetReport(),
      {{"15/02/2026", "11/02/2026"}, {"20/01/2026", "10/01/2026"}, {"21/01/2026", "12/01/2026"}});
  Converted c = Convert("ezyvet", {{"lines.csv", report}});
  ASSERT_THAT(c.report.status(), IsOk());
  EXPECT_THAT(c.report->notes, Contains(Note("invoice_lines_report", "Invoice Date",
                                             "every value also fits %m/%d/%Y")));
  EXPECT_EQ(Rows(c.tables["invoice_lines"])[0]["invoiced_on"], "2026-02-03");
}

TEST(EzyvetPresetTest, ANumberThatIsNotOneIsRefusedNamingIt) {
  std::string report = absl::StrReplaceAll(EzyvetReport(), {{"\"1,150.00\"", "\"1.150,00\""}});
  Converted c = Convert("ezyvet", {{"lines.csv", report}});
  EXPECT_THAT(std::string(c.report.status().message()),
              HasSubstr("lines.csv line 6, column \"Total Invoiced (excl)\", "
                        "value \"1.150,00\": not a number"));
}

// --- Covetrus -------------------------------------------------------------

std::map<std::string, std::string> CovetrusFiles() {
  return {
      {"CLIENT.CSV",
       "AccountId,LastName,FirstName,Zip\r\n1001,Lee,Ann,12345\r\n"
       "1002,Ng,Bo,\r\n"},
      {"Patient.CSV",
       "ClientAccountId,AccountId,Name,Species,Breed,DOB,DOD,flgDeceased,"
       "flgInactive,Microchip\n"
       "1001,2001,Rex,Canine,Collie,05/06/2019,,0,0,985\n"
       "1002,2002,Tom,CAT,,,03/01/2026,1,0,\n"
       "1002,2003,Kiwi,Budgerigar,,01/13/2020,,,,\n"},
      {"appointments export.csv",
       "AppointmentId,ClientAccountId,PatientAccounttId,ApptType,"
       "StartDateTime,ApptLength,ApptStatus,Resource\n"
       "5001,1001,2001,Annual Exam,03/04/2026 09:30,30,Completed,DR SMITH\n"
       "5002,1002,2002,Sick Visit,03/05/2026 14:00,20,No Show,DR JONES\n"
       "5003,1001,2001,Vaccination,12/15/2026 10:00,15,Scheduled,DR SMITH\n"},
      {"Service.CSV", "Code,Description,Category,Price,Cost\nEXAM,Exam,Prof,55,0\n"},
      {"readme.txt", "exported by the conversion team\n"},
  };
}

TEST(CovetrusPresetTest, ConvertsTheConversionFilesWhateverTheyAreCalled) {
  Converted c = Convert("covetrus", CovetrusFiles());
  ASSERT_THAT(c.report.status(), IsOk());
  EXPECT_THAT(c.validated.problems, IsEmpty()) << FormatImportProblems(c.validated);
  const PresetReport& report = *c.report;
  ASSERT_EQ(report.recognised.size(), 4u);
  EXPECT_THAT(report.recognised,
              Contains(AllOf(Field(&PresetReport::File::source, "service"),
                             Field(&PresetReport::File::note, HasSubstr("a price list")))));
  EXPECT_THAT(report.ignored,
              ElementsAre(Field(&PresetReport::Ignored::path, HasSubstr("readme.txt"))));
  EXPECT_THAT(report.unfilled, Contains(Note("invoice_lines", "", "no sales")));
  EXPECT_THAT(report.unfilled, Contains(Note("clients", "created_on", "")));
  EXPECT_THAT(report.assumed, Contains(Note("staff", "full_name", "Resource")));

  auto patients = Rows(c.tables["patients"]);
  ASSERT_EQ(patients.size(), 3u);
  EXPECT_EQ(patients[0]["birth_date"], "2019-05-06");
  EXPECT_EQ(patients[0]["status"], "active");
  EXPECT_EQ(patients[1]["species"], "feline");
  EXPECT_EQ(patients[1]["status"], "deceased");
  EXPECT_EQ(patients[2]["species"], "other");
  EXPECT_EQ(patients[2]["status"], "active");  // an empty flag

  auto staff = Rows(c.tables["staff"]);
  ASSERT_EQ(staff.size(), 2u);
  EXPECT_EQ(staff[0]["staff_id"], "DR SMITH");

  auto appointments = Rows(c.tables["appointments"]);
  ASSERT_EQ(appointments.size(), 3u);
  EXPECT_EQ(appointments[0]["starts_at"], "2026-03-04T09:30:00");
  EXPECT_EQ(appointments[0]["type"], "wellness");
  EXPECT_EQ(appointments[0]["status"], "completed");
  EXPECT_EQ(appointments[1]["type"], "sick");
  EXPECT_EQ(appointments[1]["status"], "no_show");
  EXPECT_EQ(appointments[2]["type"], "vaccination");
  EXPECT_EQ(appointments[2]["duration_min"], "15");
  EXPECT_EQ(c.tables["invoice_lines"].rows.size(), 0u);
}

TEST(CovetrusPresetTest, WithoutAppointmentsItStillImportsAndSaysSo) {
  auto files = CovetrusFiles();
  files.erase("appointments export.csv");
  Converted c = Convert("covetrus", files);
  ASSERT_THAT(c.report.status(), IsOk());
  EXPECT_THAT(c.validated.problems, IsEmpty()) << FormatImportProblems(c.validated);
  EXPECT_THAT(
      c.report->unfilled,
      Contains(Note("appointments", "", "no file in the folder is Covetrus Appointment.CSV")));
  EXPECT_EQ(c.tables["appointments"].rows.size(), 0u);
  EXPECT_EQ(c.tables["staff"].rows.size(), 0u);
}

TEST(CovetrusPresetTest, AnOptionalColumnNoFileHasIsReportedNotFilled) {
  auto files = CovetrusFiles();
  files["CLIENT.CSV"] = "AccountId,LastName,FirstName\n1001,Lee,Ann\n1002,Ng,Bo\n";
  Converted c = Convert("covetrus", files);
  ASSERT_THAT(c.report.status(), IsOk());
  EXPECT_THAT(c.report->unfilled,
              Contains(Note("clients", "postal_code", "no column \"Zip\" in Covetrus Client.CSV")));
}

TEST(CovetrusPresetTest, AValueTheMapDoesNotKnowIsRefusedNamingFileLineColumn) {
  auto files = CovetrusFiles();
  files["appointments export.csv"] =
      absl::StrReplaceAll(files["appointments export.csv"], {{"Sick Visit", "Boarding"}});
  Converted c = Convert("covetrus", files);
  EXPECT_THAT(c.report.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(c.report.status().message()),
              AllOf(HasSubstr("appointments export.csv line 3, column "
                              "\"ApptType\", value \"Boarding\": the preset's "
                              "map for type does not know this value"),
                    HasSubstr("--preset=FILE.json")));
}

TEST(CovetrusPresetTest, AFileWithTheColumnsOfTwoSourcesIsRefused) {
  auto files = CovetrusFiles();
  files["both.csv"] = "AccountId,LastName,FirstName,ClientAccountId,Name,Species,flgDeceased\n";
  Converted c = Convert("covetrus", files);
  EXPECT_THAT(c.report.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(c.report.status().message()),
              HasSubstr("both.csv has the columns of both Covetrus Client.CSV "
                        "and Covetrus Patient.CSV"));
}

TEST(CovetrusPresetTest, ARequiredFileMissingIsNamed) {
  auto files = CovetrusFiles();
  files.erase("Patient.CSV");
  Converted c = Convert("covetrus", files);
  EXPECT_THAT(std::string(c.report.status().message()),
              HasSubstr("is Covetrus Patient.CSV (a file with the columns "
                        "\"ClientAccountId\", \"AccountId\""));
}

}  // namespace
}  // namespace vet::data
