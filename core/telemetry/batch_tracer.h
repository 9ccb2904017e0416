// The recording Tracer: samples each span when it starts (sampler.h),
// queues it when it ends, and sends the queue in batches from a thread of
// its own through a SpanExporter, as OpenTelemetry's BatchSpanProcessor
// does (and with its OTEL_BSP_* defaults, but a 2 s schedule delay).
//
// Ending a span never blocks on the exporter and never fails: when the
// queue is full the span is dropped and counted, so a receiver that is
// down, failing or slow costs a question nothing but its spans.
#ifndef VET_CORE_TELEMETRY_BATCH_TRACER_H_
#define VET_CORE_TELEMETRY_BATCH_TRACER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/common/clock.h"
#include "core/telemetry/sampler.h"
#include "core/telemetry/span_data.h"
#include "core/telemetry/span_exporter.h"
#include "core/telemetry/tracer.h"

namespace vet::telemetry {

// Why spans were lost, as BatchTracer::Options::on_dropped names it.
inline constexpr absl::string_view kDropQueueFull = "queue_full";
inline constexpr absl::string_view kDropExportFailed = "export_failed";
inline constexpr absl::string_view kDropShutdown = "shutdown";

class BatchTracer final : public Tracer {
 public:
  struct Options {
    Sampler sampler;
    // Ended spans waiting for export (OTEL_BSP_MAX_QUEUE_SIZE); past it,
    // new ones are dropped.
    size_t max_queue = 2048;
    // Spans in one export request (OTEL_BSP_MAX_EXPORT_BATCH_SIZE); a full
    // batch is sent at once, without waiting for the schedule.
    size_t max_batch = 512;
    // Longest wait between exports of a partial batch
    // (OTEL_BSP_SCHEDULE_DELAY).
    absl::Duration schedule_delay = absl::Seconds(2);
    // One export's limit (OTEL_EXPORTER_OTLP_TIMEOUT).
    absl::Duration export_timeout = absl::Seconds(10);
    // What the destructor gives Shutdown.
    absl::Duration shutdown_timeout = absl::Seconds(5);
    // Spans lost, by reason (kDropQueueFull, kDropExportFailed,
    // kDropShutdown). Called from any thread, never under the tracer's
    // lock; may be empty.
    std::function<void(absl::string_view reason, int64_t spans)> on_dropped;
  };

  // Starts the export thread. `clock` (span times, in Unix time) must
  // outlive the tracer.
  BatchTracer(Options options, std::unique_ptr<SpanExporter> exporter, const Clock& clock);
  // Shutdown(options.shutdown_timeout).
  ~BatchTracer() override;

  // Thread-safe; never blocks.
  std::unique_ptr<Span> StartSpan(absl::string_view name, const TraceContext& parent,
                                  SpanKind kind = SpanKind::kInternal) override;

  // Sends what is queued, taking at most `timeout`, and stops the thread;
  // spans still queued at the deadline, and spans ended afterwards, are
  // dropped (kDropShutdown). Idempotent; thread-safe.
  void Shutdown(absl::Duration timeout);

  // Totals so far (for tests and the start-up log).
  int64_t exported() const;
  int64_t dropped() const;

 private:
  class RecordingSpan;
  void Enqueue(SpanData span);
  void Run();
  void Drop(absl::string_view reason, int64_t spans);

  const Options options_;
  const std::unique_ptr<SpanExporter> exporter_;
  const Clock& clock_;

  mutable absl::Mutex mu_;
  std::deque<SpanData> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time stop_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  int64_t exported_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_warning_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Mutex join_mu_;
  std::thread thread_ ABSL_GUARDED_BY(join_mu_);
};

}  // namespace vet::telemetry

#endif  // VET_CORE_TELEMETRY_BATCH_TRACER_H_
