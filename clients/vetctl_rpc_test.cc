// vet::cli::Run and vet::cli::RunChat against a fake AnalyticsService on a
// loopback port: what goes over the wire (metadata, request fields), what is
// printed, and the exit code for each way a call can end, including Ctrl-C
// and the deadline; for chat, the session kept across lines typed on a pipe.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/args.h"
#include "clients/chat.h"
#include "clients/format.h"
#include "clients/testing/fake_analytics_service.h"
#include "clients/vetctl.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/wait.h"
#include "vetanalytics/v1/analytics.grpc.pb.h"

namespace vet::cli {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

class RunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LoopbackServer started = StartOnLoopback(service_);
    ASSERT_NE(started.server, nullptr);
    server_ = std::move(started.server);
    addr_ = started.addr;
  }

  void TearDown() override {
    server_->Shutdown(absl::ToChronoTime(absl::Now()));
  }

  Invocation MakeInvocation(const std::vector<std::string>& args) {
    FlagValues flags;
    flags.addr = addr_;
    flags.timeout = "20";
    flags.out_dir = ::testing::TempDir();
    absl::StatusOr<Invocation> inv =
        ParseInvocation(args, flags, Environment());
    EXPECT_TRUE(inv.ok()) << inv.status();
    return *inv;
  }

  int RunCli(const Invocation& inv) {
    const Console console{out_, err_};
    return vet::cli::Run(inv, console, canceller_);
  }

  FakeAnalyticsService service_;
  std::unique_ptr<grpc::Server> server_;
  std::string addr_;
  CallCanceller canceller_;
  std::ostringstream out_;
  std::ostringstream err_;
};

// Whether `json` is one line holding `expected` in the proto3 JSON mapping.
template <typename Message>
::testing::AssertionResult IsJsonLineOf(const std::string& json,
                                        const Message& expected) {
  if (json.empty() || json.find('\n') != json.size() - 1) {
    return ::testing::AssertionFailure() << "not one line: " << json;
  }
  Message parsed;
  if (!google::protobuf::util::JsonStringToMessage(json, &parsed).ok()) {
    return ::testing::AssertionFailure()
           << "not a " << Message::descriptor()->full_name() << ": " << json;
  }
  if (!google::protobuf::util::MessageDifferencer::Equals(parsed, expected)) {
    return ::testing::AssertionFailure()
           << json << " is not " << expected.ShortDebugString();
  }
  return ::testing::AssertionSuccess();
}

std::vector<v1::AskEvent> ShortStream() {
  std::vector<v1::AskEvent> events(3);
  events[0].set_seq(1);
  events[0].mutable_session_started()->set_session_id("s-7");
  events[1].set_seq(2);
  events[1].mutable_budget_check()->set_allowed(true);
  events[2].set_seq(3);
  v1::FinalAnswer* answer = events[2].mutable_final_answer();
  answer->set_text("There are 12 dogs.");
  answer->mutable_result()->set_number(12);
  answer->mutable_result()->set_unit("count");
  return events;
}

TEST_F(RunTest, AskSendsTheRequestAndKeyAndPrintsJsonLines) {
  service_.events = ShortStream();
  Invocation inv = MakeInvocation({"ask", "how many dogs?"});
  inv.json = true;
  inv.session_id = "s-7";
  inv.as_of = "2026-09-30";

  EXPECT_EQ(RunCli(inv), 0);
  EXPECT_EQ(err_.str(), "");
  const v1::AskRequest request = service_.last_request();
  EXPECT_EQ(request.practice_id(), "demo");
  EXPECT_EQ(request.question(), "how many dogs?");
  EXPECT_EQ(request.session_id(), "s-7");
  EXPECT_EQ(request.as_of_date(), "2026-09-30");
  EXPECT_EQ(service_.last_api_key(), "demo-key");

  const std::vector<std::string> lines =
      absl::StrSplit(out_.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), service_.events.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    v1::AskEvent parsed;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(lines[i], &parsed).ok());
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        parsed, service_.events[i]));
  }
}

TEST_F(RunTest, AskPrintsTheAnswerForPeople) {
  service_.events = ShortStream();
  EXPECT_EQ(RunCli(MakeInvocation({"ask", "how many dogs?"})), 0);
  EXPECT_THAT(out_.str(),
              HasSubstr("answer   There are 12 dogs.\n         12\n"));
  EXPECT_THAT(out_.str(), HasSubstr("follow up: vetctl ask --session=s-7"));
}

// Issue 12: the whole of a 7.5 MB table arrives as result.csv in parts under
// the client's 4 MiB message limit, and vetctl puts it back together.
TEST_F(RunTest, AskSavesTheWholeTableFromItsPartsAndSaysWhereItIs) {
  std::string csv = "n,note\r\n";
  for (int i = 0; i < 1000; ++i)
    absl::StrAppend(&csv, i, ",", std::string(7500, 'x'), "\r\n");
  std::vector<v1::AskEvent> events = ShortStream();
  const v1::AskEvent answer = events.back();
  events.pop_back();
  constexpr size_t kPart = 768 << 10;
  for (size_t offset = 0; offset < csv.size(); offset += kPart) {
    v1::Artifact* part = events.emplace_back().mutable_artifact();
    part->set_name("result.csv");
    part->set_mime_type("text/csv");
    part->set_data(csv.substr(offset, kPart));
    part->set_offset(static_cast<int64_t>(offset));
    part->set_total_bytes(static_cast<int64_t>(csv.size()));
  }
  v1::FinalAnswer* final_answer =
      events.emplace_back(answer).mutable_final_answer();
  v1::Table* table = final_answer->mutable_result()->mutable_table();
  table->add_columns()->set_name("n");
  for (int i = 0; i < 100; ++i) table->add_rows()->add_cells()->set_integer(i);
  table->set_total_rows(1000);
  table->set_truncated(true);
  table->set_included_rows(100);
  table->set_csv_artifact("result.csv");
  table->set_csv_rows(1000);
  service_.events = events;

  EXPECT_EQ(RunCli(MakeInvocation({"ask", "all the notes"})), 0) << err_.str();
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / "s-7" / "result.csv")
          .string();
  EXPECT_THAT(out_.str(),
              HasSubstr(absl::StrCat(
                  "showing 100 of 1,000 rows; the whole table: ", path, "\n")));
  std::ifstream file(path, std::ios::binary);
  const std::string saved((std::istreambuf_iterator<char>(file)),
                          std::istreambuf_iterator<char>());
  EXPECT_EQ(saved.size(), csv.size());
  EXPECT_TRUE(saved == csv);
}

TEST_F(RunTest, StreamErrorAfterEventsKeepsTheEventsAndMapsTheCode) {
  v1::AskEvent refused;
  refused.mutable_budget_check()->set_allowed(false);
  refused.mutable_budget_check()->set_message("The budget is spent.");
  service_.events = {refused};
  service_.ask_status = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                     "budget hard cap reached");
  EXPECT_EQ(RunCli(MakeInvocation({"ask", "q"})), 6);
  EXPECT_THAT(out_.str(), HasSubstr("refused"));
  EXPECT_EQ(err_.str(),
            "vetctl: RESOURCE_EXHAUSTED: budget hard cap reached\n");
}

TEST_F(RunTest, UnaryCallsPrintOrMapTheirErrors) {
  EXPECT_EQ(RunCli(MakeInvocation({"budget"})), 0);
  EXPECT_THAT(out_.str(), HasSubstr("  spent       $1.25  2%\n"));

  EXPECT_EQ(RunCli(MakeInvocation({"session", "s-9"})), 5);
  EXPECT_EQ(err_.str(), "vetctl: NOT_FOUND: no session s-9\n");

  err_.str("");
  Invocation json = MakeInvocation({"session", "s-9"});
  json.json = true;
  EXPECT_EQ(RunCli(json), 5);
  EXPECT_EQ(err_.str(),
            "{\"code\":\"NOT_FOUND\",\"message\":\"no session s-9\"}\n");

  out_.str("");
  Invocation end = MakeInvocation({"end-session", "s-9"});
  end.json = true;
  EXPECT_EQ(RunCli(end), 0);
  EXPECT_EQ(out_.str(), "{}\n");
}

// What `vetctl describe` shows of the practice's dataset: the version the
// server serves, then each table with its columns and their notes.
v1::DatasetDescription ClinicDataset() {
  v1::DatasetDescription dataset;
  dataset.set_practice_id("demo");
  dataset.set_schema_version("3");
  dataset.set_time_zone("Europe/London");
  dataset.set_dataset_version("20261130T120000Z-4f2a");
  v1::TableDescription* clients = dataset.add_tables();
  clients->set_name("clients");
  clients->set_description("People who bring animals in.");
  clients->set_row_count(1);
  v1::ColumnDescription* id = clients->add_columns();
  id->set_name("id");
  id->set_type("id");
  v1::ColumnDescription* name = clients->add_columns();
  name->set_name("name");
  name->set_type("text");
  name->set_personal(true);
  v1::ColumnDescription* since = clients->add_columns();
  since->set_name("first_visit");
  since->set_type("date");
  since->set_optional(true);
  since->set_min_value("2023-01-02");
  since->set_max_value("2026-11-30");
  since->set_description("Their first appointment.");
  v1::TableDescription* patients = dataset.add_tables();
  patients->set_name("patients");
  patients->set_row_count(1200);
  return dataset;
}

TEST_F(RunTest, DescribeShowsTheVersionServedAndEveryTablesColumns) {
  service_.dataset = ClinicDataset();
  EXPECT_EQ(RunCli(MakeInvocation({"describe"})), 0);
  EXPECT_EQ(err_.str(), "");
  EXPECT_EQ(out_.str(),
            "dataset of demo, version 20261130T120000Z-4f2a · schema 3 · "
            "time zone Europe/London\n"
            "\n"
            "clients  1 row\n"
            "  People who bring animals in.\n"
            "  id           id\n"
            "  name         text  personal\n"
            "  first_visit  date  2023-01-02 .. 2026-11-30 · optional · Their "
            "first appointment.\n"
            "\n"
            "patients  1,200 rows\n");

  // A folder the practices file names has no version: none is shown.
  service_.dataset.clear_dataset_version();
  out_.str("");
  EXPECT_EQ(RunCli(MakeInvocation({"describe"})), 0);
  EXPECT_THAT(out_.str(),
              ::testing::StartsWith(
                  "dataset of demo · schema 3 · time zone Europe/London\n"));
}

TEST_F(RunTest, DescribeJsonIsTheDescriptionWhole) {
  service_.dataset = ClinicDataset();
  Invocation inv = MakeInvocation({"describe"});
  inv.json = true;
  EXPECT_EQ(RunCli(inv), 0);
  EXPECT_TRUE(IsJsonLineOf(out_.str(), service_.dataset));
}

TEST_F(RunTest, DescribeOfAPracticeWithoutDataExitsWithFive) {
  service_.dataset_status = grpc::Status(
      grpc::StatusCode::NOT_FOUND,
      "practice demo has no data yet: import its exports (vetctl import)");
  EXPECT_EQ(RunCli(MakeInvocation({"describe"})), 5);
  EXPECT_EQ(err_.str(),
            "vetctl: NOT_FOUND: practice demo has no data yet: import its "
            "exports (vetctl import)\n");
  EXPECT_EQ(out_.str(), "");

  Invocation wrong_key = MakeInvocation({"describe"});
  wrong_key.api_key = "not-the-key";
  err_.str("");
  EXPECT_EQ(RunCli(wrong_key), 4);
  EXPECT_EQ(err_.str(),
            "vetctl: PERMISSION_DENIED: the key belongs to another practice\n");
}

TEST_F(RunTest, SessionsSendsThePageAndSaysHowToGetTheNext) {
  v1::Session* session = service_.session_list.add_sessions();
  session->set_session_id("s-1");
  session->set_turn_count(2);
  session->set_first_question("How many dogs?");
  service_.session_list.set_next_page_token("page-3");
  FlagValues flags;
  flags.addr = addr_;
  flags.page_size = 5;
  flags.page_token = "page-2";
  absl::StatusOr<Invocation> inv =
      ParseInvocation({"sessions"}, flags, Environment());
  ASSERT_TRUE(inv.ok()) << inv.status();

  EXPECT_EQ(RunCli(*inv), 0);
  EXPECT_EQ(err_.str(), "");
  const v1::ListSessionsRequest request = service_.last_list_request();
  EXPECT_EQ(request.practice_id(), "demo");
  EXPECT_EQ(request.page_size(), 5);
  EXPECT_EQ(request.page_token(), "page-2");
  EXPECT_THAT(out_.str(), HasSubstr("How many dogs?\n"));
  EXPECT_THAT(out_.str(),
              HasSubstr("more: vetctl sessions --page_token=page-3\n"));

  out_.str("");
  inv->json = true;
  EXPECT_EQ(RunCli(*inv), 0);
  EXPECT_TRUE(IsJsonLineOf(out_.str(), service_.session_list));
}

TEST_F(RunTest, SessionShowsItsTurnsAndEndSessionSaysItEnded) {
  v1::Session& session = service_.sessions["s-9"];
  session.set_session_id("s-9");
  session.set_practice_id("demo");
  v1::Turn* turn = session.add_turns();
  turn->set_number(1);
  turn->set_question("How many dogs?");
  turn->set_answer("There are 12 dogs.");
  turn->set_status("OK");
  EXPECT_EQ(RunCli(MakeInvocation({"session", "s-9"})), 0);
  EXPECT_EQ(err_.str(), "");
  EXPECT_THAT(out_.str(), HasSubstr("session s-9 · practice demo · active\n"));
  EXPECT_THAT(out_.str(), HasSubstr("How many dogs?"));
  EXPECT_THAT(out_.str(), HasSubstr("There are 12 dogs."));

  out_.str("");
  EXPECT_EQ(RunCli(MakeInvocation({"end-session", "s-9"})), 0);
  EXPECT_EQ(out_.str(), "session s-9 ended\n");
  EXPECT_THAT(service_.ended_sessions(), ::testing::ElementsAre("s-9"));
}

TEST(RunOlderServerTest, ACallTheServerDoesNotOfferSaysSoWithOne) {
  // A service that implements none of its methods answers UNIMPLEMENTED
  // with no message, as a server built before the method was added does.
  v1::AnalyticsService::Service older;
  LoopbackServer server = StartOnLoopback(older);
  ASSERT_NE(server.server, nullptr);
  FlagValues flags;
  flags.addr = server.addr;
  const absl::StatusOr<Invocation> inv =
      ParseInvocation({"describe"}, flags, Environment());
  ASSERT_TRUE(inv.ok()) << inv.status();
  std::ostringstream out, err;
  CallCanceller canceller;
  EXPECT_EQ(vet::cli::Run(*inv, Console{out, err}, canceller), 1);
  EXPECT_EQ(err.str(),
            "vetctl: UNIMPLEMENTED: the server does not offer this call (is it "
            "older than vetctl?)\n");
  EXPECT_EQ(out.str(), "");
  server.server->Shutdown(absl::ToChronoTime(absl::Now()));
}

TEST_F(RunTest, AuditSendsSinceAndPagesAndPrintsTheTrail) {
  v1::AuditEntry* entry = service_.audit.add_entries();
  entry->set_rpc("Ask");
  entry->set_status("OK");
  entry->set_key_id("0123456789ab");
  entry->set_question_sha256(std::string(64, 'a'));
  FlagValues flags;
  flags.addr = addr_;
  flags.timeout = "20";
  flags.since = "2026-12-01T00:00:00Z";
  flags.page_size = 10;
  absl::StatusOr<Invocation> inv =
      ParseInvocation({"audit"}, flags, Environment());
  ASSERT_TRUE(inv.ok()) << inv.status();

  EXPECT_EQ(RunCli(*inv), 0);
  EXPECT_EQ(err_.str(), "");
  const v1::ListAuditRequest request = service_.last_audit_request();
  EXPECT_EQ(request.practice_id(), "demo");
  EXPECT_EQ(request.since().seconds(), 1796083200);
  EXPECT_EQ(request.page_size(), 10);
  EXPECT_THAT(out_.str(), HasSubstr("QUESTION\n"));
  EXPECT_THAT(out_.str(), HasSubstr("0123456789ab"));
  EXPECT_THAT(out_.str(), HasSubstr("sha256:aaaaaaaaaaaa"));

  out_.str("");
  inv->json = true;
  EXPECT_EQ(RunCli(*inv), 0);
  EXPECT_TRUE(IsJsonLineOf(out_.str(), service_.audit));

  // Without --since the whole trail is asked for.
  Invocation all = MakeInvocation({"audit"});
  EXPECT_EQ(RunCli(all), 0);
  EXPECT_FALSE(service_.last_audit_request().has_since());

  Invocation bad_token = MakeInvocation({"audit"});
  bad_token.page_token = "bad";
  EXPECT_EQ(RunCli(bad_token), 3);
  EXPECT_THAT(err_.str(),
              HasSubstr("vetctl: INVALID_ARGUMENT: page_token is not one"));
}

TEST_F(RunTest, AuthFailuresExitWithFour) {
  Invocation no_key = MakeInvocation({"budget"});
  no_key.api_key.clear();
  EXPECT_EQ(RunCli(no_key), 4);
  EXPECT_EQ(err_.str(), "vetctl: UNAUTHENTICATED: no API key\n");

  Invocation wrong_key = MakeInvocation({"budget"});
  wrong_key.api_key = "other";
  EXPECT_EQ(RunCli(wrong_key), 4);
}

TEST_F(RunTest, CtrlCCancelsTheAskAndExitsWithNine) {
  service_.events = ShortStream();
  service_.events.pop_back();  // No answer: the server keeps working.
  service_.hold_until_cancelled = true;
  int exit_code = -1;
  std::thread client([&] { exit_code = RunCli(MakeInvocation({"ask", "q"})); });
  ASSERT_TRUE(service_.events_written.WaitForNotificationWithTimeout(
      absl::Seconds(20)));
  canceller_.Cancel();  // What main's signal thread does on SIGINT.
  client.join();
  EXPECT_EQ(exit_code, 9);
  EXPECT_EQ(err_.str(), "vetctl: CANCELLED: interrupted\n");
}

TEST_F(RunTest, ACancelBeforeTheCallCancelsIt) {
  canceller_.Cancel();
  EXPECT_EQ(RunCli(MakeInvocation({"budget"})), 9);
}

TEST_F(RunTest, TimeoutEndsTheAskWithSeven) {
  service_.hold_until_cancelled = true;
  Invocation inv = MakeInvocation({"ask", "q"});
  inv.timeout = absl::Milliseconds(300);
  EXPECT_EQ(RunCli(inv), 7);
  EXPECT_EQ(err_.str(),
            "vetctl: DEADLINE_EXCEEDED: no answer within --timeout=0.3s\n");
}

// --- bench -------------------------------------------------------------------

class BenchTest : public RunTest {
 protected:
  void SetUp() override {
    RunTest::SetUp();
    // Every answer depends on the question only, so that the counts of a
    // run with --max_questions are known in advance.
    service_.ask_handler = [](grpc::ServerContext* context,
                              const v1::AskRequest& request,
                              grpc::ServerWriter<v1::AskEvent>* writer) {
      const auto key = context->client_metadata().find("x-api-key");
      const std::string expected =
          request.practice_id() == "demo" ? "demo-key" : "other-key";
      if (key == context->client_metadata().end() || key->second != expected) {
        return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "wrong key");
      }
      if (request.question() == "busy") {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "server busy: 64 questions waiting");
      }
      for (const v1::AskEvent& event : ShortStream()) {
        if (request.question() == "refused" && event.has_final_answer()) {
          return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              "cannot answer that");
        }
        writer->Write(event);
      }
      return grpc::Status::OK;
    };
  }

  Invocation MakeBench(FlagValues flags, std::vector<std::string> args = {}) {
    flags.addr = addr_;
    flags.timeout = "20";
    args.insert(args.begin(), "bench");
    absl::StatusOr<Invocation> inv =
        ParseInvocation(args, flags, Environment());
    EXPECT_TRUE(inv.ok()) << inv.status();
    return *inv;
  }

  // The report printed with --json.
  google::protobuf::Struct RunJson(Invocation inv, int expected_exit = 0) {
    inv.json = true;
    EXPECT_EQ(RunCli(inv), expected_exit) << err_.str();
    google::protobuf::Struct report;
    EXPECT_TRUE(
        google::protobuf::util::JsonStringToMessage(out_.str(), &report).ok())
        << out_.str();
    return report;
  }

  static double Number(const google::protobuf::Struct& s, const char* name) {
    return s.fields().at(name).number_value();
  }
};

TEST_F(BenchTest, CountsEveryQuestionAndGroupsTheErrorsByCode) {
  FlagValues flags;
  flags.questions = {"ok", "busy", "refused"};
  flags.streams = 4;
  flags.warmup_seconds = 0;
  flags.duration_seconds = 60;
  flags.max_questions = 30;
  flags.practices = "demo,other:other-key";
  const google::protobuf::Struct report = RunJson(MakeBench(flags));

  // The mix is asked round-robin: each question 10 times of 30.
  EXPECT_EQ(Number(report, "questions"), 30);
  EXPECT_EQ(Number(report, "ok"), 10);
  EXPECT_EQ(Number(report, "streams"), 4);
  EXPECT_EQ(Number(report, "cancelledAtEnd"), 0);
  EXPECT_EQ(Number(report.fields().at("latencyMs").struct_value(), "count"),
            10);
  // Every call but the refused-before-any-event "busy" ones saw an event.
  EXPECT_EQ(Number(report.fields().at("firstEventMs").struct_value(), "count"),
            20);
  const auto& errors = report.fields().at("errors").list_value().values();
  ASSERT_EQ(errors.size(), 2);
  std::map<std::string, std::pair<double, std::string>> by_code;
  for (const auto& error : errors) {
    const auto& f = error.struct_value().fields();
    by_code[f.at("code").string_value()] = {f.at("count").number_value(),
                                            f.at("example").string_value()};
  }
  EXPECT_EQ(
      by_code["UNAVAILABLE"],
      std::make_pair(10.0, std::string("server busy: 64 questions waiting")));
  EXPECT_EQ(by_code["INVALID_ARGUMENT"],
            std::make_pair(10.0, std::string("cannot answer that")));

  // Streams alternate between the practices, each with its own key (a wrong
  // key would show as PERMISSION_DENIED above).
  const auto& practices = report.fields().at("practices").list_value().values();
  ASSERT_EQ(practices.size(), 2);
  EXPECT_EQ(practices[0].struct_value().fields().at("practice").string_value(),
            "demo");
  EXPECT_EQ(practices[1].struct_value().fields().at("practice").string_value(),
            "other");
  double total = 0;
  for (const auto& practice : practices) {
    EXPECT_GT(Number(practice.struct_value(), "questions"), 0);
    total += Number(practice.struct_value(), "questions");
  }
  EXPECT_EQ(total, 30);
  EXPECT_EQ(service_.ask_requests().size(), 30u);
}

TEST_F(BenchTest, ForADurationEveryCountedCallIsAnAnswerOrAnError) {
  FlagValues flags;
  flags.questions = {"ok", "busy"};
  flags.streams = 3;
  flags.warmup_seconds = 0.2;
  flags.duration_seconds = 1;
  const google::protobuf::Struct report = RunJson(MakeBench(flags));
  const double questions = Number(report, "questions");
  const double ok = Number(report, "ok");
  EXPECT_GT(ok, 0);
  double errors = 0;
  for (const auto& error : report.fields().at("errors").list_value().values()) {
    EXPECT_EQ(error.struct_value().fields().at("code").string_value(),
              "UNAVAILABLE");
    errors += Number(error.struct_value(), "count");
  }
  EXPECT_EQ(questions, ok + errors);
  // The warm-up's questions were asked but not counted.
  EXPECT_GT(service_.ask_requests().size(), questions);
  EXPECT_FALSE(report.fields().contains("practices"));
}

TEST_F(BenchTest, CallsRunningAtTheEndAreCancelledAndNotCounted) {
  service_.ask_handler = [](grpc::ServerContext* context, const v1::AskRequest&,
                            grpc::ServerWriter<v1::AskEvent>* writer) {
    writer->Write(ShortStream()[0]);
    // Bounded, so that a broken client fails the test instead of hanging.
    const absl::Time give_up = absl::Now() + absl::Seconds(20);
    while (!context->IsCancelled() && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  };
  FlagValues flags;
  flags.streams = 5;
  flags.warmup_seconds = 0;
  flags.duration_seconds = 0.3;
  const google::protobuf::Struct report = RunJson(MakeBench(flags, {"q"}));
  EXPECT_EQ(Number(report, "questions"), 0);
  EXPECT_EQ(Number(report, "cancelledAtEnd"), 5);
}

TEST_F(BenchTest, CtrlCEndsTheRunWithTheNumbersSoFar) {
  FlagValues flags;
  flags.questions = {"ok"};
  flags.streams = 2;
  flags.warmup_seconds = 0;
  flags.duration_seconds = 600;
  Invocation inv = MakeBench(flags);
  inv.json = true;
  int exit_code = -1;
  std::thread client([&] { exit_code = RunCli(inv); });
  ASSERT_TRUE(vet::testing::WaitUntil(
      [&] { return service_.ask_requests().size() >= 10; }));
  canceller_.Cancel();  // What main's signal thread does on SIGINT.
  client.join();
  EXPECT_EQ(exit_code, 9);
  google::protobuf::Struct report;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(out_.str(), &report).ok())
      << out_.str();
  EXPECT_TRUE(report.fields().at("interrupted").bool_value());
  EXPECT_GT(Number(report, "ok"), 0);
}

TEST_F(BenchTest, PrintsTheReportForPeople) {
  FlagValues flags;
  flags.questions = {"ok"};
  flags.streams = 2;
  flags.warmup_seconds = 0;
  flags.duration_seconds = 60;
  flags.max_questions = 4;
  EXPECT_EQ(RunCli(MakeBench(flags)), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("answered 4 of 4 questions in "));
  EXPECT_THAT(out_.str(), HasSubstr("errors   none\n"));
}

TEST_F(BenchTest, AnUnreadableQuestionsFileExitsWithTwoBeforeAnyCall) {
  FlagValues flags;
  flags.questions_file = "/nonexistent/questions.txt";
  EXPECT_EQ(RunCli(MakeBench(flags)), 2);
  EXPECT_THAT(err_.str(), HasSubstr("--questions_file: cannot read"));
  EXPECT_TRUE(service_.ask_requests().empty());
}

TEST_F(BenchTest, OnlyErrorsExitWithTheCodeOfTheCommonestOne) {
  FlagValues flags;
  flags.questions = {"ok"};
  flags.practices = "other:wrong";
  flags.warmup_seconds = 0;
  flags.max_questions = 3;
  const google::protobuf::Struct report = RunJson(MakeBench(flags), 4);
  EXPECT_EQ(Number(report, "ok"), 0);
}

// --- import ------------------------------------------------------------------

class ImportTest : public RunTest {
 protected:
  void SetUp() override {
    RunTest::SetUp();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat(
               "vetctl_import_",
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    // invoice_lines.csv spans three chunks, the last one short; staff.csv
    // is empty.
    std::string big = "id,amount\n";
    for (int i = 0; big.size() < 2 * kImportChunkBytes + 100; ++i) {
      absl::StrAppend(&big, i, ",", i % 997, ".25\n");
    }
    contents_ = {{"clients", "id,name\n1,Ann\n2,Bo\n"},
                 {"patients", "id,client_id,species\n1,1,dog\n"},
                 {"staff", ""},
                 {"appointments", "id,patient_id,date\n1,1,2026-01-02\n"},
                 {"invoice_lines", big}};
    for (const auto& [table, data] : contents_) WriteFile(table + ".csv", data);
  }

  void WriteFile(const std::string& name, const std::string& data) {
    std::ofstream(dir_ / name, std::ios::binary) << data;
  }

  std::filesystem::path dir_;
  std::vector<std::pair<std::string, std::string>> contents_;
};

TEST_F(ImportTest, SendsTheHeaderThenEveryFileInOrderAndInChunks) {
  WriteFile("mapping.json", "{\"clients\": {\"Client ID\": \"id\"}}\n");
  Invocation inv = MakeInvocation({"import", dir_.string()});
  inv.mapping_file = (dir_ / "mapping.json").string();
  inv.as_of = "2026-09-30";
  EXPECT_EQ(RunCli(inv), 0) << err_.str();

  const std::vector<v1::ImportChunk> chunks = service_.import_chunks();
  ASSERT_FALSE(chunks.empty());
  ASSERT_TRUE(chunks[0].has_header());
  EXPECT_EQ(chunks[0].header().practice_id(), "demo");
  EXPECT_EQ(chunks[0].header().mapping_json(),
            "{\"clients\": {\"Client ID\": \"id\"}}\n");
  EXPECT_EQ(chunks[0].header().as_of_date(), "2026-09-30");

  // Tables in order, each with exactly its file's bytes.
  std::vector<std::pair<std::string, std::string>> received;
  std::vector<size_t> invoice_chunk_sizes;
  // Last, the end message with the total, so a cut-short upload is refused.
  ASSERT_TRUE(chunks.back().has_end());
  int64_t total = 0;
  for (const auto& [name, bytes] : contents_) total += bytes.size();
  EXPECT_EQ(chunks.back().end().total_bytes(), total);
  for (size_t i = 1; i + 1 < chunks.size(); ++i) {
    ASSERT_TRUE(chunks[i].has_table()) << i;
    const v1::TableChunk& table = chunks[i].table();
    if (received.empty() || received.back().first != table.table()) {
      received.emplace_back(table.table(), "");
    }
    received.back().second += table.data();
    EXPECT_LE(table.data().size(), kImportChunkBytes);
    if (table.table() == "invoice_lines") {
      invoice_chunk_sizes.push_back(table.data().size());
    }
  }
  ASSERT_EQ(received.size(), contents_.size());
  for (size_t i = 0; i < contents_.size(); ++i) {
    EXPECT_EQ(received[i].first, contents_[i].first);
    EXPECT_TRUE(received[i].second == contents_[i].second)
        << received[i].first << ": " << received[i].second.size() << " of "
        << contents_[i].second.size() << " bytes";
  }
  ASSERT_EQ(invoice_chunk_sizes.size(), 3u);
  EXPECT_EQ(invoice_chunk_sizes[0], kImportChunkBytes);
  EXPECT_EQ(invoice_chunk_sizes[1], kImportChunkBytes);
  EXPECT_EQ(invoice_chunk_sizes[2],
            contents_.back().second.size() - 2 * kImportChunkBytes);
}

TEST_F(ImportTest, PrintsTheReport) {
  v1::ImportReport& report = service_.import_report;
  report.set_practice_id("demo");
  report.set_dataset_version("ds-1a2b");
  for (const auto& [table, data] : contents_) {
    v1::TableRows* rows = report.add_tables();
    rows->set_table(table);
    rows->set_rows(table == "invoice_lines" ? 123456 : 2);
  }
  report.add_warnings("1 patient has no visits");
  EXPECT_EQ(RunCli(MakeInvocation({"import", dir_.string()})), 0);
  EXPECT_EQ(out_.str(),
            "imported demo, version ds-1a2b\n"
            "  clients              2  rows\n"
            "  patients             2  rows\n"
            "  staff                2  rows\n"
            "  appointments         2  rows\n"
            "  invoice_lines  123,456  rows\n"
            "⚠ 1 patient has no visits\n");

  out_.str("");
  report.set_unchanged(true);
  Invocation json = MakeInvocation({"import", dir_.string()});
  json.json = true;
  EXPECT_EQ(RunCli(json), 0);
  const std::string line = out_.str();
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
  v1::ImportReport parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &parsed).ok());
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(parsed, report));
}

TEST_F(ImportTest, ValidationProblemsExitWithThreeAndAreAllPrinted) {
  service_.import_status =
      grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                   "2 problems in the import:\n"
                   "clients.csv line 3: \"2026-13-01\" is not a date\n"
                   "staff.csv: no rows");
  EXPECT_EQ(RunCli(MakeInvocation({"import", dir_.string()})), 3);
  EXPECT_EQ(err_.str(),
            "vetctl: INVALID_ARGUMENT: 2 problems in the import:\n"
            "  clients.csv line 3: \"2026-13-01\" is not a date\n"
            "  staff.csv: no rows\n");
  EXPECT_EQ(out_.str(), "");
}

// A script reads stderr's one JSON line back to the server's very words:
// its lines, quotes, backslashes, tabs and carriage returns.
TEST_F(ImportTest, WithJsonValidationProblemsAreOneLineThatParsesBack) {
  const std::string message =
      "3 problems in the import:\n"
      "clients.csv line 3: \"2026-13-01\" is not a date\n"
      "staff.csv line 9: C:\\exports\\staff\tis not a name\r\n"
      "patients.csv: no rows";
  service_.import_status =
      grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
  Invocation inv = MakeInvocation({"import", dir_.string()});
  inv.json = true;
  EXPECT_EQ(RunCli(inv), 3);
  const std::string err = err_.str();
  ASSERT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  google::protobuf::Struct parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(err, &parsed).ok())
      << err;
  EXPECT_EQ(parsed.fields().at("code").string_value(), "INVALID_ARGUMENT");
  EXPECT_EQ(parsed.fields().at("message").string_value(), message);
  EXPECT_EQ(out_.str(), "");
}

TEST_F(ImportTest, AMissingFileExitsWithTwoBeforeAnyCall) {
  std::filesystem::remove(dir_ / "staff.csv");
  EXPECT_EQ(RunCli(MakeInvocation({"import", dir_.string()})), 2);
  EXPECT_THAT(err_.str(), HasSubstr((dir_ / "staff.csv").string()));
  EXPECT_EQ(service_.import_calls(), 0);
}

TEST_F(ImportTest, AnUnreadableMappingExitsWithTwoBeforeAnyCall) {
  Invocation inv = MakeInvocation({"import", dir_.string()});
  inv.mapping_file = (dir_ / "no-such-mapping.json").string();
  EXPECT_EQ(RunCli(inv), 2);
  EXPECT_THAT(err_.str(), HasSubstr("--mapping: cannot read"));
  EXPECT_EQ(service_.import_calls(), 0);
}

// A tiny ezyVet Invoice Lines Report, under a name of the practice's own.
constexpr char kEzyvetReport[] =
    "Invoice #,Invoice Date,Client Contact Code,First Name,Last Name,"
    "Animal Code,Patient Name,Species,Staff Member ID,Staff Member,"
    "Product Code,Product Name,Product Group,Qty,Discount($),"
    "Total Invoiced (excl)\n"
    "I1,13/02/2026,C1,Ann,Lee,A1,Rex,Dog,S1,Dr X,CONS,Consult,Consultations,"
    "1,0,75.00\n";

TEST_F(ImportTest, APresetConvertsTheFolderPrintsItsReportAndUploadsTheTables) {
  const std::filesystem::path vendor = dir_ / "ezyvet";
  std::filesystem::create_directories(vendor);
  std::ofstream(vendor / "Invoice Lines Feb.csv", std::ios::binary)
      << kEzyvetReport;
  service_.import_report.set_practice_id("demo");
  Invocation inv = MakeInvocation({"import", vendor.string()});
  inv.preset = "ezyvet";
  EXPECT_EQ(RunCli(inv), 0) << err_.str();
  EXPECT_THAT(out_.str(),
              AllOf(HasSubstr("preset ezyvet: read 1 file, ignored 0"),
                    HasSubstr("converted: clients 1, patients 1, staff 1, "
                              "appointments 0, invoice_lines 1"),
                    HasSubstr("patients.sex: not in the Invoice Lines Report"),
                    HasSubstr("staff.fte: every staff member is taken as full "
                              "time"),
                    HasSubstr("imported demo")));

  const std::vector<v1::ImportChunk> chunks = service_.import_chunks();
  ASSERT_GE(chunks.size(), 7u);
  EXPECT_EQ(chunks[0].header().mapping_json(), "");
  std::map<std::string, std::string> received;
  for (const v1::ImportChunk& chunk : chunks) {
    if (chunk.has_table())
      received[chunk.table().table()] += chunk.table().data();
  }
  EXPECT_EQ(received.size(), 5u);
  EXPECT_EQ(received["appointments"],
            "appointment_id,patient_id,client_id,staff_id,starts_at,"
            "duration_min,type,status,booked_at\n");
  EXPECT_THAT(received["invoice_lines"],
              HasSubstr("I1,1,2026-02-13,C1,A1,S1,,CONS,Consult,consultation,"
                        "1,75,0,75.00,"));

  // --json: the conversion's report is a JSON line before the import's.
  out_.str("");
  inv.json = true;
  EXPECT_EQ(RunCli(inv), 0);
  const std::vector<std::string> lines =
      absl::StrSplit(out_.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], AllOf(HasSubstr("{\"preset\":{\"name\":\"ezyvet\""),
                              HasSubstr("\"rows\":{\"clients\":\"1\"")));
  EXPECT_THAT(lines[1], HasSubstr("\"practiceId\":\"demo\""));
}

// A file the preset does not read is listed as ignored, with why, for
// people and in the JSON report; it does not stop the import.
TEST_F(ImportTest, APresetListsTheFilesItIgnoresAndWhy) {
  const std::filesystem::path vendor = dir_ / "ezyvet";
  std::filesystem::create_directories(vendor);
  std::ofstream(vendor / "Invoice Lines Feb.csv", std::ios::binary)
      << kEzyvetReport;
  std::ofstream(vendor / "notes.txt") << "call the supplier\n";
  Invocation inv = MakeInvocation({"import", vendor.string()});
  inv.preset = "ezyvet";
  EXPECT_EQ(RunCli(inv), 0) << err_.str();
  const std::string out = out_.str();
  EXPECT_THAT(out, HasSubstr("preset ezyvet: read 1 file, ignored 1\n"));
  const size_t listed = out.find("notes.txt");
  ASSERT_NE(listed, std::string::npos) << out;
  EXPECT_THAT(out.substr(listed, out.find('\n', listed) - listed),
              HasSubstr("ignored: "));
  EXPECT_EQ(service_.import_calls(), 1);

  out_.str("");
  inv.json = true;
  EXPECT_EQ(RunCli(inv), 0);
  const std::vector<std::string> lines =
      absl::StrSplit(out_.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  google::protobuf::Struct report;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(lines[0], &report).ok())
      << lines[0];
  const google::protobuf::ListValue& ignored = report.fields()
                                                   .at("preset")
                                                   .struct_value()
                                                   .fields()
                                                   .at("ignored")
                                                   .list_value();
  ASSERT_EQ(ignored.values_size(), 1);
  const auto& file = ignored.values(0).struct_value().fields();
  EXPECT_EQ(file.at("path").string_value(), (vendor / "notes.txt").string());
  EXPECT_FALSE(file.at("reason").string_value().empty());
}

TEST_F(ImportTest, APresetOnSomethingOtherThanAFolderExitsWithTwo) {
  WriteFile("export.csv", "a,b\n");
  Invocation inv = MakeInvocation({"import", (dir_ / "export.csv").string()});
  inv.preset = "ezyvet";
  EXPECT_EQ(RunCli(inv), 2);
  EXPECT_EQ(err_.str(),
            absl::StrCat("vetctl: import: ", (dir_ / "export.csv").string(),
                         " is not a directory\n"
                         "Run 'vetctl help' for usage.\n"));
  EXPECT_EQ(service_.import_calls(), 0);
}

TEST_F(ImportTest, AnUnknownPresetExitsWithTwoAndExportsItCannotReadWithThree) {
  Invocation inv = MakeInvocation({"import", dir_.string()});
  inv.preset = "vetspire";
  EXPECT_EQ(RunCli(inv), 2);
  EXPECT_THAT(err_.str(), HasSubstr("known presets: covetrus, ezyvet"));
  err_.str("");
  // The canonical CSVs are no ezyVet export.
  inv.preset = "ezyvet";
  EXPECT_EQ(RunCli(inv), 3);
  EXPECT_THAT(err_.str(), HasSubstr("vetctl: INVALID_ARGUMENT: no file in"));
  EXPECT_EQ(service_.import_calls(), 0);
}

TEST_F(ImportTest, AuthFailureExitsWithFour) {
  Invocation inv = MakeInvocation({"import", dir_.string()});
  inv.api_key = "other";
  EXPECT_EQ(RunCli(inv), 4);
}

// A loopback port with nothing listening on it.
int UnusedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t size = sizeof(addr);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size), 0);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(RunUnreachableTest, BenchSaysTheServerIsNotRunningAndMeasuresNothing) {
  FlagValues flags;
  flags.addr = absl::StrCat("127.0.0.1:", UnusedPort());
  const absl::StatusOr<Invocation> inv =
      ParseInvocation({"bench", "q"}, flags, Environment());
  ASSERT_TRUE(inv.ok());
  std::ostringstream out, err;
  CallCanceller canceller;
  EXPECT_EQ(vet::cli::Run(*inv, Console{out, err}, canceller), 8);
  EXPECT_THAT(err.str(), HasSubstr("cannot reach the server at"));
  EXPECT_EQ(out.str(), "");
}

TEST(RunUnreachableTest, SaysTheServerIsNotRunning) {
  FlagValues flags;
  flags.addr = absl::StrCat("127.0.0.1:", UnusedPort());
  const absl::StatusOr<Invocation> inv =
      ParseInvocation({"budget"}, flags, Environment());
  ASSERT_TRUE(inv.ok());
  std::ostringstream out, err;
  CallCanceller canceller;
  EXPECT_EQ(vet::cli::Run(*inv, Console{out, err}, canceller), 8);
  EXPECT_EQ(err.str(),
            absl::StrCat("vetctl: UNAVAILABLE: cannot reach the server at ",
                         flags.addr, ": is vet-analytics-server running?\n"));
  EXPECT_EQ(out.str(), "");
}

// --- chat --------------------------------------------------------------------

// A pipe standing in for a non-terminal stdin.
class ScriptPipe {
 public:
  ScriptPipe() {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    read_fd_ = fds[0];
    write_fd_ = fds[1];
  }
  ~ScriptPipe() {
    Close();
    close(read_fd_);
  }
  void Write(const std::string& text) {
    ASSERT_EQ(write(write_fd_, text.data(), text.size()),
              static_cast<ssize_t>(text.size()));
  }
  // The end of the input (Ctrl-D).
  void Close() {
    if (write_fd_ >= 0) close(write_fd_);
    write_fd_ = -1;
  }
  int read_fd() const { return read_fd_; }

 private:
  int read_fd_ = -1;
  int write_fd_ = -1;
};

class ChatTest : public RunTest {
 protected:
  void SetUp() override {
    RunTest::SetUp();
    absl::StatusOr<std::unique_ptr<WakePipe>> wake = WakePipe::Create();
    ASSERT_TRUE(wake.ok());
    wake_ = *std::move(wake);
    interrupter_ = std::make_unique<ChatInterrupter>(*wake_);
  }

  // Runs chat with `script` as its whole input.
  int Chat(const std::string& script, const Invocation& inv) {
    ScriptPipe input;
    input.Write(script);
    input.Close();
    FdLineReader reader(input.read_fd(), *wake_);
    return RunChat(inv, Console{out_, err_}, reader, *interrupter_);
  }
  int Chat(const std::string& script) {
    return Chat(script, MakeInvocation({"chat"}));
  }

  std::vector<std::string> AskedSessions() {
    std::vector<std::string> ids;
    for (const v1::AskRequest& request : service_.ask_requests()) {
      ids.push_back(request.session_id());
    }
    return ids;
  }

  ChatServer chat_server_{service_};
  std::unique_ptr<WakePipe> wake_;
  std::unique_ptr<ChatInterrupter> interrupter_;
};

using ::testing::ElementsAre;

TEST_F(ChatTest, QuestionsKeepTheSessionTheFirstAnswerStarted) {
  EXPECT_EQ(Chat("how many dogs?\nand cats?\nand birds?\n"), 0);
  EXPECT_THAT(AskedSessions(), ElementsAre("", "s-1", "s-1"));
  const std::vector<v1::AskRequest> requests = service_.ask_requests();
  EXPECT_EQ(requests[1].question(), "and cats?");
  EXPECT_EQ(requests[2].practice_id(), "demo");
  EXPECT_EQ(err_.str(), "");
  // Printed as `ask` prints them; no prompt on a pipe.
  EXPECT_THAT(out_.str(), HasSubstr("answer   answer to how many dogs?\n"));
  EXPECT_THAT(out_.str(), HasSubstr("s-1 · resumed, turn 3\n"));
  EXPECT_THAT(out_.str(), HasSubstr("answer   answer to and birds?\n"));
  EXPECT_THAT(out_.str(), ::testing::Not(HasSubstr("demo #")));
  // The next line is the follow-up: no `vetctl ask --session` hint.
  EXPECT_THAT(out_.str(), ::testing::Not(HasSubstr("follow up:")));
}

TEST_F(ChatTest, ContinuesTheSessionGiven) {
  EXPECT_EQ(Chat("first\n"), 0);
  Invocation inv = MakeInvocation({"chat"});
  inv.session_id = "s-1";
  EXPECT_EQ(Chat("second\nthird\n", inv), 0);
  EXPECT_THAT(AskedSessions(), ElementsAre("", "s-1", "s-1"));
}

TEST_F(ChatTest, NewStartsANewSessionAndSessionPrintsIt) {
  EXPECT_EQ(Chat("/session\nq1\n/session\n/new\n/session\nq2\nq3\n/session\n"),
            0);
  EXPECT_THAT(AskedSessions(), ElementsAre("", "", "s-2"));
  const std::string out = out_.str();
  const size_t none = out.find("no session yet");
  const size_t first = out.find("session s-1\n");
  const size_t fresh = out.find("the next question starts a new session\n");
  const size_t second = out.find("session s-2\n");
  ASSERT_NE(none, std::string::npos) << out;
  ASSERT_NE(first, std::string::npos) << out;
  ASSERT_NE(fresh, std::string::npos) << out;
  ASSERT_NE(second, std::string::npos) << out;
  EXPECT_LT(none, first);
  EXPECT_LT(first, fresh);
  EXPECT_LT(fresh, second);
}

TEST_F(ChatTest, HistoryShowsTheSessionFromGetSession) {
  v1::Session session;
  session.set_session_id("s-1");
  session.set_practice_id("demo");
  v1::Turn* turn = session.add_turns();
  turn->set_number(1);
  turn->set_question("how many dogs?");
  turn->set_answer("There are 12 dogs.");
  turn->set_status("OK");
  service_.sessions["s-1"] = session;

  EXPECT_EQ(Chat("/history\nhow many dogs?\n/history\n"), 0);
  // No session yet: nothing to ask the server.
  EXPECT_THAT(service_.got_sessions(), ElementsAre("s-1"));
  EXPECT_THAT(out_.str(), HasSubstr(FormatSession(session, FormatOptions())));
}

TEST_F(ChatTest, EndEndsTheSessionAndTheNextQuestionStartsAnother) {
  EXPECT_EQ(Chat("q1\nq2\n/end\nq3\n/end\n"), 0);
  EXPECT_THAT(service_.ended_sessions(), ElementsAre("s-1", "s-2"));
  EXPECT_THAT(AskedSessions(), ElementsAre("", "s-1", ""));
  EXPECT_THAT(out_.str(),
              HasSubstr("session s-1 ended; the next question starts a new "
                        "one\n"));
}

TEST_F(ChatTest, EndWithoutASessionSaysThereIsNoneAndCallsNothing) {
  EXPECT_EQ(Chat("/end\nq1\n"), 0);
  EXPECT_THAT(out_.str(),
              HasSubstr("no session to end: the next question starts one\n"));
  EXPECT_THAT(service_.ended_sessions(), ::testing::IsEmpty());
  EXPECT_THAT(AskedSessions(), ElementsAre(""));
}

// Expired or never there: nothing is left to continue, so the chat starts
// afresh rather than failing the same way at every question.
TEST_F(ChatTest, EndOfASessionTheServerNoLongerHasStartsAfresh) {
  service_.gone_sessions = {"s-gone"};
  Invocation inv = MakeInvocation({"chat"});
  inv.session_id = "s-gone";
  EXPECT_EQ(Chat("/end\nq1\n", inv), 0);
  EXPECT_EQ(err_.str(), "vetctl: NOT_FOUND: no session s-gone\n");
  EXPECT_THAT(AskedSessions(), ElementsAre(""));
}

TEST_F(ChatTest, JsonEndPrintsAnEmptyObjectLine) {
  Invocation inv = MakeInvocation({"chat"});
  inv.json = true;
  EXPECT_EQ(Chat("q1\n/end\n", inv), 0);
  EXPECT_THAT(service_.ended_sessions(), ElementsAre("s-1"));
  const std::vector<std::string> lines =
      absl::StrSplit(out_.str(), '\n', absl::SkipEmpty());
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "{}");
}

TEST_F(ChatTest, BudgetCallsGetBudget) {
  EXPECT_EQ(Chat("/budget\n"), 0);
  EXPECT_EQ(service_.budget_calls(), 1);
  EXPECT_THAT(out_.str(), HasSubstr("  spent       $1.25  2%\n"));
}

TEST_F(ChatTest, AFailedQuestionPrintsItsErrorAndTheChatGoesOn) {
  EXPECT_EQ(Chat("q1\nbad\nq3\n"), 0);
  EXPECT_EQ(err_.str(), "vetctl: INVALID_ARGUMENT: cannot answer that\n");
  EXPECT_THAT(AskedSessions(), ElementsAre("", "s-1", "s-1"));
  // The failed question was turn 2: the next one is turn 3.
  EXPECT_THAT(out_.str(), HasSubstr("s-1 · resumed, turn 3\n"));
}

TEST_F(ChatTest, AnEndedSessionIsNotFoundUntilNew) {
  Invocation inv = MakeInvocation({"chat"});
  inv.session_id = "s-404";
  EXPECT_EQ(Chat("q1\nq2\n/new\nq3\n", inv), 0);
  EXPECT_THAT(AskedSessions(), ElementsAre("s-404", "s-404", ""));
  EXPECT_EQ(
      err_.str(),
      "vetctl: NOT_FOUND: no session s-404\n(/new starts a new session)\n"
      "vetctl: NOT_FOUND: no session s-404\n(/new starts a new session)\n");
}

TEST_F(ChatTest, BudgetRefusalDoesNotEndTheChat) {
  auto answer = std::move(service_.ask_handler);
  service_.ask_handler = [&answer](grpc::ServerContext* context,
                                   const v1::AskRequest& request,
                                   grpc::ServerWriter<v1::AskEvent>* writer) {
    if (request.question() == "expensive") {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          "budget hard cap reached");
    }
    return answer(context, request, writer);
  };
  EXPECT_EQ(Chat("expensive\ncheap\n"), 0);
  EXPECT_EQ(err_.str(),
            "vetctl: RESOURCE_EXHAUSTED: budget hard cap reached\n");
  EXPECT_THAT(out_.str(), HasSubstr("answer   answer to cheap\n"));
}

TEST_F(ChatTest, UnknownCommandsPrintTheHelpAndEmptyLinesAreIgnored) {
  EXPECT_EQ(Chat("\n   \n/frobnicate\n/session now\n/help\nq1"), 0);
  EXPECT_THAT(err_.str(), HasSubstr("vetctl: USAGE: unknown command "
                                    "\"/frobnicate\"; /help lists the "
                                    "commands\n"));
  EXPECT_THAT(err_.str(), HasSubstr("unknown command \"/session now\""));
  EXPECT_THAT(err_.str(), HasSubstr("  /history"));
  EXPECT_THAT(out_.str(), HasSubstr(kChatHelp));
  // The last line has no newline: still a question.
  ASSERT_EQ(service_.ask_requests().size(), 1u);
  EXPECT_EQ(service_.ask_requests()[0].question(), "q1");
}

TEST_F(ChatTest, QuitStopsReading) {
  EXPECT_EQ(Chat("q1\n/quit\nq2\n"), 0);
  EXPECT_EQ(Chat("q3\n/exit\nq4\n"), 0);
  EXPECT_EQ(service_.ask_requests().size(), 2u);
}

TEST_F(ChatTest, JsonKeepsStdoutToJsonLines) {
  Invocation inv = MakeInvocation({"chat"});
  inv.json = true;
  EXPECT_EQ(Chat("/session\nq1\n/new\n/session\nbad\n/help\n/session\n", inv),
            0);
  const std::vector<std::string> lines =
      absl::StrSplit(out_.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 6u) << out_.str();
  EXPECT_EQ(lines[0], "{}");
  EXPECT_EQ(lines[3], "{}");
  EXPECT_EQ(lines[4],
            "{\"seq\":\"1\",\"sessionStarted\":{\"sessionId\":\"s-2\","
            "\"turn\":1}}");
  for (const std::string& line : {lines[1], lines[2], lines[4]}) {
    v1::AskEvent event;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &event).ok())
        << line;
  }
  EXPECT_EQ(lines[5], "{\"sessionId\":\"s-2\"}");
  EXPECT_THAT(
      err_.str(),
      HasSubstr("{\"code\":\"INVALID_ARGUMENT\",\"message\":\"cannot answer "
                "that\"}\n"));
}

// Output that another thread can wait on while the chat writes it.
class WatchedOutput : public std::streambuf {
 public:
  // True once the output holds `text`; false after `timeout`.
  bool WaitFor(const std::string& text, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto seen = [this, &text]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return data_.find(text) != std::string::npos;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&seen), timeout);
  }
  std::string str() {
    absl::MutexLock lock(&mu_);
    return data_;
  }

 protected:
  int_type overflow(int_type c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    const char byte = traits_type::to_char_type(c);
    xsputn(&byte, 1);
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    absl::MutexLock lock(&mu_);
    data_.append(s, static_cast<size_t>(n));
    return n;
  }

 private:
  absl::Mutex mu_;
  std::string data_ ABSL_GUARDED_BY(mu_);
};

TEST_F(ChatTest, CtrlCCancelsTheQuestionRunningAndTheChatGoesOn) {
  ScriptPipe input;
  FdLineReader reader(input.read_fd(), *wake_);
  WatchedOutput watched;
  std::ostream out(&watched);
  int exit_code = -1;
  std::thread chat([&] {
    exit_code = RunChat(MakeInvocation({"chat"}), Console{out, err_}, reader,
                        *interrupter_);
  });
  input.Write("slow\n");
  // The client has seen the session start; the server is still working.
  ASSERT_TRUE(watched.WaitFor("s-1 · new", absl::Seconds(20)));
  interrupter_->Interrupt();  // What main's signal thread does on SIGINT.
  input.Write("after\n");
  input.Close();
  chat.join();
  EXPECT_EQ(exit_code, 0);
  EXPECT_EQ(err_.str(), "vetctl: CANCELLED: interrupted\n");
  // The cancelled question had started s-1: the next one continues it.
  EXPECT_THAT(AskedSessions(), ElementsAre("", "s-1"));
  EXPECT_THAT(watched.str(), HasSubstr("answer   answer to after\n"));
}

TEST_F(ChatTest, CtrlCAtAPromptOnAPipeEndsTheChat) {
  ScriptPipe input;  // Open, with nothing to read.
  FdLineReader reader(input.read_fd(), *wake_);
  interrupter_->Interrupt();
  EXPECT_EQ(RunChat(MakeInvocation({"chat"}), Console{out_, err_}, reader,
                    *interrupter_),
            9);
  EXPECT_TRUE(service_.ask_requests().empty());
}

TEST_F(ChatTest, TerminateCancelsTheQuestionAndEndsTheChat) {
  ScriptPipe input;
  FdLineReader reader(input.read_fd(), *wake_);
  int exit_code = -1;
  std::thread chat([&] {
    exit_code = RunChat(MakeInvocation({"chat"}), Console{out_, err_}, reader,
                        *interrupter_);
  });
  input.Write("slow\n");
  ASSERT_TRUE(service_.events_written.WaitForNotificationWithTimeout(
      absl::Seconds(20)));
  interrupter_->Terminate();  // SIGTERM
  chat.join();  // The input is still open: the chat ended by itself.
  EXPECT_EQ(exit_code, 9);
  EXPECT_EQ(err_.str(), "vetctl: CANCELLED: interrupted\n");
}

// A terminal's reader, scripted: the chat's side of line editing.
class ScriptedTerminal : public LineReader {
 public:
  explicit ScriptedTerminal(std::vector<Result> script)
      : script_(std::move(script)) {}
  Result ReadLine(const std::string& prompt) override {
    prompts.push_back(prompt);
    if (next_ == script_.size()) return Result{};
    return script_[next_++];
  }
  void AddHistory(const std::string& line) override { history.push_back(line); }
  bool interactive() const override { return true; }

  std::vector<std::string> prompts;
  std::vector<std::string> history;

 private:
  std::vector<Result> script_;
  size_t next_ = 0;
};

// SIGTERM between the line typed and the question's call: the call is
// cancelled as it starts, and the chat ends with 9.
TEST_F(ChatTest, TerminateAsALineIsEnteredCancelsItsQuestion) {
  interrupter_->Terminate();
  ScriptedTerminal terminal(
      {{LineReader::Status::kLine, "q1"}, {LineReader::Status::kLine, "q2"}});
  EXPECT_EQ(RunChat(MakeInvocation({"chat"}), Console{out_, err_}, terminal,
                    *interrupter_),
            9);
  EXPECT_EQ(err_.str(), "vetctl: CANCELLED: interrupted\n");
  EXPECT_EQ(terminal.prompts.size(), 1u);
}

TEST_F(ChatTest, OnATerminalCtrlCClearsTheLineAndThePromptShowsTheTurn) {
  using S = LineReader::Status;
  ScriptedTerminal terminal({{S::kLine, "q1"},
                             {S::kInterrupted, ""},
                             {S::kLine, "  "},
                             {S::kLine, "q2"},
                             {S::kLine, "/new"},
                             {S::kLine, "q3"}});
  EXPECT_EQ(RunChat(MakeInvocation({"chat"}), Console{out_, err_}, terminal,
                    *interrupter_),
            0);
  EXPECT_THAT(terminal.prompts,
              ElementsAre("demo #1> ", "demo #2> ", "demo #2> ", "demo #2> ",
                          "demo #3> ", "demo #1> ", "demo #2> "));
  EXPECT_THAT(terminal.history, ElementsAre("q1", "q2", "/new", "q3"));
  EXPECT_THAT(AskedSessions(), ElementsAre("", "s-1", ""));
  EXPECT_THAT(out_.str(), HasSubstr("/help lists the commands"));
}

TEST_F(ChatTest, AContinuedSessionsTurnIsKnownFromItsFirstAnswer) {
  EXPECT_EQ(Chat("q1\nq2\n"), 0);
  Invocation inv = MakeInvocation({"chat"});
  inv.session_id = "s-1";
  ScriptedTerminal terminal({{LineReader::Status::kLine, "q3"}});
  EXPECT_EQ(RunChat(inv, Console{out_, err_}, terminal, *interrupter_), 0);
  EXPECT_THAT(terminal.prompts, ElementsAre("demo> ", "demo #4> "));
}

TEST(ChatUnreachableTest, ConnectionErrorsArePrintedAndTheChatGoesOn) {
  FlagValues flags;
  flags.addr = absl::StrCat("127.0.0.1:", UnusedPort());
  const absl::StatusOr<Invocation> inv =
      ParseInvocation({"chat"}, flags, Environment());
  ASSERT_TRUE(inv.ok());
  absl::StatusOr<std::unique_ptr<WakePipe>> wake = WakePipe::Create();
  ASSERT_TRUE(wake.ok());
  ChatInterrupter interrupter(**wake);
  ScriptPipe input;
  input.Write("q1\n/budget\n");
  input.Close();
  FdLineReader reader(input.read_fd(), **wake);
  std::ostringstream out, err;
  EXPECT_EQ(RunChat(*inv, Console{out, err}, reader, interrupter), 0);
  const std::string line =
      absl::StrCat("vetctl: UNAVAILABLE: cannot reach the server at ",
                   flags.addr, ": is vet-analytics-server running?\n");
  EXPECT_EQ(err.str(), absl::StrCat(line, line));
}

}  // namespace
}  // namespace vet::cli
