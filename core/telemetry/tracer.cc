// NullTracer and the ids every tracer gives its spans.
#include "core/telemetry/tracer.h"

#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"

namespace vet::telemetry {
namespace {

class NonRecording final : public Span {
 public:
  explicit NonRecording(TraceContext context) : context_(std::move(context)) {}
  const TraceContext& context() const override { return context_; }
  bool recording() const override { return false; }
  void SetAttribute(absl::string_view, AttributeValue) override {}
  void SetStatus(const absl::Status&) override {}
  void End() override {}

 private:
  const TraceContext context_;
};

class NullTracerImpl final : public Tracer {
 public:
  std::unique_ptr<Span> StartSpan(absl::string_view, const TraceContext& parent,
                                  SpanKind) override {
    // Flags as the parent's: a caller's sampling decision passes through
    // untouched (0, not sampled, for a new trace).
    return NonRecordingSpan(ChildContext(parent, /*sampled=*/false));
  }
};

uint64_t NonZero64() {
  // Seeded once per thread from the OS; no system call per id.
  thread_local absl::InsecureBitGen gen;
  uint64_t v = 0;
  while (v == 0) v = absl::Uniform<uint64_t>(gen);
  return v;
}

}  // namespace

std::unique_ptr<Span> NonRecordingSpan(TraceContext context) {
  return std::make_unique<NonRecording>(std::move(context));
}

Tracer& NullTracer() {
  static Tracer* tracer = new NullTracerImpl();
  return *tracer;
}

std::string NewSpanId() { return absl::StrFormat("%016x", NonZero64()); }

TraceContext ChildContext(const TraceContext& parent, bool sampled) {
  TraceContext child;
  if (parent.trace_id.empty()) {
    child.trace_id = absl::StrFormat("%016x%016x", NonZero64(), NonZero64());
    child.flags = sampled ? 1 : 0;
  } else {
    child.trace_id = parent.trace_id;
    child.flags = parent.flags;
  }
  child.parent_id = NewSpanId();
  return child;
}

double MicrosToUsd(int64_t micros) { return static_cast<double>(micros) / 1e6; }

}  // namespace vet::telemetry
