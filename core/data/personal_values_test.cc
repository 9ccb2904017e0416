#include "core/data/personal_values.h"

#include <algorithm>
#include <string>
#include <vector>

#include "core/data/columnar_store.h"
#include "core/data/schema.h"
#include "core/data/testing/test_files.h"
#include "core/data/testing/typed_table_builder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vet::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempDir;
using ::testing::UnorderedElementsAre;
using testing::WriteTextFile;

constexpr char kClients[] =
    "client_id,first_name,last_name,email,phone,postal_code,created_on,status\n"
    "C1,Olivia,Ashbury,olivia@example.com,+1-555-123-4567,DEMO-01,2024-01-02,active\n"
    "C2, Olivia ,O'Brien,,555 987 6543,,2024-01-03,active\n"
    "C3,Mei,Ashbury,mei@example.com,,DEMO-01,2024-01-04,inactive\n";
constexpr char kPatients[] =
    "patient_id,client_id,name,species,breed,sex,birth_date,status\n"
    "P1,C1,Biscuit,canine,Beagle,male,2020-01-01,active\n"
    "P2,C2,Mochi,feline,,female,2021-01-01,active\n";

const PersonalColumn* Find(const std::vector<PersonalColumn>& columns, const std::string& table,
                           const std::string& column) {
  for (const PersonalColumn& c : columns) {
    if (c.table == table && c.column == column) return &c;
  }
  return nullptr;
}

void WriteCsvTables(const std::string& dir) {
  WriteTextFile(dir + "/clients.csv", kClients);
  WriteTextFile(dir + "/patients.csv", kPatients);
}

TEST(PersonalValuesTest, ReadsThePersonalColumnsOfTheCsvFormDistinctAndTrimmed) {
  TempDir dir;
  WriteCsvTables(dir.path());
  auto values = ReadPersonalValues(dir.path());
  ASSERT_TRUE(values.ok()) << values.status();
  const PersonalColumn* first = Find(*values, "clients", "first_name");
  ASSERT_NE(first, nullptr);
  EXPECT_THAT(first->values, UnorderedElementsAre("Olivia", "Mei"));
  EXPECT_THAT(Find(*values, "clients", "last_name")->values,
              UnorderedElementsAre("Ashbury", "O'Brien"));
  EXPECT_THAT(Find(*values, "clients", "email")->values,
              UnorderedElementsAre("olivia@example.com", "mei@example.com"));
  EXPECT_THAT(Find(*values, "clients", "phone")->values,
              UnorderedElementsAre("+1-555-123-4567", "555 987 6543"));
  EXPECT_THAT(Find(*values, "clients", "postal_code")->values, ElementsAre("DEMO-01"));
  EXPECT_THAT(Find(*values, "patients", "name")->values, UnorderedElementsAre("Biscuit", "Mochi"));
  // Not personal: never read.
  EXPECT_EQ(Find(*values, "patients", "breed"), nullptr);
  EXPECT_EQ(Find(*values, "clients", "status"), nullptr);
}

TEST(PersonalValuesTest, ReadsAnImportedVersionsDictionaries) {
  TempDir csv;
  WriteCsvTables(csv.path());
  std::vector<TypedTable> tables;
  for (const TableSpec& spec : CanonicalSchema()) {
    auto file = testing::ReadCsvTable(csv.File(spec.name + ".csv"));
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
    if (file.ok()) {
      header = file->header;
      rows = file->rows;
    }
    testing::TypedTableBuilder builder(spec, header);
    for (const auto& row : rows) builder.AddRow<std::string>(row);
    tables.push_back(std::move(builder).Build());
  }
  TempDir columnar;
  const std::string dir = columnar.path() + "/v1";
  ASSERT_TRUE(WriteColumnarDataset(tables, dir).ok());
  auto values = ReadPersonalValues(dir);
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_THAT(Find(*values, "clients", "first_name")->values,
              UnorderedElementsAre("Olivia", "Mei"));
  EXPECT_THAT(Find(*values, "clients", "phone")->values,
              UnorderedElementsAre("+1-555-123-4567", "555 987 6543"));
  EXPECT_THAT(Find(*values, "patients", "name")->values, UnorderedElementsAre("Biscuit", "Mochi"));
}

TEST(PersonalValuesTest, AMalformedDictionaryIsDataLossNamingTheColumnNotAValue) {
  TempDir csv;
  WriteCsvTables(csv.path());
  std::vector<TypedTable> tables;
  for (const TableSpec& spec : CanonicalSchema()) {
    testing::TypedTableBuilder builder(spec, {});
    tables.push_back(std::move(builder).Build());
  }
  TempDir columnar;
  const std::string dir = columnar.path() + "/v1";
  ASSERT_TRUE(WriteColumnarDataset(tables, dir).ok());
  WriteTextFile(dir + "/clients/last_name.dict", "[\"Ashbury\", 12");
  auto values = ReadPersonalValues(dir);
  ASSERT_EQ(values.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(values.status().message(), HasSubstr("clients.last_name"));
  EXPECT_THAT(values.status().message(), Not(HasSubstr("Ashbury")));
}

TEST(PersonalValuesTest, AMissingFolderIsNotFound) {
  TempDir dir;
  EXPECT_EQ(ReadPersonalValues(dir.path() + "/nope").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace vet::data
