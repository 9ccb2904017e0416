// Tests of the demo practice: deterministic bytes, and every rule of the
// data contract checked by reading the files back with CsvReader.
#include "core/data/demo_generator.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "core/data/schema.h"
#include "core/data/testing/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::data {
namespace {

using ::testing::HasSubstr;
using ::vet::data::testing::CsvTable;
using ::vet::data::testing::ReadCsvTable;
using ::vet::data::testing::ReadTextFile;
using ::vet::data::testing::TempDir;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

constexpr absl::CivilDay kEndDay(2026, 11, 26);
constexpr char kStart[] = "2023-01-01";
constexpr char kEnd[] = "2026-11-26";
constexpr char kLastScheduled[] = "2026-12-10";  // end day + 14

const char* const kFiles[] = {"clients.csv", "patients.csv", "staff.csv", "appointments.csv",
                              "invoice_lines.csv"};

DemoOptions Options(int64_t lines, uint64_t seed = 20240601) {
  DemoOptions options;
  options.end_day = kEndDay;
  options.invoice_lines = lines;
  options.seed = seed;
  return options;
}

double Decimal(const std::string& s) {
  double v = 0;
  EXPECT_TRUE(absl::SimpleAtod(s, &v)) << "not a decimal: " << s;
  return v;
}

bool IsDate(const std::string& s) {
  absl::CivilDay d;
  return s.size() == 10 && absl::ParseCivilTime(s, &d);
}

bool IsDateTime(const std::string& s) {
  absl::CivilMinute m;
  return s.size() == 16 && s[10] == 'T' && absl::ParseCivilTime(s, &m);
}

// The five tables of a generated practice, read back, with column lookup.
class Dataset {
 public:
  absl::Status Load(const std::string& dir) {
    for (const TableSpec& spec : CanonicalSchema()) {
      auto table = ReadCsvTable(dir + "/" + spec.name + ".csv");
      if (!table.ok()) return table.status();
      tables_[spec.name] = *std::move(table);
    }
    return absl::OkStatus();
  }
  const CsvTable& table(const std::string& name) const { return tables_.at(name); }
  const std::vector<std::vector<std::string>>& rows(const std::string& name) const {
    return table(name).rows;
  }
  int col(const std::string& table_name, const std::string& column) const {
    int c = table(table_name).Column(column);
    EXPECT_GE(c, 0) << table_name << "." << column;
    return c;
  }
  // Values of the table's id column, mapped to their row.
  std::map<std::string, const std::vector<std::string>*> Index(const std::string& name,
                                                               const std::string& id) const {
    std::map<std::string, const std::vector<std::string>*> index;
    const int c = col(name, id);
    for (const auto& row : rows(name)) index[row[c]] = &row;
    return index;
  }

 private:
  std::map<std::string, CsvTable> tables_;
};

// A default-sized practice generated once for the whole suite (it also
// shows how long generation takes).
class DemoDatasetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    data_ = new Dataset();
    ASSERT_THAT(WriteDemoDataset(Options(60000), dir_->path()), IsOk());
    ASSERT_THAT(data_->Load(dir_->path()), IsOk());
  }
  static void TearDownTestSuite() {
    delete data_;
    delete dir_;
  }
  static TempDir* dir_;
  static Dataset* data_;
};
TempDir* DemoDatasetTest::dir_ = nullptr;
Dataset* DemoDatasetTest::data_ = nullptr;

TEST(DemoGeneratorTest, SameOptionsWriteIdenticalBytes) {
  TempDir a, b;
  ASSERT_THAT(WriteDemoDataset(Options(5000), a.path()), IsOk());
  ASSERT_THAT(WriteDemoDataset(Options(5000), b.path()), IsOk());
  for (const char* file : kFiles) {
    const std::string first = ReadTextFile(a.File(file));
    EXPECT_FALSE(first.empty()) << file;
    EXPECT_TRUE(first == ReadTextFile(b.File(file))) << file << " differs";
  }
}

TEST(DemoGeneratorTest, DifferentSeedsWriteDifferentData) {
  TempDir a, b;
  ASSERT_THAT(WriteDemoDataset(Options(3000, 1), a.path()), IsOk());
  ASSERT_THAT(WriteDemoDataset(Options(3000, 2), b.path()), IsOk());
  EXPECT_NE(ReadTextFile(a.File("invoice_lines.csv")), ReadTextFile(b.File("invoice_lines.csv")));
  EXPECT_NE(ReadTextFile(a.File("clients.csv")), ReadTextFile(b.File("clients.csv")));
}

TEST(DemoGeneratorTest, CreatesMissingFolderAndReplacesExistingFiles) {
  TempDir dir;
  const std::string nested = dir.File("practices/demo/data");
  ASSERT_THAT(WriteDemoDataset(Options(2000), nested), IsOk());
  const std::string small = ReadTextFile(nested + "/invoice_lines.csv");
  ASSERT_THAT(WriteDemoDataset(Options(4000), nested), IsOk());
  EXPECT_GT(ReadTextFile(nested + "/invoice_lines.csv").size(), small.size());
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(nested)) {
    EXPECT_EQ(entry.path().extension(), ".csv") << entry.path();
    ++files;
  }
  EXPECT_EQ(files, 5);
}

TEST(DemoGeneratorTest, RejectsInvalidOptions) {
  TempDir dir;
  EXPECT_THAT(WriteDemoDataset(Options(0), dir.path()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invoice_lines")));
}

TEST(DemoGeneratorTest, UnwritableFolderIsInternalNamingPath) {
  TempDir dir;
  const std::string file = dir.File("a-file");
  testing::WriteTextFile(file, "x");
  EXPECT_THAT(WriteDemoDataset(Options(1000), file + "/data"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("a-file")));
}

TEST(DemoGeneratorTest, SizeFollowsInvoiceLinesOption) {
  for (int64_t lines : {3000, 20000}) {
    TempDir dir;
    ASSERT_THAT(WriteDemoDataset(Options(lines), dir.path()), IsOk());
    auto table = ReadCsvTable(dir.File("invoice_lines.csv"));
    ASSERT_THAT(table, IsOk());
    const double n = static_cast<double>(table->rows.size());
    EXPECT_GT(n, 0.85 * lines) << lines;
    EXPECT_LT(n, 1.15 * lines) << lines;
  }
}

TEST_F(DemoDatasetTest, DefaultSizeIsCloseToSixtyThousandLines) {
  const double n = static_cast<double>(data_->rows("invoice_lines").size());
  EXPECT_GT(n, 57000);
  EXPECT_LT(n, 63000);
}

TEST_F(DemoDatasetTest, HeadersAreTheSchemaColumnsInOrder) {
  for (const TableSpec& spec : CanonicalSchema()) {
    std::vector<std::string> expected;
    for (const ColumnSpec& c : spec.columns) expected.push_back(c.name);
    EXPECT_EQ(data_->table(spec.name).header, expected) << spec.name;
    for (const auto& row : data_->rows(spec.name)) {
      ASSERT_EQ(row.size(), expected.size()) << spec.name;
    }
  }
}

TEST_F(DemoDatasetTest, ValuesHaveTheirDeclaredTypes) {
  for (const TableSpec& spec : CanonicalSchema()) {
    for (size_t c = 0; c < spec.columns.size(); ++c) {
      const ColumnSpec& column = spec.columns[c];
      SCOPED_TRACE(absl::StrCat(spec.name, ".", column.name));
      std::set<std::string> ids;
      std::set<std::string> seen_enum_values;
      for (const auto& row : data_->rows(spec.name)) {
        const std::string& v = row[c];
        if (v.empty()) {
          ASSERT_TRUE(column.optional || column.type == FieldType::kText) << "empty required value";
          continue;
        }
        switch (column.type) {
          case FieldType::kId:
            ASSERT_TRUE(ids.insert(v).second) << "duplicate id " << v;
            break;
          case FieldType::kDate:
            ASSERT_TRUE(IsDate(v)) << v;
            break;
          case FieldType::kDateTime:
            ASSERT_TRUE(IsDateTime(v)) << v;
            break;
          case FieldType::kInt: {
            int64_t n;
            ASSERT_TRUE(absl::SimpleAtoi(v, &n)) << v;
            ASSERT_GT(n, 0) << v;
            break;
          }
          case FieldType::kDecimal:
            ASSERT_EQ(v.find(','), std::string::npos) << v;
            Decimal(v);
            break;
          case FieldType::kEnum:
            ASSERT_THAT(column.allowed_values, ::testing::Contains(v));
            seen_enum_values.insert(v);
            break;
          case FieldType::kRef:
          case FieldType::kText:
            break;
        }
      }
      if (column.type == FieldType::kEnum && column.name != "species") {
        // Every allowed value occurs (a small-animal clinic sees no horses).
        EXPECT_EQ(seen_enum_values.size(), column.allowed_values.size());
      }
    }
  }
}

TEST_F(DemoDatasetTest, ReferencesResolveAndAppointmentClientIsPatientOwner) {
  const auto clients = data_->Index("clients", "client_id");
  const auto patients = data_->Index("patients", "patient_id");
  const auto staff = data_->Index("staff", "staff_id");
  const auto appointments = data_->Index("appointments", "appointment_id");
  const int patient_owner = data_->col("patients", "client_id");
  for (const auto& row : data_->rows("patients")) {
    ASSERT_EQ(clients.count(row[patient_owner]), 1u);
  }
  const int a_patient = data_->col("appointments", "patient_id");
  const int a_client = data_->col("appointments", "client_id");
  const int a_staff = data_->col("appointments", "staff_id");
  for (const auto& row : data_->rows("appointments")) {
    ASSERT_EQ(patients.count(row[a_patient]), 1u) << row[0];
    ASSERT_EQ(staff.count(row[a_staff]), 1u) << row[0];
    ASSERT_EQ(row[a_client], (*patients.at(row[a_patient]))[patient_owner]) << row[0];
  }
  const int l_client = data_->col("invoice_lines", "client_id");
  const int l_patient = data_->col("invoice_lines", "patient_id");
  const int l_staff = data_->col("invoice_lines", "staff_id");
  const int l_appt = data_->col("invoice_lines", "appointment_id");
  const int l_date = data_->col("invoice_lines", "invoiced_on");
  const int a_status = data_->col("appointments", "status");
  const int a_starts = data_->col("appointments", "starts_at");
  for (const auto& row : data_->rows("invoice_lines")) {
    ASSERT_EQ(clients.count(row[l_client]), 1u);
    if (!row[l_patient].empty()) {
      ASSERT_EQ(patients.count(row[l_patient]), 1u);
      ASSERT_EQ((*patients.at(row[l_patient]))[patient_owner], row[l_client]);
    }
    if (!row[l_staff].empty()) {
      ASSERT_EQ(staff.count(row[l_staff]), 1u);
    }
    if (row[l_appt].empty()) continue;
    ASSERT_EQ(appointments.count(row[l_appt]), 1u);
    const auto& appt = *appointments.at(row[l_appt]);
    EXPECT_EQ(appt[a_status], "completed") << row[l_appt];
    EXPECT_EQ(appt[a_client], row[l_client]);
    EXPECT_EQ(appt[a_patient], row[l_patient]);
    EXPECT_EQ(appt[a_staff], row[l_staff]);
    EXPECT_EQ(appt[a_starts].substr(0, 10), row[l_date]);
  }
}

TEST_F(DemoDatasetTest, InvoiceLinesAreNumberedAndAmountsAddUp) {
  const CsvTable& t = data_->table("invoice_lines");
  const int inv = t.Column("invoice_id"), no = t.Column("line_no"), q = t.Column("quantity"),
            price = t.Column("unit_price"), disc = t.Column("discount"),
            amount = t.Column("amount"), cost = t.Column("unit_cost"),
            date = t.Column("invoiced_on"), client = t.Column("client_id");
  std::map<std::string, std::set<std::string>> line_numbers;
  std::map<std::string, std::pair<std::string, std::string>> invoice_date_client;
  int refunds = 0, discounted = 0, with_cost = 0, fractional = 0;
  for (const auto& row : t.rows) {
    ASSERT_TRUE(line_numbers[row[inv]].insert(row[no]).second)
        << "line " << row[no] << " twice in " << row[inv];
    auto [it, inserted] =
        invoice_date_client.emplace(row[inv], std::make_pair(row[date], row[client]));
    if (!inserted) {
      ASSERT_EQ(it->second, std::make_pair(row[date], row[client])) << row[inv];
    }
    const double quantity = Decimal(row[q]);
    const double expected = quantity * Decimal(row[price]) - Decimal(row[disc]);
    ASSERT_NEAR(Decimal(row[amount]), expected, 0.005 + 1e-9) << row[inv];
    ASSERT_GE(Decimal(row[disc]), 0);
    ASSERT_GT(Decimal(row[price]), 0);
    // Money has exactly two decimals.
    for (int c : {price, disc, amount}) {
      ASSERT_EQ(row[c].size() - row[c].find('.'), 3u) << row[c];
    }
    if (quantity < 0) ++refunds;
    if (Decimal(row[disc]) > 0) ++discounted;
    if (!row[cost].empty()) ++with_cost;
    if (quantity != std::floor(quantity)) ++fractional;
  }
  const double n = static_cast<double>(t.rows.size());
  EXPECT_GT(refunds, 5);
  EXPECT_LT(refunds, 0.01 * n);
  EXPECT_GT(discounted, 0.01 * n);
  EXPECT_LT(discounted, 0.1 * n);
  EXPECT_GT(with_cost, 0.2 * n);
  EXPECT_LT(with_cost, 0.9 * n);
  EXPECT_GT(fractional, 0);
}

TEST_F(DemoDatasetTest, EveryCompletedAppointmentHasAnInvoiceMatchingItsType) {
  const CsvTable& lines = data_->table("invoice_lines");
  const int l_appt = lines.Column("appointment_id"), l_cat = lines.Column("category");
  std::map<std::string, std::set<std::string>> categories;
  for (const auto& row : lines.rows) {
    if (!row[l_appt].empty()) categories[row[l_appt]].insert(row[l_cat]);
  }
  const int id = data_->col("appointments", "appointment_id");
  const int type = data_->col("appointments", "type");
  const int status = data_->col("appointments", "status");
  for (const auto& row : data_->rows("appointments")) {
    const auto it = categories.find(row[id]);
    if (row[status] != "completed") {
      EXPECT_TRUE(it == categories.end()) << row[id] << " is " << row[status];
      continue;
    }
    ASSERT_TRUE(it != categories.end()) << row[id];
    const std::set<std::string>& cats = it->second;
    if (row[type] == "grooming") {
      EXPECT_EQ(cats.count("other"), 1u) << row[id];
      continue;
    }
    EXPECT_EQ(cats.count("consultation"), 1u) << row[id];
    if (row[type] == "surgery") {
      EXPECT_EQ(cats.count("surgery"), 1u) << row[id];
      EXPECT_EQ(cats.count("hospitalization"), 1u) << row[id];
      EXPECT_EQ(cats.count("pharmacy"), 1u) << row[id];
    }
    if (row[type] == "dental") {
      EXPECT_EQ(cats.count("dental"), 1u) << row[id];
    }
  }
}

TEST_F(DemoDatasetTest, WalkInSalesHaveNoAppointmentPatientOrStaff) {
  const CsvTable& t = data_->table("invoice_lines");
  const int appt = t.Column("appointment_id"), patient = t.Column("patient_id"),
            staff = t.Column("staff_id"), cat = t.Column("category"), q = t.Column("quantity");
  int walk_ins = 0;
  for (const auto& row : t.rows) {
    if (!row[appt].empty() || Decimal(row[q]) < 0) continue;
    ++walk_ins;
    EXPECT_EQ(row[patient], "");
    EXPECT_EQ(row[staff], "");
    EXPECT_TRUE(row[cat] == "retail" || row[cat] == "diet" || row[cat] == "pharmacy") << row[cat];
  }
  EXPECT_GT(walk_ins, 500);
}

TEST_F(DemoDatasetTest, DatesStayWithinTheDataPeriod) {
  for (const auto& row : data_->rows("invoice_lines")) {
    ASSERT_GE(row[2], kStart);
    ASSERT_LE(row[2], kEnd);
  }
  const int starts = data_->col("appointments", "starts_at");
  const int booked = data_->col("appointments", "booked_at");
  const int status = data_->col("appointments", "status");
  int scheduled = 0;
  for (const auto& row : data_->rows("appointments")) {
    const std::string day = row[starts].substr(0, 10);
    ASSERT_GE(day, kStart);
    ASSERT_LE(day, kLastScheduled);
    ASSERT_EQ(day > kEnd, row[status] == "scheduled") << row[0];
    if (row[status] == "scheduled") ++scheduled;
    if (!row[booked].empty()) {
      ASSERT_LE(row[booked], row[starts]) << row[0];
      ASSERT_LE(row[booked].substr(0, 10), kEnd) << row[0];
    }
    absl::CivilDay d;
    ASSERT_TRUE(absl::ParseCivilTime(day, &d));
    ASSERT_NE(absl::GetWeekday(d), absl::Weekday::sunday) << row[0];
  }
  EXPECT_GT(scheduled, 10);
  for (const auto& row : data_->rows("clients")) {
    ASSERT_LE(row[6], kEnd);
    ASSERT_GE(row[6], "2014-01-01");
  }
  const int birth = data_->col("patients", "birth_date");
  for (const auto& row : data_->rows("patients")) {
    if (!row[birth].empty()) {
      ASSERT_LE(row[birth], kEnd);
    }
  }
}

TEST_F(DemoDatasetTest, AppointmentOutcomesHavePlausibleRates) {
  std::map<std::string, int> by_status;
  std::map<int, int> by_weekday;
  const int starts = data_->col("appointments", "starts_at");
  const int status = data_->col("appointments", "status");
  for (const auto& row : data_->rows("appointments")) {
    ++by_status[row[status]];
    absl::CivilDay d;
    ASSERT_TRUE(absl::ParseCivilTime(row[starts].substr(0, 10), &d));
    ++by_weekday[static_cast<int>(absl::GetWeekday(d))];
  }
  const double past = by_status["completed"] + by_status["no_show"] + by_status["cancelled"];
  EXPECT_NEAR(by_status["no_show"] / past, 0.05, 0.015);
  EXPECT_NEAR(by_status["cancelled"] / past, 0.07, 0.015);
  // Saturdays are quieter than any weekday.
  for (int weekday = 0; weekday < 5; ++weekday) {
    EXPECT_LT(by_weekday[5] * 1.5, by_weekday[weekday]) << weekday;
  }
}

TEST_F(DemoDatasetTest, RevenueGrowsAndPeaksInSpringAndSummer) {
  std::map<std::string, double> by_year;
  std::map<int, double> by_month;
  const int date = data_->col("invoice_lines", "invoiced_on");
  const int amount = data_->col("invoice_lines", "amount");
  for (const auto& row : data_->rows("invoice_lines")) {
    const double a = Decimal(row[amount]);
    by_year[row[date].substr(0, 4)] += a;
    if (row[date] < "2026-01-01") by_month[std::atoi(row[date].substr(5, 2).c_str())] += a;
  }
  EXPECT_GT(by_year["2024"], by_year["2023"] * 1.03);
  EXPECT_GT(by_year["2025"], by_year["2024"] * 1.03);
  EXPECT_GT(by_month[6], by_month[12] * 1.1);
  EXPECT_GT(by_month[5], by_month[1] * 1.1);
}

TEST_F(DemoDatasetTest, PricesRiseEachJanuary) {
  std::map<std::string, std::set<std::string>> prices_by_year;
  const CsvTable& t = data_->table("invoice_lines");
  const int code = t.Column("item_code"), price = t.Column("unit_price"),
            date = t.Column("invoiced_on");
  for (const auto& row : t.rows) {
    if (row[code] == "CONS-STD") prices_by_year[row[date].substr(0, 4)].insert(row[price]);
  }
  ASSERT_EQ(prices_by_year.size(), 4u);
  double previous = 0;
  for (const auto& [year, prices] : prices_by_year) {
    ASSERT_EQ(prices.size(), 1u) << year;
    const double p = Decimal(*prices.begin());
    if (previous > 0) {
      EXPECT_NEAR(p / previous, 1.04, 0.01) << year;
    }
    previous = p;
  }
}

TEST_F(DemoDatasetTest, PracticeHasFourVetsAndSomeInactiveClientsAndDeceasedPatients) {
  std::map<std::string, int> roles;
  for (const auto& row : data_->rows("staff")) ++roles[row[2]];
  EXPECT_EQ(roles["veterinarian"], 4);
  EXPECT_EQ(roles["technician"], 1);

  int inactive = 0;
  for (const auto& row : data_->rows("clients")) inactive += row[7] == "inactive";
  const double clients = static_cast<double>(data_->rows("clients").size());
  EXPECT_GT(inactive, 0.05 * clients);
  EXPECT_LT(inactive, 0.6 * clients);

  std::map<std::string, int> species;
  int deceased = 0;
  for (const auto& row : data_->rows("patients")) {
    ++species[row[3]];
    deceased += row[7] == "deceased";
  }
  EXPECT_GT(deceased, 0);
  const double patients = static_cast<double>(data_->rows("patients").size());
  EXPECT_GT((species["canine"] + species["feline"]) / patients, 0.8);
  EXPECT_GT(species["rabbit"], 0);
  EXPECT_GT(species["avian"], 0);

  // The vets' workloads differ.
  std::map<std::string, int> per_staff;
  const int staff = data_->col("appointments", "staff_id");
  for (const auto& row : data_->rows("appointments")) ++per_staff[row[staff]];
  std::set<int> counts = {per_staff["S01"], per_staff["S02"], per_staff["S03"], per_staff["S04"]};
  EXPECT_EQ(counts.size(), 4u);
  EXPECT_GT(per_staff["S01"], per_staff["S04"]);
}

TEST_F(DemoDatasetTest, PersonalValuesAreObviouslySynthetic) {
  const int email = data_->col("clients", "email");
  const int phone = data_->col("clients", "phone");
  const int postal = data_->col("clients", "postal_code");
  for (const auto& row : data_->rows("clients")) {
    if (!row[email].empty()) {
      ASSERT_THAT(row[email], HasSubstr("@example.com"));
    }
    if (!row[phone].empty()) {
      ASSERT_THAT(row[phone], HasSubstr("-555-"));
    }
    if (!row[postal].empty()) {
      ASSERT_THAT(row[postal], HasSubstr("DEMO-"));
    }
  }
}

}  // namespace
}  // namespace vet::data
