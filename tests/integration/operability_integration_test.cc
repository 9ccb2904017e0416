// Operability through the real server in-process (issue 15 part 5): W3C
// trace context from gRPC metadata to the logs, the response and the model
// request (the scripted fake OpenAI server records its headers); JSON log
// lines, one from core/ among them; and /metrics of a freshly started server
// holding every family docs/METRICS.md names (parsed from the doc, so the two
// cannot drift) plus the process metrics.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/common/log.h"
#include "core/common/trace_context.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "server/server.h"
#include "tests/testing/fake_openai_server.h"
#include "tests/testing/http_get.h"
#include "tests/testing/model_server_options.h"
#include "vetanalytics/v1/analytics.grpc.pb.h"

namespace vet {
namespace {

namespace v1 = ::vetanalytics::v1;
using Fake = ::vet::testing::FakeOpenAiServer;
using ::testing::HasSubstr;

constexpr char kKey[] = "demo-key";
constexpr char kAsOf[] = "2026-10-26";
constexpr char kTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kParentId[] = "00f067aa0ba902b7";
// The planner declines this one: it goes to the (fake) model.
constexpr char kModelQuestion[] = "What was our revenue from the weather last month?";
constexpr char kPlannerQuestion[] = "What was our revenue last month?";

// Sends this process's stderr to a file while alive (the logger writes to
// fd 2); Read() returns what was written so far.
class CapturedStderr {
 public:
  explicit CapturedStderr(std::string path) : path_(std::move(path)) {
    saved_ = ::dup(STDERR_FILENO);
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
  }
  ~CapturedStderr() {
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
  }
  std::string Read() const {
    std::ifstream in(path_);
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
  }

 private:
  const std::string path_;
  int saved_ = -1;
};

struct AskOutcome {
  grpc::Status status;
  std::string session_id;
  std::string question_id;
  // The traceparent of the response's initial metadata.
  std::string traceparent;
};

class OperabilityIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake = Fake::Start();
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = std::move(*fake);
    state_dir_ = absl::StrCat(::testing::TempDir(), "/vet-operability-", getpid());
    std::filesystem::remove_all(state_dir_);
    std::filesystem::create_directories(state_dir_);
    SetLogFormat(LogFormat::kJson);
    stderr_ = std::make_unique<CapturedStderr>(state_dir_ + "/stderr.log");

    server::ServerOptions options =
        testing::ModelServerOptions({state_dir_, kKey, fake_->base_url(), "gpt-5.2", ""});
    options.metrics_listen = "127.0.0.1:0";
    options.planner = "first";
    options.budget_store = "memory";
    options.log_format = "json";
    auto started = server::VetServer::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    stub_ = v1::AnalyticsService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    stub_.reset();
    server_.reset();
    fake_.reset();
    stderr_.reset();
    SetLogFormat(LogFormat::kText);
    std::filesystem::remove_all(state_dir_);
  }

  AskOutcome Ask(const std::string& question, const std::string& traceparent) {
    grpc::ClientContext context;
    context.AddMetadata("x-api-key", kKey);
    if (!traceparent.empty()) context.AddMetadata("traceparent", traceparent);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(90));
    v1::AskRequest request;
    request.set_practice_id("demo");
    request.set_question(question);
    request.set_as_of_date(kAsOf);
    auto reader = stub_->Ask(&context, request);
    AskOutcome outcome;
    v1::AskEvent event;
    while (reader->Read(&event)) {
      if (event.has_session_started()) {
        outcome.session_id = event.session_started().session_id();
        outcome.question_id = event.session_started().question_id();
      }
    }
    outcome.status = reader->Finish();
    const auto& metadata = context.GetServerInitialMetadata();
    if (auto it = metadata.find("traceparent"); it != metadata.end()) {
      outcome.traceparent = std::string(it->second.data(), it->second.size());
    }
    return outcome;
  }

  // Every line logged so far, each parsed as one JSON object; fails the
  // test for a line that is not one.
  std::vector<std::shared_ptr<rapidjson::Document>> JsonLogLines() {
    std::vector<std::shared_ptr<rapidjson::Document>> lines;
    for (absl::string_view line : absl::StrSplit(stderr_->Read(), '\n', absl::SkipEmpty())) {
      auto doc = std::make_shared<rapidjson::Document>();
      doc->Parse(line.data(), line.size());
      EXPECT_TRUE(!doc->HasParseError() && doc->IsObject()) << "not a JSON object: " << line;
      if (doc->HasParseError() || !doc->IsObject()) continue;
      for (const char* field : {"time", "level", "message"}) {
        EXPECT_TRUE(doc->HasMember(field) && (*doc)[field].IsString()) << field << ": " << line;
      }
      lines.push_back(std::move(doc));
    }
    return lines;
  }

  // The "question ended" line the pipeline (core/) writes for a question.
  std::shared_ptr<rapidjson::Document> QuestionEndedLine(const std::string& question_id) {
    for (auto& doc : JsonLogLines()) {
      if (!doc->HasMember("message") || !doc->HasMember("question_id")) continue;
      if (absl::StartsWith((*doc)["message"].GetString(), "question ended") &&
          question_id == (*doc)["question_id"].GetString()) {
        return doc;
      }
    }
    return nullptr;
  }

  static std::string Field(const rapidjson::Document& doc, const char* name) {
    return doc.HasMember(name) && doc[name].IsString() ? doc[name].GetString() : "";
  }

  std::unique_ptr<Fake> fake_;
  std::string state_dir_;
  std::unique_ptr<CapturedStderr> stderr_;
  std::unique_ptr<server::VetServer> server_;
  std::unique_ptr<v1::AnalyticsService::Stub> stub_;
};

TEST_F(OperabilityIntegrationTest, TraceIdOfAnAskReachesTheLogsTheResponseAndTheModelRequest) {
  fake_->Enqueue(Fake::Completion("```python\nresult = 42\n```\n"));
  const std::string sent = absl::StrCat("00-", kTraceId, "-", kParentId, "-01");
  AskOutcome outcome = Ask(kModelQuestion, sent);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  ASSERT_FALSE(outcome.question_id.empty());

  // The response: the same trace, this server's span, the caller's flags.
  auto echoed = ParseTraceparent(outcome.traceparent);
  ASSERT_TRUE(echoed.has_value()) << outcome.traceparent;
  EXPECT_EQ(echoed->trace_id, kTraceId);
  EXPECT_NE(echoed->parent_id, kParentId);
  EXPECT_EQ(echoed->flags, 1);

  // The model request: the same trace again.
  std::vector<Fake::Request> requests = fake_->requests();
  ASSERT_EQ(requests.size(), 1u);
  ASSERT_TRUE(requests[0].headers.count("traceparent"));
  auto to_model = ParseTraceparent(requests[0].headers["traceparent"]);
  ASSERT_TRUE(to_model.has_value()) << requests[0].headers["traceparent"];
  EXPECT_EQ(to_model->trace_id, kTraceId);
  EXPECT_NE(to_model->parent_id, kParentId);
  EXPECT_EQ(to_model->flags, 1);

  // The logs: a line from core/pipeline about this question, with its
  // whole context.
  auto line = QuestionEndedLine(outcome.question_id);
  ASSERT_NE(line, nullptr) << stderr_->Read();
  EXPECT_EQ(Field(*line, "level"), "INFO");
  EXPECT_EQ(Field(*line, "practice"), "demo");
  EXPECT_EQ(Field(*line, "session"), outcome.session_id);
  EXPECT_EQ(Field(*line, "trace_id"), kTraceId);
  EXPECT_THAT(Field(*line, "message"), HasSubstr("OK"));
  EXPECT_THAT(Field(*line, "message"), HasSubstr("model"));
}

TEST_F(OperabilityIntegrationTest, AnInvalidTraceparentIsIgnoredAndANewTraceStarted) {
  for (const std::string& bad :
       {absl::StrCat("00-00000000000000000000000000000000-", kParentId, "-01"),
        absl::StrCat("00-", kTraceId, "-0000000000000000-01"), std::string("garbage"),
        std::string("00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01"), std::string()}) {
    SCOPED_TRACE(bad);
    AskOutcome outcome = Ask(kPlannerQuestion, bad);
    ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
    auto echoed = ParseTraceparent(outcome.traceparent);
    ASSERT_TRUE(echoed.has_value()) << outcome.traceparent;
    EXPECT_NE(echoed->trace_id, kTraceId);
    auto line = QuestionEndedLine(outcome.question_id);
    ASSERT_NE(line, nullptr) << stderr_->Read();
    EXPECT_EQ(Field(*line, "trace_id"), echoed->trace_id);
  }
  // The planner answered: no model call, so no header went anywhere.
  EXPECT_TRUE(fake_->requests().empty());
}

// The metric names of docs/METRICS.md's table: its rows' first cells.
std::set<std::string> DocumentedMetrics() {
  std::ifstream in(std::string(VET_SOURCE_DIR) + "/docs/METRICS.md");
  std::stringstream buf;
  buf << in.rdbuf();
  std::set<std::string> names;
  const std::regex row(R"(^\| `([a-z_]+)` \| (counter|gauge|histogram) \|)");
  for (absl::string_view line : absl::StrSplit(buf.str(), '\n')) {
    std::smatch m;
    const std::string text(line);
    if (std::regex_search(text, m, row)) names.insert(m[1]);
  }
  return names;
}

TEST_F(OperabilityIntegrationTest, AFreshServerExportsEveryDocumentedFamily) {
  const std::set<std::string> documented = DocumentedMetrics();
  // The doc's table is read: all its families, the process ones included.
  ASSERT_GE(documented.size(), 30u);
  ASSERT_TRUE(documented.count("vet_questions_total"));
  ASSERT_TRUE(documented.count("process_open_fds"));

  std::string scrape = testing::HttpGet(server_->metrics_port(), "/metrics");
  ASSERT_THAT(scrape, HasSubstr("200 OK"));
  for (const std::string& name : documented) {
    SCOPED_TRACE(name);
    EXPECT_THAT(scrape, HasSubstr(absl::StrCat("# TYPE ", name, " "))) << "family missing";
    if (absl::EndsWith(name, "_total") && !absl::StartsWith(name, "process_")) {
      // A counter has a series, at zero, before anything happened.
      const std::regex zero("\n" + name + R"((\{[^}]*\})? 0\n)");
      EXPECT_TRUE(std::regex_search(scrape, zero)) << "no series at 0";
    }
  }
  // And the other way: every vet_ and process_ family served is documented.
  const std::regex type(R"(# TYPE ((vet|process)_[a-z_]+) )");
  for (auto it = std::sregex_iterator(scrape.begin(), scrape.end(), type);
       it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(documented.count((*it)[1])) << (*it)[1] << " is served but not in docs/METRICS.md";
  }
  EXPECT_THAT(scrape, HasSubstr("vet_build_info{"));
  EXPECT_THAT(scrape, HasSubstr("vet_questions_total{practice=\"demo\",status=\"OK\"} 0\n"));
}

}  // namespace
}  // namespace vet
