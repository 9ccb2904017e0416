// W3C Trace Context (https://www.w3.org/TR/trace-context/), version 00: the
// `traceparent` header a caller sends (over gRPC metadata), read or made up
// here, carried through a question's logs and sent on to the model service.
// Plain strings, no gRPC: core/ may use it.
#ifndef VET_CORE_COMMON_TRACE_CONTEXT_H_
#define VET_CORE_COMMON_TRACE_CONTEXT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace vet {

struct TraceContext {
  // 32 lower-case hex digits, not all zero.
  std::string trace_id;
  // 16 lower-case hex digits, not all zero: the span of whoever sent it.
  std::string parent_id;
  // Bit 0: sampled.
  uint8_t flags = 0;
};

// Parses a traceparent header: "00-<trace-id>-<parent-id>-<flags>", hex in
// lower case, exactly 55 characters. A later version (01 to fe) is read the
// same way, ignoring fields it may append after a '-'. Returns nullopt for
// anything else (version ff, upper-case hex, an all-zero id, wrong lengths
// or separators, 00 with extra characters), which the spec says to ignore:
// the caller then starts a new trace.
absl::optional<TraceContext> ParseTraceparent(absl::string_view header);

// "00-<trace_id>-<parent_id>-<flags as 2 hex digits>".
std::string FormatTraceparent(const TraceContext& context);

// New traces and spans of this process: core/telemetry/tracer.h
// (Tracer::StartSpan, ChildContext).

}  // namespace vet

#endif  // VET_CORE_COMMON_TRACE_CONTEXT_H_
