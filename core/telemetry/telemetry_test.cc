// The sampler, the OTLP JSON encoding, the settings from OTEL_* variables
// and the BatchTracer's queue, with an exporter the test controls.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "core/common/clock.h"
#include "core/telemetry/batch_tracer.h"
#include "core/telemetry/otel_config.h"
#include "core/telemetry/otlp_json.h"
#include "core/telemetry/sampler.h"
#include "core/telemetry/tracer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"

namespace vet::telemetry {
namespace {

using ::testing::ElementsAre;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;
using ::vet::testing::WaitUntil;

constexpr char kTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kParentId[] = "00f067aa0ba902b7";

TraceContext Remote(uint8_t flags) { return TraceContext{kTraceId, kParentId, flags}; }

TEST(SamplerTest, ParsesEveryStandardSampler) {
  EXPECT_EQ(Sampler::Parse("", "")->Describe(), "parentbased_always_on");
  EXPECT_EQ(Sampler::Parse("always_on", "")->Describe(), "always_on");
  EXPECT_EQ(Sampler::Parse("always_off", "")->Describe(), "always_off");
  EXPECT_EQ(Sampler::Parse("traceidratio", "0.25")->Describe(), "traceidratio{0.25}");
  EXPECT_EQ(Sampler::Parse("parentbased_traceidratio", "0.5")->Describe(),
            "parentbased_traceidratio{0.5}");
  EXPECT_EQ(Sampler::Parse("parentbased_always_off", "")->Describe(), "parentbased_always_off");
  EXPECT_THAT(Sampler::Parse("jaeger_remote", ""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Sampler::Parse("traceidratio", "1.5"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Sampler::Parse("traceidratio", "half"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SamplerTest, ParentBasedFollowsTheCallersFlagAndTheRootSamplerOtherwise) {
  Sampler on = *Sampler::Parse("parentbased_always_on", "");
  EXPECT_TRUE(on.ShouldSample(Remote(1), kTraceId));
  EXPECT_FALSE(on.ShouldSample(Remote(0), kTraceId));
  EXPECT_TRUE(on.ShouldSample(TraceContext{}, kTraceId));
  Sampler off = *Sampler::Parse("parentbased_always_off", "");
  EXPECT_TRUE(off.ShouldSample(Remote(1), kTraceId));
  EXPECT_FALSE(off.ShouldSample(TraceContext{}, kTraceId));
  // Not parent-based: the caller's flag does not matter.
  EXPECT_TRUE(Sampler::Parse("always_on", "")->ShouldSample(Remote(0), kTraceId));
  EXPECT_FALSE(Sampler::Parse("always_off", "")->ShouldSample(Remote(1), kTraceId));
}

TEST(SamplerTest, TraceIdRatioIsDeterministicAndNearTheRatio) {
  Sampler quarter = *Sampler::Parse("traceidratio", "0.25");
  Sampler none = *Sampler::Parse("traceidratio", "0");
  Sampler all = *Sampler::Parse("traceidratio", "1");
  int sampled = 0;
  for (int i = 0; i < 4000; ++i) {
    const std::string trace_id = ChildContext(TraceContext{}, true).trace_id;
    const bool first = quarter.ShouldSample(TraceContext{}, trace_id);
    EXPECT_EQ(first, quarter.ShouldSample(TraceContext{}, trace_id));
    EXPECT_FALSE(none.ShouldSample(TraceContext{}, trace_id));
    EXPECT_TRUE(all.ShouldSample(TraceContext{}, trace_id));
    sampled += first ? 1 : 0;
  }
  EXPECT_GT(sampled, 800);
  EXPECT_LT(sampled, 1200);
}

TEST(NullTracerTest, SpansHaveIdsOfTheirOwnInTheParentsTrace) {
  auto span = NullTracer().StartSpan("anything", Remote(1));
  EXPECT_FALSE(span->recording());
  EXPECT_EQ(span->context().trace_id, kTraceId);
  EXPECT_EQ(span->context().flags, 1);
  EXPECT_EQ(span->context().parent_id.size(), 16u);
  EXPECT_NE(span->context().parent_id, kParentId);
  auto root = NullTracer().StartSpan("root", TraceContext{});
  EXPECT_EQ(root->context().trace_id.size(), 32u);
  EXPECT_EQ(root->context().flags, 0);
  EXPECT_TRUE(ParseTraceparent(FormatTraceparent(root->context())).has_value());
  EXPECT_NE(NullTracer().StartSpan("root", TraceContext{})->context().trace_id,
            root->context().trace_id);
}

SpanData Sample() {
  SpanData span;
  span.name = "chat gpt-5.2-mini";
  span.kind = SpanKind::kClient;
  span.trace_id = kTraceId;
  span.span_id = "b7ad6b7169203331";
  span.parent_span_id = kParentId;
  span.start = absl::FromUnixNanos(1700000000123456789);
  span.end = absl::FromUnixNanos(1700000001000000000);
  span.attributes = {{"gen_ai.system", std::string("openai")},
                     {"gen_ai.usage.input_tokens", int64_t{120}},
                     {"vet.cost_usd", 0.00125},
                     {"vet.free", true},
                     {"gen_ai.response.finish_reasons", std::vector<std::string>{"stop"}}};
  span.status_set = true;
  span.status_code = absl::StatusCode::kUnavailable;
  span.status_message = "model down";
  return span;
}

TEST(OtlpJsonTest, EncodesAnExportTraceServiceRequest) {
  SpanData root;
  root.name = "root";
  root.trace_id = kTraceId;
  root.span_id = kParentId;
  root.start = root.end = absl::FromUnixNanos(5);
  const std::string json = EncodeExportRequest({"clinic-svc", "1.2.3"}, {Sample(), root});
  rapidjson::Document doc;
  ASSERT_FALSE(doc.Parse(json.c_str()).HasParseError()) << json;
  const auto& rs = doc["resourceSpans"][0];
  const auto& resource_attrs = rs["resource"]["attributes"];
  EXPECT_STREQ(resource_attrs[0]["key"].GetString(), "service.name");
  EXPECT_STREQ(resource_attrs[0]["value"]["stringValue"].GetString(), "clinic-svc");
  EXPECT_STREQ(resource_attrs[1]["value"]["stringValue"].GetString(), "1.2.3");
  const auto& spans = rs["scopeSpans"][0]["spans"];
  ASSERT_EQ(spans.Size(), 2u);
  const auto& s = spans[0];
  EXPECT_STREQ(s["traceId"].GetString(), kTraceId);
  EXPECT_STREQ(s["spanId"].GetString(), "b7ad6b7169203331");
  EXPECT_STREQ(s["parentSpanId"].GetString(), kParentId);
  EXPECT_STREQ(s["name"].GetString(), "chat gpt-5.2-mini");
  EXPECT_EQ(s["kind"].GetInt(), 3);
  // Nanoseconds and 64-bit integers are strings in OTLP's JSON.
  EXPECT_STREQ(s["startTimeUnixNano"].GetString(), "1700000000123456789");
  EXPECT_STREQ(s["endTimeUnixNano"].GetString(), "1700000001000000000");
  const auto& a = s["attributes"];
  EXPECT_STREQ(a[0]["value"]["stringValue"].GetString(), "openai");
  EXPECT_STREQ(a[1]["value"]["intValue"].GetString(), "120");
  EXPECT_DOUBLE_EQ(a[2]["value"]["doubleValue"].GetDouble(), 0.00125);
  EXPECT_TRUE(a[3]["value"]["boolValue"].GetBool());
  EXPECT_STREQ(a[4]["value"]["arrayValue"]["values"][0]["stringValue"].GetString(), "stop");
  EXPECT_EQ(s["status"]["code"].GetInt(), 2);
  EXPECT_STREQ(s["status"]["message"].GetString(), "model down");
  // A root has no parentSpanId; a span without a status has an empty one.
  EXPECT_FALSE(spans[1].HasMember("parentSpanId"));
  EXPECT_EQ(spans[1]["kind"].GetInt(), 1);
  EXPECT_TRUE(spans[1]["status"].ObjectEmpty());
}

absl::StatusOr<TracingOptions> FromEnv(const std::map<std::string, std::string>& env) {
  return TracingOptionsFromEnv([env](const char* name) -> absl::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return absl::nullopt;
    return it->second;
  });
}

TEST(OtelConfigTest, OffWithoutAnEndpoint) {
  auto options = FromEnv({});
  ASSERT_THAT(options, IsOk());
  EXPECT_TRUE(options->endpoint.empty());
  EXPECT_EQ(options->service_name, "vet-analytics");
  EXPECT_EQ(options->sampler.Describe(), "parentbased_always_on");
  auto tracer = MakeTracer(*options, "1", RealClock::Get(), nullptr);
  ASSERT_THAT(tracer, IsOk());
  EXPECT_EQ(*tracer, nullptr);
}

TEST(OtelConfigTest, ReadsTheStandardVariables) {
  auto options = FromEnv({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"},
                          {"OTEL_SERVICE_NAME", "vet-eu"},
                          {"OTEL_TRACES_SAMPLER", "parentbased_traceidratio"},
                          {"OTEL_TRACES_SAMPLER_ARG", "0.1"},
                          {"OTEL_BSP_SCHEDULE_DELAY", "250"},
                          {"OTEL_BSP_MAX_QUEUE_SIZE", "100"},
                          {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "10"},
                          {"OTEL_EXPORTER_OTLP_TIMEOUT", "3000"}});
  ASSERT_THAT(options, IsOk());
  EXPECT_EQ(options->endpoint, "http://collector:4318/v1/traces");
  EXPECT_EQ(options->service_name, "vet-eu");
  EXPECT_EQ(options->sampler.Describe(), "parentbased_traceidratio{0.1}");
  EXPECT_EQ(options->schedule_delay, absl::Milliseconds(250));
  EXPECT_EQ(options->max_queue, 100u);
  EXPECT_EQ(options->max_batch, 10u);
  EXPECT_EQ(options->export_timeout, absl::Seconds(3));
  // The traces endpoint is used as given, and wins.
  options = FromEnv({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"},
                     {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:4318/custom"}});
  EXPECT_EQ(options->endpoint, "http://b:4318/custom");
  // Turned off on purpose.
  EXPECT_TRUE(
      FromEnv({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"}, {"OTEL_TRACES_EXPORTER", "none"}})
          ->endpoint.empty());
  EXPECT_TRUE(
      FromEnv({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"}, {"OTEL_SDK_DISABLED", "true"}})
          ->endpoint.empty());
}

TEST(OtelConfigTest, RefusesWhatItCannotDo) {
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"OTEL_TRACES_SAMPLER", "xray"},
                                                        {"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
                                                        {"OTEL_BSP_SCHEDULE_DELAY", "-5"},
                                                        {"OTEL_BSP_MAX_QUEUE_SIZE", "lots"},
                                                        {"OTEL_TRACES_EXPORTER", "zipkin"}}) {
    SCOPED_TRACE(name);
    EXPECT_THAT(FromEnv({{name, value}}), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  TracingOptions options;
  options.endpoint = "collector:4318";
  EXPECT_THAT(MakeTracer(options, "1", RealClock::Get(), nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Holds every export until released, and keeps what it was given.
class GatedExporter final : public SpanExporter {
 public:
  absl::Status Export(const std::vector<SpanData>& spans, absl::Time deadline) override {
    {
      absl::MutexLock lock(&mu_);
      ++calls_;
    }
    release_.WaitForNotificationWithTimeout(deadline - absl::Now());
    absl::MutexLock lock(&mu_);
    for (const SpanData& s : spans) names_.push_back(s.name);
    return release_.HasBeenNotified() ? absl::OkStatus() : absl::DeadlineExceededError("held");
  }
  void Release() { release_.Notify(); }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  std::vector<std::string> names() const {
    absl::MutexLock lock(&mu_);
    return names_;
  }

 private:
  absl::Notification release_;
  mutable absl::Mutex mu_;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> names_ ABSL_GUARDED_BY(mu_);
};

TEST(BatchTracerTest, AFullQueueDropsSpansInsteadOfBlocking) {
  auto exporter = std::make_unique<GatedExporter>();
  GatedExporter* gate = exporter.get();
  absl::Mutex mu;
  std::map<std::string, int64_t> drops;
  BatchTracer::Options options;
  options.max_queue = 4;
  options.max_batch = 1;
  options.schedule_delay = absl::Milliseconds(5);
  options.on_dropped = [&](absl::string_view reason, int64_t n) {
    absl::MutexLock lock(&mu);
    drops[std::string(reason)] += n;
  };
  BatchTracer tracer(options, std::move(exporter), RealClock::Get());
  // The first span is taken by the export thread, which then waits on the
  // gate; four more fill the queue.
  tracer.StartSpan("held", TraceContext{})->End();
  ASSERT_TRUE(WaitUntil([&] { return gate->calls() == 1; }));
  const absl::Time start = absl::Now();
  for (int i = 0; i < 1000; ++i) tracer.StartSpan("more", TraceContext{})->End();
  // Never waits for the exporter: 1000 spans in far less than its hold.
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_EQ(tracer.dropped(), 996);
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(drops["queue_full"], 996);
  }
  gate->Release();
  ASSERT_TRUE(WaitUntil([&] { return tracer.exported() == 5; }));
  EXPECT_EQ(gate->names().front(), "held");
}

TEST(BatchTracerTest, ShutdownFlushesWhatIsQueuedWithinItsDeadline) {
  auto exporter = std::make_unique<GatedExporter>();
  GatedExporter* gate = exporter.get();
  gate->Release();
  BatchTracer::Options options;
  options.schedule_delay = absl::Hours(1);  // only Shutdown sends
  BatchTracer tracer(options, std::move(exporter), RealClock::Get());
  for (int i = 0; i < 3; ++i) tracer.StartSpan("s", TraceContext{})->End();
  tracer.Shutdown(absl::Seconds(5));
  EXPECT_EQ(tracer.exported(), 3);
  EXPECT_THAT(gate->names(), ElementsAre("s", "s", "s"));
  // After shutdown a span is dropped, not queued.
  tracer.StartSpan("late", TraceContext{})->End();
  EXPECT_EQ(tracer.dropped(), 1);
}

TEST(BatchTracerTest, ShutdownGivesUpOnAReceiverThatHangsAtItsDeadline) {
  auto exporter = std::make_unique<GatedExporter>();  // never released
  BatchTracer::Options options;
  options.schedule_delay = absl::Hours(1);
  BatchTracer tracer(options, std::move(exporter), RealClock::Get());
  tracer.StartSpan("s", TraceContext{})->End();
  const absl::Time start = absl::Now();
  tracer.Shutdown(absl::Milliseconds(200));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_EQ(tracer.exported(), 0);
  EXPECT_EQ(tracer.dropped(), 1);
}

TEST(BatchTracerTest, SpansLinkToTheirParentsAndCarryWhatWasSet) {
  class Keep final : public SpanExporter {
   public:
    explicit Keep(std::vector<SpanData>* out) : out_(out) {}
    absl::Status Export(const std::vector<SpanData>& spans, absl::Time) override {
      out_->insert(out_->end(), spans.begin(), spans.end());
      return absl::OkStatus();
    }
    std::vector<SpanData>* out_;
  };
  std::vector<SpanData> kept;
  {
    BatchTracer tracer(BatchTracer::Options{}, std::make_unique<Keep>(&kept), RealClock::Get());
    auto root = tracer.StartSpan("Ask", Remote(1), SpanKind::kServer);
    auto child = tracer.StartSpan("codegen", root->context());
    child->SetAttribute("vet.attempt", int64_t{1});
    child->SetAttribute("vet.attempt", int64_t{2});  // replaces
    child->SetStatus(absl::UnavailableError("down"));
    child->End();
    child->SetAttribute("ignored", true);
    root->SetStatus(absl::OkStatus());
    // Ended by its destructor.
  }
  ASSERT_EQ(kept.size(), 2u);
  const SpanData& child = kept[0];
  const SpanData& root = kept[1];
  EXPECT_EQ(root.parent_span_id, kParentId);
  EXPECT_EQ(root.trace_id, kTraceId);
  EXPECT_EQ(root.kind, SpanKind::kServer);
  EXPECT_EQ(child.parent_span_id, root.span_id);
  EXPECT_EQ(child.trace_id, kTraceId);
  ASSERT_EQ(child.attributes.size(), 1u);
  EXPECT_EQ(absl::get<int64_t>(child.attributes[0].second), 2);
  EXPECT_EQ(child.status_code, absl::StatusCode::kUnavailable);
  EXPECT_LE(root.start, child.start);
  EXPECT_GE(root.end, child.end);
}

TEST(BatchTracerTest, AnUnsampledSpanIsNotRecordedButCarriesTheTrace) {
  BatchTracer::Options options;
  options.sampler = *Sampler::Parse("parentbased_always_on", "");
  auto gate = std::make_unique<GatedExporter>();
  gate->Release();
  BatchTracer tracer(options, std::move(gate), RealClock::Get());
  auto span = tracer.StartSpan("Ask", Remote(0));
  EXPECT_FALSE(span->recording());
  EXPECT_EQ(span->context().trace_id, kTraceId);
  EXPECT_EQ(span->context().flags, 0);
  EXPECT_NE(span->context().parent_id, kParentId);
  auto sampled = tracer.StartSpan("Ask", Remote(1));
  EXPECT_TRUE(sampled->recording());
  EXPECT_EQ(sampled->context().flags, 1);
}

}  // namespace
}  // namespace vet::telemetry
