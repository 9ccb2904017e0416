// Traces through the real server in-process (issue 15 part 6): a question's
// spans reach a loopback OTLP/HTTP receiver (the scripted HTTP server of
// tests/testing, answering as a collector does) as JSON, linked into the
// caller's trace: the Ask a child of the caller's traceparent, every other
// span a child of a span of the same trace, each model call a child of its
// code generation with the GenAI attributes. A receiver that is down or
// hangs costs a question nothing.
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/common/trace_context.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "server/server.h"
#include "tests/testing/closed_port.h"
#include "tests/testing/fake_openai_server.h"
#include "tests/testing/http_get.h"
#include "tests/testing/model_server_options.h"
#include "tests/testing/wait.h"
#include "vetanalytics/v1/analytics.grpc.pb.h"

namespace vet {
namespace {

namespace v1 = ::vetanalytics::v1;
using Fake = ::vet::testing::FakeOpenAiServer;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::vet::testing::WaitUntil;

constexpr char kKey[] = "demo-key";
constexpr char kAsOf[] = "2026-10-26";
constexpr char kTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kParentId[] = "00f067aa0ba902b7";
constexpr char kAskSpan[] = "vetanalytics.v1.AnalyticsService/Ask";
// The planner declines this one: it goes to the (fake) model.
constexpr char kModelQuestion[] = "What was our revenue from the weather last month?";
constexpr char kPlannerQuestion[] = "What was our revenue last month?";

// A span as the receiver got it.
struct Received {
  std::string trace_id, span_id, parent_span_id, name;
  int kind = 0;
  int status_code = 0;
  std::map<std::string, std::string> strings;
  std::map<std::string, std::string> ints;
  std::map<std::string, double> doubles;
  std::map<std::string, std::vector<std::string>> arrays;
};

// Every span in every request the receiver got; fails the test on a body
// that is not an ExportTraceServiceRequest.
std::vector<Received> SpansOf(const Fake& receiver, std::string* service_name = nullptr) {
  std::vector<Received> out;
  for (const Fake::Request& request : receiver.requests()) {
    EXPECT_EQ(request.path, "/v1/traces");
    EXPECT_EQ(request.headers.at("content-type"), "application/json");
    rapidjson::Document doc;
    doc.Parse(request.body.c_str());
    EXPECT_FALSE(doc.HasParseError()) << request.body;
    if (doc.HasParseError()) continue;
    for (const auto& rs : doc["resourceSpans"].GetArray()) {
      for (const auto& attr : rs["resource"]["attributes"].GetArray()) {
        if (service_name != nullptr && std::string(attr["key"].GetString()) == "service.name") {
          *service_name = attr["value"]["stringValue"].GetString();
        }
      }
      for (const auto& ss : rs["scopeSpans"].GetArray()) {
        for (const auto& s : ss["spans"].GetArray()) {
          Received r;
          r.trace_id = s["traceId"].GetString();
          r.span_id = s["spanId"].GetString();
          if (s.HasMember("parentSpanId")) r.parent_span_id = s["parentSpanId"].GetString();
          r.name = s["name"].GetString();
          r.kind = s["kind"].GetInt();
          // Times are decimal strings, end after start.
          EXPECT_TRUE(s["startTimeUnixNano"].IsString());
          EXPECT_GE(std::stoull(s["endTimeUnixNano"].GetString()),
                    std::stoull(s["startTimeUnixNano"].GetString()));
          if (s["status"].HasMember("code")) r.status_code = s["status"]["code"].GetInt();
          for (const auto& a : s["attributes"].GetArray()) {
            const std::string key = a["key"].GetString();
            const auto& v = a["value"];
            if (v.HasMember("stringValue")) r.strings[key] = v["stringValue"].GetString();
            if (v.HasMember("intValue")) r.ints[key] = v["intValue"].GetString();
            if (v.HasMember("doubleValue")) r.doubles[key] = v["doubleValue"].GetDouble();
            if (v.HasMember("arrayValue")) {
              for (const auto& e : v["arrayValue"]["values"].GetArray()) {
                r.arrays[key].push_back(e["stringValue"].GetString());
              }
            }
          }
          out.push_back(std::move(r));
        }
      }
    }
  }
  return out;
}

const Received* Named(const std::vector<Received>& spans, absl::string_view name) {
  for (const Received& s : spans) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

struct AskOutcome {
  grpc::Status status;
  std::string traceparent;
  absl::Duration took;
};

class TraceIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake = Fake::Start();
    ASSERT_TRUE(fake.ok()) << fake.status();
    model_ = std::move(*fake);
    auto receiver = Fake::Start();
    ASSERT_TRUE(receiver.ok()) << receiver.status();
    receiver_ = std::move(*receiver);
    receiver_->SetResponder([](const Fake::Request&) {
      Fake::Response accepted;
      accepted.body = "{}";
      return accepted;
    });
    state_dir_ = absl::StrCat(::testing::TempDir(), "/vet-traces-", getpid());
    std::filesystem::remove_all(state_dir_);
    std::filesystem::create_directories(state_dir_);
  }

  void StartServer(const std::string& endpoint,
                   absl::Duration export_timeout = absl::Milliseconds(500)) {
    server::ServerOptions options =
        testing::ModelServerOptions({state_dir_, kKey, model_->base_url(), "gpt-5.2", ""});
    options.metrics_listen = "127.0.0.1:0";
    options.planner = "first";
    options.budget_store = "memory";
    options.tracing.endpoint = endpoint;
    options.tracing.service_name = "vet-traces-test";
    options.tracing.schedule_delay = absl::Milliseconds(50);
    options.tracing.export_timeout = export_timeout;
    auto started = server::VetServer::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    stub_ = v1::AnalyticsService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    stub_.reset();
    server_.reset();
    receiver_.reset();
    model_.reset();
    std::filesystem::remove_all(state_dir_);
  }

  std::string ReceiverUrl() const {
    return absl::StrCat("http://127.0.0.1:", receiver_->port(), "/v1/traces");
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
    const absl::Time start = absl::Now();
    auto reader = stub_->Ask(&context, request);
    v1::AskEvent event;
    while (reader->Read(&event)) {
    }
    AskOutcome outcome;
    outcome.status = reader->Finish();
    outcome.took = absl::Now() - start;
    const auto& metadata = context.GetServerInitialMetadata();
    if (auto it = metadata.find("traceparent"); it != metadata.end()) {
      outcome.traceparent = std::string(it->second.data(), it->second.size());
    }
    return outcome;
  }

  // The receiver's spans once the Ask span (the last to end) has arrived.
  std::vector<Received> WaitForAsk(std::string* service_name = nullptr) {
    std::vector<Received> spans;
    EXPECT_TRUE(WaitUntil([&] {
      spans = SpansOf(*receiver_, service_name);
      return Named(spans, kAskSpan) != nullptr;
    }));
    return spans;
  }

  std::unique_ptr<Fake> model_;
  std::unique_ptr<Fake> receiver_;
  std::string state_dir_;
  std::unique_ptr<server::VetServer> server_;
  std::unique_ptr<v1::AnalyticsService::Stub> stub_;
};

TEST_F(TraceIntegrationTest, AQuestionsSpansReachTheCollectorInTheCallersTrace) {
  StartServer(ReceiverUrl());
  model_->Enqueue(Fake::Completion("```python\nresult = 42\n```\n"));
  const std::string sent = absl::StrCat("00-", kTraceId, "-", kParentId, "-01");
  AskOutcome outcome = Ask(kModelQuestion, sent);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();

  std::string service_name;
  std::vector<Received> spans = WaitForAsk(&service_name);
  EXPECT_EQ(service_name, "vet-traces-test");
  std::set<std::string> names, ids;
  for (const Received& s : spans) {
    names.insert(s.name);
    ids.insert(s.span_id);
    EXPECT_EQ(s.trace_id, kTraceId) << s.name;
  }
  for (const char* stage : {"session.create", "budget.reserve", "codegen", "chat gpt-5.2",
                            "sandbox.execute", "budget.commit", "session.save"}) {
    EXPECT_THAT(names, Contains(stage));
  }

  // The root of this server's part: a child of the caller's span, and the
  // span the caller was told of.
  const Received* ask = Named(spans, kAskSpan);
  ASSERT_NE(ask, nullptr);
  EXPECT_EQ(ask->parent_span_id, kParentId);
  EXPECT_EQ(ask->kind, 2);
  EXPECT_EQ(ask->status_code, 1);
  EXPECT_EQ(ask->strings.at("vet.practice_id"), "demo");
  EXPECT_EQ(ParseTraceparent(outcome.traceparent)->parent_id, ask->span_id);
  // Every other span's parent is a span of the same trace.
  for (const Received& s : spans) {
    if (&s == ask) continue;
    EXPECT_THAT(ids, Contains(s.parent_span_id)) << s.name;
    EXPECT_EQ(s.strings.count("vet.practice_id"), 1u) << s.name;
  }

  // The model call: a client span under its code generation, with the GenAI
  // semantic conventions, the practice and the cost; the model service was
  // told it is the parent.
  const Received* codegen = Named(spans, "codegen");
  const Received* chat = Named(spans, "chat gpt-5.2");
  ASSERT_NE(codegen, nullptr);
  ASSERT_NE(chat, nullptr);
  EXPECT_EQ(codegen->parent_span_id, ask->span_id);
  EXPECT_EQ(chat->parent_span_id, codegen->span_id);
  EXPECT_EQ(chat->kind, 3);
  EXPECT_EQ(chat->strings.at("gen_ai.system"), "openai");
  EXPECT_EQ(chat->strings.at("gen_ai.request.model"), "gpt-5.2");
  EXPECT_EQ(chat->ints.at("gen_ai.usage.input_tokens"), "120");
  EXPECT_EQ(chat->ints.at("gen_ai.usage.output_tokens"), "40");
  EXPECT_EQ(chat->arrays.at("gen_ai.response.finish_reasons"), std::vector<std::string>{"stop"});
  EXPECT_EQ(chat->strings.at("vet.practice_id"), "demo");
  EXPECT_GT(chat->doubles.at("vet.cost_usd"), 0.0);
  std::vector<Fake::Request> to_model = model_->requests();
  ASSERT_EQ(to_model.size(), 1u);
  auto header = ParseTraceparent(to_model[0].headers["traceparent"]);
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->trace_id, kTraceId);
  EXPECT_EQ(header->parent_id, chat->span_id);
  EXPECT_GT(Named(spans, "budget.commit")->doubles.at("vet.cost_usd"), 0.0);
}

TEST_F(TraceIntegrationTest, AQuestionWithoutATraceparentIsTheRootOfANewTrace) {
  StartServer(ReceiverUrl());
  AskOutcome outcome = Ask(kPlannerQuestion, "");
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  std::vector<Received> spans = WaitForAsk();
  const Received* ask = Named(spans, kAskSpan);
  ASSERT_NE(ask, nullptr);
  EXPECT_TRUE(ask->parent_span_id.empty());
  auto echoed = ParseTraceparent(outcome.traceparent);
  ASSERT_TRUE(echoed.has_value());
  EXPECT_EQ(ask->trace_id, echoed->trace_id);
  EXPECT_EQ(ask->span_id, echoed->parent_id);
  // The planner answered: no model call.
  EXPECT_EQ(Named(spans, "chat gpt-5.2"), nullptr);
  EXPECT_EQ(Named(spans, "codegen")->strings.at("vet.generator"), "planner");
}

TEST_F(TraceIntegrationTest, AFailedQuestionsSpansSayWhy) {
  StartServer(ReceiverUrl());
  model_->Enqueue(Fake::Error(401, "bad key", "invalid_api_key"));
  AskOutcome outcome = Ask(kModelQuestion, "");
  ASSERT_FALSE(outcome.status.ok());
  std::vector<Received> spans = WaitForAsk();
  EXPECT_EQ(Named(spans, kAskSpan)->status_code, 2);
  const Received* chat = Named(spans, "chat gpt-5.2");
  ASSERT_NE(chat, nullptr);
  EXPECT_EQ(chat->status_code, 2);
  EXPECT_EQ(Named(spans, "codegen")->status_code, 2);
}

TEST_F(TraceIntegrationTest, AQuestionSucceedsWhenTheCollectorIsDown) {
  StartServer(absl::StrCat("http://127.0.0.1:", vet::testing::ClosedLoopbackPort(), "/v1/traces"));
  model_->Enqueue(Fake::Completion("```python\nresult = 42\n```\n"));
  AskOutcome outcome = Ask(kModelQuestion, "");
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  // The spans are counted as lost, by reason, on /metrics.
  EXPECT_TRUE(WaitUntil([&] {
    const std::string metrics = vet::testing::HttpGet(server_->metrics_port(), "/metrics");
    return absl::StrContains(metrics, "vet_trace_spans_dropped_total{reason=\"export_failed\"}") &&
           !absl::StrContains(metrics, "vet_trace_spans_dropped_total{reason=\"export_failed\"} 0");
  }));
}

TEST_F(TraceIntegrationTest, AQuestionDoesNotWaitForACollectorThatHangs) {
  receiver_->SetResponder([](const Fake::Request&) {
    Fake::Response hang;
    hang.hang = true;
    return hang;
  });
  StartServer(ReceiverUrl(), /*export_timeout=*/absl::Seconds(30));
  // A first question's spans go out in a request the receiver never
  // answers; the second question is asked while the export hangs.
  ASSERT_TRUE(Ask(kPlannerQuestion, "").status.ok());
  ASSERT_TRUE(WaitUntil([&] { return !receiver_->requests().empty(); }));
  AskOutcome outcome = Ask(kPlannerQuestion, "");
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  // Far under the export's 30 s: nothing waits for it (a planner question
  // takes tens of milliseconds).
  EXPECT_LT(outcome.took, absl::Seconds(5));
  // Closing the hung connection lets the exporter, and the server, stop.
  receiver_.reset();
}

}  // namespace
}  // namespace vet
