// The audit trail through the real server on loopback: an answered
// question, a refused call and an import each leave an entry with the right
// fields in the practice's ListAudit; another practice sees none of them and
// may not read this one's; bad since values and page tokens are
// INVALID_ARGUMENT naming them; with --audit_questions=hash (the default)
// the question's text is nowhere in the audit database's bytes, and with
// text it is in the entry.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/common/log.h"
#include "core/common/sha256.h"
#include "core/data/demo_generator.h"
#include "core/data/schema.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "vetanalytics/v1/analytics.grpc.pb.h"

namespace vet {
namespace {

namespace v1 = ::vetanalytics::v1;
using ::testing::HasSubstr;

constexpr char kDemoKey[] = "demo-key-for-audit";
constexpr char kNorthKey[] = "north-key-for-audit";
// A question no planner metric matches: refused (INVALID_ARGUMENT) without
// running the sandbox, and still audited with its hash.
constexpr char kSecretQuestion[] = "How many zebras named Quokkafrond visited?";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string KeyIdOf(const std::string& key) { return Sha256Hex(Sha256(key)).substr(0, 12); }

// One server with the demo practice and "north", in a state directory of
// its own.
class AuditServer {
 public:
  explicit AuditServer(const std::string& audit_questions) {
    root_ = absl::StrCat(::testing::TempDir(), "/vet-audit-", audit_questions, "-", getpid());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
    std::ofstream(root_ + "/practices.json")
        << R"({"practices": [{"id": "north", "api_key": ")" << kNorthKey << R"("}]})";
    server::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.metrics_listen = "";
    options.state_dir = root_ + "/state";
    options.practices_file = root_ + "/practices.json";
    options.demo = true;
    options.demo_api_key = kDemoKey;
    options.demo_invoice_lines = 3000;
    options.worker_threads = 4;
    options.audit_questions = audit_questions;
    auto started = server::VetServer::Start(options);
    EXPECT_TRUE(started.ok()) << started.status();
    if (started.ok()) server_ = std::move(started).value();
    stub_ = v1::AnalyticsService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_ != nullptr ? server_->port() : 1),
                            grpc::InsecureChannelCredentials()));
  }
  ~AuditServer() {
    server_.reset();
    std::filesystem::remove_all(root_);
  }

  bool ok() const { return server_ != nullptr; }
  v1::AnalyticsService::Stub& stub() { return *stub_; }
  const std::string& root() const { return root_; }

  grpc::Status Ask(const std::string& practice, const std::string& key, const std::string& question,
                   v1::SessionStarted* started = nullptr) {
    grpc::ClientContext context;
    context.AddMetadata("x-api-key", key);
    v1::AskRequest request;
    request.set_practice_id(practice);
    request.set_question(question);
    auto reader = stub_->Ask(&context, request);
    v1::AskEvent event;
    while (reader->Read(&event)) {
      if (event.has_session_started() && started != nullptr) *started = event.session_started();
    }
    return reader->Finish();
  }

  grpc::Status ListAudit(const std::string& practice, const std::string& key,
                         v1::ListAuditRequest request, v1::ListAuditResponse* response) {
    grpc::ClientContext context;
    context.AddMetadata("x-api-key", key);
    request.set_practice_id(practice);
    return stub_->ListAudit(&context, request, response);
  }

  // Every entry of the practice since `since`, page by page.
  std::vector<v1::AuditEntry> Trail(const std::string& practice, const std::string& key,
                                    absl::Time since) {
    std::vector<v1::AuditEntry> all;
    v1::ListAuditRequest request;
    request.mutable_since()->set_seconds(absl::ToUnixSeconds(since));
    request.set_page_size(2);
    for (int pages = 0; pages < 100; ++pages) {
      v1::ListAuditResponse page;
      grpc::Status s = ListAudit(practice, key, request, &page);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      all.insert(all.end(), page.entries().begin(), page.entries().end());
      if (page.next_page_token().empty()) break;
      request.set_page_token(page.next_page_token());
    }
    return all;
  }

 private:
  std::string root_;
  std::unique_ptr<server::VetServer> server_;
  std::unique_ptr<v1::AnalyticsService::Stub> stub_;
};

class AuditIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetLogQuiet(true);
    server_ = new AuditServer("hash");
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(server_->ok()); }

  static AuditServer* server_;
};
AuditServer* AuditIntegrationTest::server_ = nullptr;

const v1::AuditEntry* FindEntry(const std::vector<v1::AuditEntry>& trail, const std::string& rpc,
                                const std::string& status) {
  for (const v1::AuditEntry& e : trail) {
    if (e.rpc() == rpc && e.status() == status) return &e;
  }
  return nullptr;
}

TEST_F(AuditIntegrationTest, AnAskARefusalAndAnImportEachLeaveTheirEntry) {
  const absl::Time since = absl::Now() - absl::Seconds(1);
  AuditServer& s = *server_;

  const std::string question = "What was our revenue last month?";
  v1::SessionStarted started;
  grpc::Status asked = s.Ask("demo", kDemoKey, question, &started);
  ASSERT_TRUE(asked.ok()) << asked.error_message();
  ASSERT_EQ(started.question_id().size(), 32u);

  // North's key for the demo's budget: refused.
  grpc::ClientContext refused_context;
  refused_context.AddMetadata("x-api-key", kNorthKey);
  v1::GetBudgetRequest budget_request;
  budget_request.set_practice_id("demo");
  v1::Budget budget;
  EXPECT_EQ(s.stub().GetBudget(&refused_context, budget_request, &budget).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // North imports the demo's exports (a practice management system's files).
  const std::string exports = s.root() + "/exports";
  data::DemoOptions demo;
  demo.end_day = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  demo.invoice_lines = 500;
  ASSERT_TRUE(data::WriteDemoDataset(demo, exports).ok());
  {
    grpc::ClientContext context;
    context.AddMetadata("x-api-key", kNorthKey);
    v1::ImportReport report;
    auto writer = s.stub().ImportDataset(&context, &report);
    v1::ImportChunk header;
    header.mutable_header()->set_practice_id("north");
    ASSERT_TRUE(writer->Write(header));
    int64_t total = 0;
    for (const data::TableSpec& t : data::CanonicalSchema()) {
      v1::ImportChunk chunk;
      chunk.mutable_table()->set_table(t.name);
      chunk.mutable_table()->set_data(ReadFile(absl::StrCat(exports, "/", t.name, ".csv")));
      total += static_cast<int64_t>(chunk.table().data().size());
      ASSERT_TRUE(writer->Write(chunk));
    }
    v1::ImportChunk end;
    end.mutable_end()->set_total_bytes(total);
    ASSERT_TRUE(writer->Write(end));
    writer->WritesDone();
    grpc::Status imported = writer->Finish();
    ASSERT_TRUE(imported.ok()) << imported.error_message();
  }

  std::vector<v1::AuditEntry> trail = s.Trail("demo", kDemoKey, since);
  const v1::AuditEntry* ask = FindEntry(trail, "Ask", "OK");
  ASSERT_NE(ask, nullptr);
  EXPECT_EQ(ask->practice_id(), "demo");
  EXPECT_EQ(ask->key_id(), KeyIdOf(kDemoKey));
  EXPECT_EQ(ask->session_id(), started.session_id());
  EXPECT_EQ(ask->question_id(), started.question_id());
  EXPECT_EQ(ask->generator(), "planner");
  EXPECT_EQ(ask->model(), "");  // the planner is no model
  EXPECT_EQ(ask->cost_micros(), 0);
  EXPECT_EQ(ask->question(), "");
  EXPECT_EQ(ask->question_sha256(), Sha256Hex(Sha256(question)));
  EXPECT_GT(ask->duration_ms(), 0);
  EXPECT_GE(ask->time().seconds(), absl::ToUnixSeconds(since));

  const v1::AuditEntry* refusal = FindEntry(trail, "GetBudget", "PERMISSION_DENIED");
  ASSERT_NE(refusal, nullptr);
  EXPECT_EQ(refusal->practice_id(), "demo");
  EXPECT_EQ(refusal->key_id(), "");

  // Newest first; the refusal came after the question.
  for (size_t i = 1; i < trail.size(); ++i) {
    const auto& a = trail[i - 1].time();
    const auto& b = trail[i].time();
    EXPECT_TRUE(a.seconds() > b.seconds() || (a.seconds() == b.seconds() && a.nanos() >= b.nanos()))
        << i;
  }
  EXPECT_LT(refusal - trail.data(), ask - trail.data());

  // The import is north's, and north's trail holds nothing of the demo's.
  std::vector<v1::AuditEntry> north = s.Trail("north", kNorthKey, since);
  const v1::AuditEntry* import = FindEntry(north, "ImportDataset", "OK");
  ASSERT_NE(import, nullptr);
  EXPECT_EQ(import->key_id(), KeyIdOf(kNorthKey));
  EXPECT_EQ(import->practice_id(), "north");
  for (const v1::AuditEntry& e : north) {
    EXPECT_EQ(e.practice_id(), "north");
    EXPECT_NE(e.question_id(), started.question_id());
    EXPECT_NE(e.rpc(), "Ask");
    EXPECT_NE(e.rpc(), "GetBudget");
  }
  for (const v1::AuditEntry& e : trail) EXPECT_NE(e.rpc(), "ImportDataset");

  // North may not read the demo's trail, and trying is on the demo's trail.
  v1::ListAuditResponse foreign;
  grpc::Status denied = s.ListAudit("demo", kNorthKey, {}, &foreign);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(foreign.entries_size(), 0);
  std::vector<v1::AuditEntry> after = s.Trail("demo", kDemoKey, since);
  const v1::AuditEntry* denied_entry = FindEntry(after, "ListAudit", "PERMISSION_DENIED");
  ASSERT_NE(denied_entry, nullptr);
  EXPECT_EQ(denied_entry->key_id(), "");
}

TEST_F(AuditIntegrationTest, BadSinceAndPageTokensAreInvalidArgumentNamingThem) {
  AuditServer& s = *server_;
  v1::ListAuditRequest request;
  request.mutable_since()->set_seconds(0);
  request.mutable_since()->set_nanos(-5);
  v1::ListAuditResponse response;
  grpc::Status bad_since = s.ListAudit("demo", kDemoKey, request, &response);
  EXPECT_EQ(bad_since.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad_since.error_message(), HasSubstr("since is not a valid timestamp"));

  request.Clear();
  request.mutable_since()->set_seconds(253402300800);  // past 9999-12-31
  EXPECT_EQ(s.ListAudit("demo", kDemoKey, request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  request.Clear();
  request.set_page_token("not-a-token");
  grpc::Status bad_token = s.ListAudit("demo", kDemoKey, request, &response);
  EXPECT_EQ(bad_token.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad_token.error_message(), HasSubstr("page_token"));

  request.Clear();
  request.set_page_size(1001);
  grpc::Status bad_size = s.ListAudit("demo", kDemoKey, request, &response);
  EXPECT_EQ(bad_size.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad_size.error_message(), HasSubstr("page_size"));

  // No key at all: UNAUTHENTICATED, as for the other methods.
  grpc::ClientContext context;
  request.Clear();
  request.set_practice_id("demo");
  EXPECT_EQ(s.stub().ListAudit(&context, request, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuditIntegrationTest, HashModeLeavesTheQuestionsTextNowhereInTheAuditDatabase) {
  AuditServer& s = *server_;
  const absl::Time since = absl::Now() - absl::Seconds(1);
  grpc::Status asked = s.Ask("demo", kDemoKey, kSecretQuestion);
  EXPECT_FALSE(asked.ok());  // the planner declines; the call is audited all the same
  std::vector<v1::AuditEntry> trail = s.Trail("demo", kDemoKey, since);
  const std::string hash = Sha256Hex(Sha256(kSecretQuestion));
  bool found = false;
  for (const v1::AuditEntry& e : trail) {
    if (e.rpc() == "Ask" && e.question_sha256() == hash) {
      found = true;
      EXPECT_EQ(e.question(), "");
    }
  }
  EXPECT_TRUE(found);

  // The database and its WAL (where recent commits are) hold the hash, and
  // not the text nor any distinctive part of it.
  std::string bytes;
  for (const auto& file : std::filesystem::directory_iterator(s.root() + "/state")) {
    if (absl::StartsWith(file.path().filename().string(), "audit.sqlite3")) {
      bytes += ReadFile(file.path().string());
    }
  }
  ASSERT_FALSE(bytes.empty());
  EXPECT_TRUE(absl::StrContains(bytes, hash));
  EXPECT_FALSE(absl::StrContains(bytes, kSecretQuestion));
  EXPECT_FALSE(absl::StrContains(bytes, "Quokkafrond"));
}

TEST(AuditTextModeIntegrationTest, TextModeKeepsTheQuestionInItsEntry) {
  SetLogQuiet(true);
  AuditServer s("text");
  ASSERT_TRUE(s.ok());
  const absl::Time since = absl::Now() - absl::Seconds(1);
  s.Ask("demo", kDemoKey, kSecretQuestion);
  std::vector<v1::AuditEntry> trail = s.Trail("demo", kDemoKey, since);
  const v1::AuditEntry* ask = FindEntry(trail, "Ask", "INVALID_ARGUMENT");
  ASSERT_NE(ask, nullptr);
  EXPECT_EQ(ask->question(), kSecretQuestion);
  EXPECT_EQ(ask->question_sha256(), Sha256Hex(Sha256(kSecretQuestion)));
}

}  // namespace
}  // namespace vet
