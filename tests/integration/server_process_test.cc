// The built binaries as a user runs them: vet-analytics-server --demo in its
// own process, vetctl against it (human and --json output, exit codes), and
// SIGTERM draining a question in flight before the server exits 0, SIGHUP
// rereading the practices file.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "vetanalytics/v1/analytics.grpc.pb.h"

namespace vet {
namespace {

namespace v1 = ::vetanalytics::v1;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

struct RunningServer {
  std::unique_ptr<testing::ChildProcess> process;
  std::string addr;
};

// Starts vet-analytics-server with `args` and waits until it is ready.
absl::StatusOr<RunningServer> StartServer(std::vector<std::string> args,
                                          const testing::EnvList& env = {}) {
  args.insert(args.begin(), VET_SERVER_BIN);
  auto child = testing::ChildProcess::Start(args, env);
  if (!child.ok()) return child.status();
  RunningServer server{std::move(*child), ""};
  auto log = server.process->WaitForStderr("is ready", absl::Seconds(60));
  if (!log.ok()) return log.status();
  // "vet-analytics listening on 127.0.0.1:PORT; ..."
  const std::string kListening = "listening on 127.0.0.1:";
  size_t at = log->find(kListening);
  int port = 0;
  if (at == std::string::npos) return absl::InternalError(*log);
  std::string rest = log->substr(at + kListening.size());
  if (!absl::SimpleAtoi(rest.substr(0, rest.find(';')), &port)) {
    return absl::InternalError(rest);
  }
  server.addr = absl::StrCat("127.0.0.1:", port);
  return server;
}

std::string TempPath(absl::string_view what) {
  return absl::StrCat(::testing::TempDir(), "/vet-process-", getpid(), "-",
                      ::testing::UnitTest::GetInstance()->current_test_info()->name(), what);
}

testing::CommandResult RunVetctl(const std::string& addr, std::vector<std::string> args) {
  std::vector<std::string> argv = {VETCTL_BIN, "--addr=" + addr, "--no_color"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto result = testing::RunCommand(argv, absl::Seconds(120));
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : testing::CommandResult{};
}

// A demo question asked on `addr`, read up to its first event, to be read to
// its end after something has happened to the server.
class InFlightAsk {
 public:
  explicit InFlightAsk(const std::string& addr)
      : stub_(v1::AnalyticsService::NewStub(
            grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()))) {
    context_.AddMetadata("x-api-key", "demo-key");
    v1::AskRequest request;
    request.set_practice_id("demo");
    request.set_question("What was our revenue trend this year?");
    reader_ = stub_->Ask(&context_, request);
  }
  // True once the session has started.
  bool Started() { return reader_->Read(&event_) && event_.has_session_started(); }
  // Reads to the end; the stream's status, and whether a final answer came.
  grpc::Status Finish(bool* got_answer) {
    *got_answer = false;
    while (reader_->Read(&event_)) *got_answer = *got_answer || event_.has_final_answer();
    return reader_->Finish();
  }

 private:
  std::unique_ptr<v1::AnalyticsService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::AskEvent>> reader_;
  v1::AskEvent event_;
};

class ServerProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_dir_ = TempPath("");
    auto server = StartServer({"--demo", "--listen=127.0.0.1:0",
                               "--metrics_listen=", "--state_dir=" + state_dir_,
                               "--demo_invoice_lines=5000", "--shutdown_grace=60s"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server->process);
    addr_ = server->addr;
  }

  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(state_dir_);
  }

  testing::CommandResult Vetctl(std::vector<std::string> args) {
    args.insert(args.begin(), "--out_dir=" + state_dir_ + "/artifacts");
    return RunVetctl(addr_, std::move(args));
  }

  std::string state_dir_;
  std::unique_ptr<testing::ChildProcess> server_;
  std::string addr_;
};

TEST_F(ServerProcessTest, VetctlPrintsTheAnswerFromTheDemoServer) {
  testing::CommandResult r = Vetctl({"ask", "What was our revenue trend last quarter?"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("planner"));
  EXPECT_THAT(r.out, HasSubstr("answer"));
  EXPECT_THAT(r.out, HasSubstr("Revenue last quarter"));
  EXPECT_THAT(r.out, HasSubstr("chart_1.png"));

  testing::CommandResult budget = Vetctl({"budget"});
  EXPECT_EQ(budget.exit_code, 0) << budget.err;
  EXPECT_THAT(budget.out, HasSubstr("$10.00"));
}

TEST_F(ServerProcessTest, VetctlJsonPrintsOneProtoJsonEventPerLine) {
  testing::CommandResult r = Vetctl(
      {"ask", "--json", "--as_of=2026-10-26", "How many new clients did we get last month?"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 4u);
  for (size_t i = 0; i < lines.size(); ++i) {
    v1::AskEvent event;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[i], &event).ok()) << lines[i];
    EXPECT_EQ(event.seq(), static_cast<int64_t>(i + 1));
    if (i + 1 == lines.size()) {
      EXPECT_TRUE(event.has_final_answer()) << lines[i];
      EXPECT_TRUE(event.final_answer().result().has_number()) << lines[i];
    }
  }
}

TEST_F(ServerProcessTest, VetctlExitCodesSayWhatWentWrong) {
  // An unknown practice is refused like another practice's (it is not
  // revealed whether it exists).
  EXPECT_EQ(
      Vetctl({"ask", "--practice=nowhere", "--api_key=demo-key", "revenue last month"}).exit_code,
      4);
  EXPECT_EQ(Vetctl({"ask", "--api_key=wrong-key-1", "revenue last month"}).exit_code, 4);
  testing::CommandResult declined = Vetctl({"ask", "what is the meaning of life"});
  EXPECT_EQ(declined.exit_code, 3);
  EXPECT_THAT(declined.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_EQ(Vetctl({"ask", "--as_of=2026-02-30", "revenue"}).exit_code, 2);
  EXPECT_EQ(Vetctl({"frobnicate"}).exit_code, 2);
}

TEST_F(ServerProcessTest, SigtermLetsTheQuestionInFlightFinishThenExitsZero) {
  InFlightAsk ask(addr_);
  ASSERT_TRUE(ask.Started());

  ASSERT_EQ(kill(server_->pid(), SIGTERM), 0);
  bool got_answer = false;
  grpc::Status status = ask.Finish(&got_answer);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(got_answer);

  auto exit_code = server_->Wait(absl::Seconds(60));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << server_->stderr_text();
  EXPECT_THAT(server_->stderr_text(), HasSubstr("received SIGTERM"));
}

TEST_F(ServerProcessTest, DemoExportsImportedWithVetctlDescribeLikeTheDemo) {
  // A practice of its own, fed by `vetctl demo-data` and `vetctl import`.
  const std::string practices = state_dir_ + "-practices.json";
  {
    std::ofstream out(practices);
    out << R"({"practices": [{"id": "north", "api_key": "north-key-1",
                             "time_zone": "America/Chicago"}]})";
  }
  server_.reset();
  auto server =
      StartServer({"--demo", "--practices=" + practices, "--listen=127.0.0.1:0",
                   "--metrics_listen=", "--state_dir=" + state_dir_, "--demo_invoice_lines=5000"});
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = std::move(server->process);
  addr_ = server->addr;

  const std::string exports = state_dir_ + "/exports";
  // The server's demo ends today in America/Chicago; so must these exports.
  absl::TimeZone chicago;
  ASSERT_TRUE(absl::LoadTimeZone("America/Chicago", &chicago));
  const std::string today = absl::FormatCivilTime(absl::ToCivilDay(absl::Now(), chicago));
  testing::CommandResult written =
      Vetctl({"demo-data", exports, "--lines=5000", "--as_of=" + today});
  ASSERT_EQ(written.exit_code, 0) << written.err;
  testing::CommandResult imported =
      Vetctl({"import", "--practice=north", "--api_key=north-key-1", exports});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_THAT(imported.out, HasSubstr("invoice_lines"));

  testing::CommandResult north =
      Vetctl({"describe", "--json", "--practice=north", "--api_key=north-key-1"});
  testing::CommandResult demo = Vetctl({"describe", "--json"});
  ASSERT_EQ(north.exit_code, 0) << north.err;
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  v1::DatasetDescription a, b;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(north.out, &a).ok()) << north.out;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(demo.out, &b).ok()) << demo.out;
  a.clear_practice_id();
  b.clear_practice_id();
  EXPECT_EQ(a.DebugString(), b.DebugString());
  std::filesystem::remove(practices);
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path);
  out << content;
}

// `vetctl new-key --practice=ID`: the key and the practices file entry.
struct NewKey {
  std::string key;
  std::string entry;
};
NewKey MakeKey(const std::string& practice) {
  testing::CommandResult r = RunVetctl("", {"new-key", "--practice=" + practice});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 2u) << r.out;
  if (lines.size() != 2) return {};
  EXPECT_THAT(lines[1], HasSubstr("\"api_key_sha256\""));
  EXPECT_THAT(lines[1], Not(HasSubstr(lines[0]))) << "the entry holds the hash, not the key";
  return {lines[0], lines[1]};
}

TEST(ServerReloadTest, SighupRereadsThePracticesFileAndKeepsItWhenBad) {
  const std::string dir = TempPath("");
  std::filesystem::create_directories(dir);
  const std::string practices = dir + "/practices.json";
  const NewKey north_old = MakeKey("north");
  WriteFile(practices, absl::StrCat(R"({"practices": [)", north_old.entry, "]}"));
  auto server = StartServer({"--demo", "--practices=" + practices, "--listen=127.0.0.1:0",
                             "--metrics_listen=", "--state_dir=" + dir, "--demo_invoice_lines=5000",
                             "--shutdown_grace=60s"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto budget = [&](const std::string& practice, const std::string& key) {
    return RunVetctl(server->addr, {"budget", "--practice=" + practice, "--api_key=" + key})
        .exit_code;
  };
  EXPECT_EQ(budget("north", north_old.key), 0);

  // A question in flight across the reload finishes.
  InFlightAsk ask(server->addr);
  ASSERT_TRUE(ask.Started());

  // Rotate north's key and add east.
  const NewKey north_new = MakeKey("north");
  const NewKey east = MakeKey("east");
  WriteFile(practices, absl::StrCat(R"({"practices": [)", north_new.entry, ",", east.entry, "]}"));
  ASSERT_EQ(kill(server->process->pid(), SIGHUP), 0);
  ASSERT_TRUE(server->process->WaitForStderr("practices reloaded", absl::Seconds(60)).ok())
      << server->process->stderr_text();
  bool got_answer = false;
  grpc::Status status = ask.Finish(&got_answer);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(got_answer);

  EXPECT_EQ(budget("north", north_new.key), 0);
  EXPECT_EQ(budget("north", north_old.key), 4) << "the rotated-out key is refused";
  EXPECT_EQ(budget("east", east.key), 0);
  EXPECT_EQ(budget("demo", "demo-key"), 0) << "--demo's practice stays";

  // A bad file is logged and the practices already loaded stay.
  WriteFile(practices, R"({"practices": [{"id": "north"}]})");
  ASSERT_EQ(kill(server->process->pid(), SIGHUP), 0);
  ASSERT_TRUE(
      server->process->WaitForStderr("kept the practices already loaded", absl::Seconds(60)).ok())
      << server->process->stderr_text();
  EXPECT_THAT(server->process->stderr_text(), HasSubstr("api_key_sha256 is missing"));
  EXPECT_EQ(budget("north", north_new.key), 0);
  EXPECT_EQ(budget("east", east.key), 0);
  // Keys never reach the log.
  EXPECT_THAT(server->process->stderr_text(), Not(HasSubstr(north_new.key)));
  server->process.reset();
  std::filesystem::remove_all(dir);
}

TEST(ServerStartupTest, FlagsOverrideEnvironmentWhichOverridesDotEnv) {
  std::string dir = TempPath("");
  std::filesystem::create_directories(dir);
  std::string dotenv = dir + "/settings.env";
  WriteFile(dotenv,
            "# as an operator writes it\n"
            "VET_DEMO=true\n"
            "VET_DEMO_API_KEY=dotenv-key-1\n"
            "VET_METRICS_LISTEN=\n"
            "VET_DEMO_INVOICE_LINES=2000\n");
  const std::vector<std::string> args = {"--listen=127.0.0.1:0", "--state_dir=" + dir};
  auto budget_with = [](const std::string& addr, const std::string& key) {
    return RunVetctl(addr, {"budget", "--api_key=" + key}).exit_code;
  };
  {
    auto server = StartServer(args, {"VET_ENV_FILE=" + dotenv});
    ASSERT_TRUE(server.ok()) << server.status();
    EXPECT_EQ(budget_with(server->addr, "dotenv-key-1"), 0);
  }
  {
    auto server = StartServer(args, {"VET_ENV_FILE=" + dotenv, "VET_DEMO_API_KEY=env-key-22"});
    ASSERT_TRUE(server.ok()) << server.status();
    EXPECT_EQ(budget_with(server->addr, "env-key-22"), 0);
    EXPECT_EQ(budget_with(server->addr, "dotenv-key-1"), 4);
  }
  {
    std::vector<std::string> with_flag = args;
    with_flag.push_back("--demo_api_key=flag-key-333");
    auto server = StartServer(with_flag, {"VET_ENV_FILE=" + dotenv, "VET_DEMO_API_KEY=env-key-22"});
    ASSERT_TRUE(server.ok()) << server.status();
    EXPECT_EQ(budget_with(server->addr, "flag-key-333"), 0);
    EXPECT_EQ(budget_with(server->addr, "env-key-22"), 4);
    // The chosen key is a secret: only the documented default is printed.
    EXPECT_THAT(server->process->stderr_text(), Not(HasSubstr("flag-key-333")));

    // A second server on the same port refuses to start instead of sharing it.
    auto second = testing::RunCommand({VET_SERVER_BIN, "--demo", "--listen=" + server->addr,
                                       "--metrics_listen=", "--state_dir=" + dir},
                                      absl::Seconds(60));
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(second->exit_code, 1);
    EXPECT_THAT(second->err, HasSubstr("cannot listen on " + server->addr));
  }
  std::filesystem::remove_all(dir);
}

TEST(ServerStartupTest, BadConfigurationStopsWithAMessageNamingTheSetting) {
  std::string dir = TempPath("");
  std::filesystem::create_directories(dir);
  WriteFile(dir + "/practices.json", R"({"practices": [{"id": "north"}]})");
  WriteFile(dir + "/bad.env", "VET_DEMO=true\nthis is not a setting\n");
  // Not a real key: the test is that its bytes never reach the message.
  WriteFile(dir + "/key.pem", "NOT-A-REAL-KEY-MARKER\n");
  struct Case {
    std::vector<std::string> args;
    testing::EnvList env;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--practices=" + dir + "/practices.json"},
       {},
       "practices[0] (practice 'north').api_key_sha256 is missing"},
      {{"--demo", "--budget_period=week"}, {}, "BUDGET_PERIOD must be 'day' or 'month'"},
      {{"--demo"}, {"BUDGET_LIMIT=lots"}, "BUDGET_LIMIT='lots' is not a number"},
      {{"--demo"}, {"VET_WORKER_THREADS=99999999999"}, "VET_WORKER_THREADS"},
      {{"--demo"}, {"VET_ENV_FILE=" + dir + "/bad.env"}, "bad.env: .env line 2"},
      {{}, {}, "pass --demo for the demo practice or --practices FILE"},
      {{"--demo", "--listen=nowhere"}, {}, "--listen 'nowhere' must be HOST:PORT"},
      {{"--demo"}, {"VET_LOG_FORMAT=xml"}, "--log_format (VET_LOG_FORMAT) 'xml' must be text"},
      {{"--demo"},
       {"VET_TLS_KEY=" + dir + "/key.pem"},
       "--tls_key (VET_TLS_KEY) '" + dir + "/key.pem' needs --tls_cert"},
      {{"--demo", "--tls_cert=" + dir + "/missing.pem", "--tls_key=" + dir + "/key.pem"},
       {},
       "--tls_cert (VET_TLS_CERT) '" + dir + "/missing.pem' cannot be read"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    std::vector<std::string> argv = {VET_SERVER_BIN, "--state_dir=" + dir, "--metrics_listen="};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto result = testing::RunCommand(argv, absl::Seconds(60), c.env);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->exit_code, 2) << result->err;
    EXPECT_THAT(result->err, HasSubstr(c.message));
    EXPECT_THAT(result->err, Not(HasSubstr("NOT-A-REAL-KEY-MARKER")));
  }
  std::filesystem::remove_all(dir);
}

TEST(ServerStartupTest, VersionPrintsTheVersionAndCommit) {
  for (const char* bin : {VET_SERVER_BIN, VETCTL_BIN}) {
    SCOPED_TRACE(bin);
    auto result = testing::RunCommand({bin, "--version"}, absl::Seconds(30));
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->exit_code, 0) << result->err;
    const std::string program = std::filesystem::path(bin).filename().string();
    // "vetctl 0.1.0 (commit 6c9a5f6abcde)" or "(commit unknown)" outside git.
    EXPECT_THAT(result->out, ::testing::MatchesRegex(
                                 program + " [0-9]+\\.[0-9]+\\.[0-9]+ \\(commit [^ )]+\\)\n"));
  }
}

// The file is named from the source root wherever the checkout is (CI
// clones to another folder than a developer's, and builds without ccache
// give the compiler absolute paths).
TEST(ServerStartupTest, HelpListsTheServersFlagsWithTheirDescriptions) {
  auto result = testing::RunCommand({VET_SERVER_BIN, "--help"}, absl::Seconds(30));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->out, Not(HasSubstr("No flags matched")));
  EXPECT_THAT(result->out, HasSubstr("\n  Flags from server/main.cc:\n"));
  EXPECT_THAT(result->out, StartsWith("vet-analytics-server: answers plain-language"));
  EXPECT_THAT(result->out, HasSubstr("--listen (gRPC address [VET_LISTEN])"));
  EXPECT_THAT(result->out, HasSubstr("--log_format (Log lines on stderr"));
}

TEST(ServerStartupTest, VetctlHelpListsItsFlagsFromTheSourceRoot) {
  auto result = testing::RunCommand({VETCTL_BIN, "--help"}, absl::Seconds(30));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->out, HasSubstr("\n  Flags from clients/main.cc:\n"));
  EXPECT_THAT(result->out, HasSubstr("--addr"));
}

}  // namespace
}  // namespace vet
