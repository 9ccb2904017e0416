// The built binaries as a user runs them: vet-analytics-server --demo in its
// own process, vetctl against it (human and --json output, exit codes), and
// SIGTERM draining a question in flight before the server exits 0.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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

class ServerProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_dir_ = absl::StrCat(::testing::TempDir(), "/vet-process-", getpid(), "-",
                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    auto child = testing::ChildProcess::Start(
        {VET_SERVER_BIN, "--demo", "--listen=127.0.0.1:0", "--metrics_listen=",
         "--state_dir=" + state_dir_, "--demo_invoice_lines=5000", "--shutdown_grace=60s"});
    ASSERT_TRUE(child.ok()) << child.status();
    server_ = std::move(*child);
    auto log = server_->WaitForStderr("demo practice 'demo' is ready", absl::Seconds(60));
    ASSERT_TRUE(log.ok()) << log.status();
    // "vet-analytics listening on 127.0.0.1:PORT; ..."
    size_t at = log->find("listening on 127.0.0.1:");
    ASSERT_NE(at, std::string::npos);
    std::string rest = log->substr(at + strlen("listening on 127.0.0.1:"));
    ASSERT_TRUE(absl::SimpleAtoi(rest.substr(0, rest.find(';')), &port_)) << rest;
    addr_ = absl::StrCat("127.0.0.1:", port_);
  }

  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(state_dir_);
  }

  testing::CommandResult Vetctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {VETCTL_BIN, "--addr=" + addr_, "--no_color",
                                     "--out_dir=" + state_dir_ + "/artifacts"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = testing::RunCommand(argv, absl::Seconds(120));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : testing::CommandResult{};
  }

  std::string state_dir_;
  std::unique_ptr<testing::ChildProcess> server_;
  int port_ = 0;
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
  testing::CommandResult r =
      Vetctl({"ask", "--json", "--as_of=2026-10-26", "How many new clients did we get last month?"});
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
  EXPECT_EQ(Vetctl({"ask", "--practice=nowhere", "--api_key=demo-key", "revenue last month"})
                .exit_code, 5);
  EXPECT_EQ(Vetctl({"ask", "--api_key=wrong-key-1", "revenue last month"}).exit_code, 4);
  testing::CommandResult declined = Vetctl({"ask", "what is the meaning of life"});
  EXPECT_EQ(declined.exit_code, 3);
  EXPECT_THAT(declined.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_EQ(Vetctl({"ask", "--as_of=2026-02-30", "revenue"}).exit_code, 2);
  EXPECT_EQ(Vetctl({"frobnicate"}).exit_code, 2);
}

TEST_F(ServerProcessTest, SigtermLetsTheQuestionInFlightFinishThenExitsZero) {
  auto channel = grpc::CreateChannel(addr_, grpc::InsecureChannelCredentials());
  auto stub = v1::AnalyticsService::NewStub(channel);
  grpc::ClientContext context;
  context.AddMetadata("x-api-key", "demo-key");
  v1::AskRequest request;
  request.set_practice_id("demo");
  request.set_question("What was our revenue trend this year?");
  auto reader = stub->Ask(&context, request);
  v1::AskEvent event;
  ASSERT_TRUE(reader->Read(&event));
  ASSERT_TRUE(event.has_session_started());

  ASSERT_EQ(kill(server_->pid(), SIGTERM), 0);
  bool got_answer = false;
  while (reader->Read(&event)) got_answer = got_answer || event.has_final_answer();
  grpc::Status status = reader->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(got_answer);

  auto exit_code = server_->Wait(absl::Seconds(60));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << server_->stderr_text();
  EXPECT_THAT(server_->stderr_text(), HasSubstr("received SIGTERM"));
}

}  // namespace
}  // namespace vet
