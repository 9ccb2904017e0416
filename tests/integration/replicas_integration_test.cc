// Replicas sharing practice data through one real PostgreSQL, each with its
// own state folder, as a practice group runs them: an import through any
// replica is what every replica answers from (the one imported through, one
// that only heard of it, one started afterwards with nothing); a damaged
// local copy is caught by its digest after a restart and fetched again.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/common/log.h"
#include "core/data/demo_generator.h"
#include "core/data/schema.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/testing/http_get.h"
#include "tests/testing/postgres_fixture.h"
#include "tests/testing/wait.h"
#include "vetanalytics/v1/analytics.grpc.pb.h"

namespace vet {
namespace {

namespace v1 = ::vetanalytics::v1;
using ::testing::HasSubstr;

constexpr char kKey[] = "north-key-for-replicas";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// One replica: a server with its own state folder on the shared database.
class Replica {
 public:
  Replica(const std::string& root, const std::string& name, const std::string& database_url)
      : state_dir_(absl::StrCat(root, "/", name)) {
    options_.listen = "127.0.0.1:0";
    options_.state_dir = state_dir_;
    options_.practices_file = root + "/practices.json";
    options_.database_url = database_url;
    options_.data_poll = absl::Seconds(1);
    options_.metrics_listen = "127.0.0.1:0";
  }
  ~Replica() { Stop(); }

  void Start() {
    auto started = server::VetServer::Start(options_);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    stub_ = v1::AnalyticsService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
  }
  void Stop() {
    stub_.reset();
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(1));
    server_.reset();
  }

  grpc::Status Import(const std::string& exports, v1::ImportReport* report) {
    grpc::ClientContext context;
    context.AddMetadata("x-api-key", kKey);
    auto writer = stub_->ImportDataset(&context, report);
    v1::ImportChunk header;
    header.mutable_header()->set_practice_id("north");
    writer->Write(header);
    int64_t total = 0;
    for (const data::TableSpec& t : data::CanonicalSchema()) {
      const std::string bytes = ReadFile(absl::StrCat(exports, "/", t.name, ".csv"));
      total += static_cast<int64_t>(bytes.size());
      for (size_t at = 0; at < bytes.size(); at += 64 << 10) {
        v1::ImportChunk chunk;
        chunk.mutable_table()->set_table(t.name);
        chunk.mutable_table()->set_data(bytes.substr(at, 64 << 10));
        writer->Write(chunk);
      }
    }
    v1::ImportChunk end;
    end.mutable_end()->set_total_bytes(total);
    writer->Write(end);
    writer->WritesDone();
    return writer->Finish();
  }

  // The version DescribeDataset says it serves; the status's message on
  // failure.
  std::string Serving(grpc::Status* status = nullptr) {
    grpc::ClientContext context;
    context.AddMetadata("x-api-key", kKey);
    v1::DescribeDatasetRequest request;
    request.set_practice_id("north");
    v1::DatasetDescription out;
    grpc::Status s = stub_->DescribeDataset(&context, request, &out);
    if (status != nullptr) *status = s;
    return s.ok() ? out.dataset_version() : "";
  }

  // The planner's figure for `question` over the whole history.
  std::string Answer(const std::string& question) {
    grpc::ClientContext context;
    context.AddMetadata("x-api-key", kKey);
    v1::AskRequest request;
    request.set_practice_id("north");
    request.set_question(question);
    auto reader = stub_->Ask(&context, request);
    v1::AskEvent event;
    std::string text;
    while (reader->Read(&event)) {
      if (event.has_final_answer()) text = event.final_answer().text();
    }
    grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return text;
  }

  // The version the state folder's link points at (what the replica has
  // swapped in locally, question or not).
  std::string Linked() const {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(state_dir_ + "/practices/north/data", ec);
    return ec ? "" : target.filename().string();
  }
  const std::string& state_dir() const { return state_dir_; }
  // The value of an unlabelled series on /metrics; -1 when absent.
  double Metric(const std::string& name) {
    const std::string scrape = testing::HttpGet(server_->metrics_port(), "/metrics");
    const std::string prefix = "\n" + name + " ";
    const size_t at = scrape.find(prefix);
    if (at == std::string::npos) return -1;
    return std::stod(scrape.substr(at + prefix.size()));
  }

 private:
  const std::string state_dir_;
  server::ServerOptions options_;
  std::unique_ptr<server::VetServer> server_;
  std::unique_ptr<v1::AnalyticsService::Stub> stub_;
};

class ReplicasIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLogQuiet(true);
    auto database = testing::FreshPostgresDatabase();
    ASSERT_TRUE(database.ok()) << database.status();
    url_ = database->url();
    root_ = absl::StrCat(::testing::TempDir(), "/vet-replicas-", getpid(), "-",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(root_);
    std::ofstream(root_ + "/practices.json") << R"({"practices": [{"id": "north", "api_key": ")"
                                             << kKey << R"(", "time_zone": "America/Chicago"}]})";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  // Demo exports of `seed`: different seeds, different data.
  std::string Exports(uint64_t seed) {
    std::string dir = absl::StrCat(root_, "/exports-", seed);
    data::DemoOptions demo;
    absl::TimeZone chicago;
    EXPECT_TRUE(absl::LoadTimeZone("America/Chicago", &chicago));
    demo.end_day = absl::ToCivilDay(absl::Now(), chicago);
    demo.invoice_lines = 2000;
    demo.seed = seed;
    EXPECT_TRUE(data::WriteDemoDataset(demo, dir).ok());
    return dir;
  }

  std::string url_;
  std::string root_;
};

TEST_F(ReplicasIntegrationTest, AnImportThroughOneReplicaIsWhatEveryReplicaAnswersFrom) {
  Replica a(root_, "a", url_), b(root_, "b", url_);
  ASSERT_NO_FATAL_FAILURE(a.Start());
  ASSERT_NO_FATAL_FAILURE(b.Start());
  grpc::Status status;
  b.Serving(&status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("import its exports first"));

  v1::ImportReport first;
  grpc::Status imported = a.Import(Exports(1), &first);
  ASSERT_TRUE(imported.ok()) << imported.error_message();
  // b never saw the upload: its first call fetches the version.
  EXPECT_EQ(b.Serving(), first.dataset_version());
  const std::string question = "How many invoices did we have last month?";
  const std::string a_answer = a.Answer(question);
  EXPECT_FALSE(a_answer.empty());
  EXPECT_EQ(b.Answer(question), a_answer);

  // An import through b reaches a by its announcement, before any question.
  v1::ImportReport second;
  imported = b.Import(Exports(2), &second);
  ASSERT_TRUE(imported.ok()) << imported.error_message();
  ASSERT_NE(second.dataset_version(), first.dataset_version());
  EXPECT_TRUE(
      testing::WaitUntil([&] { return a.Linked() == second.dataset_version(); }, absl::Seconds(20)))
      << "a still links " << a.Linked();
  EXPECT_EQ(a.Serving(), second.dataset_version());
  EXPECT_EQ(a.Answer(question), b.Answer(question));

  // A replica that starts with nothing serves the current version.
  Replica c(root_, "c", url_);
  ASSERT_NO_FATAL_FAILURE(c.Start());
  EXPECT_EQ(c.Serving(), second.dataset_version());
}

TEST_F(ReplicasIntegrationTest, ADamagedLocalCopyIsFetchedAgainAfterARestart) {
  Replica a(root_, "a", url_), b(root_, "b", url_);
  ASSERT_NO_FATAL_FAILURE(a.Start());
  ASSERT_NO_FATAL_FAILURE(b.Start());
  v1::ImportReport report;
  grpc::Status imported = a.Import(Exports(1), &report);
  ASSERT_TRUE(imported.ok()) << imported.error_message();
  ASSERT_EQ(b.Serving(), report.dataset_version());
  b.Stop();

  const std::string version_dir =
      absl::StrCat(b.state_dir(), "/practices/north/versions/", report.dataset_version());
  const std::string manifest = version_dir + "/manifest.json";
  const std::string good = ReadFile(manifest);
  ASSERT_FALSE(good.empty());
  std::ofstream(manifest, std::ios::binary | std::ios::trunc) << "{\"damaged\": true}";

  ASSERT_NO_FATAL_FAILURE(b.Start());
  EXPECT_EQ(b.Serving(), report.dataset_version());
  EXPECT_EQ(ReadFile(manifest), good);
  EXPECT_EQ(b.Metric("vet_dataset_damaged_copies_total"), 1);
  EXPECT_EQ(b.Metric("vet_dataset_fetches_total"), 1);
  EXPECT_GT(b.Metric("vet_dataset_cache_bytes"), 0);
  EXPECT_FALSE(b.Answer("How many invoices did we have last month?").empty());
}

}  // namespace
}  // namespace vet
