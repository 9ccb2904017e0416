// A finished span as the exporter sees it: what a recording Span collected.
#ifndef VET_CORE_TELEMETRY_SPAN_DATA_H_
#define VET_CORE_TELEMETRY_SPAN_DATA_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/telemetry/tracer.h"

namespace vet::telemetry {

struct SpanData {
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  std::string trace_id;        // 32 hex digits
  std::string span_id;         // 16 hex digits
  std::string parent_span_id;  // 16 hex digits; empty for a root
  absl::Time start;
  absl::Time end;
  std::vector<std::pair<std::string, AttributeValue>> attributes;
  // Unset until SetStatus; then kOk or the error's code (and its message).
  bool status_set = false;
  absl::StatusCode status_code = absl::StatusCode::kOk;
  std::string status_message;
};

}  // namespace vet::telemetry

#endif  // VET_CORE_TELEMETRY_SPAN_DATA_H_
