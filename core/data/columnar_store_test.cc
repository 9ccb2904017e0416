// Tests of the columnar store: exact .npy bytes, the manifest, the
// description read back from it, and the errors.
#include "core/data/columnar_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/data/schema.h"
#include "core/data/testing/test_files.h"
#include "core/data/testing/typed_table_builder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/testing/status_matchers.h"

namespace vet::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::vet::data::testing::ReadTextFile;
using ::vet::data::testing::TempDir;
using ::vet::data::testing::TypedTableBuilder;
using ::vet::data::testing::WriteTextFile;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

// One column of every storage kind, with and without nulls.
TypedTable SmallTable() {
  TypedTable t;
  t.name = "invoice_lines";
  t.rows = 3;
  TypedColumn id{"invoice_id", FieldType::kText};
  id.codes = {0, 1, 0};
  id.dictionary = {"a,\"b\"\nc", "\xc3\xa9t\xc3\xa9 \xf0\x9f\x90\xb6"};
  TypedColumn line{"line_no", FieldType::kInt};
  line.ints = {1, -2, 3};
  TypedColumn day{"invoiced_on", FieldType::kDate};
  day.ints = {20454, 0, -1};  // 2026-01-01, 1970-01-01 (null), 1969-12-31
  day.valid = {1, 0, 1};
  TypedColumn amount{"amount", FieldType::kDecimal};
  amount.numbers = {1.5, 0, -2.25};
  amount.valid = {1, 0, 1};
  TypedColumn patient{"patient_id", FieldType::kRef};
  patient.codes = {7, 0, 7};  // 7 is junk under a null: written as -1
  patient.dictionary = {"p1"};
  patient.valid = {0, 1, 0};
  t.columns = {id, line, day, amount, patient};
  return t;
}

std::string Npy(absl::string_view descr, int rows) {
  std::string dict =
      absl::StrCat("{'descr': '", descr, "', 'fortran_order': False, 'shape': (", rows, ",), }");
  // 10 bytes of preamble + 58 of dict + '\n' pad to 128 (0x76 = 118).
  dict.append(128 - 10 - dict.size() - 1, ' ');
  dict += "\n";
  return std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict;
}

template <typename T>
std::string Bytes(std::vector<T> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

int Mode(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return -1;
  return st.st_mode & 07777;
}

TEST(ColumnarStoreTest, WritesNpyFilesDictionariesAndMasks) {
  TempDir tmp;
  const std::string dir = tmp.File("store");
  ::mode_t old = ::umask(077);
  absl::Status status = WriteColumnarDataset({SmallTable()}, dir);
  ::umask(old);
  ASSERT_THAT(status, IsOk());
  const std::string t = dir + "/invoice_lines/";

  EXPECT_EQ(ReadTextFile(t + "invoice_id.npy"), Npy("<i4", 3) + Bytes<int32_t>({0, 1, 0}));
  EXPECT_EQ(ReadTextFile(t + "invoice_id.dict"),
            "[\"a,\\\"b\\\"\\nc\",\"\xc3\xa9t\xc3\xa9 \xf0\x9f\x90\xb6\"]");
  EXPECT_EQ(ReadTextFile(t + "line_no.npy"), Npy("<i8", 3) + Bytes<int64_t>({1, -2, 3}));
  EXPECT_EQ(ReadTextFile(t + "invoiced_on.npy"), Npy("<i8", 3) + Bytes<int64_t>({20454, 0, -1}));
  EXPECT_EQ(ReadTextFile(t + "invoiced_on.valid.npy"), Npy("|u1", 3) + Bytes<uint8_t>({1, 0, 1}));
  const std::string amount = ReadTextFile(t + "amount.npy");
  ASSERT_EQ(amount.size(), 128u + 24u);
  EXPECT_EQ(amount.substr(0, 128), Npy("<f8", 3));
  double values[3];
  std::memcpy(values, amount.data() + 128, sizeof(values));
  EXPECT_EQ(values[0], 1.5);
  EXPECT_TRUE(std::isnan(values[1]));
  EXPECT_EQ(values[2], -2.25);
  EXPECT_EQ(ReadTextFile(t + "patient_id.npy"), Npy("<i4", 3) + Bytes<int32_t>({-1, 0, -1}));
  // No mask for columns without nulls.
  EXPECT_EQ(::access((t + "line_no.valid.npy").c_str(), F_OK), -1);
  EXPECT_EQ(::access((t + "invoice_id.valid.npy").c_str(), F_OK), -1);

  // Readable by another uid whatever the umask.
  EXPECT_EQ(Mode(dir), 0755);
  EXPECT_EQ(Mode(t), 0755);
  EXPECT_EQ(Mode(t + "line_no.npy"), 0644);
  EXPECT_EQ(Mode(t + "invoice_id.dict"), 0644);
  EXPECT_EQ(Mode(dir + "/manifest.json"), 0644);
}

TEST(ColumnarStoreTest, DictionaryLargerThanTheWriteBufferIsStreamedWhole) {
  // 3000 strings of 1000 bytes, control characters escaped six to one: the
  // JSON is several times the 1 MiB buffer it is written through.
  TypedTable t = SmallTable();
  TypedColumn& id = t.columns[0];
  id.dictionary.clear();
  for (int i = 0; i < 3000; ++i) {
    id.dictionary.push_back(absl::StrCat(i, std::string(996, '\x01'), "\"q"));
  }
  TempDir tmp;
  const std::string dir = tmp.File("store");
  ASSERT_THAT(WriteColumnarDataset({t}, dir), IsOk());
  const std::string json = ReadTextFile(dir + "/invoice_lines/invoice_id.dict");
  EXPECT_GT(json.size(), size_t{3} << 20);
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  ASSERT_FALSE(doc.HasParseError());
  ASSERT_EQ(doc.Size(), 3000u);
  for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
    ASSERT_EQ(std::string(doc[i].GetString(), doc[i].GetStringLength()), id.dictionary[i]);
  }
}

TEST(ColumnarStoreTest, ManifestListsTablesColumnsAndDateRanges) {
  TempDir tmp;
  const std::string dir = tmp.File("store");
  TypedTable appts;
  appts.name = "appointments";
  appts.rows = 2;
  TypedColumn starts{"starts_at", FieldType::kDateTime};
  starts.ints = {1767605400, 1767519000};  // 2026-01-05T09:30, 01-04T09:30
  appts.columns = {starts};
  ASSERT_THAT(WriteColumnarDataset({SmallTable(), appts}, dir), IsOk());

  rapidjson::Document doc;
  doc.Parse(ReadTextFile(dir + "/manifest.json").c_str());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(doc["format"].GetString(), "vet-columnar");
  EXPECT_EQ(doc["format_version"].GetInt(), 1);
  EXPECT_STREQ(doc["schema_version"].GetString(), "v1");
  ASSERT_EQ(doc["tables"].Size(), 2u);
  const rapidjson::Value& lines = doc["tables"][0];
  EXPECT_STREQ(lines["name"].GetString(), "invoice_lines");
  EXPECT_EQ(lines["rows"].GetInt64(), 3);
  std::vector<std::string> described;
  for (const rapidjson::Value& c : lines["columns"].GetArray()) {
    std::string s =
        absl::StrCat(c["name"].GetString(), ":", c["type"].GetString(), ":",
                     c["storage"].GetString(), ":", c["has_nulls"].GetBool() ? "nulls" : "full");
    if (c.HasMember("min")) {
      absl::StrAppend(&s, ":", c["min"].GetString(), "..", c["max"].GetString());
    }
    described.push_back(s);
  }
  EXPECT_THAT(described, ElementsAre("invoice_id:text:dict:full", "line_no:int:int64:full",
                                     "invoiced_on:date:int64:nulls:1969-12-31..2026-01-01",
                                     "amount:decimal:float64:nulls", "patient_id:ref:dict:nulls"));
  const rapidjson::Value& starts_at = doc["tables"][1]["columns"][0];
  EXPECT_STREQ(starts_at["min"].GetString(), "2026-01-04T09:30:00");
  EXPECT_STREQ(starts_at["max"].GetString(), "2026-01-05T09:30:00");
}

// The five tables from rows of text, as a CSV would hold them.
std::vector<TypedTable> FiveTables() {
  std::vector<TypedTable> tables;
  for (const TableSpec& spec : CanonicalSchema()) {
    std::vector<std::string> header;
    for (const ColumnSpec& c : spec.columns) {
      if (c.name != "unit_cost") header.push_back(c.name);  // an absent column
    }
    TypedTableBuilder builder(spec, header);
    if (spec.name == "appointments") {
      for (const std::vector<std::string>& row : std::vector<std::vector<std::string>>{
               {"a1", "p1", "c1", "s1", "2026-01-05T09:30", "20", "wellness", "completed", ""},
               {"a2", "p1", "c1", "s1", "2025-12-31T23:59:59", "30", "sick", "no_show",
                "2025-12-01T08:00"}}) {
        builder.AddRow(absl::MakeConstSpan(row));
      }
    }
    tables.push_back(std::move(builder).Build());
  }
  return tables;
}

TEST(ColumnarStoreTest, DescribesFromTheManifestLikeTheCsvForm) {
  TempDir tmp;
  const std::string dir = tmp.File("store");
  ASSERT_THAT(WriteColumnarDataset(FiveTables(), dir), IsOk());

  absl::StatusOr<DatasetDescription> desc = DescribeColumnarDataset(dir);
  ASSERT_THAT(desc.status(), IsOk());
  EXPECT_EQ(desc->schema_version, "v1");
  ASSERT_EQ(desc->tables.size(), CanonicalSchema().size());
  for (size_t i = 0; i < desc->tables.size(); ++i) {
    EXPECT_EQ(desc->tables[i].name, CanonicalSchema()[i].name);
    EXPECT_EQ(desc->tables[i].description, CanonicalSchema()[i].description);
  }
  const TableDescription* appts = desc->FindTable("appointments");
  ASSERT_NE(appts, nullptr);
  EXPECT_EQ(appts->row_count, 2);
  ASSERT_EQ(appts->columns.size(), FindTable("appointments")->columns.size());
  const ColumnDescription& starts = appts->columns[4];
  EXPECT_EQ(starts.spec.name, "starts_at");
  EXPECT_EQ(starts.min_value, "2025-12-31T23:59:59");
  EXPECT_EQ(starts.max_value, "2026-01-05T09:30:00");
  const ColumnDescription& booked = appts->columns[8];
  EXPECT_EQ(booked.spec.name, "booked_at");
  EXPECT_EQ(booked.min_value, "2025-12-01T08:00:00");
  EXPECT_EQ(booked.max_value, "2025-12-01T08:00:00");
  const ColumnDescription& type = appts->columns[6];
  EXPECT_EQ(type.spec.type, FieldType::kEnum);
  EXPECT_THAT(type.spec.allowed_values, ::testing::Contains("surgery"));
  EXPECT_TRUE(type.present);

  const TableDescription* clients = desc->FindTable("clients");
  ASSERT_NE(clients, nullptr);
  EXPECT_EQ(clients->row_count, 0);
  EXPECT_TRUE(clients->columns[1].spec.personal);  // first_name
  EXPECT_EQ(clients->columns[6].min_value, "");    // created_on: no rows

  const TableDescription* lines = desc->FindTable("invoice_lines");
  ASSERT_NE(lines, nullptr);
  // A TypedTable holds absent optional columns as all-null columns, so the
  // store cannot tell them from present ones.
  EXPECT_EQ(lines->columns.back().spec.name, "unit_cost");
  EXPECT_TRUE(lines->columns.back().present);
}

TEST(ColumnarStoreTest, WritesIntoAnExistingEmptyFolder) {
  TempDir tmp;
  EXPECT_THAT(WriteColumnarDataset({SmallTable()}, tmp.path()), IsOk());
}

TEST(ColumnarStoreTest, RefusesANonEmptyFolder) {
  TempDir tmp;
  WriteTextFile(tmp.File("stale.txt"), "x");
  EXPECT_THAT(WriteColumnarDataset({SmallTable()}, tmp.path()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(tmp.path())));
}

TEST(ColumnarStoreTest, NamesThePathItCannotWrite) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores folder permissions";
  TempDir tmp;
  const std::string locked = tmp.File("locked");
  ASSERT_EQ(::mkdir(locked.c_str(), 0555), 0);
  const std::string dir = locked + "/store";
  absl::Status status = WriteColumnarDataset({SmallTable()}, dir);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(dir)));
  ::chmod(locked.c_str(), 0755);
}

TEST(ColumnarStoreTest, NamesThePathWhenAFileIsInTheWay) {
  TempDir tmp;
  WriteTextFile(tmp.File("file"), "x");
  const std::string dir = tmp.File("file") + "/store";
  EXPECT_THAT(WriteColumnarDataset({SmallTable()}, dir),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(dir)));
}

TEST(ColumnarStoreTest, RejectsInconsistentTables) {
  TempDir tmp;
  TypedTable short_column = SmallTable();
  short_column.columns[1].ints.pop_back();
  EXPECT_THAT(WriteColumnarDataset({short_column}, tmp.File("a")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line_no")));
  TypedTable bad_code = SmallTable();
  bad_code.columns[0].codes[2] = 2;
  EXPECT_THAT(WriteColumnarDataset({bad_code}, tmp.File("b")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invoice_id")));
  TypedTable escaping = SmallTable();
  escaping.name = "../x";
  EXPECT_THAT(WriteColumnarDataset({escaping}, tmp.File("c")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // Nothing was written for any of them.
  EXPECT_EQ(::access(tmp.File("a").c_str(), F_OK), -1);
}

TEST(ColumnarStoreTest, DescribeReportsMissingAndMalformedManifests) {
  TempDir tmp;
  EXPECT_THAT(DescribeColumnarDataset(tmp.File("nope")).status(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(DescribeColumnarDataset(tmp.path()).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("manifest.json")));
  WriteTextFile(tmp.File("manifest.json"), "{\"format\": ");
  EXPECT_THAT(DescribeColumnarDataset(tmp.path()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("manifest.json")));
  WriteTextFile(tmp.File("manifest.json"),
                "{\"format\": \"vet-columnar\", \"format_version\": 2, "
                "\"tables\": []}");
  EXPECT_THAT(DescribeColumnarDataset(tmp.path()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("format_version")));
}

TEST(ColumnarStoreTest, DescribeNeedsAllFiveTables) {
  TempDir tmp;
  const std::string dir = tmp.File("store");
  ASSERT_THAT(WriteColumnarDataset({SmallTable()}, dir), IsOk());
  EXPECT_THAT(DescribeColumnarDataset(dir).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("clients")));
}

}  // namespace
}  // namespace vet::data
