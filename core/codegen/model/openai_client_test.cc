// OpenAiClient and ModelCodeGenerator against the scripted fake server on
// loopback (tests/testing/fake_openai_server.h): every reply shape the issue
// lists, retries, timeouts, streaming split at awkward bytes, and the code
// checks. Nothing here reaches a real API.
#include "core/codegen/model/openai_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "core/codegen/model_generator.h"
#include "core/data/schema.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_openai_server.h"
#include "tests/testing/status_matchers.h"

namespace vet::codegen {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::vet::testing::FakeOpenAiServer;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

class OpenAiClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake = FakeOpenAiServer::Start();
    ASSERT_THAT(fake, IsOk());
    fake_ = std::move(*fake);
  }

  std::unique_ptr<OpenAiClient> Client(absl::Duration timeout = absl::Seconds(5)) {
    OpenAiClient::Options options;
    options.base_url = fake_->base_url();
    options.api_key = "sk-test-key";
    options.request_timeout = timeout;
    options.initial_backoff = absl::Milliseconds(10);
    options.max_backoff = absl::Milliseconds(40);
    options.max_attempts = 3;
    auto client = OpenAiClient::Create(options);
    EXPECT_THAT(client, IsOk());
    return std::move(*client);
  }

  static ChatRequest Request(bool stream = false) {
    ChatRequest request;
    request.model = "gpt-5.2-mini";
    request.messages = {{"system", "You write pandas."}, {"user", "Revenue?"}};
    request.stream = stream;
    return request;
  }

  absl::StatusOr<ChatResponse> Call(OpenAiClient& client, bool stream = false) {
    CancellationToken cancel;
    ChatCallbacks callbacks;
    callbacks.on_retry = [this](const std::string& reason) { retries_.push_back(reason); };
    callbacks.on_delta = [this](absl::string_view piece) { deltas_.emplace_back(piece); };
    return client.Complete(Request(stream), callbacks, cancel);
  }

  std::unique_ptr<FakeOpenAiServer> fake_;
  std::vector<std::string> retries_;
  std::vector<std::string> deltas_;
};

TEST_F(OpenAiClientTest, ReadsAReplyAndItsUsageAndSendsTheKey) {
  fake_->Enqueue(FakeOpenAiServer::Completion("result = 1", true, 321, 45));
  auto client = Client();
  auto reply = Call(*client);
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->content, "result = 1");
  EXPECT_TRUE(reply->has_usage);
  EXPECT_EQ(reply->prompt_tokens, 321);
  EXPECT_EQ(reply->completion_tokens, 45);
  ASSERT_EQ(fake_->requests().size(), 1u);
  const auto sent = fake_->requests()[0];
  EXPECT_EQ(sent.path, "/v1/chat/completions");
  EXPECT_EQ(sent.headers.at("authorization"), "Bearer sk-test-key");
  EXPECT_THAT(sent.body, HasSubstr("\"model\":\"gpt-5.2-mini\""));
  EXPECT_THAT(sent.body, HasSubstr("\"max_completion_tokens\""));
  EXPECT_TRUE(retries_.empty());
}

TEST_F(OpenAiClientTest, AReplyWithoutUsageSaysSo) {
  fake_->Enqueue(FakeOpenAiServer::Completion("result = 1", false));
  auto client = Client();
  auto reply = Call(*client);
  ASSERT_THAT(reply, IsOk());
  EXPECT_FALSE(reply->has_usage);
}

TEST_F(OpenAiClientTest, ReusesOneConnectionAcrossCalls) {
  fake_->Enqueue(FakeOpenAiServer::Completion("a"));
  fake_->Enqueue(FakeOpenAiServer::Completion("b"));
  fake_->Enqueue(FakeOpenAiServer::Completion("c"));
  auto client = Client();
  for (int i = 0; i < 3; ++i) ASSERT_THAT(Call(*client), IsOk());
  EXPECT_EQ(fake_->connections(), 1);
}

TEST_F(OpenAiClientTest, HonoursRetryAfterOn429) {
  FakeOpenAiServer::Response limited = FakeOpenAiServer::Error(429, "slow down", "rate_limit");
  limited.headers.push_back({"Retry-After", "1"});
  fake_->Enqueue(limited);
  fake_->Enqueue(FakeOpenAiServer::Completion("result = 2"));
  auto client = Client();
  const absl::Time start = absl::Now();
  auto reply = Call(*client);
  ASSERT_THAT(reply, IsOk());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(950));
  ASSERT_EQ(retries_.size(), 1u);
  EXPECT_THAT(retries_[0], HasSubstr("HTTP 429 (rate limited): slow down"));
  EXPECT_THAT(retries_[0], HasSubstr("retrying in 1s"));
}

TEST_F(OpenAiClientTest, RetriesA500ThenSucceeds) {
  fake_->Enqueue(FakeOpenAiServer::Error(500, "boom", "server_error"));
  fake_->Enqueue(FakeOpenAiServer::Completion("result = 3"));
  auto client = Client();
  ASSERT_THAT(Call(*client), IsOk());
  ASSERT_EQ(retries_.size(), 1u);
  EXPECT_THAT(retries_[0], HasSubstr("HTTP 500: boom"));
}

TEST_F(OpenAiClientTest, GivesUpAfterTheLastAttemptNamingTheCause) {
  for (int i = 0; i < 3; ++i)
    fake_->Enqueue(FakeOpenAiServer::Error(503, "overloaded", "server_error"));
  auto client = Client();
  EXPECT_THAT(Call(*client),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("HTTP 503: overloaded"), HasSubstr("after 3 attempts"))));
  EXPECT_EQ(retries_.size(), 2u);
}

TEST_F(OpenAiClientTest, NeverRetriesABadKey) {
  fake_->Enqueue(FakeOpenAiServer::Error(401, "Incorrect API key provided", "invalid_api_key"));
  auto client = Client();
  EXPECT_THAT(Call(*client),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       AllOf(HasSubstr("refused the API key (HTTP 401)"),
                             HasSubstr("OPENAI_API_KEY"), Not(HasSubstr("sk-test-key")))));
  EXPECT_EQ(fake_->requests().size(), 1u);
  EXPECT_TRUE(retries_.empty());
}

TEST_F(OpenAiClientTest, NeverRetriesABadRequest) {
  fake_->Enqueue(FakeOpenAiServer::Error(400, "unknown model", "invalid_request_error"));
  auto client = Client();
  EXPECT_THAT(Call(*client),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("HTTP 400): unknown model")));
  EXPECT_EQ(fake_->requests().size(), 1u);
}

TEST_F(OpenAiClientTest, MalformedJsonIsInternal) {
  FakeOpenAiServer::Response garbled;
  garbled.body = "{\"choices\": [oops";
  fake_->Enqueue(garbled);
  auto client = Client();
  EXPECT_THAT(Call(*client), StatusIs(absl::StatusCode::kInternal, HasSubstr("not JSON")));
}

TEST_F(OpenAiClientTest, AHungServerTimesOutAndIsRetried) {
  FakeOpenAiServer::Response hang;
  hang.hang = true;
  fake_->Enqueue(hang);
  fake_->Enqueue(FakeOpenAiServer::Completion("result = 4"));
  auto client = Client(absl::Milliseconds(300));
  ASSERT_THAT(Call(*client), IsOk());
  ASSERT_EQ(retries_.size(), 1u);
  EXPECT_THAT(retries_[0], HasSubstr("did not answer within 300ms"));
}

TEST_F(OpenAiClientTest, ConnectionRefusedIsUnavailable) {
  // A port that was free a moment ago.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  OpenAiClient::Options options;
  options.base_url = absl::StrCat("http://127.0.0.1:", ntohs(addr.sin_port), "/v1");
  options.initial_backoff = absl::Milliseconds(5);
  options.max_backoff = absl::Milliseconds(10);
  options.max_attempts = 2;
  auto client = OpenAiClient::Create(options);
  ASSERT_THAT(client, IsOk());
  EXPECT_THAT(Call(**client),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("could not be reached"), HasSubstr("after 2 attempts"))));
  EXPECT_EQ(retries_.size(), 1u);
}

TEST_F(OpenAiClientTest, CancellationStopsAHungCallAtOnce) {
  FakeOpenAiServer::Response hang;
  hang.hang = true;
  fake_->Enqueue(hang);
  auto client = Client(absl::Seconds(30));
  CancellationToken cancel;
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(200));
    cancel.Cancel();
  });
  const absl::Time start = absl::Now();
  auto reply = client->Complete(Request(), ChatCallbacks(), cancel);
  canceller.join();
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kCancelled));
  // Against a 30 s timeout on a call that never answers.
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST_F(OpenAiClientTest, StreamsARepliesSplitAtAwkwardBytes) {
  const std::vector<std::string> pieces = {"# caf\xC3\xA9 revenue\n",
                                           "result = ", "invoice_lines['amount'].sum()\n"};
  // Splits inside "data:", inside the two-byte é, and between the two
  // newlines that end an event: offsets found in the unsplit stream.
  std::string sse;
  for (const std::string& chunk : FakeOpenAiServer::Stream(pieces, true).chunks) sse += chunk;
  const size_t e_acute = sse.find("\xC3\xA9");
  const size_t event_end = sse.find("\n\n");
  ASSERT_NE(e_acute, std::string::npos);
  ASSERT_NE(event_end, std::string::npos);
  fake_->Enqueue(FakeOpenAiServer::Stream(pieces, true, {3, e_acute + 1, event_end + 1}));
  auto client = Client();
  auto reply = Call(*client, /*stream=*/true);
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->content, pieces[0] + pieces[1] + pieces[2]);
  std::string joined;
  for (const std::string& d : deltas_) joined += d;
  EXPECT_EQ(joined, reply->content);
  EXPECT_TRUE(reply->has_usage);
  EXPECT_THAT(fake_->requests()[0].body, HasSubstr("\"stream\":true"));
  EXPECT_THAT(fake_->requests()[0].body, HasSubstr("\"include_usage\":true"));
}

TEST_F(OpenAiClientTest, AStreamWithoutUsageSaysSo) {
  fake_->Enqueue(FakeOpenAiServer::Stream({"result = 5\n"}, false));
  auto client = Client();
  auto reply = Call(*client, /*stream=*/true);
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->content, "result = 5\n");
  EXPECT_FALSE(reply->has_usage);
}

TEST(OpenAiClientCreateTest, RefusesABaseUrlThatIsNotHttp) {
  OpenAiClient::Options options;
  options.base_url = "api.openai.com/v1";
  EXPECT_THAT(OpenAiClient::Create(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("OPENAI_BASE_URL")));
}

TEST(RetryAfterTest, ReadsSecondsAndDates) {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  EXPECT_EQ(internal::ParseRetryAfter(" 7 ", now), absl::Seconds(7));
  EXPECT_EQ(internal::ParseRetryAfter("Tue, 14 Nov 2023 22:13:30 GMT", now), absl::Seconds(10));
  EXPECT_EQ(internal::ParseRetryAfter("soon", now), absl::nullopt);
}

// --- ModelCodeGenerator -------------------------------------------------------

TEST(ExtractCodeTest, TakesTheFencedBlockOrThePlainReply) {
  EXPECT_EQ(internal::ExtractCode("```python\nresult = 1\n```"), "result = 1\n");
  EXPECT_EQ(internal::ExtractCode("Here is the code:\n\n```python\nx = 2\nresult = x\n```\n"
                                  "It sums the column."),
            "x = 2\nresult = x\n");
  EXPECT_EQ(internal::ExtractCode("```\nresult = 3\n```"), "result = 3\n");
  EXPECT_EQ(internal::ExtractCode("result = 4\n"), "result = 4");
  EXPECT_EQ(internal::ExtractCode(""), "");
}

TEST(CheckImportsTest, AllowsTheListAndNamesAnythingElse) {
  EXPECT_THAT(internal::CheckImports("import pandas as pd\nimport numpy, math\n"
                                     "from collections import Counter\n"
                                     "import matplotlib.pyplot as plt\nresult = 1"),
              IsOk());
  EXPECT_THAT(internal::CheckImports("x = 1\nimport os\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 2 imports os")));
  EXPECT_THAT(internal::CheckImports("from subprocess import run"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("imports subprocess")));
  EXPECT_THAT(internal::CheckImports("import pandas, socket"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("imports socket")));
  EXPECT_THAT(internal::CheckImports("m = __import__('os')"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dynamically")));
}

class ModelGeneratorTest : public OpenAiClientTest {
 protected:
  std::unique_ptr<ModelCodeGenerator> Generator(bool stream = false) {
    ModelCodeGenerator::Options options;
    options.stream = stream;
    return std::make_unique<ModelCodeGenerator>(options, Client());
  }
  CodeRequest Ask(std::string question) {
    CodeRequest request;
    request.practice_id = "p1";
    request.question = std::move(question);
    request.as_of = absl::CivilDay(2026, 4, 15);
    data::TableDescription lines;
    lines.name = "invoice_lines";
    lines.description = "revenue, one row per invoice line";
    lines.row_count = 1234;
    const data::TableSpec* spec = data::FindTable("invoice_lines");
    for (const data::ColumnSpec& column : spec->columns) {
      data::ColumnDescription d;
      d.spec = column;
      if (column.name == "invoiced_on") {
        d.min_value = "2024-01-02";
        d.max_value = "2026-04-15";
      }
      lines.columns.push_back(d);
    }
    dataset_.tables = {lines};
    request.dataset = &dataset_;
    request.on_retry = [this](const std::string& reason) { retries_.push_back(reason); };
    return request;
  }
  data::DatasetDescription dataset_;
};

TEST_F(ModelGeneratorTest, PromptCarriesTheSchemaAndTheAsOfDateAndTheCodeComesBack) {
  fake_->Enqueue(FakeOpenAiServer::Completion(
      "Sure:\n```python\nresult = invoice_lines['amount'].sum()\n```", true, 1000, 50));
  auto generator = Generator();
  CancellationToken cancel;
  auto code = generator->Generate(Ask("What was our revenue in 2025?"), cancel);
  ASSERT_THAT(code, IsOk());
  EXPECT_EQ(code->code, "result = invoice_lines['amount'].sum()\n");
  EXPECT_EQ(code->generator, "model");
  EXPECT_EQ(code->prompt_tokens, 1000);
  EXPECT_EQ(code->completion_tokens, 50);
  // 1000 x $0.25/M + 50 x $2/M = 250 + 100 micro-dollars.
  EXPECT_EQ(code->cost_micros, 350);
  const std::string body = fake_->requests()[0].body;
  EXPECT_THAT(body, HasSubstr("invoice_lines (1234 rows)"));
  EXPECT_THAT(body, HasSubstr("invoiced_on: date, 2024-01-02 to 2026-04-15"));
  EXPECT_THAT(body, HasSubstr("category: enum (consultation"));
  EXPECT_THAT(body, HasSubstr("Today is 2026-04-15"));
  EXPECT_THAT(body, HasSubstr("What was our revenue in 2025?"));
}

TEST_F(ModelGeneratorTest, ADisallowedImportIsSentBackOnce) {
  fake_->Enqueue(FakeOpenAiServer::Completion("```python\nimport os\nresult = 1\n```"));
  fake_->Enqueue(FakeOpenAiServer::Completion("```python\nresult = 1\n```"));
  auto generator = Generator();
  CancellationToken cancel;
  auto code = generator->Generate(Ask("Revenue?"), cancel);
  ASSERT_THAT(code, IsOk());
  EXPECT_EQ(code->code, "result = 1\n");
  ASSERT_EQ(retries_.size(), 1u);
  EXPECT_THAT(retries_[0], HasSubstr("line 1 imports os"));
  EXPECT_THAT(fake_->requests()[1].body, HasSubstr("That code failed: line 1 imports os"));
}

TEST_F(ModelGeneratorTest, CallsWhoseCodeIsRefusedAreStillCharged) {
  fake_->Enqueue(FakeOpenAiServer::Completion("```python\nimport os\n```", true, 1000, 50));
  fake_->Enqueue(FakeOpenAiServer::Completion("```python\nimport sys\n```", true, 1000, 50));
  auto generator = Generator();
  CodeRequest request = Ask("Revenue?");
  int64_t charged = 0;
  request.on_spend = [&charged](const CallSpend& spend) {
    EXPECT_EQ(spend.model, "gpt-5.2-mini");
    EXPECT_EQ(spend.prompt_tokens, 1000);
    EXPECT_EQ(spend.completion_tokens, 50);
    charged += spend.micros;
  };
  CancellationToken cancel;
  EXPECT_THAT(generator->Generate(request, cancel),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("imports sys")));
  EXPECT_EQ(charged, 2 * 350);
}

TEST_F(ModelGeneratorTest, ARepairSendsTheFailedCodeAndTheError) {
  fake_->Enqueue(FakeOpenAiServer::Completion("```python\nresult = 2\n```"));
  auto generator = Generator();
  CodeRequest request = Ask("Revenue?");
  request.attempt = 2;
  request.failed_code = "result = invoice_lines['revenue'].sum()";
  request.failure = "KeyError: 'revenue' (line 1)";
  CancellationToken cancel;
  ASSERT_THAT(generator->Generate(request, cancel), IsOk());
  const std::string body = fake_->requests()[0].body;
  EXPECT_THAT(body, HasSubstr("invoice_lines['revenue'].sum()"));
  EXPECT_THAT(body, HasSubstr("That code failed: KeyError: 'revenue' (line 1)"));
}

TEST_F(ModelGeneratorTest, WithoutUsageTheTokensAreCountedFromTheText) {
  fake_->Enqueue(FakeOpenAiServer::Completion("```python\nresult = 2\n```", false));
  auto generator = Generator();
  CancellationToken cancel;
  auto code = generator->Generate(Ask("Revenue?"), cancel);
  ASSERT_THAT(code, IsOk());
  EXPECT_GT(code->prompt_tokens, 100);
  EXPECT_GT(code->completion_tokens, 0);
  EXPECT_GT(code->cost_micros, 0);
}

TEST_F(ModelGeneratorTest, EstimateCoversTheWorstCase) {
  auto generator = Generator();
  const CostEstimate estimate = generator->Estimate(Ask("Revenue?"));
  EXPECT_EQ(estimate.model, "gpt-5.2-mini");
  // At least max_completion_tokens (2048) at $2/M, twice.
  EXPECT_GE(estimate.micros, 2 * 2048 * 2);
}

TEST_F(ModelGeneratorTest, ADowngradedRequestCallsAndPricesTheCheaperModel) {
  // gpt-5.2 costs $1.75/$14 per million tokens, gpt-5.2-mini $0.25/$2.
  fake_->Enqueue(
      FakeOpenAiServer::Completion("```python\nresult = 2\n```", true, 1000, 50, "gpt-5.2"));
  auto generator = Generator();
  CodeRequest request = Ask("Revenue?");
  request.model = "gpt-5.2";
  EXPECT_EQ(generator->Estimate(request).model, "gpt-5.2");
  EXPECT_GT(generator->Estimate(request).micros, 5 * generator->Estimate(Ask("Revenue?")).micros);
  CancellationToken cancel;
  auto code = generator->Generate(request, cancel);
  ASSERT_THAT(code, IsOk());
  EXPECT_EQ(code->model, "gpt-5.2");
  EXPECT_THAT(fake_->requests()[0].body, HasSubstr("\"model\":\"gpt-5.2\""));
  // 1000 * 1.75 + 50 * 14 micro-dollars.
  EXPECT_EQ(code->cost_micros, 1750 + 700);
}

TEST_F(ModelGeneratorTest, ALongSessionIsSentWithinTheContextBudget) {
  fake_->Enqueue(FakeOpenAiServer::Completion("```python\nresult = 2\n```"));
  ModelCodeGenerator::Options options;
  options.stream = false;
  options.context_tokens = 300;
  ModelCodeGenerator generator(options, Client());
  CodeRequest request = Ask("And by vet?");
  for (int i = 1; i <= 30; ++i) {
    request.history.push_back({absl::StrCat("Turn ", i, " question?"),
                               absl::StrCat("result = ", i, "  # ", std::string(120, 'c')),
                               absl::StrCat("metric ", i), ""});
  }
  CancellationToken cancel;
  ASSERT_THAT(generator.Generate(request, cancel), IsOk());
  const std::string body = fake_->requests()[0].body;
  EXPECT_THAT(body, HasSubstr("Turn 30 question?"));
  EXPECT_THAT(body, HasSubstr("- Turn 28 question? -> metric 28"));  // compressed
  EXPECT_THAT(body, Not(HasSubstr("Turn 1 question?"))) << "the oldest are dropped";
  EXPECT_THAT(body, HasSubstr("earlier turns not shown"));
}

}  // namespace
}  // namespace vet::codegen

namespace vet::codegen {
namespace {

// The asynchronous path under load: 64 calls in flight at once on the
// client's one I/O thread (the caller holds no thread), half of them
// cancelled midway. The cancelled ones end kCancelled at once, the others
// get their replies, and nothing is left in flight.
TEST_F(OpenAiClientTest, ManyCallsInFlightWithoutThreadsAndCancelledMidway) {
  constexpr int kCalls = 64;
  fake_->SetResponder([](const FakeOpenAiServer::Request&) {
    FakeOpenAiServer::Response response = FakeOpenAiServer::Completion("result = 1", true, 10, 2);
    response.delay = absl::Seconds(2);
    return response;
  });
  auto client = Client();
  struct Slot {
    CancellationToken cancel;
    ChatCallbacks callbacks;
    absl::Notification done;
    absl::StatusOr<ChatResponse> reply = absl::UnknownError("none");
  };
  std::vector<std::unique_ptr<Slot>> slots;
  const ChatRequest request = Request();
  for (int i = 0; i < kCalls; ++i) {
    slots.push_back(std::make_unique<Slot>());
    Slot* slot = slots.back().get();
    client->CompleteAsync(request, slot->callbacks, slot->cancel,
                          [slot](absl::StatusOr<ChatResponse> reply) {
                            slot->reply = std::move(reply);
                            slot->done.Notify();
                          });
  }
  // Every call was started and returned without waiting for its reply.
  EXPECT_EQ(client->in_flight(), kCalls);
  // Midway: once the server holds every request.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (fake_->requests().size() < static_cast<size_t>(kCalls) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(fake_->requests().size(), static_cast<size_t>(kCalls));
  for (int i = 0; i < kCalls; i += 2) slots[i]->cancel.Cancel();
  for (int i = 0; i < kCalls; i += 2) {
    ASSERT_TRUE(slots[i]->done.WaitForNotificationWithTimeout(absl::Seconds(30)));
    EXPECT_THAT(slots[i]->reply, StatusIs(absl::StatusCode::kCancelled,
                                          HasSubstr("cancelled during the model call")));
  }
  for (int i = 1; i < kCalls; i += 2) {
    ASSERT_TRUE(slots[i]->done.WaitForNotificationWithTimeout(absl::Seconds(30)));
    ASSERT_THAT(slots[i]->reply, IsOk());
    EXPECT_EQ(slots[i]->reply->content, "result = 1");
  }
  EXPECT_EQ(client->in_flight(), 0);
}

// A client destroyed with calls in flight ends them, kCancelled, once.
TEST_F(OpenAiClientTest, DestroyingTheClientEndsItsCalls) {
  fake_->SetResponder([](const FakeOpenAiServer::Request&) {
    FakeOpenAiServer::Response response = FakeOpenAiServer::Completion("result = 1", true, 10, 2);
    response.delay = absl::Seconds(20);
    return response;
  });
  auto client = Client(/*timeout=*/absl::Seconds(60));
  CancellationToken cancel;
  ChatCallbacks callbacks;
  std::atomic<int> calls{0};
  absl::StatusOr<ChatResponse> reply = absl::UnknownError("none");
  client->CompleteAsync(Request(), callbacks, cancel, [&](absl::StatusOr<ChatResponse> r) {
    reply = std::move(r);
    ++calls;
  });
  client.reset();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kCancelled, HasSubstr("shutting down")));
}

}  // namespace
}  // namespace vet::codegen
