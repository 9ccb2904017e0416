// Tests of the RFC 4180 reader (quoting, line breaks, BOM, line numbers,
// errors, buffer boundaries) and of the writer helpers.
#include "core/data/csv.h"

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/data/testing/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::data {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::vet::data::testing::ReadTextFile;
using ::vet::data::testing::TempDir;
using ::vet::data::testing::WriteTextFile;
using ::vet::testing::IsOk;
using ::vet::testing::IsOkAndHolds;
using ::vet::testing::StatusIs;

struct Record {
  int64_t line;
  std::vector<std::string> fields;
};

// Reads every record, or returns the first error.
absl::StatusOr<std::vector<Record>> ReadAll(CsvReader& reader) {
  std::vector<Record> records;
  while (true) {
    absl::StatusOr<bool> more = reader.Next();
    if (!more.ok()) return more.status();
    if (!*more) return records;
    Record r;
    r.line = reader.line();
    for (absl::string_view f : reader.fields()) r.fields.emplace_back(f);
    records.push_back(std::move(r));
  }
}

absl::StatusOr<std::vector<Record>> Parse(std::string content, CsvReader::Options options = {}) {
  auto reader = CsvReader::FromString(std::move(content), "t.csv", options);
  return ReadAll(*reader);
}

std::vector<std::vector<std::string>> FieldsOf(const std::vector<Record>& records) {
  std::vector<std::vector<std::string>> out;
  out.reserve(records.size());
  for (const Record& r : records) out.push_back(r.fields);
  return out;
}

std::vector<int64_t> LinesOf(const std::vector<Record>& records) {
  std::vector<int64_t> out;
  out.reserve(records.size());
  for (const Record& r : records) out.push_back(r.line);
  return out;
}

using Rows = std::vector<std::vector<std::string>>;

TEST(CsvReaderTest, SplitsSimpleRecords) {
  auto records = Parse("a,b,c\n1,2,3\n");
  ASSERT_THAT(records, IsOk());
  EXPECT_EQ(FieldsOf(*records), (Rows{{"a", "b", "c"}, {"1", "2", "3"}}));
  EXPECT_THAT(LinesOf(*records), ElementsAre(1, 2));
}

TEST(CsvReaderTest, ReadsQuotedFieldsWithCommasQuotesAndLineBreaks) {
  auto records = Parse("id,text\n1,\"a, b\"\n2,\"say \"\"hi\"\"\"\n3,\"two\nlines\"\n4,\"\"\n");
  ASSERT_THAT(records, IsOk());
  EXPECT_EQ(
      FieldsOf(*records),
      (Rows{{"id", "text"}, {"1", "a, b"}, {"2", "say \"hi\""}, {"3", "two\nlines"}, {"4", ""}}));
}

TEST(CsvReaderTest, LineNumbersAreWhereRecordsStartAfterMultiLineFields) {
  auto records = Parse("h\n\"x\ny\nz\"\nnext\n\"p\r\nq\"\nlast\n");
  ASSERT_THAT(records, IsOk());
  EXPECT_EQ(FieldsOf(*records), (Rows{{"h"}, {"x\ny\nz"}, {"next"}, {"p\r\nq"}, {"last"}}));
  EXPECT_THAT(LinesOf(*records), ElementsAre(1, 2, 5, 6, 8));
}

TEST(CsvReaderTest, AcceptsCrLfAndLoneCrLineEndings) {
  auto records = Parse("a,b\r\n1,2\r\n3,4\r5,6");
  ASSERT_THAT(records, IsOk());
  EXPECT_EQ(FieldsOf(*records), (Rows{{"a", "b"}, {"1", "2"}, {"3", "4"}, {"5", "6"}}));
  EXPECT_THAT(LinesOf(*records), ElementsAre(1, 2, 3, 4));
}

TEST(CsvReaderTest, SkipsUtf8ByteOrderMarkAtStart) {
  auto records = Parse(
      "\xEF\xBB\xBF"
      "client_id,name\nC1,x\n");
  ASSERT_THAT(records, IsOk());
  EXPECT_EQ(FieldsOf(*records), (Rows{{"client_id", "name"}, {"C1", "x"}}));
}

TEST(CsvReaderTest, KeepsNonBomMultibyteCharactersAtStart) {
  auto records = Parse("\xEF\xBD\xB1,b\n");  // a half-width katakana, not a BOM
  ASSERT_THAT(records, IsOk());
  EXPECT_EQ(FieldsOf(*records), (Rows{{"\xEF\xBD\xB1", "b"}}));
}

TEST(CsvReaderTest, KeepsEmptyFieldsIncludingTrailingOnes) {
  auto records = Parse(",a,,\n,\n");
  ASSERT_THAT(records, IsOk());
  EXPECT_EQ(FieldsOf(*records), (Rows{{"", "a", "", ""}, {"", ""}}));
}

TEST(CsvReaderTest, SkipsBlankLinesButCountsThem) {
  auto records = Parse("a\n\n\r\nb\n\n");
  ASSERT_THAT(records, IsOk());
  EXPECT_EQ(FieldsOf(*records), (Rows{{"a"}, {"b"}}));
  EXPECT_THAT(LinesOf(*records), ElementsAre(1, 4));
}

TEST(CsvReaderTest, ReadsLastRecordWithoutFinalNewline) {
  auto records = Parse("a,b\n1,\"2\"");
  ASSERT_THAT(records, IsOk());
  EXPECT_EQ(FieldsOf(*records), (Rows{{"a", "b"}, {"1", "2"}}));
}

TEST(CsvReaderTest, EmptyInputHasNoRecords) {
  EXPECT_THAT(Parse(""), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(Parse("\xEF\xBB\xBF"), IsOkAndHolds(IsEmpty()));
}

TEST(CsvReaderTest, KeepsQuoteInsideUnquotedFieldLiterally) {
  auto records = Parse("5\" nails,x\n");
  ASSERT_THAT(records, IsOk());
  EXPECT_EQ(FieldsOf(*records), (Rows{{"5\" nails", "x"}}));
}

TEST(CsvReaderTest, UnterminatedQuoteIsDataLossNamingFileAndStartLine) {
  auto records = Parse("a,b\n1,2\n3,\"never\nclosed\n");
  EXPECT_THAT(records, StatusIs(absl::StatusCode::kDataLoss,
                                HasSubstr("t.csv:3: unterminated quoted field")));
}

TEST(CsvReaderTest, CharacterAfterClosingQuoteIsDataLossWithLine) {
  auto records = Parse("a\n\"x\"y\n");
  EXPECT_THAT(records, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("t.csv:2:")));
}

TEST(CsvReaderTest, ErrorMessagesDoNotContainFieldValues) {
  auto records = Parse("a,b\nsecret-value,\"x\"oops\n");
  ASSERT_FALSE(records.ok());
  EXPECT_THAT(std::string(records.status().message()), ::testing::Not(HasSubstr("secret")));
  EXPECT_THAT(std::string(records.status().message()), ::testing::Not(HasSubstr("oops")));
}

TEST(CsvReaderTest, ErrorIsSticky) {
  auto reader = CsvReader::FromString("\"open", "t.csv");
  EXPECT_THAT(reader->Next(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(reader->Next(), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(CsvReaderTest, RecordOverTheLimitIsDataLoss) {
  CsvReader::Options options;
  // "short,ok": 7 field bytes and two fields' bookkeeping.
  options.max_record_bytes = 7 + 2 * CsvReader::kFieldOverheadBytes;
  EXPECT_THAT(Parse("short,ok\n", options), IsOk());
  EXPECT_THAT(Parse("ok\n" + std::string(100, 'x') + "\n", options),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("t.csv:2:")));
  EXPECT_THAT(Parse("ok\n\"" + std::string(100, 'x'), options),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("t.csv:2:")));
}

TEST(CsvReaderTest, EmptyFieldsCountTowardTheRecordLimit) {
  // A record of commas has no field bytes; its bookkeeping is what costs.
  CsvReader::Options options;
  options.max_record_bytes = 10 * CsvReader::kFieldOverheadBytes;
  EXPECT_THAT(Parse(std::string(9, ',') + "\n", options), IsOk());
  EXPECT_THAT(Parse("a\n" + std::string(10, ',') + "\n", options),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("t.csv:2:")));
}

TEST(CsvReaderTest, RecordWithTooManyFieldsIsRefusedAtTheFirstOneTooMany) {
  CsvReader::Options options;
  options.max_fields = 3;
  EXPECT_THAT(Parse("a,b,c\n,,\n", options), IsOk());
  auto reader = CsvReader::FromString("a,b,c\n,,,\nx,y,z\n", "t.csv", options);
  ASSERT_THAT(reader->Next(), IsOk());
  EXPECT_THAT(reader->Next(), StatusIs(absl::StatusCode::kDataLoss,
                                       AllOf(HasSubstr("t.csv:2:"), HasSubstr("more than 3 fields"),
                                             HasSubstr("at field 4"))));
  EXPECT_THAT(reader->Next(), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(CsvReaderTest, MillionCommaRecordIsRefusedWithLineAndCount) {
  // The default limit: refused after 4097 fields, not a million.
  const std::string bomb = "a,b\n1,2\n" + std::string(1000000, ',') + "\n";
  for (size_t buffer : {size_t{4}, size_t{64} << 10}) {
    TempDir dir;
    WriteTextFile(dir.File("bomb.csv"), bomb);
    CsvReader::Options options;
    options.buffer_size = buffer;
    auto reader = CsvReader::Open(dir.File("bomb.csv"), options);
    ASSERT_THAT(reader, IsOk());
    ASSERT_THAT((*reader)->Next(), IsOk());
    ASSERT_THAT((*reader)->Next(), IsOk());
    EXPECT_THAT((*reader)->Next(),
                StatusIs(absl::StatusCode::kDataLoss,
                         AllOf(HasSubstr("bomb.csv:3:"), HasSubstr("more than 4096 fields"),
                               HasSubstr("at field 4097"))));
  }
}

TEST(CsvReaderTest, LongQuotedFieldWithLineBreaksIsReadWithinTheLimit) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "line, with \"\"quotes\"\"\n";
  const std::string content = "id,notes\n1,\"" + text + "\"\n2,x\n";
  CsvReader::Options options;
  options.buffer_size = 4096;
  auto records = Parse(content, options);
  ASSERT_THAT(records, IsOk());
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ((*records)[1].fields[1].size(), 20000u * 20);
  EXPECT_EQ((*records)[2].line, 20003);
  // The same field past the record limit: refused naming where it starts.
  options.max_record_bytes = 100000;
  EXPECT_THAT(Parse(content, options),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("t.csv:2:"), HasSubstr("100000 bytes"))));
}

TEST(CsvReaderTest, FileReadsMatchStringReadsAtEveryBufferSize) {
  const std::string content =
      "\xEF\xBB\xBF"
      "id,text,n\r\n1,\"a, \"\"quoted\"\"\r\nvalue\",3\r\n\r\n2,plain,\r\n"
      "3,\"\",\"x\"\n4,last,9";
  TempDir dir;
  const std::string path = dir.path() + "/data.csv";
  WriteTextFile(path, content);
  auto expected = Parse(content);
  ASSERT_THAT(expected, IsOk());
  for (size_t size : {1, 4, 5, 7, 16, 64 * 1024}) {
    SCOPED_TRACE(absl::StrCat("buffer_size=", size));
    CsvReader::Options options;
    options.buffer_size = size;
    auto reader = CsvReader::Open(path, options);
    ASSERT_THAT(reader, IsOk());
    auto records = ReadAll(**reader);
    ASSERT_THAT(records, IsOk());
    EXPECT_EQ(FieldsOf(*records), FieldsOf(*expected));
    EXPECT_EQ(LinesOf(*records), LinesOf(*expected));
  }
}

TEST(CsvReaderTest, ErrorsInFilesNameThePath) {
  TempDir dir;
  const std::string path = dir.path() + "/broken.csv";
  WriteTextFile(path, "a\n\"b\n");
  auto reader = CsvReader::Open(path);
  ASSERT_THAT(reader, IsOk());
  EXPECT_THAT(ReadAll(**reader), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path + ":2:")));
}

TEST(CsvReaderTest, OpeningMissingFileIsNotFound) {
  TempDir dir;
  EXPECT_THAT(CsvReader::Open(dir.path() + "/nope.csv"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope.csv")));
}

TEST(CsvWriterTest, QuotesOnlyFieldsThatNeedIt) {
  std::string out;
  AppendCsvRecord(
      std::vector<std::string>{"plain", "a,b", "say \"hi\"", "two\nlines", "", "cr\r", " spaced "},
      &out);
  EXPECT_EQ(out, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",,\"cr\r\", spaced \n");
}

TEST(CsvWriterTest, WritesLoneEmptyFieldSoItIsNotABlankLine) {
  std::string out;
  AppendCsvRecord(std::vector<std::string>{""}, &out);
  EXPECT_EQ(out, "\"\"\n");
  auto records = Parse(out);
  ASSERT_THAT(records, IsOk());
  EXPECT_EQ(FieldsOf(*records), (Rows{{""}}));
}

TEST(CsvWriterTest, WrittenRecordsReadBackUnchanged) {
  const Rows rows = {{"id", "note"},
                     {"1", "comma, inside"},
                     {"2", "\"quoted\" start"},
                     {"3", "multi\r\nline\nfield"},
                     {"4", ""},
                     {"5", "\xC3\xA9t\xC3\xA9"}};
  std::string out;
  for (const auto& row : rows) AppendCsvRecord(row, &out);
  auto records = Parse(out);
  ASSERT_THAT(records, IsOk());
  EXPECT_EQ(FieldsOf(*records), rows);
}

TEST(WriteFileAtomicallyTest, ReplacesContentAndLeavesNoTemporaryFiles) {
  TempDir dir;
  const std::string path = dir.path() + "/t.csv";
  ASSERT_THAT(WriteFileAtomically(path, "old\n"), IsOk());
  ASSERT_THAT(WriteFileAtomically(path, "new\n"), IsOk());
  EXPECT_EQ(ReadTextFile(path), "new\n");
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1);
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                std::filesystem::perms::group_read | std::filesystem::perms::others_read);
}

TEST(WriteFileAtomicallyTest, MissingFolderIsInternalNamingPath) {
  TempDir dir;
  EXPECT_THAT(WriteFileAtomically(dir.path() + "/no/such/t.csv", "x"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("t.csv")));
}

}  // namespace
}  // namespace vet::data
