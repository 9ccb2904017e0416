// RapidJSON's Writer straight into a string: no document is built.
#include "core/telemetry/otlp_json.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/types/variant.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace vet::telemetry {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, absl::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// opentelemetry-proto's Span.SpanKind.
int KindNumber(SpanKind kind) {
  switch (kind) {
    case SpanKind::kInternal:
      return 1;
    case SpanKind::kServer:
      return 2;
    case SpanKind::kClient:
      return 3;
  }
  return 0;
}

struct ValueWriter {
  Writer& w;
  void operator()(const std::string& s) const {
    w.Key("stringValue");
    Str(w, s);
  }
  // int64 is a string in proto3's JSON mapping.
  void operator()(int64_t i) const {
    w.Key("intValue");
    Str(w, absl::StrCat(i));
  }
  void operator()(double d) const {
    w.Key("doubleValue");
    w.Double(d);
  }
  void operator()(bool b) const {
    w.Key("boolValue");
    w.Bool(b);
  }
  void operator()(const std::vector<std::string>& values) const {
    w.Key("arrayValue");
    w.StartObject();
    w.Key("values");
    w.StartArray();
    for (const std::string& v : values) {
      w.StartObject();
      w.Key("stringValue");
      Str(w, v);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
};

void Attribute(Writer& w, absl::string_view key, const AttributeValue& value) {
  w.StartObject();
  w.Key("key");
  Str(w, key);
  w.Key("value");
  w.StartObject();
  absl::visit(ValueWriter{w}, value);
  w.EndObject();
  w.EndObject();
}

void Nanos(Writer& w, const char* key, absl::Time t) {
  w.Key(key);
  Str(w, absl::StrCat(absl::ToUnixNanos(t)));
}

void WriteSpan(Writer& w, const SpanData& span) {
  w.StartObject();
  w.Key("traceId");
  Str(w, span.trace_id);
  w.Key("spanId");
  Str(w, span.span_id);
  if (!span.parent_span_id.empty()) {
    w.Key("parentSpanId");
    Str(w, span.parent_span_id);
  }
  w.Key("name");
  Str(w, span.name);
  w.Key("kind");
  w.Int(KindNumber(span.kind));
  Nanos(w, "startTimeUnixNano", span.start);
  Nanos(w, "endTimeUnixNano", span.end);
  w.Key("attributes");
  w.StartArray();
  for (const auto& [key, value] : span.attributes) Attribute(w, key, value);
  w.EndArray();
  w.Key("status");
  w.StartObject();
  if (span.status_set) {
    // STATUS_CODE_OK = 1, STATUS_CODE_ERROR = 2; Unset is 0, left out.
    const bool ok = span.status_code == absl::StatusCode::kOk;
    w.Key("code");
    w.Int(ok ? 1 : 2);
    if (!ok && !span.status_message.empty()) {
      w.Key("message");
      Str(w, span.status_message);
    }
  }
  w.EndObject();
  w.EndObject();
}

}  // namespace

std::string EncodeExportRequest(const OtlpResource& resource, const std::vector<SpanData>& spans) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("resourceSpans");
  w.StartArray();
  w.StartObject();
  w.Key("resource");
  w.StartObject();
  w.Key("attributes");
  w.StartArray();
  Attribute(w, "service.name", resource.service_name);
  if (!resource.service_version.empty()) {
    Attribute(w, "service.version", resource.service_version);
  }
  Attribute(w, "telemetry.sdk.language", std::string("cpp"));
  Attribute(w, "telemetry.sdk.name", std::string("vet-analytics"));
  w.EndArray();
  w.EndObject();
  w.Key("scopeSpans");
  w.StartArray();
  w.StartObject();
  w.Key("scope");
  w.StartObject();
  w.Key("name");
  w.String("vet-analytics");
  w.EndObject();
  w.Key("spans");
  w.StartArray();
  for (const SpanData& span : spans) WriteSpan(w, span);
  w.EndArray();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace vet::telemetry
