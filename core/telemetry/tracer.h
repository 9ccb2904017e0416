// Spans of a question's trace (OpenTelemetry's model, without its SDK):
// a Tracer starts spans, a Span collects attributes and a status and is
// ended once. The pipeline, the model generator and the server's Ask take a
// Tracer; NullTracer() records nothing and is what they use when tracing is
// off. The recording implementation, with its OTLP/HTTP export, is
// batch_tracer.h. Plain structs, no gRPC: core/ may use it.
#ifndef VET_CORE_TELEMETRY_TRACER_H_
#define VET_CORE_TELEMETRY_TRACER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/variant.h"
#include "core/common/trace_context.h"

namespace vet::telemetry {

// OpenTelemetry's SpanKind.
enum class SpanKind { kInternal, kServer, kClient };

// An attribute's value: string, integer, double, bool or an array of
// strings (gen_ai.response.finish_reasons is one).
using AttributeValue = absl::variant<std::string, int64_t, double, bool, std::vector<std::string>>;

// One span. Not thread-safe: one thread at a time uses it (the question's
// steps run one after another). Ended at most once: End() or destruction,
// whichever comes first; calls after that are ignored.
class Span {
 public:
  virtual ~Span() = default;

  // The span's own context: its parent's trace id and flags (a new trace
  // when the parent had none) and a span id of its own, in
  // TraceContext::parent_id, the field a traceparent header sends. A span
  // that is not recorded (NullTracer's, or one the sampler left out) has
  // one too, so the trace carries on to the model service and the caller.
  virtual const TraceContext& context() const = 0;
  // Whether anything set on it is kept: callers may skip work that only
  // feeds attributes.
  virtual bool recording() const = 0;

  virtual void SetAttribute(absl::string_view key, AttributeValue value) = 0;
  // OK: status Ok; anything else: status Error with the status's code and
  // message (cut to 256 bytes). Without a call the status stays Unset.
  virtual void SetStatus(const absl::Status& status) = 0;
  virtual void End() = 0;
};

// Thread-safe.
class Tracer {
 public:
  virtual ~Tracer() = default;
  // A span named `name`, a child of `parent` (a remote caller's context or
  // another span's context()); a root of a new trace when parent.trace_id
  // is empty. Never fails, never blocks.
  virtual std::unique_ptr<Span> StartSpan(absl::string_view name, const TraceContext& parent,
                                          SpanKind kind = SpanKind::kInternal) = 0;
};

// A Tracer that records nothing: no queue, no thread, no export. Its spans
// still have ids (Span::context()), drawn from a cheap per-thread generator.
// A process-wide instance; never destroyed.
Tracer& NullTracer();

// A span that records nothing, with `context` as its own: NullTracer's, and
// a recording tracer's when the sampler leaves a span out.
std::unique_ptr<Span> NonRecordingSpan(TraceContext context);

// `tracer`, or NullTracer() when it is null: for options that default to
// none.
inline Tracer& TracerOrNull(Tracer* tracer) { return tracer != nullptr ? *tracer : NullTracer(); }

// 16 lower-case hex digits, never all zero, from a per-thread generator
// (ids, not secrets: they need to be unique, not unguessable).
std::string NewSpanId();

// The context of a span whose parent is `parent`: the same trace and flags
// (or a new trace with `sampled` when the parent has none) and a new span id.
TraceContext ChildContext(const TraceContext& parent, bool sampled);

// vet.cost_usd's value: micro-dollars as US dollars.
double MicrosToUsd(int64_t micros);

}  // namespace vet::telemetry

#endif  // VET_CORE_TELEMETRY_TRACER_H_
