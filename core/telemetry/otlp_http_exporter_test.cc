// The OTLP/HTTP exporter and the BatchTracer against a loopback receiver
// (the scripted HTTP server of tests/testing, answering as a collector
// does): what is posted where, and that a receiver that is down, failing
// or slow costs nothing but the spans.
#include "core/telemetry/otlp_http_exporter.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "core/common/clock.h"
#include "core/telemetry/batch_tracer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/testing/closed_port.h"
#include "tests/testing/fake_openai_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"

namespace vet::telemetry {
namespace {

using ::testing::HasSubstr;
using ::vet::testing::FakeOpenAiServer;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;
using ::vet::testing::WaitUntil;

FakeOpenAiServer::Response Accepted() {
  FakeOpenAiServer::Response r;
  r.body = "{}";
  return r;
}

std::unique_ptr<OtlpHttpExporter> ExporterTo(const std::string& endpoint) {
  OtlpHttpExporter::Options options;
  options.endpoint = endpoint;
  options.resource.service_name = "vet-test";
  auto exporter = OtlpHttpExporter::Create(options);
  EXPECT_THAT(exporter, IsOk());
  return *std::move(exporter);
}

std::string TracesUrl(const FakeOpenAiServer& receiver) {
  return absl::StrCat("http://127.0.0.1:", receiver.port(), "/v1/traces");
}

SpanData OneSpan(const std::string& name) {
  SpanData s;
  s.name = name;
  s.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  s.span_id = "b7ad6b7169203331";
  s.start = s.end = absl::Now();
  return s;
}

TEST(OtlpHttpExporterTest, PostsJsonToTheTracesEndpoint) {
  auto receiver = *FakeOpenAiServer::Start();
  receiver->SetResponder([](const FakeOpenAiServer::Request&) { return Accepted(); });
  auto exporter = ExporterTo(TracesUrl(*receiver));
  ASSERT_THAT(exporter->Export({OneSpan("a"), OneSpan("b")}, absl::Now() + absl::Seconds(5)),
              IsOk());
  auto requests = receiver->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/v1/traces");
  EXPECT_EQ(requests[0].headers["content-type"], "application/json");
  rapidjson::Document doc;
  ASSERT_FALSE(doc.Parse(requests[0].body.c_str()).HasParseError());
  EXPECT_EQ(doc["resourceSpans"][0]["scopeSpans"][0]["spans"].Size(), 2u);
  EXPECT_STREQ(
      doc["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"].GetString(),
      "vet-test");
}

TEST(OtlpHttpExporterTest, ReportsAReceiverThatRefusesIsDownOrHangs) {
  auto receiver = *FakeOpenAiServer::Start();
  FakeOpenAiServer::Response refused;
  refused.status = 500;
  refused.body = "collector overloaded";
  receiver->Enqueue(refused);
  FakeOpenAiServer::Response hang;
  hang.hang = true;
  receiver->Enqueue(hang);
  auto exporter = ExporterTo(TracesUrl(*receiver));
  EXPECT_THAT(exporter->Export({OneSpan("a")}, absl::Now() + absl::Seconds(5)),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("HTTP 500")));
  const absl::Time start = absl::Now();
  EXPECT_THAT(exporter->Export({OneSpan("a")}, absl::Now() + absl::Milliseconds(300)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));

  auto down = ExporterTo(
      absl::StrCat("http://127.0.0.1:", vet::testing::ClosedLoopbackPort(), "/v1/traces"));
  EXPECT_THAT(down->Export({OneSpan("a")}, absl::Now() + absl::Seconds(5)),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(OtlpHttpExporterTest, RefusesAnEndpointThatIsNotAUrl) {
  OtlpHttpExporter::Options options;
  options.endpoint = "localhost:4318";
  EXPECT_THAT(OtlpHttpExporter::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(OtlpHttpExporterTest, TracerBatchesSpansToTheReceiver) {
  auto receiver = *FakeOpenAiServer::Start();
  receiver->SetResponder([](const FakeOpenAiServer::Request&) { return Accepted(); });
  BatchTracer::Options options;
  options.max_batch = 3;
  options.schedule_delay = absl::Milliseconds(50);
  BatchTracer tracer(options, ExporterTo(TracesUrl(*receiver)), RealClock::Get());
  for (int i = 0; i < 7; ++i) tracer.StartSpan("s", TraceContext{})->End();
  ASSERT_TRUE(WaitUntil([&] { return tracer.exported() == 7; }));
  size_t spans = 0;
  for (const auto& request : receiver->requests()) {
    rapidjson::Document doc;
    ASSERT_FALSE(doc.Parse(request.body.c_str()).HasParseError());
    const auto& batch = doc["resourceSpans"][0]["scopeSpans"][0]["spans"];
    EXPECT_LE(batch.Size(), 3u);
    spans += batch.Size();
  }
  EXPECT_EQ(spans, 7u);
}

TEST(OtlpHttpExporterTest, TracerCountsSpansItCouldNotSendToAClosedPort) {
  BatchTracer::Options options;
  options.schedule_delay = absl::Milliseconds(20);
  int64_t failed = 0;
  absl::Mutex mu;
  options.on_dropped = [&](absl::string_view reason, int64_t n) {
    absl::MutexLock lock(&mu);
    if (reason == kDropExportFailed) failed += n;
  };
  BatchTracer tracer(options,
                     ExporterTo(absl::StrCat(
                         "http://127.0.0.1:", vet::testing::ClosedLoopbackPort(), "/v1/traces")),
                     RealClock::Get());
  const absl::Time start = absl::Now();
  for (int i = 0; i < 5; ++i) tracer.StartSpan("s", TraceContext{})->End();
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(100));
  ASSERT_TRUE(WaitUntil([&] {
    absl::MutexLock lock(&mu);
    return failed == 5;
  }));
  EXPECT_EQ(tracer.exported(), 0);
}

}  // namespace
}  // namespace vet::telemetry
