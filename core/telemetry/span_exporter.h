// Where a BatchTracer sends finished spans: OTLP/HTTP in production
// (otlp_http_exporter.h), a recording fake in tests.
#ifndef VET_CORE_TELEMETRY_SPAN_EXPORTER_H_
#define VET_CORE_TELEMETRY_SPAN_EXPORTER_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/telemetry/span_data.h"

namespace vet::telemetry {

class SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  // Sends one batch, giving up at `deadline`. Called from one thread at a
  // time (the tracer's). kUnavailable when the receiver could not be
  // reached or refused the batch, kDeadlineExceeded when it was too slow;
  // the batch is then lost (never retried: traces are not worth a queue
  // that grows while the receiver is down).
  virtual absl::Status Export(const std::vector<SpanData>& spans, absl::Time deadline) = 0;
};

}  // namespace vet::telemetry

#endif  // VET_CORE_TELEMETRY_SPAN_EXPORTER_H_
