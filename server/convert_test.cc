// Conversion of Ask events to messages, and the guard that keeps every one
// of them within kMaxAskEventBytes whatever core hands over.
#include "server/convert.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "core/common/log.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "server/event_bound.h"

namespace vet::server {
namespace {

namespace v1 = ::vetanalytics::v1;
using ::testing::HasSubstr;

pipeline::AskEvent Event(int64_t seq, pipeline::EventPayload payload) {
  pipeline::AskEvent event;
  event.seq = seq;
  event.timestamp = absl::FromUnixSeconds(1790000000);
  event.payload = std::move(payload);
  return event;
}

v1::AskEvent Convert(const pipeline::AskEvent& event) {
  v1::AskEvent out;
  ToProto(event, &out);
  return out;
}

// Issue 12: a thousand rows of 7.5 KB strings.
ResultValue LongTextTable(int rows, size_t cell_bytes) {
  ResultValue value;
  value.kind = ResultValue::Kind::kTable;
  value.table.columns = {{"n", ColumnType::kInteger}, {"note", ColumnType::kText}};
  for (int i = 0; i < rows; ++i) {
    value.table.rows.push_back({Cell(int64_t{i}), Cell(std::string(cell_bytes, 'x'))});
  }
  value.table.total_rows = rows;
  return value;
}

class ConvertTest : public ::testing::Test {
 protected:
  // The guard logs a warning each time it has to act.
  void SetUp() override { SetLogQuiet(true); }
};

TEST_F(ConvertTest, EncodedRowBytesIsWhatProtobufEncodes) {
  const std::vector<std::vector<Cell>> rows = {
      {},
      {Cell(absl::monostate())},
      {Cell(0.0), Cell(-1.5e300), Cell(int64_t{0}), Cell(int64_t{127}), Cell(int64_t{128})},
      {Cell(int64_t{-1}), Cell(int64_t{1} << 62), Cell(true), Cell(false)},
      {Cell(std::string()), Cell(std::string(127, 'a')), Cell(std::string(128, 'b'))},
      {Cell(std::string(16384, 'c')), Cell(std::string(3 << 20, 'd')), Cell(absl::monostate())},
  };
  for (const auto& row : rows) {
    ResultValue value;
    value.kind = ResultValue::Kind::kTable;
    value.table.rows = {row};
    v1::Result result;
    ToProto(value, &result);
    v1::Table rows_only;
    *rows_only.add_rows() = result.table().rows(0);
    EXPECT_EQ(static_cast<int64_t>(rows_only.ByteSizeLong()), EncodedRowBytes(row));
  }
}

TEST_F(ConvertTest, ATableSaysWhetherItIsWholeAndWhereTheRestIs) {
  ResultValue whole = LongTextTable(/*rows=*/3, /*cell_bytes=*/10);
  v1::Result result;
  ToProto(whole, &result);
  EXPECT_FALSE(result.table().truncated());
  EXPECT_EQ(result.table().included_rows(), 3);
  EXPECT_EQ(result.table().total_rows(), 3);
  EXPECT_EQ(result.table().csv_artifact(), "");

  ResultValue cut = LongTextTable(/*rows=*/3, /*cell_bytes=*/10);
  cut.table.total_rows = 48213;
  cut.table.cut_cells = 2;
  cut.table.csv_artifact = "result.csv";
  cut.table.csv_rows = 48213;
  result.Clear();  // ToProto adds to what is there
  ToProto(cut, &result);
  EXPECT_TRUE(result.table().truncated());
  EXPECT_EQ(result.table().included_rows(), 3);
  EXPECT_EQ(result.table().total_rows(), 48213);
  EXPECT_EQ(result.table().cut_cells(), 2);
  EXPECT_EQ(result.table().csv_artifact(), "result.csv");
  EXPECT_EQ(result.table().csv_rows(), 48213);
}

TEST_F(ConvertTest, AnArtifactPartCarriesItsOffsetAndTotal) {
  v1::AskEvent out =
      Convert(Event(7, pipeline::ArtifactEvent{"result.csv", "text/csv", "abc", /*offset=*/786432,
                                               /*total_bytes=*/786435}));
  EXPECT_EQ(out.seq(), 7);
  EXPECT_EQ(out.artifact().name(), "result.csv");
  EXPECT_EQ(out.artifact().data(), "abc");
  EXPECT_EQ(out.artifact().offset(), 786432);
  EXPECT_EQ(out.artifact().total_bytes(), 786435);
}

TEST_F(ConvertTest, EventsUnderTheBoundAreLeftAsTheyAre) {
  pipeline::FinalAnswerEvent answer;
  answer.text = "Fine.";
  answer.result = LongTextTable(/*rows=*/50, /*cell_bytes=*/1000);
  answer.code = "result = 1";
  v1::AskEvent out = Convert(Event(9, answer));
  const v1::AskEvent converted = out;
  EXPECT_FALSE(BoundAskEvent(out));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(out, converted));
  EXPECT_EQ(out.final_answer().result().table().rows_size(), 50);
  EXPECT_FALSE(out.final_answer().result().table().truncated());
}

// The guard, whatever core hands over.

TEST_F(ConvertTest, AnAnswerWithATableTooBigIsCutToItsFirstRows) {
  pipeline::FinalAnswerEvent answer;
  answer.text = "Here are the notes.";
  answer.result = LongTextTable(/*rows=*/1000, /*cell_bytes=*/7500);  // not fitted by core
  answer.result.table.csv_artifact = "result.csv";
  answer.result.table.csv_rows = 1000;
  answer.code = "result = notes";
  v1::AskEvent out = Convert(Event(12, answer));
  EXPECT_LE(out.ByteSizeLong(), kMaxAskEventBytes);
  EXPECT_EQ(out.seq(), 12);
  ASSERT_TRUE(out.has_final_answer());
  EXPECT_EQ(out.final_answer().text(), "Here are the notes.");
  EXPECT_EQ(out.final_answer().code(), "result = notes");
  const v1::Table& table = out.final_answer().result().table();
  EXPECT_TRUE(table.truncated());
  EXPECT_EQ(table.total_rows(), 1000);
  EXPECT_GT(table.rows_size(), 100);
  EXPECT_LT(table.rows_size(), 140);
  EXPECT_EQ(table.included_rows(), table.rows_size());
  EXPECT_EQ(table.rows(0).cells(0).integer(), 0);
  EXPECT_EQ(table.rows(table.rows_size() - 1).cells(0).integer(), table.rows_size() - 1);
  EXPECT_EQ(table.csv_artifact(), "result.csv");
  // The bound was used, not wasted: one more row would not fit.
  EXPECT_GT(out.ByteSizeLong() + 7600, kMaxAskEventBytes);
}

TEST_F(ConvertTest, AnAnswerKeepsItsSentenceWhenEverythingElseIsHuge) {
  pipeline::FinalAnswerEvent answer;
  answer.text = std::string(2 << 20, 's');
  answer.code = std::string(3 << 20, 'c');
  answer.result.kind = ResultValue::Kind::kText;
  answer.result.text = std::string(5 << 20, 't');
  answer.total_cost_micros = 1234;
  v1::AskEvent out = Convert(Event(3, answer));
  EXPECT_LE(out.ByteSizeLong(), kMaxAskEventBytes);
  ASSERT_TRUE(out.has_final_answer());
  EXPECT_TRUE(absl::EndsWith(out.final_answer().text(), "\u2026"));
  EXPECT_TRUE(absl::EndsWith(out.final_answer().result().text(), "\u2026"));
  EXPECT_EQ(out.final_answer().total_cost_micros(), 1234);
}

TEST_F(ConvertTest, AnAnswerWhoseColumnsAloneAreTooBigLosesTheTableNotTheAnswer) {
  pipeline::FinalAnswerEvent answer;
  answer.text = "Wide.";
  answer.result.kind = ResultValue::Kind::kTable;
  for (int i = 0; i < 1000; ++i) {
    answer.result.table.columns.push_back(
        {std::string(2000, 'n') + std::to_string(i), ColumnType::kText});
  }
  answer.result.table.rows.push_back(std::vector<Cell>(1000, Cell(std::string("v"))));
  answer.result.table.total_rows = 1;
  v1::AskEvent out = Convert(Event(4, answer));
  EXPECT_LE(out.ByteSizeLong(), kMaxAskEventBytes);
  ASSERT_TRUE(out.has_final_answer());
  EXPECT_EQ(out.final_answer().text(), "Wide.");
  EXPECT_TRUE(out.final_answer().result().table().truncated());
  EXPECT_EQ(out.final_answer().result().table().included_rows(), 0);
}

TEST_F(ConvertTest, AnArtifactPartTooBigIsReplacedByANote) {
  v1::AskEvent out = Convert(
      Event(5, pipeline::ArtifactEvent{"chart_1.png", "image/png", std::string(3 << 20, 'p'),
                                       /*offset=*/0, /*total_bytes=*/3 << 20}));
  EXPECT_LE(out.ByteSizeLong(), kMaxAskEventBytes);
  EXPECT_EQ(out.seq(), 5);
  EXPECT_GT(out.timestamp().seconds(), 0);
  ASSERT_TRUE(out.has_execution_output());
  EXPECT_EQ(out.execution_output().stream(), v1::ExecutionOutput::STDERR);
  EXPECT_THAT(out.execution_output().text(),
              HasSubstr("left out an event (artifact chart_1.png (bytes 0 to 3145728 of "
                        "3145728)) of 3145"));
}

TEST_F(ConvertTest, TextEventsTooBigAreCut) {
  std::vector<pipeline::EventPayload> payloads = {
      pipeline::ExecutionOutputEvent{sandbox::OutputStream::kStdout, std::string(5 << 20, 'o')},
      pipeline::CodeDeltaEvent{1, std::string(2 << 20, 'd')},
      pipeline::CodeGeneratedEvent{1, std::string(2 << 20, 'c'), "model", "m", 1, 2, 3,
                                   std::string(1 << 20, 's')},
      pipeline::RetryEvent{2, std::string(2 << 20, 'r')},
  };
  for (const pipeline::EventPayload& payload : payloads) {
    const v1::AskEvent original = Convert(Event(8, payload));
    EXPECT_LE(original.ByteSizeLong(), kMaxAskEventBytes);
    EXPECT_EQ(original.seq(), 8);
    EXPECT_FALSE(original.has_execution_output() &&
                 absl::StartsWith(original.execution_output().text(), "note:"))
        << "cut, not replaced";
    EXPECT_NE(original.event_case(), v1::AskEvent::EVENT_NOT_SET);
  }
  const v1::AskEvent output = Convert(Event(8, payloads[0]));
  EXPECT_EQ(output.execution_output().stream(), v1::ExecutionOutput::STDOUT);
  EXPECT_TRUE(absl::EndsWith(output.execution_output().text(), "\u2026"));
}

TEST(AuditConvertTest, AnEntryKeepsEveryFieldAndNamesItsStatus) {
  audit::AuditEntry e;
  e.id = "0011223344556677";
  e.at = absl::FromUnixMicros(1796083200'123456);
  e.practice_id = "clinic";
  e.key_id = "0123456789ab";
  e.rpc = "Ask";
  e.session_id = "s";
  e.question_id = "q";
  e.generator = "model";
  e.model = "m";
  e.prompt_tokens = 10;
  e.completion_tokens = 2;
  e.cost_micros = 33;
  e.status = absl::StatusCode::kPermissionDenied;
  e.duration = absl::Microseconds(1'500'900);
  e.question = "text";
  e.question_sha256 = "abc";
  e.suppressed_refusals = 4;
  vetanalytics::v1::AuditEntry out;
  ToProto(e, &out);
  EXPECT_EQ(out.id(), e.id);
  EXPECT_EQ(out.time().seconds(), 1796083200);
  EXPECT_EQ(out.time().nanos(), 123456000);
  EXPECT_EQ(out.practice_id(), "clinic");
  EXPECT_EQ(out.key_id(), "0123456789ab");
  EXPECT_EQ(out.rpc(), "Ask");
  EXPECT_EQ(out.session_id(), "s");
  EXPECT_EQ(out.question_id(), "q");
  EXPECT_EQ(out.generator(), "model");
  EXPECT_EQ(out.model(), "m");
  EXPECT_EQ(out.prompt_tokens(), 10);
  EXPECT_EQ(out.completion_tokens(), 2);
  EXPECT_EQ(out.cost_micros(), 33);
  EXPECT_EQ(out.status(), "PERMISSION_DENIED");
  EXPECT_EQ(out.duration_ms(), 1500);
  EXPECT_EQ(out.question(), "text");
  EXPECT_EQ(out.question_sha256(), "abc");
  EXPECT_EQ(out.suppressed_refusals(), 4);
}

TEST(AuditConvertTest, ARequestTimestampOutsideTheProtoRangeIsRefusedNamingTheField) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(1796083200);
  ts.set_nanos(5);
  auto t = FromProto(ts, "since");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, absl::FromUnixSeconds(1796083200) + absl::Nanoseconds(5));
  for (auto [seconds, nanos] : std::vector<std::pair<int64_t, int32_t>>{
           {253402300800, 0}, {-62135596801, 0}, {0, -1}, {0, 1'000'000'000}}) {
    ts.set_seconds(seconds);
    ts.set_nanos(nanos);
    absl::StatusOr<absl::Time> bad = FromProto(ts, "since");
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << seconds;
    EXPECT_THAT(std::string(bad.status().message()), HasSubstr("since is not a valid timestamp"));
  }
}

}  // namespace
}  // namespace vet::server
