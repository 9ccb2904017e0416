// ImportDataset through the real server: a practice without data imports
// the demo exports and then describes exactly what the demo describes; a
// re-import is a no-op; a bad import is refused naming the problem and
// leaves the previous data serving; uploads past the limit are refused; and
// questions racing an import keep working.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "core/common/log.h"
#include "core/data/demo_generator.h"
#include "core/data/schema.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/testing/error_details.h"
#include "vetanalytics/v1/analytics.grpc.pb.h"

namespace vet {
namespace {

namespace v1 = ::vetanalytics::v1;
using ::testing::HasSubstr;

constexpr char kDemoKey[] = "demo-key-for-import";
constexpr char kNorthKey[] = "north-key-for-import";
constexpr int64_t kLimit = 8 << 20;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class ImportIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetLogQuiet(true);
    root_ = new std::string(absl::StrCat(::testing::TempDir(), "/vet-import-", getpid()));
    std::filesystem::create_directories(*root_);
    std::ofstream(*root_ + "/practices.json")
        << R"({"practices": [{"id": "north", "api_key": ")" << kNorthKey
        << R"(", "time_zone": "America/Chicago"}]})";
    // The demo's own exports, as a practice management system would give them.
    data::DemoOptions demo;
    // The server's demo ends today in America/Chicago; so must these exports.
    absl::TimeZone chicago;
    ASSERT_TRUE(absl::LoadTimeZone("America/Chicago", &chicago));
    demo.end_day = absl::ToCivilDay(absl::Now(), chicago);
    demo.invoice_lines = 3000;
    exports_ = new std::string(*root_ + "/exports");
    ASSERT_TRUE(data::WriteDemoDataset(demo, *exports_).ok());

    server::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.metrics_listen = "";
    options.state_dir = *root_ + "/state";
    options.practices_file = *root_ + "/practices.json";
    options.demo = true;
    options.demo_api_key = kDemoKey;
    options.demo_invoice_lines = 3000;
    options.max_import_bytes = kLimit;
    auto started = server::VetServer::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = started->release();
  }

  static void TearDownTestSuite() {
    delete server_;
    std::filesystem::remove_all(*root_);
    delete root_;
    delete exports_;
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    stub_ = v1::AnalyticsService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
  }

  // Uploads `tables` (name -> CSV bytes, in this order) in 64 KiB chunks.
  grpc::Status Import(const std::string& practice, const std::string& key,
                      const std::vector<std::pair<std::string, std::string>>& tables,
                      v1::ImportReport* report, const std::string& mapping = "",
                      bool send_end = true, int64_t end_offset = 0) {
    grpc::ClientContext context;
    context.AddMetadata("x-api-key", key);
    auto writer = stub_->ImportDataset(&context, report);
    v1::ImportChunk header;
    header.mutable_header()->set_practice_id(practice);
    header.mutable_header()->set_mapping_json(mapping);
    if (writer->Write(header)) {
      for (const auto& [table, bytes] : tables) {
        for (size_t at = 0; at < bytes.size(); at += 64 << 10) {
          v1::ImportChunk chunk;
          chunk.mutable_table()->set_table(table);
          chunk.mutable_table()->set_data(bytes.substr(at, 64 << 10));
          if (!writer->Write(chunk)) break;
        }
      }
    }
    v1::ImportChunk end;
    int64_t total = 0;
    for (const auto& [table, bytes] : tables) total += bytes.size();
    end.mutable_end()->set_total_bytes(total + end_offset);
    if (send_end) writer->Write(end);
    writer->WritesDone();
    return writer->Finish();
  }

  std::vector<std::pair<std::string, std::string>> DemoExports() {
    std::vector<std::pair<std::string, std::string>> tables;
    for (const data::TableSpec& t : data::CanonicalSchema()) {
      tables.emplace_back(t.name, ReadFile(absl::StrCat(*exports_, "/", t.name, ".csv")));
    }
    return tables;
  }

  v1::DatasetDescription Describe(const std::string& practice, const std::string& key,
                                  grpc::Status* status = nullptr) {
    grpc::ClientContext context;
    context.AddMetadata("x-api-key", key);
    v1::DescribeDatasetRequest request;
    request.set_practice_id(practice);
    v1::DatasetDescription out;
    grpc::Status s = stub_->DescribeDataset(&context, request, &out);
    if (status != nullptr) *status = s;
    return out;
  }

  grpc::Status Ask(const std::string& practice, const std::string& key, const std::string& question,
                   v1::FinalAnswer* answer = nullptr) {
    grpc::ClientContext context;
    context.AddMetadata("x-api-key", key);
    v1::AskRequest request;
    request.set_practice_id(practice);
    request.set_question(question);
    auto reader = stub_->Ask(&context, request);
    v1::AskEvent event;
    while (reader->Read(&event)) {
      if (event.has_final_answer() && answer != nullptr) *answer = event.final_answer();
    }
    return reader->Finish();
  }

  static server::VetServer* server_;
  static std::string* root_;
  static std::string* exports_;
  std::unique_ptr<v1::AnalyticsService::Stub> stub_;
};

server::VetServer* ImportIntegrationTest::server_ = nullptr;
std::string* ImportIntegrationTest::root_ = nullptr;
std::string* ImportIntegrationTest::exports_ = nullptr;

TEST_F(ImportIntegrationTest, ImportedDemoExportsDescribeLikeTheDemoAndAnswer) {
  // Before any import the practice has nothing to answer from.
  grpc::Status before = Ask("north", kNorthKey, "What was our revenue last month?");
  EXPECT_EQ(before.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(before.error_message(), HasSubstr("import its exports first"));

  v1::ImportReport report;
  grpc::Status imported = Import("north", kNorthKey, DemoExports(), &report);
  ASSERT_TRUE(imported.ok()) << imported.error_message();
  EXPECT_FALSE(report.unchanged());
  EXPECT_EQ(report.tables_size(), 5);
  EXPECT_EQ(report.dataset_version().size(), 32u);

  v1::DatasetDescription north = Describe("north", kNorthKey);
  v1::DatasetDescription demo = Describe("demo", kDemoKey);
  north.clear_practice_id();
  demo.clear_practice_id();
  google::protobuf::util::MessageDifferencer diff;
  std::string differences;
  diff.ReportDifferencesToString(&differences);
  EXPECT_TRUE(diff.Compare(demo, north)) << differences;

  v1::FinalAnswer answer;
  ASSERT_TRUE(Ask("north", kNorthKey, "What was our revenue last month?", &answer).ok());
  EXPECT_GT(answer.result().number(), 0);

  v1::ImportReport again;
  ASSERT_TRUE(Import("north", kNorthKey, DemoExports(), &again).ok());
  EXPECT_TRUE(again.unchanged());
  EXPECT_EQ(again.dataset_version(), report.dataset_version());
}

TEST_F(ImportIntegrationTest, BadImportIsRefusedAndThePreviousDataKeepsServing) {
  v1::ImportReport report;
  ASSERT_TRUE(Import("north", kNorthKey, DemoExports(), &report).ok());
  v1::DatasetDescription before = Describe("north", kNorthKey);

  auto tables = DemoExports();
  // An appointment whose patient does not exist.
  std::string& appointments = tables[3].second;
  ASSERT_EQ(tables[3].first, "appointments");
  size_t second_line = appointments.find('\n') + 1;
  size_t comma = appointments.find(',', second_line);
  appointments.insert(comma + 1, "ghost-");
  v1::ImportReport refused;
  grpc::Status status = Import("north", kNorthKey, tables, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("appointments"));
  EXPECT_THAT(status.error_message(), HasSubstr("line 2"));
  EXPECT_THAT(status.error_message(), HasSubstr("patient_id"));

  google::protobuf::util::MessageDifferencer diff;
  EXPECT_TRUE(diff.Compare(before, Describe("north", kNorthKey)));
  EXPECT_TRUE(Ask("north", kNorthKey, "How many appointments did we have last month?").ok());
}

// Many bad lines: every problem listed comes whole, in the message (whole
// lines, never one cut) and as a violation naming file, line and column; a
// client with gRPC's default limits receives it all.
TEST_F(ImportIntegrationTest, EveryProblemOfARefusedImportIsADetailAProgramCanRead) {
  auto tables = DemoExports();
  std::string& clients = tables[0].second;
  ASSERT_EQ(tables[0].first, "clients");
  // 30 clients whose created_on is not a date: lines 2..31.
  std::vector<std::string> lines = absl::StrSplit(clients, '\n');
  const std::vector<std::string> header = absl::StrSplit(lines[0], ',');
  const size_t created = std::find(header.begin(), header.end(), "created_on") - header.begin();
  ASSERT_LT(created, header.size());
  for (size_t i = 1; i <= 30; ++i) {
    std::vector<std::string> fields = absl::StrSplit(lines[i], ',');
    fields[created] = absl::StrCat("not-a-date-", i, std::string(40, 'x'));
    lines[i] = absl::StrJoin(fields, ",");
  }
  clients = absl::StrJoin(lines, "\n");
  v1::ImportReport refused;
  grpc::Status status = Import("north", kNorthKey, tables, &refused);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("import refused: 30 problems"));
  // Whole lines only: each listed line ends with its message.
  for (absl::string_view line : absl::StrSplit(status.error_message(), '\n')) {
    if (absl::StartsWith(line, "clients line ")) {
      EXPECT_THAT(line, HasSubstr(": ")) << line;
    }
  }
  const testing::ReceivedDetails details = testing::DetailsOf(status);
  ASSERT_TRUE(details.parsed);
  EXPECT_EQ(details.reason, "IMPORT_INVALID");
  EXPECT_EQ(details.domain, "vetanalytics.v1");
  EXPECT_EQ(details.metadata.at("problems"), "30");
  // The validator keeps the first 20; all of them arrive.
  ASSERT_EQ(details.violations.size(), 20u) << details.violations.back().second;
  for (size_t i = 0; i < details.violations.size(); ++i) {
    EXPECT_EQ(details.violations[i].first, absl::StrCat("clients.csv:", i + 2, ":created_on"));
    EXPECT_THAT(details.violations[i].second, HasSubstr("not-a-date-"));
  }
  EXPECT_EQ(details.retry_seconds, -1) << "retrying the same upload cannot help";
}

TEST_F(ImportIntegrationTest, ErrorsCarryTheReasonAProgramSwitchesOn) {
  grpc::Status wrong_key = Ask("north", "not-a-key", "How many clients?");
  EXPECT_EQ(wrong_key.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(testing::DetailsOf(wrong_key).reason, "API_KEY_INVALID");
  grpc::Status foreign = Ask("demo", kNorthKey, "How many clients?");
  EXPECT_EQ(foreign.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(testing::DetailsOf(foreign).reason, "PRACTICE_NOT_ALLOWED");
  grpc::Status empty = Ask("demo", kDemoKey, "   ");
  EXPECT_EQ(empty.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  testing::ReceivedDetails d = testing::DetailsOf(empty);
  EXPECT_EQ(d.reason, "INVALID_REQUEST");
  ASSERT_EQ(d.violations.size(), 1u);
  EXPECT_EQ(d.violations[0].first, "question");
  grpc::Status unknown = Ask("demo", kDemoKey, "What is the airspeed of an unladen swallow?");
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(testing::DetailsOf(unknown).reason, "NOT_UNDERSTOOD") << unknown.error_message();
}

// Sessions as a record: a refused first question leaves none; an ended one
// stays readable; ending it again is OK; the list summarises each.
TEST_F(ImportIntegrationTest, SessionsAreARecordAndARefusedQuestionLeavesNone) {
  auto list = [&] {
    grpc::ClientContext context;
    context.AddMetadata("x-api-key", kDemoKey);
    v1::ListSessionsRequest request;
    request.set_practice_id("demo");
    v1::ListSessionsResponse response;
    EXPECT_TRUE(stub_->ListSessions(&context, request, &response).ok());
    return response;
  };
  const int before = list().sessions_size();
  EXPECT_EQ(Ask("demo", kDemoKey, "What is the airspeed of an unladen swallow?").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(list().sessions_size(), before) << "a refused question made a session";

  // One answered question, then the session is ended, twice.
  std::string session_id;
  {
    grpc::ClientContext context;
    context.AddMetadata("x-api-key", kDemoKey);
    v1::AskRequest request;
    request.set_practice_id("demo");
    request.set_question("How many appointments did we have last month?");
    auto reader = stub_->Ask(&context, request);
    v1::AskEvent event;
    while (reader->Read(&event)) {
      if (event.has_session_started()) session_id = event.session_started().session_id();
    }
    ASSERT_TRUE(reader->Finish().ok());
  }
  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext context;
    context.AddMetadata("x-api-key", kDemoKey);
    v1::EndSessionRequest request;
    request.set_practice_id("demo");
    request.set_session_id(session_id);
    v1::EndSessionResponse response;
    grpc::Status ended = stub_->EndSession(&context, request, &response);
    EXPECT_TRUE(ended.ok()) << "EndSession #" << i + 1 << ": " << ended.error_message();
  }
  grpc::ClientContext context;
  context.AddMetadata("x-api-key", kDemoKey);
  v1::GetSessionRequest get;
  get.set_practice_id("demo");
  get.set_session_id(session_id);
  v1::Session session;
  grpc::Status got = stub_->GetSession(&context, get, &session);
  ASSERT_TRUE(got.ok()) << got.error_message();
  EXPECT_TRUE(session.ended());
  ASSERT_EQ(session.turns_size(), 1);
  EXPECT_EQ(session.turn_count(), 1);
  const v1::ListSessionsResponse listed = list();
  ASSERT_EQ(listed.sessions_size(), before + 1);
  const v1::Session& summary = listed.sessions(0);
  EXPECT_EQ(summary.session_id(), session_id);
  EXPECT_TRUE(summary.ended());
  EXPECT_EQ(summary.turn_count(), 1);
  EXPECT_EQ(summary.turns_size(), 0) << "the list summarises; GetSession has the turns";
  EXPECT_EQ(summary.first_question(), "How many appointments did we have last month?");
  EXPECT_TRUE(summary.has_last_active_at());
  // A follow-up on the ended session is refused.
  grpc::ClientContext follow_context;
  follow_context.AddMetadata("x-api-key", kDemoKey);
  v1::AskRequest follow;
  follow.set_practice_id("demo");
  follow.set_session_id(session_id);
  follow.set_question("and the month before?");
  auto reader = stub_->Ask(&follow_context, follow);
  v1::AskEvent event;
  while (reader->Read(&event)) {
  }
  grpc::Status refused = reader->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(testing::DetailsOf(refused).reason, "SESSION_NOT_FOUND");
}

TEST_F(ImportIntegrationTest, RefusesBadStreamsWithStatusesThatSayWhy) {
  v1::ImportReport report;
  grpc::Status missing = Import("north", kNorthKey, {DemoExports()[0]}, &report);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(missing.error_message(), HasSubstr("missing patients.csv"));

  grpc::Status unknown_table = Import("north", kNorthKey, {{"pets", "id\n1\n"}}, &report);
  EXPECT_EQ(unknown_table.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(unknown_table.error_message(), HasSubstr("unknown table 'pets'"));

  grpc::Status too_big =
      Import("north", kNorthKey, {{"clients", std::string(kLimit + 1, 'x')}}, &report);
  EXPECT_EQ(too_big.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(too_big.error_message(), HasSubstr("--max_import_bytes"));

  // A stream cut short (no end message, or one that does not match what
  // arrived) imports nothing.
  grpc::Status cut_short = Import("north", kNorthKey, DemoExports(), &report, "",
                                  /*send_end=*/false);
  EXPECT_EQ(cut_short.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(cut_short.error_message(), HasSubstr("ended without its end message"));
  grpc::Status mismatch = Import("north", kNorthKey, DemoExports(), &report, "",
                                 /*send_end=*/true, /*end_offset=*/1);
  EXPECT_EQ(mismatch.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(mismatch.error_message(), HasSubstr("bytes"));
  grpc::Status unnamed = Import("north", kNorthKey, {{"", "x"}}, &report);
  EXPECT_EQ(unnamed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  grpc::Status nobody = Import("elsewhere", kNorthKey, DemoExports(), &report);
  // An unknown practice gets the same answer as another practice's.
  EXPECT_EQ(nobody.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status wrong_key = Import("north", kDemoKey, DemoExports(), &report);
  EXPECT_EQ(wrong_key.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status bad_mapping = Import("north", kNorthKey, DemoExports(), &report, "{not json");
  EXPECT_EQ(bad_mapping.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ImportIntegrationTest, QuestionsRacingAnImportAllGetAnAnswer) {
  v1::ImportReport report;
  ASSERT_TRUE(Import("north", kNorthKey, DemoExports(), &report).ok());
  auto smaller = DemoExports();
  // A different dataset: the last invoice lines dropped.
  std::string& lines = smaller[4].second;
  lines.resize(lines.rfind('\n', lines.size() - 2) + 1);
  std::vector<grpc::Status> statuses(4);
  std::vector<std::thread> askers;
  for (size_t i = 0; i < statuses.size(); ++i) {
    askers.emplace_back(
        [&, i] { statuses[i] = Ask("north", kNorthKey, "What was our revenue this year?"); });
  }
  v1::ImportReport swapped;
  grpc::Status imported = Import("north", kNorthKey, smaller, &swapped);
  for (auto& t : askers) t.join();
  EXPECT_TRUE(imported.ok()) << imported.error_message();
  EXPECT_NE(swapped.dataset_version(), report.dataset_version());
  for (const grpc::Status& s : statuses) EXPECT_TRUE(s.ok()) << s.error_message();
}

}  // namespace
}  // namespace vet
