// /metrics end to end: the real server in-process (real planner, sandbox,
// budget store and demo data), the scripted fake OpenAI server as the model,
// practices with a tiny budget and with an early soft cap. Questions are
// answered by the planner, by the model (and a cheaper one) or refused; then
// /metrics is fetched over a plain TCP socket, parsed as the Prometheus text
// format and checked against what GetBudget and the fake's usage say.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "core/common/log.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/testing/fake_openai_server.h"
#include "tests/testing/personal_data_check.h"
#include "vetanalytics/v1/analytics.grpc.pb.h"

namespace vet {
namespace {

namespace v1 = ::vetanalytics::v1;
using ::testing::DoubleNear;
using Fake = ::vet::testing::FakeOpenAiServer;

constexpr char kDemoKey[] = "demo-key";
constexpr char kTinyKey[] = "tiny-key";
constexpr char kThriftyKey[] = "thrifty-key";
// A priced model with a cheaper one to downgrade to at the soft cap
// (core/budget/pricing/default_pricing.json).
constexpr char kModel[] = "gpt-5.2";
constexpr char kCheaperModel[] = "gpt-5.2-mini";
constexpr char kAsOf[] = "2026-10-26";
// The offline planner answers this; it declines the next one, which goes
// to the model.
constexpr char kPlannerQuestion[] = "What was our revenue last month?";
constexpr char kModelQuestion[] = "What was our revenue from the weather last month?";
constexpr int kPromptTokens = 321;
constexpr int kCachedTokens = 64;
constexpr int kCompletionTokens = 54;

constexpr char kModelCode[] =
    "lines = invoice_lines[(invoice_lines[\"invoiced_on\"] >= \"2026-09-01\") &\n"
    "                      (invoice_lines[\"invoiced_on\"] <= \"2026-09-30\")]\n"
    "result = round(float(lines[\"amount\"].sum()), 2)\n";

// One sample of a scrape: the metric's name and labels, and its value.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = NAN;
};

// Parses the Prometheus text exposition format (version 0.0.4): one sample
// per line, `name{label="value",...} value [timestamp]`; HELP, TYPE and other
// comments and blank lines are skipped. Label values may escape \\, \" and
// \n. Returns false on a line it cannot parse.
bool ParseExposition(absl::string_view text, std::vector<Sample>* samples, std::string* error) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    Sample sample;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    sample.name = std::string(line.substr(0, i));
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        if (eq == absl::string_view::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
          *error = std::string(line);
          return false;
        }
        std::string key(line.substr(i, eq - i));
        std::string value;
        size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value += line[j] == 'n' ? '\n' : line[j];
          } else {
            value += line[j];
          }
        }
        if (j >= line.size()) {
          *error = std::string(line);
          return false;
        }
        sample.labels[key] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) {
        *error = std::string(line);
        return false;
      }
      ++i;  // '}'
    }
    std::vector<absl::string_view> rest = absl::StrSplit(line.substr(i), ' ', absl::SkipEmpty());
    if (sample.name.empty() || rest.empty()) {
      *error = std::string(line);
      return false;
    }
    if (rest[0] == "+Inf") {
      sample.value = INFINITY;
    } else if (rest[0] == "-Inf") {
      sample.value = -INFINITY;
    } else if (rest[0] == "NaN") {
      sample.value = NAN;
    } else if (!absl::SimpleAtod(rest[0], &sample.value)) {
      *error = std::string(line);
      return false;
    }
    samples->push_back(std::move(sample));
  }
  return true;
}

// The body of GET http://127.0.0.1:<port><path>, over a plain socket with
// HTTP/1.0 (the server closes after the reply); empty on failure.
std::string HttpGetBody(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  const std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) response.append(buf, n);
  }
  close(fd);
  if (response.rfind("HTTP/1.", 0) != 0 || response.find(" 200 ") == std::string::npos) {
    return "";
  }
  size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

class Scrape {
 public:
  explicit Scrape(std::vector<Sample> samples) : samples_(std::move(samples)) {}

  // The value of the one sample with exactly these labels, or NaN (with a
  // test failure naming what exists) when there is none.
  double Value(const std::string& name, const std::map<std::string, std::string>& labels) const {
    const Sample* found = Find(name, labels);
    if (found == nullptr) {
      ADD_FAILURE() << "no sample " << Describe(name, labels) << "; samples of " << name << ": "
                    << Listing(name);
      return NAN;
    }
    return found->value;
  }
  bool Has(const std::string& name, const std::map<std::string, std::string>& labels) const {
    return Find(name, labels) != nullptr;
  }
  // The sum of every sample of `name` whose labels include `subset`.
  double Sum(const std::string& name, const std::map<std::string, std::string>& subset) const {
    double total = 0;
    for (const Sample& s : samples_) {
      if (s.name != name) continue;
      bool match = true;
      for (const auto& [k, v] : subset) {
        auto it = s.labels.find(k);
        match = match && it != s.labels.end() && it->second == v;
      }
      if (match) total += s.value;
    }
    return total;
  }
  // Every sample of `name`, for failure messages.
  std::string Listing(const std::string& name) const {
    std::vector<std::string> out;
    for (const Sample& s : samples_) {
      if (s.name == name) out.push_back(absl::StrCat(Describe(s.name, s.labels), " ", s.value));
    }
    return absl::StrJoin(out, "; ");
  }

 private:
  const Sample* Find(const std::string& name,
                     const std::map<std::string, std::string>& labels) const {
    for (const Sample& s : samples_) {
      if (s.name == name && s.labels == labels) return &s;
    }
    return nullptr;
  }
  static std::string Describe(const std::string& name,
                              const std::map<std::string, std::string>& labels) {
    std::vector<std::string> parts;
    parts.reserve(labels.size());
    for (const auto& [k, v] : labels) parts.push_back(absl::StrCat(k, "=\"", v, "\""));
    return absl::StrCat(name, "{", absl::StrJoin(parts, ","), "}");
  }

  std::vector<Sample> samples_;
};

class MetricsIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLogQuiet(true);
    auto fake = Fake::Start();
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = std::move(*fake);
    state_dir_ = absl::StrCat(::testing::TempDir(), "/vet-metrics-integration-", getpid());
    std::filesystem::remove_all(state_dir_);
    std::filesystem::create_directories(state_dir_);
    // Two more practices reading the demo's tables: "tiny" with a budget
    // (100 micro-dollars) smaller than any model question's estimate, and
    // "thrifty" with $10 but a soft cap at $0.0001, which its first model
    // answer passes.
    const std::string data_dir = absl::StrCat(state_dir_, "/practices/demo/data");
    const std::string practices_file = absl::StrCat(state_dir_, "/practices.json");
    std::ofstream(practices_file) << absl::StrCat(
        R"({"practices": [)", R"({"id": "tiny", "name": "Tiny budget", "api_key": ")", kTinyKey,
        R"(", "data_dir": ")", data_dir, R"(", "budget_limit_usd": 0.0001},)",
        R"({"id": "thrifty", "name": "Early soft cap", "api_key": ")", kThriftyKey,
        R"(", "data_dir": ")", data_dir,
        R"(", "budget_limit_usd": 10, "budget_soft_cap": 0.00001})", "]}");

    server::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.metrics_listen = "127.0.0.1:0";
    options.state_dir = state_dir_;
    options.practices_file = practices_file;
    options.demo = true;
    options.demo_api_key = kDemoKey;
    options.demo_invoice_lines = 20000;
    options.worker_threads = 4;
    options.shutdown_grace = absl::Seconds(1);
    options.budget_store = "memory";
    options.openai_base_url = fake_->base_url();
    options.openai_api_key = "sk-test";
    options.openai_model = kModel;
    options.planner = "first";
    options.model_stream = false;
    options.model_timeout = absl::Seconds(20);
    auto started = server::VetServer::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    ASSERT_GT(server_->metrics_port(), 0);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::AnalyticsService::NewStub(channel_);
  }

  void TearDown() override {
    stub_.reset();
    channel_.reset();
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

  static void Authenticate(grpc::ClientContext* context, const std::string& key) {
    context->AddMetadata("x-api-key", key);
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(90));
  }

  // The stream's final status; the answer's total cost goes to *cost.
  grpc::Status Ask(const std::string& practice, const std::string& key, const std::string& question,
                   int64_t* cost = nullptr) {
    grpc::ClientContext context;
    Authenticate(&context, key);
    v1::AskRequest request;
    request.set_practice_id(practice);
    request.set_question(question);
    request.set_as_of_date(kAsOf);
    auto reader = stub_->Ask(&context, request);
    v1::AskEvent event;
    while (reader->Read(&event)) {
      if (event.has_final_answer() && cost != nullptr) {
        *cost = event.final_answer().total_cost_micros();
      }
    }
    return reader->Finish();
  }

  v1::Budget GetBudget(const std::string& practice, const std::string& key) {
    grpc::ClientContext context;
    Authenticate(&context, key);
    v1::GetBudgetRequest request;
    request.set_practice_id(practice);
    v1::Budget budget;
    grpc::Status status = stub_->GetBudget(&context, request, &budget);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return budget;
  }

  Scrape ScrapeMetrics() {
    std::string body = HttpGetBody(server_->metrics_port(), "/metrics");
    EXPECT_FALSE(body.empty()) << "GET /metrics failed";
    std::vector<Sample> samples;
    std::string bad_line;
    EXPECT_TRUE(ParseExposition(body, &samples, &bad_line)) << "cannot parse: " << bad_line;
    return Scrape(std::move(samples));
  }

  // A model reply whose usage reports kPromptTokens, of which kCachedTokens
  // cached, and kCompletionTokens.
  static Fake::Response ModelReply() {
    Fake::Response reply =
        Fake::Completion(absl::StrCat("```python\n", kModelCode, "```\n"), /*with_usage=*/true,
                         kPromptTokens, kCompletionTokens, kModel);
    const std::string usage = absl::StrCat("\"prompt_tokens\":", kPromptTokens, ",");
    EXPECT_NE(reply.body.find(usage), std::string::npos) << reply.body;
    absl::StrReplaceAll(
        {{usage, absl::StrCat(usage, "\"prompt_tokens_details\":{\"cached_tokens\":", kCachedTokens,
                              "},")}},
        &reply.body);
    return reply;
  }

  std::unique_ptr<Fake> fake_;
  std::string state_dir_;
  std::unique_ptr<server::VetServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AnalyticsService::Stub> stub_;
};

TEST_F(MetricsIntegrationTest, ScrapeReportsBudgetsSpendTokensDenialsAndTimings) {
  // 1. The planner: no model call, no cost.
  ASSERT_TRUE(Ask("demo", kDemoKey, kPlannerQuestion).ok());
  EXPECT_TRUE(fake_->requests().empty());
  // 2. The model, once.
  fake_->Enqueue(ModelReply());
  int64_t model_cost = 0;
  grpc::Status modelled = Ask("demo", kDemoKey, kModelQuestion, &model_cost);
  ASSERT_TRUE(modelled.ok()) << modelled.error_message();
  ASSERT_EQ(fake_->requests().size(), 1u);
  EXPECT_GT(model_cost, 0);
  // 3. The tiny practice's model question: refused before any call.
  grpc::Status refused = Ask("tiny", kTinyKey, kModelQuestion);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.error_message();
  EXPECT_EQ(fake_->requests().size(), 1u);

  const v1::Budget demo = GetBudget("demo", kDemoKey);
  const v1::Budget tiny = GetBudget("tiny", kTinyKey);
  ASSERT_GT(demo.spent_micros(), 0);
  const Scrape scrape = ScrapeMetrics();

  // Budget gauges, read at scrape time, equal GetBudget's in dollars.
  for (const v1::Budget* budget : {&demo, &tiny}) {
    SCOPED_TRACE(budget->practice_id());
    const std::map<std::string, std::string> practice = {{"practice", budget->practice_id()}};
    EXPECT_THAT(scrape.Value("vet_budget_spent_usd", practice),
                DoubleNear(budget->spent_micros() / 1e6, 1e-9));
    EXPECT_THAT(scrape.Value("vet_budget_reserved_usd", practice),
                DoubleNear(budget->reserved_micros() / 1e6, 1e-9));
    EXPECT_THAT(scrape.Value("vet_budget_remaining_usd", practice),
                DoubleNear(budget->remaining_micros() / 1e6, 1e-9));
    EXPECT_THAT(scrape.Value("vet_budget_limit_usd", practice),
                DoubleNear(budget->limit_micros() / 1e6, 1e-9));
    EXPECT_EQ(scrape.Value("vet_budget_soft_cap_reached", practice),
              budget->soft_cap_reached() ? 1 : 0);
    EXPECT_EQ(scrape.Value("vet_budget_hard_cap_reached", practice),
              budget->hard_cap_reached() ? 1 : 0);
  }
  EXPECT_EQ(demo.limit_micros(), 10'000'000);
  EXPECT_EQ(tiny.limit_micros(), 100);
  EXPECT_EQ(demo.reserved_micros(), 0);

  // Tokens as the fake reported them, under the model; none for the planner.
  const auto tokens = [&](const std::string& kind) {
    return scrape.Value("vet_model_tokens_total",
                        {{"practice", "demo"}, {"model", kModel}, {"kind", kind}});
  };
  EXPECT_EQ(tokens("input"), kPromptTokens - kCachedTokens);
  EXPECT_EQ(tokens("cached_input"), kCachedTokens);
  EXPECT_EQ(tokens("output"), kCompletionTokens);
  EXPECT_EQ(scrape.Sum("vet_model_tokens_total", {{"model", "planner"}}), 0)
      << scrape.Listing("vet_model_tokens_total");
  EXPECT_EQ(scrape.Sum("vet_model_tokens_total", {{"practice", "tiny"}}), 0);

  // Dollars: every model's spend adds up to what the budget says was spent,
  // and the model question's share is at least what its answer cost.
  EXPECT_THAT(scrape.Sum("vet_spend_usd_total", {{"practice", "demo"}}),
              DoubleNear(demo.spent_micros() / 1e6, 1e-9))
      << scrape.Listing("vet_spend_usd_total");
  EXPECT_GE(scrape.Value("vet_spend_usd_total", {{"practice", "demo"}, {"model", kModel}}),
            model_cost / 1e6 - 1e-9);
  EXPECT_EQ(scrape.Sum("vet_spend_usd_total", {{"practice", "tiny"}}), 0);

  // The refusal, once, for the tiny practice only.
  EXPECT_EQ(scrape.Value("vet_budget_denials_total", {{"practice", "tiny"}}), 1);
  // Every practice's counters exist from start-up, at zero.
  EXPECT_EQ(scrape.Value("vet_budget_denials_total", {{"practice", "demo"}}), 0);

  // Questions by final status, and their timings.
  EXPECT_EQ(scrape.Value("vet_questions_total", {{"practice", "demo"}, {"status", "OK"}}), 2);
  EXPECT_EQ(
      scrape.Value("vet_questions_total", {{"practice", "tiny"}, {"status", "RESOURCE_EXHAUSTED"}}),
      1);
  EXPECT_EQ(scrape.Value("vet_question_duration_seconds_count", {{"practice", "demo"}}), 2);
  EXPECT_EQ(scrape.Value("vet_question_duration_seconds_count", {{"practice", "tiny"}}), 1);
  EXPECT_EQ(scrape.Value("vet_question_first_event_seconds_count", {}), 3);
  EXPECT_EQ(scrape.Value("vet_worker_pool_queue_wait_seconds_count", {}), 3);
  EXPECT_EQ(scrape.Value("vet_worker_pool_queue_wait_seconds_bucket", {{"le", "+Inf"}}), 3);

  // Two executions (the planner's and the model's code); the refused
  // question never reached the sandbox.
  EXPECT_EQ(scrape.Value("vet_sandbox_execution_seconds_count", {{"practice", "demo"}}), 2);
  EXPECT_GT(scrape.Value("vet_sandbox_execution_seconds_sum", {{"practice", "demo"}}), 0);
  EXPECT_EQ(scrape.Value("vet_sandbox_execution_seconds_count", {{"practice", "tiny"}}), 0);
  EXPECT_EQ(scrape.Value("vet_sandbox_queue_wait_seconds_count", {}), 2);
  EXPECT_GE(scrape.Value("vet_sandbox_workers", {}), 1) << "the demo's warm worker";
  EXPECT_EQ(scrape.Value("vet_sandbox_running", {}), 0);
  EXPECT_EQ(scrape.Value("vet_sandbox_waiting", {}), 0);
  EXPECT_FALSE(scrape.Has("vet_budget_downgrades_total", {{"practice", "demo"}}));

  // Nothing is labelled by session or question.
  const std::string text = HttpGetBody(server_->metrics_port(), "/metrics");
  EXPECT_EQ(text.find("session"), std::string::npos);
  EXPECT_EQ(text.find("question_id"), std::string::npos);
}

TEST_F(MetricsIntegrationTest, SoftCapDowngradeIsCountedAndTokensGoToTheCheaperModel) {
  fake_->Enqueue(ModelReply());
  ASSERT_TRUE(Ask("thrifty", kThriftyKey, kModelQuestion).ok());
  const Scrape at_soft_cap = ScrapeMetrics();
  EXPECT_EQ(at_soft_cap.Value("vet_budget_soft_cap_reached", {{"practice", "thrifty"}}), 1);
  EXPECT_EQ(at_soft_cap.Value("vet_budget_hard_cap_reached", {{"practice", "thrifty"}}), 0);
  EXPECT_EQ(at_soft_cap.Value("vet_budget_downgrades_total",
                              {{"practice", "thrifty"}, {"from", kModel}, {"to", kCheaperModel}}),
            0);

  fake_->Enqueue(ModelReply());
  grpc::Status downgraded = Ask("thrifty", kThriftyKey, kModelQuestion);
  ASSERT_TRUE(downgraded.ok()) << downgraded.error_message();
  ASSERT_EQ(fake_->requests().size(), 2u);
  EXPECT_THAT(fake_->requests()[1].body, ::testing::HasSubstr(kCheaperModel));
  const Scrape scrape = ScrapeMetrics();
  EXPECT_EQ(scrape.Value("vet_budget_downgrades_total",
                         {{"practice", "thrifty"}, {"from", kModel}, {"to", kCheaperModel}}),
            1)
      << scrape.Listing("vet_budget_downgrades_total");
  for (const char* model : {kModel, kCheaperModel}) {
    SCOPED_TRACE(model);
    EXPECT_EQ(scrape.Value("vet_model_tokens_total",
                           {{"practice", "thrifty"}, {"model", model}, {"kind", "output"}}),
              kCompletionTokens);
  }
  const v1::Budget thrifty = GetBudget("thrifty", kThriftyKey);
  EXPECT_THAT(scrape.Sum("vet_spend_usd_total", {{"practice", "thrifty"}}),
              DoubleNear(thrifty.spent_micros() / 1e6, 1e-9));
  EXPECT_EQ(scrape.Sum("vet_budget_denials_total", {}), 0);
}

TEST_F(MetricsIntegrationTest, BudgetGaugesFollowSpendBetweenScrapes) {
  const Scrape before = ScrapeMetrics();
  EXPECT_EQ(before.Value("vet_budget_spent_usd", {{"practice", "demo"}}), 0);
  EXPECT_EQ(before.Value("vet_budget_remaining_usd", {{"practice", "demo"}}), 10);
  EXPECT_EQ(before.Value("vet_model_tokens_total",
                         {{"practice", "demo"}, {"model", kModel}, {"kind", "input"}}),
            0);

  fake_->Enqueue(ModelReply());
  ASSERT_TRUE(Ask("demo", kDemoKey, kModelQuestion).ok());
  const v1::Budget demo = GetBudget("demo", kDemoKey);
  ASSERT_GT(demo.spent_micros(), 0);
  const Scrape after = ScrapeMetrics();
  EXPECT_THAT(after.Value("vet_budget_spent_usd", {{"practice", "demo"}}),
              DoubleNear(demo.spent_micros() / 1e6, 1e-9));
  EXPECT_THAT(after.Value("vet_budget_remaining_usd", {{"practice", "demo"}}),
              DoubleNear(10 - demo.spent_micros() / 1e6, 1e-9));
  EXPECT_EQ(after.Value("vet_model_tokens_total",
                        {{"practice", "demo"}, {"model", kModel}, {"kind", "output"}}),
            kCompletionTokens);
}

}  // namespace
}  // namespace vet
