// The real server in-process on a free port, with the real planner, sandbox
// and demo data, driven over a real channel: the event stream, the status
// codes for bad input, cancellation, deadlines, the other RPCs, health,
// reflection and metrics.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/common/log.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/testing/http_get.h"
#include "tests/testing/raw_grpc.h"
#include "vetanalytics/v1/analytics.grpc.pb.h"

namespace vet {
namespace {

namespace v1 = ::vetanalytics::v1;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kKey[] = "integration-key";

struct AskOutcome {
  std::vector<v1::AskEvent> events;
  grpc::Status status;

  template <typename Pred>
  const v1::AskEvent* Find(Pred pred) const {
    for (const auto& e : events) {
      if (pred(e)) return &e;
    }
    return nullptr;
  }
  const v1::FinalAnswer* final_answer() const {
    const v1::AskEvent* e = Find([](const v1::AskEvent& e) { return e.has_final_answer(); });
    return e ? &e->final_answer() : nullptr;
  }
};

class AskIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetLogQuiet(true);
    state_dir_ = new std::string(absl::StrCat(::testing::TempDir(), "/vet-integration-", getpid()));
    server::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.metrics_listen = "127.0.0.1:0";
    options.state_dir = *state_dir_;
    options.demo = true;
    options.demo_api_key = kKey;
    options.demo_invoice_lines = 20000;
    options.worker_threads = 4;
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

  static void Authenticate(grpc::ClientContext* context, const std::string& key = kKey) {
    if (!key.empty()) context->AddMetadata("x-api-key", key);
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  }

  AskOutcome Ask(const std::string& question, const std::string& session_id = "",
                 const std::string& as_of = "2026-10-26", const std::string& practice = "demo",
                 const std::string& key = kKey) {
    grpc::ClientContext context;
    Authenticate(&context, key);
    v1::AskRequest request;
    request.set_practice_id(practice);
    request.set_question(question);
    request.set_session_id(session_id);
    request.set_as_of_date(as_of);
    AskOutcome outcome;
    auto reader = stub_->Ask(&context, request);
    v1::AskEvent event;
    while (reader->Read(&event)) outcome.events.push_back(event);
    outcome.status = reader->Finish();
    return outcome;
  }

  static server::VetServer* server_;
  static std::string* state_dir_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AnalyticsService::Stub> stub_;
};

server::VetServer* AskIntegrationTest::server_ = nullptr;
std::string* AskIntegrationTest::state_dir_ = nullptr;

TEST_F(AskIntegrationTest, RevenueTrendStreamsEveryStageAndAnswersWithATable) {
  AskOutcome out = Ask("What was our revenue trend last quarter?");
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_GE(out.events.size(), 4u);
  for (size_t i = 0; i < out.events.size(); ++i) {
    EXPECT_EQ(out.events[i].seq(), static_cast<int64_t>(i + 1));
    EXPECT_GT(out.events[i].timestamp().seconds(), 0);
  }
  EXPECT_TRUE(out.events.front().has_session_started());
  EXPECT_TRUE(out.events[1].has_budget_check());
  EXPECT_TRUE(out.events[1].budget_check().allowed());
  EXPECT_EQ(out.events[1].budget_check().model(), "planner");
  EXPECT_TRUE(out.events[2].has_code_generated());
  EXPECT_EQ(out.events[2].code_generated().generator(), "planner");
  EXPECT_TRUE(out.events.back().has_final_answer());

  const v1::AskEvent* chart = out.Find([](const v1::AskEvent& e) { return e.has_artifact(); });
  ASSERT_NE(chart, nullptr) << "a trend comes with a chart";
  EXPECT_EQ(chart->artifact().mime_type(), "image/png");
  EXPECT_EQ(chart->artifact().data().substr(0, 4), "\x89PNG");

  const v1::FinalAnswer* answer = out.final_answer();
  EXPECT_FALSE(answer->text().empty());
  EXPECT_EQ(answer->code(), out.events[2].code_generated().code());
  EXPECT_EQ(answer->total_cost_micros(), 0);
  ASSERT_TRUE(answer->result().has_table()) << answer->DebugString();
  const v1::Table& table = answer->result().table();
  EXPECT_EQ(table.rows_size(), 3) << "July, August and September";
  ASSERT_GE(table.columns_size(), 2);
  for (const v1::Row& row : table.rows()) {
    ASSERT_EQ(row.cells_size(), table.columns_size());
    EXPECT_GT(row.cells(1).number(), 0) << "the demo clinic has revenue every month";
  }
}

// Issue 14: every planner answer says how it was computed, its table's
// columns carry their own units and months are typed as months; an as-of
// date past the data is answered with a warning saying so.
TEST_F(AskIntegrationTest, AnswersAreExplainedAndTheirColumnsTyped) {
  AskOutcome out = Ask("top 3 species by revenue last quarter");
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  const v1::FinalAnswer* answer = out.final_answer();
  ASSERT_NE(answer, nullptr);
  const v1::Explanation& e = answer->explanation();
  EXPECT_EQ(e.metric(), "Revenue");
  EXPECT_EQ(e.definition(), "sum of invoice_lines.amount by invoiced_on");
  EXPECT_EQ(e.period().start_date(), "2026-07-01");
  EXPECT_EQ(e.period().end_date(), "2026-09-30");
  EXPECT_THAT(e.period().text(), HasSubstr("last quarter"));
  EXPECT_THAT(e.counted(), ::testing::MatchesRegex("[0-9,]+ invoice lines"));
  ASSERT_EQ(e.excluded_size(), 1) << e.DebugString();
  EXPECT_THAT(e.excluded(0),
              ::testing::MatchesRegex("[0-9,]+ invoice lines without a species, not ranked"));
  EXPECT_TRUE(e.warnings().empty()) << e.DebugString();
  ASSERT_TRUE(answer->result().has_table());
  const v1::Table& table = answer->result().table();
  ASSERT_EQ(table.columns_size(), 2);
  EXPECT_EQ(table.columns(1).name(), "revenue");
  EXPECT_EQ(table.columns(1).unit(), "USD");

  AskOutcome by_month = Ask("revenue by month last quarter");
  ASSERT_TRUE(by_month.status.ok()) << by_month.status.error_message();
  const v1::Table& months = by_month.final_answer()->result().table();
  ASSERT_EQ(months.columns_size(), 2);
  EXPECT_EQ(months.columns(0).type(), v1::Column::MONTH);
  ASSERT_EQ(months.rows_size(), 3);
  EXPECT_EQ(months.rows(0).cells(0).text(), "2026-07");

  AskOutcome future = Ask("revenue last month", "", "2031-03-01");
  ASSERT_TRUE(future.status.ok()) << future.status.error_message();
  const v1::Explanation& warned = future.final_answer()->explanation();
  ASSERT_EQ(warned.warnings_size(), 1) << warned.DebugString();
  EXPECT_THAT(warned.warnings(0),
              HasSubstr("The as-of date 2031-03-01 is after the data's last day"));
}

// A staff name that matches no one is declined from the data, never
// answered with zero, and the decline lists who there is.
TEST_F(AskIntegrationTest, AStaffNameThatMatchesNoOneIsDeclinedNamingTheStaff) {
  AskOutcome out = Ask("revenue for Dr. Zhivago last month");
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(
      out.status.error_message(),
      AllOf(HasSubstr("No staff member's name contains 'Zhivago'"), HasSubstr("The staff are: ")));
  EXPECT_EQ(out.final_answer(), nullptr);
}

TEST_F(AskIntegrationTest, FollowUpContinuesTheSessionAndGetSessionShowsTurns) {
  AskOutcome first = Ask("What was our revenue last month?");
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  std::string session_id = first.events[0].session_started().session_id();
  EXPECT_EQ(session_id.size(), 32u);
  EXPECT_FALSE(first.events[0].session_started().resumed());

  AskOutcome second = Ask("How many appointments did we have last month?", session_id);
  ASSERT_TRUE(second.status.ok()) << second.status.error_message();
  EXPECT_TRUE(second.events[0].session_started().resumed());
  EXPECT_EQ(second.events[0].session_started().turn(), 2);

  grpc::ClientContext context;
  Authenticate(&context);
  v1::GetSessionRequest request;
  request.set_practice_id("demo");
  request.set_session_id(session_id);
  v1::Session session;
  ASSERT_TRUE(stub_->GetSession(&context, request, &session).ok());
  ASSERT_EQ(session.turns_size(), 2);
  EXPECT_EQ(session.turns(0).question(), "What was our revenue last month?");
  EXPECT_EQ(session.turns(1).status(), "OK");
  EXPECT_FALSE(session.turns(1).code().empty());

  grpc::ClientContext end_context;
  Authenticate(&end_context);
  v1::EndSessionRequest end;
  end.set_practice_id("demo");
  end.set_session_id(session_id);
  v1::EndSessionResponse ended;
  ASSERT_TRUE(stub_->EndSession(&end_context, end, &ended).ok());
  AskOutcome after = Ask("What was our revenue last month?", session_id);
  EXPECT_EQ(after.status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(AskIntegrationTest, BadInputEndsWithTheRightStatusAndAnActionableMessage) {
  struct Case {
    std::string question, session, as_of, practice, key;
    grpc::StatusCode code;
    std::string message;
  };
  std::vector<Case> cases = {
      {"", "", "", "demo", kKey, grpc::StatusCode::INVALID_ARGUMENT, "question is empty"},
      {std::string(2001, 'x'), "", "", "demo", kKey, grpc::StatusCode::INVALID_ARGUMENT,
       "at most 2000"},
      {"revenue last month", "", "2026-31-12", "demo", kKey, grpc::StatusCode::INVALID_ARGUMENT,
       "YYYY-MM-DD"},
      {"revenue last month", "", "", "Demo!", kKey, grpc::StatusCode::INVALID_ARGUMENT,
       "practice_id"},
      {"revenue last month", "", "", "demo", "", grpc::StatusCode::UNAUTHENTICATED, "x-api-key"},
      {"revenue last month", "", "", "demo", "wrong-key-123", grpc::StatusCode::UNAUTHENTICATED,
       "not valid"},
      {"revenue last month", "", "", "elsewhere", kKey, grpc::StatusCode::PERMISSION_DENIED,
       "elsewhere"},
      {"revenue last month", "00112233445566778899aabbccddeeff", "", "demo", kKey,
       grpc::StatusCode::NOT_FOUND, "no active session"},
      {"what will the weather be tomorrow in paris", "", "", "demo", kKey,
       grpc::StatusCode::INVALID_ARGUMENT, "weather"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    AskOutcome out = Ask(c.question, c.session, c.as_of, c.practice, c.key);
    EXPECT_EQ(out.status.error_code(), c.code) << out.status.error_message();
    EXPECT_THAT(out.status.error_message(), HasSubstr(c.message));
  }
}

TEST_F(AskIntegrationTest, ClientCancellationEndsTheQuestionAndTheServerKeepsServing) {
  grpc::ClientContext context;
  Authenticate(&context);
  v1::AskRequest request;
  request.set_practice_id("demo");
  request.set_question("What was our revenue trend last year?");
  auto reader = stub_->Ask(&context, request);
  v1::AskEvent event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_TRUE(event.has_session_started());
  context.TryCancel();
  while (reader->Read(&event)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);

  AskOutcome next = Ask("What was our revenue last month?");
  EXPECT_TRUE(next.status.ok()) << next.status.error_message();
}

TEST_F(AskIntegrationTest, DeadlineEndsTheQuestion) {
  grpc::ClientContext context;
  context.AddMetadata("x-api-key", kKey);
  // Shorter than any answer: a warm sandbox answers this in about 100 ms.
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(30));
  v1::AskRequest request;
  request.set_practice_id("demo");
  request.set_question("What was our revenue trend last year?");
  auto reader = stub_->Ask(&context, request);
  v1::AskEvent event;
  while (reader->Read(&event)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_F(AskIntegrationTest, GetBudgetAndDescribeDatasetAnswer) {
  grpc::ClientContext budget_context;
  Authenticate(&budget_context);
  v1::GetBudgetRequest budget_request;
  budget_request.set_practice_id("demo");
  v1::Budget budget;
  ASSERT_TRUE(stub_->GetBudget(&budget_context, budget_request, &budget).ok());
  EXPECT_EQ(budget.limit_micros(), 10'000'000);
  EXPECT_EQ(budget.period(), "month");
  EXPECT_GT(budget.resets_at().seconds(), budget.period_start().seconds());

  grpc::ClientContext describe_context;
  Authenticate(&describe_context);
  v1::DescribeDatasetRequest describe_request;
  describe_request.set_practice_id("demo");
  v1::DatasetDescription dataset;
  ASSERT_TRUE(stub_->DescribeDataset(&describe_context, describe_request, &dataset).ok());
  ASSERT_EQ(dataset.tables_size(), 5);
  EXPECT_EQ(dataset.time_zone(), "America/Chicago");
  bool saw_personal = false;
  for (const auto& table : dataset.tables()) {
    EXPECT_GT(table.row_count(), 0) << table.name();
    for (const auto& column : table.columns()) {
      if (column.personal()) {
        saw_personal = true;
        EXPECT_TRUE(column.allowed_values().empty());
        EXPECT_TRUE(column.min_value().empty());
      }
    }
  }
  EXPECT_TRUE(saw_personal);

  grpc::ClientContext wrong_context;
  Authenticate(&wrong_context, "");
  EXPECT_EQ(stub_->GetBudget(&wrong_context, budget_request, &budget).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AskIntegrationTest, ReflectionListsTheServiceAndHealthIsServing) {
  // ServerReflectionRequest{list_services: ""}: field 7, length 0.
  auto listed =
      testing::CallRaw(channel_, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                       std::string("\x3a\x00", 2));
  ASSERT_TRUE(listed.ok()) << listed.status();
  google::protobuf::UnknownFieldSet response;
  ASSERT_TRUE(response.ParseFromString(*listed));
  std::vector<std::string> services;
  for (int i = 0; i < response.field_count(); ++i) {
    if (response.field(i).number() != 6) continue;  // list_services_response
    google::protobuf::UnknownFieldSet list;
    ASSERT_TRUE(list.ParseFromString(response.field(i).length_delimited()));
    for (int j = 0; j < list.field_count(); ++j) {
      google::protobuf::UnknownFieldSet service;
      ASSERT_TRUE(service.ParseFromString(list.field(j).length_delimited()));
      services.push_back(service.field(0).length_delimited());
    }
  }
  EXPECT_THAT(services, ::testing::Contains("vetanalytics.v1.AnalyticsService"));
  EXPECT_THAT(services, ::testing::Contains("grpc.health.v1.Health"));

  // HealthCheckRequest{service: "vetanalytics.v1.AnalyticsService"} -> SERVING (1).
  std::string name = "vetanalytics.v1.AnalyticsService";
  auto health = testing::CallRaw(
      channel_, "/grpc.health.v1.Health/Check",
      absl::StrCat(std::string(1, '\x0a'), std::string(1, static_cast<char>(name.size())), name));
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, std::string("\x08\x01", 2));
}

TEST_F(AskIntegrationTest, ReflectionV1AnswersEveryLookupAndNamesWhatItCannotFind) {
  // As grpcurl and Postman use it: one stream, a response per request, and a
  // failed lookup answered in the stream rather than ending it.
  namespace refl = grpc::reflection::v1;
  auto stub = refl::ServerReflection::NewStub(channel_);
  grpc::ClientContext context;
  auto stream = stub->ServerReflectionInfo(&context);
  auto ask = [&](const refl::ServerReflectionRequest& request) {
    refl::ServerReflectionResponse response;
    EXPECT_TRUE(stream->Write(request));
    EXPECT_TRUE(stream->Read(&response));
    return response;
  };

  refl::ServerReflectionRequest by_file;
  by_file.set_file_by_filename("vetanalytics/v1/analytics.proto");
  refl::ServerReflectionResponse file = ask(by_file);
  ASSERT_TRUE(file.has_file_descriptor_response()) << file.DebugString();
  google::protobuf::FileDescriptorProto first;
  ASSERT_TRUE(first.ParseFromString(file.file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(first.name(), "vetanalytics/v1/analytics.proto");
  EXPECT_EQ(file.original_request().file_by_filename(), "vetanalytics/v1/analytics.proto");

  refl::ServerReflectionRequest extensions;
  extensions.set_all_extension_numbers_of_type("vetanalytics.v1.AskRequest");
  refl::ServerReflectionResponse numbers = ask(extensions);
  ASSERT_TRUE(numbers.has_all_extension_numbers_response()) << numbers.DebugString();
  EXPECT_EQ(numbers.all_extension_numbers_response().base_type_name(),
            "vetanalytics.v1.AskRequest");
  EXPECT_EQ(numbers.all_extension_numbers_response().extension_number_size(), 0);

  struct Miss {
    refl::ServerReflectionRequest request;
    std::string message;
  };
  std::vector<Miss> misses(5);
  misses[0].request.set_file_by_filename("vetanalytics/v1/nope.proto");
  misses[0].message = "File not found.";
  misses[1].request.set_file_containing_symbol("vetanalytics.v1.Nope");
  misses[1].message = "Symbol not found.";
  misses[2].request.mutable_file_containing_extension()->set_containing_type(
      "vetanalytics.v1.AskRequest");
  misses[2].request.mutable_file_containing_extension()->set_extension_number(100);
  misses[2].message = "Extension not found.";
  misses[3].request.mutable_file_containing_extension()->set_containing_type("vetanalytics.Nope");
  misses[3].message = "Type not found.";
  misses[4].request.set_all_extension_numbers_of_type("vetanalytics.Nope");
  misses[4].message = "Type not found.";
  for (const Miss& miss : misses) {
    refl::ServerReflectionResponse response = ask(miss.request);
    ASSERT_TRUE(response.has_error_response()) << response.DebugString();
    EXPECT_EQ(response.error_response().error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(response.error_response().error_message(), miss.message);
  }
  // A request naming no lookup at all.
  refl::ServerReflectionResponse empty = ask(refl::ServerReflectionRequest());
  ASSERT_TRUE(empty.has_error_response());
  EXPECT_EQ(empty.error_response().error_code(), grpc::StatusCode::UNIMPLEMENTED);

  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(AskIntegrationTest, ReflectionDescribesTheMethodsWithTheirMessageTypes) {
  // The methods are served raw (ByteBuffers); reflection, as grpcurl's
  // `describe` uses it, still gives their typed signatures.
  // ServerReflectionRequest{file_containing_symbol (4): the service}.
  const std::string symbol = "vetanalytics.v1.AnalyticsService";
  auto described = testing::CallRaw(
      channel_, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      absl::StrCat("\x22", std::string(1, static_cast<char>(symbol.size())), symbol));
  ASSERT_TRUE(described.ok()) << described.status();
  google::protobuf::UnknownFieldSet response;
  ASSERT_TRUE(response.ParseFromString(*described));
  std::vector<std::string> methods;
  for (int i = 0; i < response.field_count(); ++i) {
    if (response.field(i).number() != 4) continue;  // file_descriptor_response
    google::protobuf::UnknownFieldSet files;
    ASSERT_TRUE(files.ParseFromString(response.field(i).length_delimited()));
    for (int j = 0; j < files.field_count(); ++j) {
      google::protobuf::FileDescriptorProto file;
      ASSERT_TRUE(file.ParseFromString(files.field(j).length_delimited()));
      for (const auto& service : file.service()) {
        for (const auto& method : service.method()) {
          methods.push_back(
              absl::StrCat(method.name(), "(", method.input_type(), ") ", method.output_type()));
        }
      }
    }
  }
  EXPECT_THAT(methods,
              ::testing::Contains("Ask(.vetanalytics.v1.AskRequest) .vetanalytics.v1.AskEvent"));
  EXPECT_THAT(methods, ::testing::Contains(
                           "GetBudget(.vetanalytics.v1.GetBudgetRequest) .vetanalytics.v1.Budget"));
  EXPECT_THAT(methods,
              ::testing::Contains(
                  "ImportDataset(.vetanalytics.v1.ImportChunk) .vetanalytics.v1.ImportReport"));
}

using ::vet::testing::HttpGet;

TEST_F(AskIntegrationTest, MetricsCountQuestionsByStatus) {
  Ask("What was our revenue last month?");
  Ask("");
  ASSERT_GT(server_->metrics_port(), 0);
  std::string metrics = HttpGet(server_->metrics_port(), "/metrics");
  EXPECT_THAT(metrics, HasSubstr("vet_questions_total{practice=\"demo\",status=\"OK\"}"));
  EXPECT_THAT(metrics, HasSubstr("status=\"INVALID_ARGUMENT\""));
  EXPECT_THAT(metrics, HasSubstr("vet_question_duration_seconds_bucket"));
  EXPECT_THAT(metrics, HasSubstr("vet_active_streams"));
}

}  // namespace
}  // namespace vet
