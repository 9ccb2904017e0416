// Issue 12 end to end: a question whose code builds a 7.5 MB table (1000 rows
// of long strings), written by the scripted fake model, runs through the
// real server, pipeline and sandbox, and a gRPC client with the default
// 4 MiB receive limit gets every event: the answer with the beginning of the
// table and its truncation stated, and the whole table as result.csv in
// parts that put back together give every row. A client that never reads
// those events is cut off instead of held in memory.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/common/log.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/testing/fake_openai_server.h"
#include "tests/testing/http_get.h"
#include "tests/testing/model_server_options.h"
#include "tests/testing/personal_data_check.h"
#include "vetanalytics/v1/analytics.grpc.pb.h"

namespace vet {
namespace {

namespace v1 = ::vetanalytics::v1;
using Fake = ::vet::testing::FakeOpenAiServer;

constexpr char kKey[] = "demo-key";
constexpr char kModel[] = "gpt-test-model";
// gRPC's default for a client (GRPC_DEFAULT_MAX_RECV_MESSAGE_LENGTH); set
// explicitly, so that a changed default cannot make this test pass.
constexpr int kDefaultReceiveLimit = 4 * 1024 * 1024;

// 1000 rows of 7,500-character notes: 7.5 MB, under the sandbox's 8 MiB
// result cap, almost twice what a client accepts in one message.
constexpr char kBigTableCode[] =
    "notes = pd.DataFrame({'n': range(1000),\n"
    "                      'note': ['x' * 7500 + str(i) for i in range(1000)]})\n"
    "result = notes\n"
    "answer = 'Here are all 1000 notes.'\n";

class ResultSizeIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLogQuiet(true);
    auto fake = Fake::Start();
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = std::move(*fake);
    state_dir_ = absl::StrCat(::testing::TempDir(), "/vet-result-size-", getpid());
    std::filesystem::create_directories(state_dir_);
    std::ofstream(state_dir_ + "/pricing.json")
        << R"({"models": {"gpt-test-model": {"input": 0.25, "output": 2.00}}})";
  }

  // The demo practice and the fake model; tests change what they exercise.
  server::ServerOptions Options() const {
    return vet::testing::ModelServerOptions({state_dir_, kKey, fake_->base_url(), kModel,
                                             state_dir_ + "/pricing.json",
                                             /*demo_invoice_lines=*/2000, /*worker_threads=*/2});
  }

  void StartServer(const server::ServerOptions& options) {
    auto started = server::VetServer::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
  }

  void TearDown() override {
    server_.reset();
    // Whatever the test did, nothing personal reached the model.
    if (fake_ != nullptr) {
      EXPECT_THAT(vet::testing::PersonalValuesOfAnyPracticeIn(fake_->received_bytes(), state_dir_),
                  ::testing::IsEmpty())
          << "personal values were sent to the model";
    }
    fake_.reset();
    std::filesystem::remove_all(state_dir_);
  }

  void ExpectANonReadingClientIsCutOff(const server::ServerOptions& base);

  std::unique_ptr<Fake> fake_;
  std::string state_dir_;
  std::unique_ptr<server::VetServer> server_;
};

TEST_F(ResultSizeIntegrationTest, ADefaultClientReceivesABigResultCutWithTheWholeTableAsCsv) {
  ASSERT_NO_FATAL_FAILURE(StartServer(Options()));
  fake_->Enqueue(Fake::Completion(absl::StrCat("```python\n", kBigTableCode, "```\n"),
                                  /*with_usage=*/true, /*prompt_tokens=*/300,
                                  /*completion_tokens=*/60, kModel));
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(kDefaultReceiveLimit);
  auto channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                           grpc::InsecureChannelCredentials(), arguments);
  auto stub = v1::AnalyticsService::NewStub(channel);
  grpc::ClientContext context;
  context.AddMetadata("x-api-key", kKey);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(90));
  v1::AskRequest request;
  request.set_practice_id("demo");
  request.set_question("Show me every note, in full");
  request.set_as_of_date("2026-10-26");

  std::vector<v1::AskEvent> events;
  auto reader = stub->Ask(&context, request);
  v1::AskEvent event;
  while (reader->Read(&event)) events.push_back(event);
  const grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();

  // Every event within the server's bound, far under the client's limit.
  std::string csv;
  int parts = 0;
  const v1::FinalAnswer* answer = nullptr;
  for (const v1::AskEvent& e : events) {
    EXPECT_LE(e.ByteSizeLong(), size_t{1} << 20) << "event " << e.seq();
    if (e.has_artifact() && e.artifact().name() == "result.csv") {
      EXPECT_EQ(e.artifact().mime_type(), "text/csv");
      EXPECT_EQ(e.artifact().offset(), static_cast<int64_t>(csv.size()));
      csv += e.artifact().data();
      ++parts;
      EXPECT_LE(csv.size(), static_cast<size_t>(e.artifact().total_bytes()));
    }
    if (e.has_final_answer()) answer = &e.final_answer();
  }
  ASSERT_NE(answer, nullptr);
  // The answer says how large the table is and where the whole of it is.
  EXPECT_EQ(answer->text(),
            absl::StrCat("Here are all 1000 notes. The table has 1,000 rows; the first ",
                         answer->result().table().rows_size(),
                         " are shown and all of them are in result.csv."));

  const v1::Table& table = answer->result().table();
  EXPECT_TRUE(table.truncated());
  EXPECT_EQ(table.total_rows(), 1000);
  EXPECT_EQ(table.included_rows(), table.rows_size());
  EXPECT_GT(table.rows_size(), 50);
  EXPECT_LT(table.rows_size(), 200);
  EXPECT_EQ(table.cut_cells(), 0);
  EXPECT_EQ(table.csv_artifact(), "result.csv");
  EXPECT_EQ(table.csv_rows(), 1000);

  // The CSV, put back together, is the whole table, and its first rows are
  // the ones in the answer.
  EXPECT_GE(parts, 10);  // 7.5 MB in parts of 768 KiB
  ASSERT_TRUE(absl::StartsWith(csv, "\xEF\xBB\xBFn,note\r\n"));
  std::vector<std::string> lines = absl::StrSplit(csv.substr(3), "\r\n", absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1001u);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(lines[i + 1], absl::StrCat(i, ",", std::string(7500, 'x'), i)) << "row " << i;
  }
  for (int i = 0; i < table.rows_size(); ++i) {
    EXPECT_EQ(table.rows(i).cells(0).integer(), i);
    EXPECT_EQ(table.rows(i).cells(1).text(), absl::StrCat(std::string(7500, 'x'), i));
  }
}

}  // namespace
}  // namespace vet

namespace vet {
namespace {

// The value of the vet_active_streams gauge, or -1 when it cannot be read.
int ActiveStreams(int metrics_port) {
  const std::string metrics = ::vet::testing::HttpGet(metrics_port, "/metrics");
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (absl::ConsumePrefix(&line, "vet_active_streams ")) {
      double value = -1;
      return absl::SimpleAtod(line, &value) ? static_cast<int>(value) : -1;
    }
  }
  return -1;
}

// A client that asks and then never reads: the server does not keep the
// question's 10 MB of events for it. Past the bound of events waiting (or
// the stall limit after the question ended) it cancels the call, and the
// stream is gone; when the client finally reads, it finds it cancelled.
void ResultSizeIntegrationTest::ExpectANonReadingClientIsCutOff(const server::ServerOptions& base) {
  fake_->Enqueue(Fake::Completion(absl::StrCat("```python\n", kBigTableCode, "```\n"),
                                  /*with_usage=*/true, /*prompt_tokens=*/300,
                                  /*completion_tokens=*/60, kModel));
  server::ServerOptions options = base;
  options.metrics_listen = "127.0.0.1:0";
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::AnalyticsService::NewStub(channel);
  grpc::ClientContext context;
  context.AddMetadata("x-api-key", kKey);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  v1::AskRequest request;
  request.set_practice_id("demo");
  request.set_question("Show me every note, in full");
  request.set_as_of_date("2026-10-26");
  auto reader = stub->Ask(&context, request);

  // Not reading: the server ends the stream on its own.
  const absl::Time deadline = absl::Now() + absl::Seconds(90);
  int active = -1;
  while (absl::Now() < deadline) {
    active = ActiveStreams(server_->metrics_port());
    if (active == 0 && fake_->requests().size() == 1) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(active, 0) << "the stream of a client that never reads was not ended";

  std::vector<v1::AskEvent> events;
  v1::AskEvent event;
  while (reader->Read(&event)) events.push_back(event);
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << status.error_message();
  for (const v1::AskEvent& e : events) EXPECT_FALSE(e.has_final_answer());
}

TEST_F(ResultSizeIntegrationTest, AClientThatNeverReadsIsCutOffPastTheBufferBound) {
  server::ServerOptions options = Options();
  options.max_buffered_event_bytes = int64_t{2} << 20;
  ExpectANonReadingClientIsCutOff(options);
}

TEST_F(ResultSizeIntegrationTest, AClientThatNeverReadsIsCutOffAfterTheStallLimit) {
  server::ServerOptions options = Options();
  options.stalled_stream_limit = absl::Seconds(1);
  ExpectANonReadingClientIsCutOff(options);
}

}  // namespace
}  // namespace vet
