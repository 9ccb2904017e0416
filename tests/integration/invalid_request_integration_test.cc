// Requests no generated client would send, as raw bytes through the real
// server: invalid UTF-8 in a string field, at the top of a request or deep
// in an upload's messages, and bytes that are not a message at all. Each is
// INVALID_ARGUMENT naming the field (or what is wrong) before anything is
// stored, protobuf logs nothing for it, and the server keeps answering.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/common/log.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/testing/http_get.h"
#include "tests/testing/protobuf_wire.h"
#include "tests/testing/raw_grpc.h"
#include "tests/testing/status_matchers.h"
#include "vetanalytics/v1/analytics.grpc.pb.h"

namespace vet {
namespace {

namespace v1 = ::vetanalytics::v1;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::vet::testing::CallRawStream;
using ::vet::testing::Len;
using ::vet::testing::ProtobufLogCounter;
using ::vet::testing::StatusIs;

constexpr char kKey[] = "invalid-request-key";
constexpr char kMethod[] = "/vetanalytics.v1.AnalyticsService/";

class InvalidRequestIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetLogQuiet(true);
    state_dir_ =
        new std::string(absl::StrCat(::testing::TempDir(), "/vet-invalid-request-", getpid()));
    server::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.metrics_listen = "127.0.0.1:0";
    options.state_dir = *state_dir_;
    options.demo = true;
    options.demo_api_key = kKey;
    options.demo_invoice_lines = 2000;
    auto started = server::VetServer::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = started->release();
  }

  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    std::filesystem::remove_all(*state_dir_);
    delete state_dir_;
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::AnalyticsService::NewStub(channel_);
  }

  absl::StatusOr<std::string> Call(const std::string& method,
                                   const std::vector<std::string>& messages) {
    return CallRawStream(channel_, kMethod + method, messages, {{"x-api-key", kKey}});
  }

  int SessionCount() {
    grpc::ClientContext context;
    context.AddMetadata("x-api-key", kKey);
    v1::ListSessionsRequest request;
    request.set_practice_id("demo");
    request.set_page_size(100);
    v1::ListSessionsResponse response;
    grpc::Status status = stub_->ListSessions(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.sessions_size();
  }

  v1::DatasetDescription Describe() {
    grpc::ClientContext context;
    context.AddMetadata("x-api-key", kKey);
    v1::DescribeDatasetRequest request;
    request.set_practice_id("demo");
    v1::DatasetDescription out;
    grpc::Status status = stub_->DescribeDataset(&context, request, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return out;
  }

  static server::VetServer* server_;
  static std::string* state_dir_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AnalyticsService::Stub> stub_;
};

server::VetServer* InvalidRequestIntegrationTest::server_ = nullptr;
std::string* InvalidRequestIntegrationTest::state_dir_ = nullptr;

TEST_F(InvalidRequestIntegrationTest, AskWithInvalidUtf8IsRefusedNamingTheFieldAndStartsNoSession) {
  const int sessions = SessionCount();
  ProtobufLogCounter protobuf_log;
  // AskRequest: practice_id = 1, question = 2, session_id = 3.
  EXPECT_THAT(
      Call("Ask", {Len(1, "demo") + Len(2, "revenue \xFF last month")}),
      StatusIs(absl::StatusCode::kInvalidArgument, Eq("question is not valid UTF-8 (byte 8)")));
  EXPECT_THAT(
      Call("Ask", {Len(1, "demo") + Len(2, "revenue last month") + Len(3, "\xC3(")}),
      StatusIs(absl::StatusCode::kInvalidArgument, Eq("session_id is not valid UTF-8 (byte 0)")));
  EXPECT_EQ(protobuf_log.count(), 0);
  EXPECT_EQ(SessionCount(), sessions);
  // Counted as a refused question, under no practice.
  const std::string metrics = testing::HttpGet(server_->metrics_port(), "/metrics");
  EXPECT_THAT(metrics,
              HasSubstr("vet_questions_total{practice=\"-\",status=\"INVALID_ARGUMENT\"}"));
}

TEST_F(InvalidRequestIntegrationTest, UnaryRequestsWithInvalidUtf8AreRefusedNamingTheField) {
  ProtobufLogCounter protobuf_log;
  EXPECT_THAT(
      Call("GetBudget", {Len(1, "de\xFFmo")}),
      StatusIs(absl::StatusCode::kInvalidArgument, Eq("practice_id is not valid UTF-8 (byte 2)")));
  const int sessions = SessionCount();
  // GetSessionRequest: practice_id = 1, session_id = 2.
  EXPECT_THAT(
      Call("GetSession", {Len(1, "demo") + Len(2, "\xED\xA0\x80")}),
      StatusIs(absl::StatusCode::kInvalidArgument, Eq("session_id is not valid UTF-8 (byte 0)")));
  EXPECT_THAT(
      Call("EndSession", {Len(1, "demo") + Len(2, "abc\xC0\xAF")}),
      StatusIs(absl::StatusCode::kInvalidArgument, Eq("session_id is not valid UTF-8 (byte 3)")));
  // ListAuditRequest: practice_id = 1, page_token = 4.
  EXPECT_THAT(
      Call("ListAudit", {Len(1, "demo") + Len(4, "a1.\xFF")}),
      StatusIs(absl::StatusCode::kInvalidArgument, Eq("page_token is not valid UTF-8 (byte 3)")));
  EXPECT_EQ(SessionCount(), sessions);
  EXPECT_EQ(protobuf_log.count(), 0);
}

TEST_F(InvalidRequestIntegrationTest, AnUploadWithInvalidUtf8IsRefusedNamingMessageAndField) {
  const v1::DatasetDescription before = Describe();
  ProtobufLogCounter protobuf_log;
  // ImportChunk: header = 1 {practice_id = 1, mapping_json = 2},
  // table = 2 {table = 1, data = 2 (bytes)}, end = 3 {total_bytes = 1}.
  const std::string header = Len(1, Len(1, "demo"));
  const std::string rows = "id,first_name\n1,Zoë\n";
  EXPECT_THAT(Call("ImportDataset", {header, Len(2, Len(1, "clients") + Len(2, rows)),
                                     Len(2, Len(1, "patients\xFF") + Len(2, rows)),
                                     Len(3, std::string("\x08\x28", 2))}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("message 3 of the upload: table.table is not valid UTF-8 (byte 8); "
                          "nothing was imported")));
  EXPECT_THAT(Call("ImportDataset", {Len(1, Len(1, "demo") + Len(2, "{\"clients\": \"\xFE\"}"))}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("message 1 of the upload: header.mapping_json is not valid UTF-8 "
                          "(byte 13); nothing was imported")));
  // A table's data is bytes, the import's to judge, not the wire check's:
  // this upload is read to its end and refused by the import.
  EXPECT_THAT(
      Call("ImportDataset", {header, Len(2, Len(1, "clients") + Len(2, "id\n\xFF\n")),
                             Len(3, std::string("\x08\x05", 2))}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("a dataset needs all five tables")));
  EXPECT_EQ(protobuf_log.count(), 0);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(Describe(), before));
}

TEST_F(InvalidRequestIntegrationTest, BytesThatAreNotAMessageAreRefusedSayingWhy) {
  const int sessions = SessionCount();
  ProtobufLogCounter protobuf_log;
  // practice_id says 16 bytes; 4 follow.
  EXPECT_THAT(Call("GetBudget", {std::string("\x0a\x10") + "demo"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("request is not a valid GetBudgetRequest message: field 1 runs past "
                          "the end of its message (byte 0)")));
  // A group (wire type 3) after the practice id.
  EXPECT_THAT(Call("Ask", {Len(1, "demo") + "\x2b"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("request is not a valid AskRequest message: field 5 is a group, which "
                          "proto3 has not (byte 6)")));
  EXPECT_THAT(Call("ImportDataset", {Len(1, Len(1, "demo")), "\x12\x05\x0a\x03"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("message 2 of the upload: request is not a valid ImportChunk message: "
                          "field 2 runs past the end of its message (byte 0); nothing was "
                          "imported")));
  EXPECT_EQ(protobuf_log.count(), 0);
  EXPECT_EQ(SessionCount(), sessions);
}

TEST_F(InvalidRequestIntegrationTest, ValidRawRequestsAreAnsweredAndTheServerKeepsServing) {
  // An empty GetBudgetRequest is a valid message, refused for what it says.
  EXPECT_THAT(Call("GetBudget", {""}),
              StatusIs(absl::StatusCode::kInvalidArgument, Eq("practice_id is empty")));
  // Fields the server does not know are skipped, as protobuf does.
  absl::StatusOr<std::string> budget = Call("GetBudget", {Len(1, "demo") + Len(99, "\xFF")});
  ASSERT_TRUE(budget.ok()) << budget.status();
  v1::Budget parsed;
  ASSERT_TRUE(parsed.ParseFromString(*budget));
  EXPECT_EQ(parsed.practice_id(), "demo");
  EXPECT_EQ(parsed.limit_micros(), 10'000'000);
  EXPECT_EQ(Describe().tables_size(), 5);
}

TEST_F(InvalidRequestIntegrationTest, EveryMethodOfTheServiceIsServed) {
  // A method left out of RawAnalyticsService's list would fall back to the
  // generated base and answer UNIMPLEMENTED.
  const google::protobuf::ServiceDescriptor* service =
      v1::AskRequest::descriptor()->file()->FindServiceByName("AnalyticsService");
  ASSERT_NE(service, nullptr);
  for (int i = 0; i < service->method_count(); ++i) {
    SCOPED_TRACE(service->method(i)->name());
    // An empty request: valid bytes, refused for what it lacks.
    EXPECT_THAT(Call(service->method(i)->name(), {""}),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

}  // namespace
}  // namespace vet
