// The OTLP/HTTP JSON encoding of spans (opentelemetry-proto's
// ExportTraceServiceRequest in its JSON mapping): trace and span ids as hex
// strings, times and 64-bit integers as decimal strings, enums as numbers.
#ifndef VET_CORE_TELEMETRY_OTLP_JSON_H_
#define VET_CORE_TELEMETRY_OTLP_JSON_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/telemetry/span_data.h"

namespace vet::telemetry {

// What names the spans' source in every request.
struct OtlpResource {
  // service.name (OTEL_SERVICE_NAME).
  std::string service_name = "vet-analytics";
  // service.version.
  std::string service_version;
};

// One ExportTraceServiceRequest holding `spans` under one resource and one
// instrumentation scope ("vet-analytics"):
//   {"resourceSpans":[{"resource":{"attributes":[...]},
//     "scopeSpans":[{"scope":{"name":...},"spans":[{"traceId","spanId",
//     "parentSpanId"?,"name","kind","startTimeUnixNano","endTimeUnixNano",
//     "attributes":[{"key","value":{"stringValue"|"intValue"|"doubleValue"|
//     "boolValue"|"arrayValue"}}],"status":{"code","message"?}}]}]}]}
std::string EncodeExportRequest(const OtlpResource& resource, const std::vector<SpanData>& spans);

}  // namespace vet::telemetry

#endif  // VET_CORE_TELEMETRY_OTLP_JSON_H_
