// BatchTracer: spans are plain values once ended; one lock guards the queue
// and the totals, and is never held while exporting or calling back.
#include "core/telemetry/batch_tracer.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/common/log.h"

namespace vet::telemetry {

class BatchTracer::RecordingSpan final : public Span {
 public:
  RecordingSpan(BatchTracer& tracer, SpanData data, TraceContext context)
      : tracer_(tracer), data_(std::move(data)), context_(std::move(context)) {}
  ~RecordingSpan() override { End(); }

  const TraceContext& context() const override { return context_; }
  bool recording() const override { return !ended_; }
  void SetAttribute(absl::string_view key, AttributeValue value) override {
    if (ended_) return;
    for (auto& [k, v] : data_.attributes) {
      if (k == key) {
        v = std::move(value);
        return;
      }
    }
    data_.attributes.emplace_back(std::string(key), std::move(value));
  }
  void SetStatus(const absl::Status& status) override {
    if (ended_) return;
    data_.status_set = true;
    data_.status_code = status.code();
    // A status message in this service is short and carries no data rows
    // (STYLE.md, Errors); cut anyway.
    data_.status_message = std::string(status.message().substr(0, 256));
  }
  void End() override {
    if (ended_) return;
    ended_ = true;
    data_.end = tracer_.clock_.Now();
    tracer_.Enqueue(std::move(data_));
  }

 private:
  BatchTracer& tracer_;
  SpanData data_;
  const TraceContext context_;
  bool ended_ = false;
};

BatchTracer::BatchTracer(Options options, std::unique_ptr<SpanExporter> exporter,
                         const Clock& clock)
    : options_(std::move(options)), exporter_(std::move(exporter)), clock_(clock) {
  thread_ = std::thread([this] { Run(); });
}

BatchTracer::~BatchTracer() { Shutdown(options_.shutdown_timeout); }

std::unique_ptr<Span> BatchTracer::StartSpan(absl::string_view name, const TraceContext& parent,
                                             SpanKind kind) {
  TraceContext context = ChildContext(parent, /*sampled=*/true);
  const bool sampled = options_.sampler.ShouldSample(parent, context.trace_id);
  context.flags = static_cast<uint8_t>((context.flags & ~1) | (sampled ? 1 : 0));
  if (!sampled) return NonRecordingSpan(std::move(context));
  SpanData data;
  data.name = std::string(name);
  data.kind = kind;
  data.trace_id = context.trace_id;
  data.span_id = context.parent_id;
  data.parent_span_id = parent.trace_id.empty() ? "" : parent.parent_id;
  data.start = clock_.Now();
  return std::make_unique<RecordingSpan>(*this, std::move(data), std::move(context));
}

void BatchTracer::Enqueue(SpanData span) {
  absl::string_view reason;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      reason = kDropShutdown;
    } else if (queue_.size() >= options_.max_queue) {
      reason = kDropQueueFull;
    } else {
      queue_.push_back(std::move(span));
      return;
    }
  }
  Drop(reason, 1);
}

void BatchTracer::Drop(absl::string_view reason, int64_t spans) {
  {
    absl::MutexLock lock(&mu_);
    dropped_ += spans;
  }
  if (options_.on_dropped) options_.on_dropped(reason, spans);
}

void BatchTracer::Run() {
  const size_t max_batch = std::max<size_t>(1, options_.max_batch);
  while (true) {
    std::vector<SpanData> batch;
    absl::Time deadline;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this, max_batch] {
        mu_.AssertHeld();
        return stopping_ || queue_.size() >= max_batch;
      };
      mu_.AwaitWithTimeout(absl::Condition(&ready), options_.schedule_delay);
      if (stopping_ && (queue_.empty() || clock_.Now() >= stop_deadline_)) break;
      const size_t n = std::min(queue_.size(), max_batch);
      batch.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      deadline = std::min(clock_.Now() + options_.export_timeout, stop_deadline_);
    }
    if (batch.empty()) continue;
    absl::Status sent = exporter_->Export(batch, deadline);
    if (sent.ok()) {
      absl::MutexLock lock(&mu_);
      exported_ += static_cast<int64_t>(batch.size());
      continue;
    }
    bool warn = false;
    {
      absl::MutexLock lock(&mu_);
      // Once a minute at most: a receiver that is down would otherwise log
      // every schedule delay.
      if (clock_.Now() - last_warning_ >= absl::Minutes(1)) {
        last_warning_ = clock_.Now();
        warn = true;
      }
    }
    if (warn) {
      LogWarning("traces: ", batch.size(), " spans not exported: ", sent.message());
    }
    Drop(kDropExportFailed, static_cast<int64_t>(batch.size()));
  }
  // Whatever the deadline left behind.
  int64_t left = 0;
  {
    absl::MutexLock lock(&mu_);
    left = static_cast<int64_t>(queue_.size());
    queue_.clear();
  }
  if (left > 0) Drop(kDropShutdown, left);
}

void BatchTracer::Shutdown(absl::Duration timeout) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      stopping_ = true;
      stop_deadline_ = clock_.Now() + timeout;
    }
  }
  // One caller joins; another waits here until it has.
  absl::MutexLock join(&join_mu_);
  if (thread_.joinable()) thread_.join();
}

int64_t BatchTracer::exported() const {
  absl::MutexLock lock(&mu_);
  return exported_;
}

int64_t BatchTracer::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

}  // namespace vet::telemetry
