// Tests of the canonical schema and of DescribeDataset: what it reports for a
// generated demo practice, that no personal value reaches the description,
// and the errors for missing or malformed files.
#include "core/data/dataset.h"

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "core/data/dataset_catalog.h"
#include "core/data/demo_generator.h"
#include "core/data/schema.h"
#include "core/data/testing/small_export.h"
#include "core/data/testing/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::data {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::vet::data::testing::ReadCsvTable;
using ::vet::data::testing::ReadTextFile;
using ::vet::data::testing::TempDir;
using ::vet::data::testing::WriteTextFile;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

constexpr absl::CivilDay kEndDay(2026, 11, 26);

std::vector<std::string> TableNames() {
  std::vector<std::string> names;
  for (const TableSpec& t : CanonicalSchema()) names.push_back(t.name);
  return names;
}

TEST(SchemaTest, HasTheFiveTablesInDependencyOrder) {
  EXPECT_THAT(TableNames(),
              ElementsAre("clients", "patients", "staff", "appointments", "invoice_lines"));
}

TEST(SchemaTest, DescribesColumnsAsTheDataContractSays) {
  const TableSpec* clients = FindTable("clients");
  ASSERT_NE(clients, nullptr);
  EXPECT_EQ(clients->description, "the animal owners");
  const ColumnSpec* email = clients->FindColumn("email");
  ASSERT_NE(email, nullptr);
  EXPECT_TRUE(email->personal);
  EXPECT_TRUE(email->optional);
  EXPECT_EQ(email->type, FieldType::kText);
  EXPECT_FALSE(clients->FindColumn("created_on")->personal);
  EXPECT_THAT(clients->FindColumn("status")->allowed_values, ElementsAre("active", "inactive"));

  const ColumnSpec* name = FindTable("patients")->FindColumn("name");
  EXPECT_TRUE(name->personal);
  EXPECT_FALSE(name->optional);
  const ColumnSpec* owner = FindTable("patients")->FindColumn("client_id");
  EXPECT_EQ(owner->type, FieldType::kRef);
  EXPECT_EQ(owner->references, "clients");
  EXPECT_THAT(FindTable("patients")->FindColumn("sex")->allowed_values,
              ElementsAre("m", "f", "mn", "fs"));

  // Staff names are deliberately not personal data.
  EXPECT_FALSE(FindTable("staff")->FindColumn("full_name")->personal);

  const TableSpec* lines = FindTable("invoice_lines");
  EXPECT_EQ(lines->columns.size(), 15u);
  EXPECT_EQ(lines->FindColumn("invoice_id")->type, FieldType::kText);
  EXPECT_TRUE(lines->FindColumn("appointment_id")->optional);
  EXPECT_EQ(lines->FindColumn("appointment_id")->references, "appointments");
  EXPECT_FALSE(lines->FindColumn("client_id")->optional);
  EXPECT_TRUE(lines->FindColumn("unit_cost")->optional);
  EXPECT_EQ(lines->FindColumn("category")->allowed_values.size(), 11u);
  EXPECT_EQ(FindTable("appointments")->FindColumn("starts_at")->type, FieldType::kDateTime);
}

TEST(SchemaTest, EveryColumnIsWellFormed) {
  std::set<std::string> personal;
  for (const TableSpec& t : CanonicalSchema()) {
    EXPECT_FALSE(t.description.empty()) << t.name;
    std::set<std::string> names;
    for (const ColumnSpec& c : t.columns) {
      SCOPED_TRACE(absl::StrCat(t.name, ".", c.name));
      EXPECT_TRUE(names.insert(c.name).second) << "duplicate column";
      EXPECT_FALSE(c.description.empty());
      EXPECT_EQ(c.type == FieldType::kRef, !c.references.empty());
      if (!c.references.empty()) {
        EXPECT_NE(FindTable(c.references), nullptr);
      }
      EXPECT_EQ(c.type == FieldType::kEnum, !c.allowed_values.empty());
      for (const std::string& v : c.allowed_values) {
        EXPECT_EQ(v, absl::AsciiStrToLower(v));
      }
      if (c.personal) personal.insert(absl::StrCat(t.name, ".", c.name));
    }
  }
  EXPECT_EQ(personal,
            (std::set<std::string>{"clients.first_name", "clients.last_name", "clients.email",
                                   "clients.phone", "clients.postal_code", "patients.name"}));
}

TEST(SchemaTest, FindsTablesAndColumnsByNameOnly) {
  EXPECT_EQ(FindTable("nope"), nullptr);
  EXPECT_EQ(FindTable("Clients"), nullptr);
  EXPECT_EQ(FindTable("clients")->FindColumn("nope"), nullptr);
  EXPECT_EQ(FieldTypeName(FieldType::kDateTime), "datetime");
  EXPECT_EQ(FieldTypeName(FieldType::kDecimal), "decimal");
  EXPECT_EQ(FieldTypeName(FieldType::kRef), "ref");
}

// A small demo practice, generated once for the tests below.
class DescribeDemoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    DemoOptions options;
    options.end_day = kEndDay;
    options.invoice_lines = 4000;
    ASSERT_THAT(WriteDemoDataset(options, dir_->path()), IsOk());
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static TempDir* dir_;
};
TempDir* DescribeDemoTest::dir_ = nullptr;

TEST_F(DescribeDemoTest, ListsEveryTableAndColumnOfTheSchema) {
  auto described = DescribeDataset(dir_->path());
  ASSERT_THAT(described, IsOk());
  EXPECT_EQ(described->schema_version, "v1");
  ASSERT_EQ(described->tables.size(), CanonicalSchema().size());
  for (size_t i = 0; i < described->tables.size(); ++i) {
    const TableDescription& t = described->tables[i];
    const TableSpec& spec = CanonicalSchema()[i];
    EXPECT_EQ(t.name, spec.name);
    EXPECT_EQ(t.description, spec.description);
    ASSERT_EQ(t.columns.size(), spec.columns.size());
    for (size_t j = 0; j < t.columns.size(); ++j) {
      EXPECT_EQ(t.columns[j].spec.name, spec.columns[j].name);
      EXPECT_TRUE(t.columns[j].present);
    }
  }
  EXPECT_EQ(described->FindTable("staff"), &described->tables[2]);
  EXPECT_EQ(described->FindTable("nope"), nullptr);
}

TEST_F(DescribeDemoTest, CountsRowsOfEachTable) {
  auto described = DescribeDataset(dir_->path());
  ASSERT_THAT(described, IsOk());
  for (const TableDescription& t : described->tables) {
    auto table = ReadCsvTable(dir_->File(t.name + ".csv"));
    ASSERT_THAT(table, IsOk());
    EXPECT_EQ(t.row_count, static_cast<int64_t>(table->rows.size())) << t.name;
    EXPECT_GT(t.row_count, 0) << t.name;
  }
  EXPECT_EQ(described->FindTable("staff")->row_count, 7);
}

TEST_F(DescribeDemoTest, ReportsDateRangesOfDateColumnsOnly) {
  auto described = DescribeDataset(dir_->path());
  ASSERT_THAT(described, IsOk());
  const TableDescription* lines = described->FindTable("invoice_lines");
  const ColumnDescription* invoiced = nullptr;
  for (const ColumnDescription& c : lines->columns) {
    if (c.spec.name == "invoiced_on") invoiced = &c;
    if (c.spec.type != FieldType::kDate && c.spec.type != FieldType::kDateTime) {
      EXPECT_EQ(c.min_value, "") << c.spec.name;
      EXPECT_EQ(c.max_value, "") << c.spec.name;
    }
  }
  ASSERT_NE(invoiced, nullptr);
  EXPECT_GE(invoiced->min_value, "2023-01-01");
  EXPECT_LE(invoiced->min_value, "2023-01-10");
  EXPECT_LE(invoiced->max_value, "2026-11-26");
  EXPECT_GE(invoiced->max_value, "2026-11-01");

  const TableDescription* appointments = described->FindTable("appointments");
  for (const ColumnDescription& c : appointments->columns) {
    if (c.spec.name != "starts_at") continue;
    EXPECT_THAT(c.min_value, HasSubstr("2023-01-"));
    EXPECT_GT(c.max_value, "2026-11-26");  // booked visits after the end day
    EXPECT_LE(c.max_value, "2026-12-11");
    EXPECT_EQ(c.max_value.size(), 16u);  // 2026-12-03T09:30
  }
}

TEST_F(DescribeDemoTest, CarriesEnumValuesAndPersonalFlagsFromTheSchema) {
  auto described = DescribeDataset(dir_->path());
  ASSERT_THAT(described, IsOk());
  for (const TableDescription& t : described->tables) {
    for (const ColumnDescription& c : t.columns) {
      const ColumnSpec* spec = FindTable(t.name)->FindColumn(c.spec.name);
      EXPECT_EQ(c.spec.personal, spec->personal);
      EXPECT_EQ(c.spec.allowed_values, spec->allowed_values);
    }
  }
  const TableDescription* patients = described->FindTable("patients");
  EXPECT_THAT(patients->columns[3].spec.allowed_values, Contains("canine"));
  EXPECT_TRUE(patients->columns[2].spec.personal);  // name
}

// Every string the description holds, as one list.
std::vector<std::string> AllStrings(const DatasetDescription& d) {
  std::vector<std::string> out = {d.schema_version};
  for (const TableDescription& t : d.tables) {
    out.push_back(t.name);
    out.push_back(t.description);
    for (const ColumnDescription& c : t.columns) {
      out.push_back(c.spec.name);
      out.push_back(c.spec.description);
      out.push_back(c.spec.references);
      out.push_back(c.min_value);
      out.push_back(c.max_value);
      for (const std::string& v : c.spec.allowed_values) out.push_back(v);
    }
  }
  return out;
}

TEST_F(DescribeDemoTest, ContainsNoValueOfAnyPersonalColumn) {
  auto described = DescribeDataset(dir_->path());
  ASSERT_THAT(described, IsOk());
  const std::string everything = absl::StrJoin(AllStrings(*described), "\n");
  int checked = 0;
  for (const TableSpec& spec : CanonicalSchema()) {
    auto table = ReadCsvTable(dir_->File(spec.name + ".csv"));
    ASSERT_THAT(table, IsOk());
    for (const ColumnSpec& c : spec.columns) {
      if (!c.personal) continue;
      const int col = table->Column(c.name);
      ASSERT_GE(col, 0) << c.name;
      for (const auto& row : table->rows) {
        const std::string& value = row[col];
        if (value.size() < 4) continue;  // too short to mean anything
        ++checked;
        ASSERT_THAT(everything, Not(HasSubstr(value))) << spec.name << "." << c.name;
      }
    }
  }
  EXPECT_GT(checked, 100);
}

TEST(DescribeDatasetTest, MissingFolderIsNotFound) {
  TempDir dir;
  EXPECT_THAT(DescribeDataset(dir.File("nothing-here")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("practice has no data yet")));
}

// Minimal valid files for every table, one row each.
void WriteMinimalDataset(const std::string& dir) {
  WriteTextFile(dir + "/clients.csv",
                "client_id,first_name,last_name,email,phone,postal_code,"
                "created_on,status\n"
                "C1,Ann,Zed,,,,2024-01-02,active\n");
  WriteTextFile(dir + "/patients.csv",
                "patient_id,client_id,name,species,breed,sex,birth_date,status\n"
                "P1,C1,Rex,canine,,M,2020-05-06,active\n");
  WriteTextFile(dir + "/staff.csv",
                "staff_id,full_name,role,hired_on,fte\nS1,Dr Vet,veterinarian,,\n");
  WriteTextFile(dir + "/appointments.csv",
                "appointment_id,patient_id,client_id,staff_id,starts_at,duration_min,"
                "type,"
                "status,booked_at\n"
                "A1,P1,C1,S1,2024-02-03T09:30,30,wellness,completed,\n"
                "A2,P1,C1,S1,2024-02-01 08:00:00,30,sick,completed,2024-01-30T10:00\n");
  WriteTextFile(dir + "/invoice_lines.csv",
                "invoice_id,line_no,invoiced_on,client_id,patient_id,staff_id,"
                "appointment_id,"
                "item_code,description,category,quantity,unit_price,discount,amount,"
                "unit_cost\n"
                "I1,1,2024-02-03,C1,P1,S1,A1,X,\"Exam, "
                "full\",consultation,1,50.00,0,50.00,\n");
}

TEST(DescribeDatasetTest, DescribesMinimalHandWrittenFiles) {
  TempDir dir;
  WriteMinimalDataset(dir.path());
  auto described = DescribeDataset(dir.path());
  ASSERT_THAT(described, IsOk());
  const TableDescription* appointments = described->FindTable("appointments");
  EXPECT_EQ(appointments->row_count, 2);
  // Chronological, whichever separator a datetime uses.
  EXPECT_EQ(appointments->columns[4].min_value, "2024-02-01 08:00:00");
  EXPECT_EQ(appointments->columns[4].max_value, "2024-02-03T09:30");
  EXPECT_EQ(appointments->columns[8].min_value, "2024-01-30T10:00");
  const TableDescription* staff = described->FindTable("staff");
  EXPECT_EQ(staff->columns[3].min_value, "");  // hired_on is empty
}

TEST(DescribeDatasetTest, MissingFileIsNotFoundNamingIt) {
  TempDir dir;
  WriteMinimalDataset(dir.path());
  std::filesystem::remove(dir.File("patients.csv"));
  EXPECT_THAT(DescribeDataset(dir.path()),
              StatusIs(absl::StatusCode::kNotFound, AllOf(HasSubstr("practice has no data yet"),
                                                          HasSubstr("patients.csv missing"))));
}

TEST(DescribeDatasetTest, MissingRequiredColumnIsDataLossNamingFileAndColumn) {
  TempDir dir;
  WriteMinimalDataset(dir.path());
  WriteTextFile(dir.File("clients.csv"),
                "client_id,first_name,last_name,email,phone,postal_code,created_on\n"
                "C1,Ann,Zed,,,,2024-01-02\n");
  EXPECT_THAT(DescribeDataset(dir.path()),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("clients.csv:1:"), HasSubstr("'status'"))));
}

TEST(DescribeDatasetTest, IgnoresExtraColumnsAndToleratesMissingOptionalOnes) {
  TempDir dir;
  WriteMinimalDataset(dir.path());
  WriteTextFile(dir.File("staff.csv"),
                "\xEF\xBB\xBF"
                "notes,staff_id,full_name,role\r\nx,S1,Dr Vet,veterinarian\r\n");
  auto described = DescribeDataset(dir.path());
  ASSERT_THAT(described, IsOk());
  const TableDescription* staff = described->FindTable("staff");
  EXPECT_EQ(staff->row_count, 1);
  ASSERT_EQ(staff->columns.size(), 5u);
  EXPECT_TRUE(staff->columns[0].present);
  EXPECT_FALSE(staff->columns[3].present);  // hired_on
  EXPECT_FALSE(staff->columns[4].present);  // fte
}

TEST(DescribeDatasetTest, ColumnNamedTwiceIsDataLoss) {
  TempDir dir;
  WriteMinimalDataset(dir.path());
  WriteTextFile(dir.File("staff.csv"), "staff_id,full_name,role,role\nS1,V,veterinarian,x\n");
  EXPECT_THAT(
      DescribeDataset(dir.path()),
      StatusIs(absl::StatusCode::kDataLoss, AllOf(HasSubstr("staff.csv:1:"), HasSubstr("'role'"))));
}

TEST(DescribeDatasetTest, RecordWithWrongFieldCountIsDataLossWithLine) {
  TempDir dir;
  WriteMinimalDataset(dir.path());
  WriteTextFile(dir.File("staff.csv"),
                "staff_id,full_name,role\nS1,A,veterinarian\nS2,\"B\nC\","
                "manager,extra\n");
  EXPECT_THAT(DescribeDataset(dir.path()),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("staff.csv:3:"), HasSubstr("expected 3 fields"))));
}

TEST(DescribeDatasetTest, MalformedDateIsDataLossNamingLineAndColumnButNotValue) {
  TempDir dir;
  WriteMinimalDataset(dir.path());
  WriteTextFile(dir.File("clients.csv"),
                "client_id,first_name,last_name,email,phone,postal_code,"
                "created_on,status\n"
                "C1,Ann,Zed,,,,2024-01-02,active\n"
                "C2,Bob,Yew,,,,03/04/2024,active\n");
  auto described = DescribeDataset(dir.path());
  EXPECT_THAT(described, StatusIs(absl::StatusCode::kDataLoss,
                                  AllOf(HasSubstr("clients.csv:3:"), HasSubstr("'created_on'"),
                                        Not(HasSubstr("03/04")), Not(HasSubstr("Bob")))));
}

TEST(DescribeDatasetTest, MalformedDateTimeIsDataLoss) {
  TempDir dir;
  WriteMinimalDataset(dir.path());
  std::string content = ReadTextFile(dir.File("appointments.csv"));
  content += "A3,P1,C1,S1,2024-02-03T25:00,30,wellness,completed,\n";
  WriteTextFile(dir.File("appointments.csv"), content);
  EXPECT_THAT(DescribeDataset(dir.path()),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("appointments.csv:4:"), HasSubstr("'starts_at'"))));
}

TEST(DescribeDatasetTest, EmptyFileIsDataLoss) {
  TempDir dir;
  WriteMinimalDataset(dir.path());
  WriteTextFile(dir.File("staff.csv"), "");
  EXPECT_THAT(DescribeDataset(dir.path()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("staff.csv")));
}

TEST(DescribeDatasetTest, HeaderOnlyTableHasNoRowsAndNoRanges) {
  TempDir dir;
  WriteMinimalDataset(dir.path());
  WriteTextFile(dir.File("clients.csv"),
                "client_id,first_name,last_name,email,phone,postal_code,"
                "created_on,status\n");
  auto described = DescribeDataset(dir.path());
  ASSERT_THAT(described, IsOk());
  EXPECT_EQ(described->FindTable("clients")->row_count, 0);
  EXPECT_EQ(described->FindTable("clients")->columns[6].min_value, "");
}

TEST(CachingDatasetCatalogTest, ACsvFolderIsDescribedAgainOnlyWhenAFileChanges) {
  testing::TempDir dir;
  for (const auto& [table, csv] : testing::SmallValidExport()) {
    testing::WriteTextFile(dir.File(table + ".csv"), csv);
  }
  CachingDatasetCatalog catalog;
  auto first = catalog.Describe(dir.path());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ((*first)->FindTable("clients")->row_count, 2);
  auto again = catalog.Describe(dir.path());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->get(), first->get()) << "an unchanged folder is described once";

  // A client more: the file's size changes, so the folder is read again.
  testing::WriteTextFile(dir.File("clients.csv"), testing::SmallValidExport().at("clients") +
                                                      "C3,Cy,Fox,,,,2026-01-02,active\n");
  auto changed = catalog.Describe(dir.path());
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_NE(changed->get(), first->get());
  EXPECT_EQ((*changed)->FindTable("clients")->row_count, 3);

  // A table gone: the folder no longer describes, and says which file.
  std::filesystem::remove(dir.File("staff.csv"));
  auto missing = catalog.Describe(dir.path());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), ::testing::HasSubstr("staff.csv"));
}

}  // namespace
}  // namespace vet::data
